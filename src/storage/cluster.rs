//! The embedded default: a PostgreSQL cluster of claimtrail's own, run from
//! the installed server binaries in a data folder.
//!
//! Layout of the data folder:
//!
//! ```text
//! <data>/postgres/      the cluster (PGDATA), owned by the user that runs it
//! <data>/log/           postgres.log
//! <data>/run/           the unix socket (no TCP port is taken)
//! ```
//!
//! PostgreSQL refuses to run as root; when claimtrail runs as root the
//! cluster runs as the unprivileged `postgres` system user. If that user
//! cannot reach the data folder (a parent such as `/root` is closed to it),
//! the cluster lives in `/var/lib/claimtrail/<hash of the folder>` instead and
//! the data folder records where.

use std::ffi::OsStr;
use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use anyhow::{Context, bail};
use sha2::{Digest, Sha256};

/// The database superuser the cluster is created with.
pub const SUPERUSER: &str = "claimtrail";
/// The socket's port number: it only names the socket file, no TCP is used.
const PORT: u16 = 5432;
/// Longest socket path the kernel accepts is 107 bytes.
const MAX_SOCKET_DIR_LEN: usize = 107 - ".s.PGSQL.5432".len() - 1;

const INSTALL_HINT: &str = "install the PostgreSQL server package (Debian/Ubuntu: `apt-get install postgresql`; \
Fedora: `dnf install postgresql-server`; macOS: `brew install postgresql`), or set DATABASE_URL to use an existing server";

/// Where the server binaries (initdb, pg_ctl, postgres) are.
pub fn find_server_binaries() -> anyhow::Result<PathBuf> {
    let has_server = |dir: &Path| {
        ["initdb", "pg_ctl", "postgres"]
            .iter()
            .all(|b| dir.join(b).is_file())
    };
    if let Some(dir) = std::env::var_os("CLAIMTRAIL_PG_BINDIR") {
        let dir = PathBuf::from(dir);
        if has_server(&dir) {
            return Ok(dir);
        }
        bail!(
            "PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found in CLAIMTRAIL_PG_BINDIR={}: {INSTALL_HINT}",
            dir.display()
        );
    }
    if let Ok(out) = Command::new("pg_config")
        .arg("--bindir")
        .stderr(Stdio::null())
        .output()
    {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if out.status.success() && has_server(&dir) {
            return Ok(dir);
        }
    }
    // Debian and Ubuntu keep the server outside PATH, one folder per major version.
    let mut versions: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let major = e.file_name().to_str()?.parse::<u32>().ok()?;
            Some((major, e.path().join("bin")))
        })
        .filter(|(_, bin)| has_server(bin))
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Ok(bin);
    }
    for dir in std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()) {
        if has_server(&dir) {
            return Ok(dir);
        }
    }
    bail!("PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found: {INSTALL_HINT}")
}

/// A data folder that holds no cluster, where one was expected.
#[derive(Debug)]
pub struct NoCluster(pub PathBuf);

impl std::fmt::Display for NoCluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} holds no claimtrail cluster (check CLAIMTRAIL_DATA_DIR; `claimtrail serve` or `claimtrail init` makes one)",
            self.0.display()
        )
    }
}

impl std::error::Error for NoCluster {}

/// Whether `data_dir` holds a cluster: in it, or where its CLUSTER_LOCATION
/// note points.
pub fn holds_cluster(data_dir: &Path) -> bool {
    if data_dir.join("postgres").join("PG_VERSION").is_file() {
        return true;
    }
    fs::read_to_string(data_dir.join("CLUSTER_LOCATION"))
        .map(|root| {
            Path::new(root.trim())
                .join("postgres")
                .join("PG_VERSION")
                .is_file()
        })
        .unwrap_or(false)
}

/// The system user the cluster's processes run as, when not the current one.
#[derive(Debug, Clone)]
pub struct SystemUser {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
}

fn cluster_user() -> anyhow::Result<Option<SystemUser>> {
    if !nix::unistd::geteuid().is_root() {
        return Ok(None);
    }
    let user = nix::unistd::User::from_name("postgres")
        .context("looking up the postgres system user")?
        .context(
            "running as root, and PostgreSQL refuses to run as root: no `postgres` system user exists \
             to run the cluster as; create one (installing the PostgreSQL server package does) or run as \
             an unprivileged user",
        )?;
    Ok(Some(SystemUser {
        name: user.name,
        uid: user.uid.as_raw(),
        gid: user.gid.as_raw(),
    }))
}

#[derive(Debug, Clone, Default)]
pub struct ClusterOptions {
    /// For throwaway clusters (tests): trade durability for speed.
    pub throwaway: bool,
    /// Refuse a data folder that holds no cluster instead of making one
    /// (every command but `serve` and `init`: a typo in the folder's name
    /// must not start an empty ledger).
    pub must_exist: bool,
    /// The locale a new cluster is initialised with.
    pub locale: ClusterLocale,
}

/// The locale of a new cluster. claimtrail's correctness never depends on
/// it (keys and search terms are made by the service), but a cluster that
/// knows Unicode gives `psql` users and ad-hoc queries the right answers too.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ClusterLocale {
    /// ICU's root locale where the server has ICU (PostgreSQL 15 and newer),
    /// else the C.UTF-8 locale, else C (with a warning).
    #[default]
    Unicode,
    /// The C locale (`initdb --no-locale`), where `lower()` and character
    /// classes know ASCII only: tests use it to show nothing relies on more.
    C,
}

#[derive(Debug)]
pub struct Cluster {
    bin_dir: PathBuf,
    root: PathBuf,
    pgdata: PathBuf,
    socket_dir: PathBuf,
    log_file: PathBuf,
    run_as: Option<SystemUser>,
    options: ClusterOptions,
    started_here: bool,
}

impl Cluster {
    /// Prepares the cluster in `data_dir`, creating it with initdb on first use.
    pub fn open(data_dir: &Path, options: ClusterOptions) -> anyhow::Result<Cluster> {
        if options.must_exist && !holds_cluster(data_dir) {
            return Err(NoCluster(data_dir.to_owned()).into());
        }
        let cluster = Cluster::prepare(data_dir, options)?;
        if !cluster.pgdata.join("PG_VERSION").is_file() {
            cluster.initdb()?;
        }
        Ok(cluster)
    }

    /// Prepares a streaming replica of the server at `primary_url` (a
    /// superuser's connection string) in `data_dir`, copying the primary
    /// with `pg_basebackup -R` on first use: the copy holds the standby
    /// signal and the primary's address, so it replays the primary's WAL
    /// as it streams. It runs like any cluster: its own socket folder, no
    /// TCP port, read-only queries. The copy makes and then uses the
    /// replication slot `slot` on the primary, which keeps the WAL the
    /// replica has not received yet (without one, a busy primary removed
    /// WAL while the copy was still streaming it); whoever removes the
    /// replica drops the slot.
    pub fn open_replica(
        data_dir: &Path,
        primary_url: &str,
        slot: &str,
        options: ClusterOptions,
    ) -> anyhow::Result<Cluster> {
        let cluster = Cluster::prepare(data_dir, options)?;
        if !cluster.pgdata.join("PG_VERSION").is_file() {
            fs::create_dir_all(&cluster.pgdata)?;
            fs::set_permissions(&cluster.pgdata, fs::Permissions::from_mode(0o700))?;
            chown_to(&cluster.pgdata, cluster.run_as.as_ref())?;
            let out = cluster
                .server_command("pg_basebackup")
                .arg("-D")
                .arg(&cluster.pgdata)
                .args(["-R", "-X", "stream", "-c", "fast", "-C", "-S", slot])
                .args(["-d", primary_url])
                .stdin(Stdio::null())
                .output()
                .context("running pg_basebackup")?;
            check_output("pg_basebackup", &out)?;
            tracing::info!(pgdata = %cluster.pgdata.display(), "replica copied from its primary");
        }
        Ok(cluster)
    }

    /// The folders of a cluster in `data_dir`, made if missing; no server
    /// files yet.
    fn prepare(data_dir: &Path, options: ClusterOptions) -> anyhow::Result<Cluster> {
        let bin_dir = find_server_binaries()?;
        let run_as = cluster_user()?;
        fs::create_dir_all(data_dir)
            .with_context(|| format!("creating data folder {}", data_dir.display()))?;
        let data_dir = data_dir.canonicalize()?;

        let root = match &run_as {
            Some(user) if !user_can_enter(user, &data_dir) => {
                let hash =
                    hex::encode(&Sha256::digest(data_dir.as_os_str().as_encoded_bytes())[..8]);
                let root = PathBuf::from("/var/lib/claimtrail").join(hash);
                tracing::warn!(
                    data_dir = %data_dir.display(),
                    cluster = %root.display(),
                    "the {} user cannot enter the data folder (a parent folder is closed to it); \
                     the cluster lives outside it",
                    user.name
                );
                fs::create_dir_all(&root)?;
                fs::set_permissions("/var/lib/claimtrail", fs::Permissions::from_mode(0o755))?;
                fs::set_permissions(&root, fs::Permissions::from_mode(0o755))?;
                let mut note = fs::File::create(data_dir.join("CLUSTER_LOCATION"))?;
                writeln!(note, "{}", root.display())?;
                root
            }
            _ => data_dir.clone(),
        };

        let pgdata = root.join("postgres");
        let log_dir = root.join("log");
        let mut socket_dir = root.join("run");
        if socket_dir.as_os_str().len() > MAX_SOCKET_DIR_LEN {
            let hash = hex::encode(&Sha256::digest(root.as_os_str().as_encoded_bytes())[..6]);
            socket_dir = std::env::temp_dir().join(format!("claimtrail-{hash}"));
        }
        for dir in [&log_dir, &socket_dir] {
            fs::create_dir_all(dir)?;
            fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
            chown_to(dir, run_as.as_ref())?;
        }

        let cluster = Cluster {
            bin_dir,
            log_file: log_dir.join("postgres.log"),
            root,
            pgdata,
            socket_dir,
            run_as,
            options,
            started_here: false,
        };
        Ok(cluster)
    }

    pub fn run_as(&self) -> Option<&SystemUser> {
        self.run_as.as_ref()
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn pgdata(&self) -> &Path {
        &self.pgdata
    }

    pub fn bin_dir(&self) -> &Path {
        &self.bin_dir
    }

    /// True when this process started the server (and so should stop it).
    pub fn started_here(&self) -> bool {
        self.started_here
    }

    /// A connection string for `dbname` over the cluster's unix socket.
    pub fn database_url(&self, dbname: &str) -> String {
        self.database_url_as(dbname, SUPERUSER)
    }

    /// A connection string for `dbname` as another role (the socket trusts
    /// every role of the cluster: only the cluster's owner can open it).
    pub fn database_url_as(&self, dbname: &str, user: &str) -> String {
        format!(
            "host={} port={PORT} user={} dbname={}",
            quote_conninfo(&self.socket_dir.to_string_lossy()),
            quote_conninfo(user),
            quote_conninfo(dbname)
        )
    }

    /// A command for one of the server binaries, run as the cluster's user.
    pub fn server_command(&self, program: impl AsRef<OsStr>) -> Command {
        let program = program.as_ref();
        let path = if Path::new(program).is_absolute() {
            PathBuf::from(program)
        } else {
            self.bin_dir.join(program)
        };
        let mut cmd = Command::new(path);
        cmd.current_dir(&self.root)
            .env_remove("PGDATA")
            .env("LC_ALL", "C");
        if let Some(user) = &self.run_as {
            cmd.uid(user.uid)
                .gid(user.gid)
                .env("HOME", &self.root)
                .env("USER", &user.name);
        }
        cmd
    }

    fn initdb(&self) -> anyhow::Result<()> {
        if let Some(user) = &self.run_as {
            tracing::info!(user = %user.name, "running the PostgreSQL cluster as system user {} (PostgreSQL refuses to run as root)", user.name);
        }
        fs::create_dir_all(&self.pgdata)?;
        fs::set_permissions(&self.pgdata, fs::Permissions::from_mode(0o700))?;
        chown_to(&self.pgdata, self.run_as.as_ref())?;
        tracing::info!(pgdata = %self.pgdata.display(), "creating a new PostgreSQL cluster");
        let choices: &[(&str, &[&str])] = match self.options.locale {
            ClusterLocale::Unicode => &[
                (
                    "ICU (und) with C.UTF-8",
                    &[
                        "--locale-provider=icu",
                        "--icu-locale=und",
                        "--locale=C.UTF-8",
                    ],
                ),
                ("C.UTF-8", &["--locale=C.UTF-8"]),
                ("C", &["--no-locale"]),
            ],
            ClusterLocale::C => &[("C", &["--no-locale"])],
        };
        let mut failures = Vec::new();
        for (i, (name, locale_args)) in choices.iter().enumerate() {
            let out = self
                .server_command("initdb")
                .arg("-D")
                .arg(&self.pgdata)
                .args(["-U", SUPERUSER, "-E", "UTF8", "-A", "trust"])
                .args(*locale_args)
                .output()
                .context("running initdb")?;
            if out.status.success() {
                if self.options.locale == ClusterLocale::Unicode && i + 1 == choices.len() {
                    tracing::warn!(
                        tried = ?failures,
                        "the cluster was created in the C locale: neither ICU nor C.UTF-8 is available \
                         (claimtrail works the same; ad-hoc SQL sees only ASCII case)"
                    );
                } else {
                    tracing::info!(locale = %name, "cluster created");
                }
                break;
            }
            if i + 1 == choices.len() {
                check_output("initdb", &out)?;
            }
            // initdb empties the folder it failed in; the next choice reuses it.
            failures.push(format!(
                "{name}: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        let mut conf = fs::OpenOptions::new()
            .append(true)
            .open(self.pgdata.join("postgresql.conf"))?;
        writeln!(
            conf,
            "\n# Settings claimtrail rewrites at every start.\ninclude_if_exists = 'claimtrail.conf'"
        )?;
        Ok(())
    }

    fn write_settings(&self) -> anyhow::Result<()> {
        let mut settings = format!(
            "listen_addresses = ''\n\
             port = {PORT}\n\
             unix_socket_directories = '{}'\n\
             unix_socket_permissions = 0700\n\
             max_connections = 200\n",
            self.socket_dir.to_string_lossy().replace('\'', "''")
        );
        if self.options.throwaway {
            settings.push_str("fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n");
            // A copy for a replica streams the WAL from its start before
            // its slot holds it; meanwhile a checkpoint (test databases are
            // copied through the WAL) could remove it.
            settings.push_str("wal_keep_size = 512MB\n");
        } else if let Some(mb) =
            shared_buffers_mb(&fs::read_to_string("/proc/meminfo").unwrap_or_default())
        {
            // PostgreSQL's default (128 MB) holds the ledger's hot indexes
            // only while it is small: past ~100,000 claims every write
            // evicted pages it needed next.
            settings.push_str(&format!("shared_buffers = {mb}MB\n"));
        }
        let path = self.pgdata.join("claimtrail.conf");
        fs::write(&path, settings)?;
        chown_to(&path, self.run_as.as_ref())?;
        Ok(())
    }

    /// Starts the server, or adopts one already running on this data folder
    /// (left behind by a process that was killed).
    pub fn start(&mut self) -> anyhow::Result<()> {
        match self.postmaster_state()? {
            PostmasterState::Running(pid) => {
                tracing::info!(
                    pid,
                    "PostgreSQL is already running on this data folder; using it"
                );
                return self.wait_ready();
            }
            PostmasterState::Stale(pid) => {
                tracing::warn!(pid, "removing a stale postmaster.pid left by a crash");
                fs::remove_file(self.pgdata.join("postmaster.pid"))?;
                let lock = self.socket_dir.join(format!(".s.PGSQL.{PORT}.lock"));
                if lock.exists() {
                    fs::remove_file(lock)?;
                }
            }
            PostmasterState::Stopped => {}
        }
        self.write_settings()?;
        let out = self
            .server_command("pg_ctl")
            .arg("-D")
            .arg(&self.pgdata)
            .arg("-l")
            .arg(&self.log_file)
            .args(["-w", "-t", "60", "start"])
            // Own process group: a Ctrl-C meant for claimtrail must not reach the
            // server first; claimtrail stops it after draining requests.
            .process_group(0)
            .stdin(Stdio::null())
            .output()
            .context("running pg_ctl start")?;
        if let Err(e) = check_output("pg_ctl start", &out) {
            bail!(
                "{e}\n--- last lines of {} ---\n{}",
                self.log_file.display(),
                tail(&self.log_file, 20)
            );
        }
        self.started_here = true;
        tracing::info!(socket_dir = %self.socket_dir.display(), "PostgreSQL started");
        Ok(())
    }

    fn wait_ready(&self) -> anyhow::Result<()> {
        let isready = self.bin_dir.join("pg_isready");
        for _ in 0..120 {
            let status = Command::new(&isready)
                .arg("-q")
                .arg("-h")
                .arg(&self.socket_dir)
                .args(["-p", &PORT.to_string(), "-U", SUPERUSER, "-d", "postgres"])
                .status();
            if matches!(status, Ok(s) if s.success()) {
                return Ok(());
            }
            std::thread::sleep(std::time::Duration::from_millis(250));
        }
        bail!(
            "PostgreSQL on {} did not become ready",
            self.pgdata.display()
        )
    }

    /// Stops the server (fast shutdown: open transactions roll back, committed
    /// ones are on disk).
    pub fn stop(&mut self) -> anyhow::Result<()> {
        let out = self
            .server_command("pg_ctl")
            .arg("-D")
            .arg(&self.pgdata)
            .args(["-m", "fast", "-w", "-t", "60", "stop"])
            .stdin(Stdio::null())
            .output()
            .context("running pg_ctl stop")?;
        check_output("pg_ctl stop", &out)?;
        self.started_here = false;
        tracing::info!("PostgreSQL stopped");
        Ok(())
    }

    /// Creates `dbname` if it does not exist. Call outside an async runtime.
    pub fn ensure_database(&self, dbname: &str) -> anyhow::Result<()> {
        use diesel::{Connection, RunQueryDsl, sql_types::Text};
        use diesel_async::{AsyncPgConnection, async_connection_wrapper::AsyncConnectionWrapper};

        #[derive(diesel::QueryableByName)]
        struct Found {
            #[diesel(sql_type = diesel::sql_types::Integer)]
            #[allow(dead_code)]
            one: i32,
        }
        let mut conn =
            AsyncConnectionWrapper::<AsyncPgConnection>::establish(&self.database_url("postgres"))?;
        let found: Vec<Found> =
            diesel::sql_query("SELECT 1 AS one FROM pg_database WHERE datname = $1")
                .bind::<Text, _>(dbname)
                .load(&mut conn)?;
        if found.is_empty() {
            diesel::sql_query(format!("CREATE DATABASE {}", quote_ident(dbname)))
                .execute(&mut conn)?;
            tracing::info!(dbname, "database created");
        }
        Ok(())
    }

    fn postmaster_state(&self) -> anyhow::Result<PostmasterState> {
        let pid_file = self.pgdata.join("postmaster.pid");
        let Ok(contents) = fs::read_to_string(&pid_file) else {
            return Ok(PostmasterState::Stopped);
        };
        let Some(pid) = contents
            .lines()
            .next()
            .and_then(|l| l.trim().parse::<i32>().ok())
        else {
            return Ok(PostmasterState::Stale(0));
        };
        // The pid may have been reused after a reboot or crash: it is our
        // server only if that process runs in this cluster's folder.
        let cwd = fs::read_link(format!("/proc/{pid}/cwd")).ok();
        let ours = match (cwd, self.pgdata.canonicalize()) {
            (Some(cwd), Ok(pgdata)) => cwd == pgdata,
            _ => false,
        };
        Ok(if ours {
            PostmasterState::Running(pid)
        } else {
            PostmasterState::Stale(pid)
        })
    }
}

enum PostmasterState {
    Stopped,
    Running(i32),
    Stale(i32),
}

/// Whether `user` can enter `dir` (asked of the system, so ACLs count too).
fn user_can_enter(user: &SystemUser, dir: &Path) -> bool {
    Command::new("/bin/sh")
        .args(["-c", "cd -- \"$1\"", "sh"])
        .arg(dir)
        .uid(user.uid)
        .gid(user.gid)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn chown_to(path: &Path, user: Option<&SystemUser>) -> anyhow::Result<()> {
    if let Some(user) = user {
        std::os::unix::fs::chown(path, Some(user.uid), Some(user.gid))
            .with_context(|| format!("giving {} to {}", path.display(), user.name))?;
    }
    Ok(())
}

fn check_output(what: &str, out: &Output) -> anyhow::Result<()> {
    if out.status.success() {
        return Ok(());
    }
    bail!(
        "{what} failed ({}): {}{}",
        out.status,
        String::from_utf8_lossy(&out.stderr).trim(),
        String::from_utf8_lossy(&out.stdout).trim()
    )
}

fn tail(path: &Path, lines: usize) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Quotes a value for a libpq-style connection string.
pub fn quote_conninfo(value: &str) -> String {
    if !value.is_empty() && !value.contains(|c: char| c.is_whitespace() || c == '\'' || c == '\\') {
        return value.to_owned();
    }
    format!("'{}'", value.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// Quotes an SQL identifier.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A quarter of the machine's memory for PostgreSQL's buffer pool (the
/// usual advice), between its default 128 MB and 2 GB; `None` when the
/// memory cannot be read (the default stays).
fn shared_buffers_mb(meminfo: &str) -> Option<u64> {
    let kb: u64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some((kb / 1024 / 4).clamp(128, 2048))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_buffer_pool_is_a_quarter_of_memory_within_bounds() {
        assert_eq!(
            shared_buffers_mb("MemTotal:       24682520 kB\n"),
            Some(2048)
        );
        assert_eq!(
            shared_buffers_mb("MemFree: 1 kB\nMemTotal: 4194304 kB\n"),
            Some(1024)
        );
        assert_eq!(shared_buffers_mb("MemTotal: 262144 kB\n"), Some(128));
        assert_eq!(shared_buffers_mb("nothing here"), None);
    }

    #[test]
    fn conninfo_values_with_spaces_are_quoted() {
        assert_eq!(quote_conninfo("/tmp/run"), "/tmp/run");
        assert_eq!(quote_conninfo("/tmp/my run"), "'/tmp/my run'");
        assert_eq!(quote_conninfo("it's"), "'it\\'s'");
    }

    #[test]
    fn identifiers_are_quoted() {
        assert_eq!(quote_ident("claimtrail"), "\"claimtrail\"");
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
    }
}
