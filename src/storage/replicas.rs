//! Where a read is served: the primary, or a streaming replica that is
//! fresh enough.
//!
//! Writes, and every read inside a write, use the primary pool. A plain
//! read (a GET) goes to the next healthy replica in turn. A read that names
//! a WAL position (the `Claimtrail-LSN` a write returned) goes to a replica
//! only once that replica has replayed past the position, else to the
//! primary at once: no request waits for a replica to catch up.
//!
//! A monitor checks every replica a few times a second. A replica that does
//! not answer is `down`; one whose data is older than the lag bound is
//! `lagging`; both are out of rotation until a check finds them healthy
//! again. Staleness is measured on the service's own clock, not the
//! servers': the monitor samples the primary's WAL position each check, and
//! a replica that has replayed up to the position sampled at time t holds
//! everything the primary held at t.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use diesel::sql_types::{Bool, Nullable, Text};
use diesel_async::RunQueryDsl;

use super::lsn::Lsn;
use super::pool::{DbConn, DbPool};
use crate::error::{AppError, AppResult};

#[derive(Debug, Clone, Copy)]
pub struct ReplicaSettings {
    /// A replica whose data is older than this is taken out of rotation.
    pub max_lag: Duration,
    /// How often the monitor checks the primary's position and each replica.
    pub check_interval: Duration,
    /// How long a read waits for a replica connection before it goes to
    /// the primary instead.
    pub connect_timeout: Duration,
}

impl Default for ReplicaSettings {
    fn default() -> Self {
        ReplicaSettings {
            max_lag: Duration::from_secs(5),
            check_interval: Duration::from_millis(250),
            connect_timeout: Duration::from_millis(500),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReplicaState {
    /// In rotation.
    Healthy,
    /// Answers, but its data is older than the lag bound.
    Lagging,
    /// Does not answer, or is not a replica (it was promoted).
    Down,
    /// Not checked yet (the service has just started).
    Unknown,
}

/// Which database served a read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadSource {
    Primary,
    /// The replica's place in the configured list, from 1.
    Replica(usize),
}

impl std::fmt::Display for ReadSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadSource::Primary => f.write_str("primary"),
            ReadSource::Replica(n) => write!(f, "replica-{n}"),
        }
    }
}

/// One replica as `/healthz` reports it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ReplicaReport {
    /// `replica-1`, `replica-2`… in the order of CLAIMTRAIL_REPLICA_URLS.
    pub name: String,
    /// Its connection string without user or password.
    pub url: String,
    pub state: ReplicaState,
    /// How old its data may be, in milliseconds (null when unknown).
    pub lag_ms: Option<u64>,
    /// The last WAL position it was seen to have replayed.
    pub replayed_lsn: Option<String>,
    /// Why it is down.
    pub error: Option<String>,
}

#[derive(Debug, Clone)]
struct Status {
    state: ReplicaState,
    replayed: Option<Lsn>,
    lag: Option<Duration>,
    error: Option<String>,
}

struct Replica {
    name: String,
    url: String,
    pool: DbPool,
    status: Mutex<Status>,
}

impl Replica {
    fn status(&self) -> Status {
        self.status
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn set(&self, status: Status) {
        let mut current = self.status.lock().unwrap_or_else(|e| e.into_inner());
        if current.state != status.state {
            match status.state {
                ReplicaState::Healthy => {
                    tracing::info!(replica = %self.name, "replica back in rotation")
                }
                ReplicaState::Lagging => tracing::warn!(
                    replica = %self.name,
                    lag_ms = status.lag.map(|l| l.as_millis() as u64),
                    "replica out of rotation: it lags behind the primary"
                ),
                ReplicaState::Down => tracing::warn!(
                    replica = %self.name,
                    error = status.error.as_deref().unwrap_or(""),
                    "replica out of rotation: it does not answer"
                ),
                ReplicaState::Unknown => {}
            }
        }
        *current = status;
    }

    fn mark_down(&self, error: String) {
        // Its idle connections are likely broken too.
        self.pool.retain(|_, _| false);
        self.set(Status {
            state: ReplicaState::Down,
            replayed: None,
            lag: None,
            error: Some(error),
        });
    }
}

/// The primary pool and the replicas reads may use.
pub struct Database {
    primary: DbPool,
    replicas: Vec<Replica>,
    samples: Mutex<PrimarySamples>,
    next: AtomicUsize,
    settings: ReplicaSettings,
}

impl Database {
    /// A database without replicas: every read goes to the primary.
    pub fn primary_only(primary: DbPool) -> Self {
        Self::new(primary, Vec::new(), ReplicaSettings::default())
    }

    /// `replicas`: (connection string, its pool), in configured order.
    pub fn new(
        primary: DbPool,
        replicas: Vec<(String, DbPool)>,
        settings: ReplicaSettings,
    ) -> Self {
        let replicas = replicas
            .into_iter()
            .enumerate()
            .map(|(i, (url, pool))| Replica {
                name: ReadSource::Replica(i + 1).to_string(),
                url: without_credentials(&url),
                pool,
                status: Mutex::new(Status {
                    state: ReplicaState::Unknown,
                    replayed: None,
                    lag: None,
                    error: None,
                }),
            })
            .collect();
        Database {
            primary,
            replicas,
            samples: Mutex::new(PrimarySamples::new(settings.max_lag * 2)),
            next: AtomicUsize::new(0),
            settings,
        }
    }

    pub fn primary(&self) -> &DbPool {
        &self.primary
    }

    pub fn has_replicas(&self) -> bool {
        !self.replicas.is_empty()
    }

    /// A connection for a read that must see every write up to `seen` (a
    /// position a write returned), from a healthy replica when one is fresh
    /// enough, else from the primary.
    pub async fn reader(&self, seen: Option<Lsn>) -> AppResult<(DbConn, ReadSource)> {
        let count = self.replicas.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        for offset in 0..count {
            let index = (start + offset) % count;
            let replica = &self.replicas[index];
            let status = replica.status();
            if status.state != ReplicaState::Healthy {
                continue;
            }
            let conn = match tokio::time::timeout(self.settings.connect_timeout, replica.pool.get())
                .await
            {
                Ok(Ok(conn)) => conn,
                Ok(Err(e)) => {
                    replica.mark_down(e.to_string());
                    continue;
                }
                // Busy, not broken: the primary takes this read.
                Err(_) => continue,
            };
            let mut conn = conn;
            if let Some(seen) = seen
                && status.replayed.is_none_or(|r| r < seen)
            {
                // The monitor's figure is a little old; ask the replica.
                match replayed(&mut conn).await {
                    Ok(Some(now)) if now >= seen => {}
                    Ok(_) => continue,
                    Err(e) => {
                        replica.mark_down(e.to_string());
                        continue;
                    }
                }
            }
            return Ok((conn, ReadSource::Replica(index + 1)));
        }
        Ok((self.primary.get().await?, ReadSource::Primary))
    }

    /// The primary's WAL position now: past the commit of every write that
    /// has returned, so a read that waits for it sees them.
    pub async fn write_position(&self) -> AppResult<Lsn> {
        let mut conn = self.primary.get().await?;
        current_position(&mut conn).await
    }

    /// Each replica's state, in configured order.
    pub fn report(&self) -> Vec<ReplicaReport> {
        self.replicas
            .iter()
            .map(|r| {
                let s = r.status();
                ReplicaReport {
                    name: r.name.clone(),
                    url: r.url.clone(),
                    state: s.state,
                    lag_ms: s.lag.map(|l| l.as_millis() as u64),
                    replayed_lsn: s.replayed.map(|l| l.to_string()),
                    error: s.error,
                }
            })
            .collect()
    }

    /// One round of checks: the primary's position, then every replica.
    pub async fn check(&self) {
        if self.replicas.is_empty() {
            return;
        }
        let primary_now = match self.primary.get().await {
            Ok(mut conn) => current_position(&mut conn).await.ok(),
            Err(_) => None,
        };
        let now = Instant::now();
        if let Some(position) = primary_now {
            self.samples
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(now, position);
        }
        for replica in &self.replicas {
            let probe = async {
                let mut conn = replica.pool.get().await.map_err(|e| e.to_string())?;
                let row: RecoveryRow = diesel::sql_query(
                    "SELECT pg_is_in_recovery() AS in_recovery, \
                            pg_last_wal_replay_lsn()::text AS replayed",
                )
                .get_result(&mut *conn)
                .await
                .map_err(|e| e.to_string())?;
                Ok::<_, String>(row)
            };
            let probe = tokio::time::timeout(self.settings.connect_timeout * 2, probe).await;
            let row = match probe {
                Ok(Ok(row)) => row,
                Ok(Err(e)) => {
                    replica.mark_down(e);
                    continue;
                }
                Err(_) => {
                    replica.mark_down("it did not answer in time".into());
                    continue;
                }
            };
            let Some(replayed) = row
                .replayed
                .filter(|_| row.in_recovery)
                .and_then(|r| r.parse::<Lsn>().ok())
            else {
                replica.mark_down("it is not a replica (not in recovery)".into());
                continue;
            };
            let lag = self
                .samples
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .staleness(replayed, now);
            replica.set(Status {
                state: rotation(lag, self.settings.max_lag),
                replayed: Some(replayed),
                lag,
                error: None,
            });
        }
    }

    /// Checks every replica until the runtime stops.
    pub fn spawn_monitor(self: std::sync::Arc<Self>) -> Option<tokio::task::JoinHandle<()>> {
        if self.replicas.is_empty() {
            return None;
        }
        Some(tokio::spawn(async move {
            loop {
                self.check().await;
                tokio::time::sleep(self.settings.check_interval).await;
            }
        }))
    }
}

/// Whether a replica whose data is `lag` old is in rotation (unknown lag:
/// it is further behind than the primary samples reach).
fn rotation(lag: Option<Duration>, max_lag: Duration) -> ReplicaState {
    match lag {
        Some(lag) if lag <= max_lag => ReplicaState::Healthy,
        _ => ReplicaState::Lagging,
    }
}

#[derive(diesel::QueryableByName)]
struct RecoveryRow {
    #[diesel(sql_type = Bool)]
    in_recovery: bool,
    #[diesel(sql_type = Nullable<Text>)]
    replayed: Option<String>,
}

#[derive(diesel::QueryableByName)]
struct PositionRow {
    #[diesel(sql_type = Nullable<Text>)]
    position: Option<String>,
}

async fn current_position(conn: &mut DbConn) -> AppResult<Lsn> {
    // The insert position, not the flushed one: with asynchronous commit a
    // commit record may be inserted and not yet flushed.
    let row: PositionRow =
        diesel::sql_query("SELECT pg_current_wal_insert_lsn()::text AS position")
            .get_result(&mut **conn)
            .await?;
    parse_position(row.position)
}

async fn replayed(conn: &mut DbConn) -> AppResult<Option<Lsn>> {
    let row: PositionRow = diesel::sql_query("SELECT pg_last_wal_replay_lsn()::text AS position")
        .get_result(&mut **conn)
        .await?;
    Ok(row.position.and_then(|p| p.parse().ok()))
}

fn parse_position(position: Option<String>) -> AppResult<Lsn> {
    position
        .as_deref()
        .and_then(|p| p.parse().ok())
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("the server gave no WAL position")))
}

/// The primary's WAL position as sampled over the last while.
struct PrimarySamples {
    samples: VecDeque<(Instant, Lsn)>,
    keep: Duration,
}

impl PrimarySamples {
    fn new(keep: Duration) -> Self {
        PrimarySamples {
            samples: VecDeque::new(),
            keep: keep.max(Duration::from_secs(1)),
        }
    }

    fn push(&mut self, at: Instant, position: Lsn) {
        self.samples.push_back((at, position));
        // Keep one sample older than the window: it dates replicas that
        // are exactly that far behind.
        while self.samples.len() > 2
            && self
                .samples
                .get(1)
                .is_some_and(|(t, _)| at.duration_since(*t) > self.keep)
        {
            self.samples.pop_front();
        }
    }

    /// How old the data of a replica that has replayed up to `replayed` may
    /// be: zero when it has everything the primary had at the latest
    /// sample, else the age of the latest sample it holds everything of;
    /// `None` when it is behind every sample kept (or none was taken).
    fn staleness(&self, replayed: Lsn, now: Instant) -> Option<Duration> {
        let (_, latest) = self.samples.back()?;
        if replayed >= *latest {
            return Some(Duration::ZERO);
        }
        self.samples
            .iter()
            .rev()
            .find(|(_, position)| *position <= replayed)
            .map(|(at, _)| now.saturating_duration_since(*at))
    }
}

/// A connection string with its user and password left out, for reports
/// and logs: URL form or key=value form.
pub fn without_credentials(url: &str) -> String {
    if let Ok(mut parsed) = url::Url::parse(url)
        && matches!(parsed.scheme(), "postgres" | "postgresql")
    {
        let _ = parsed.set_password(None);
        let _ = parsed.set_username("");
        let pairs: Vec<(String, String)> = parsed
            .query_pairs()
            .filter(|(k, _)| k != "password" && k != "user")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        if pairs.is_empty() {
            parsed.set_query(None);
        } else {
            parsed.query_pairs_mut().clear().extend_pairs(pairs);
        }
        return parsed.to_string();
    }
    conninfo_without_credentials(url)
}

/// key=value form: drops `user=` and `password=` entries (values may be
/// quoted with '…' and escape with \).
fn conninfo_without_credentials(conninfo: &str) -> String {
    let mut kept = Vec::new();
    let mut chars = conninfo.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.peek().is_none() {
            break;
        }
        let mut key = String::new();
        while let Some(c) = chars.next_if(|c| *c != '=' && !c.is_whitespace()) {
            key.push(c);
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let mut entry = key.clone();
        if chars.next_if_eq(&'=').is_some() {
            entry.push('=');
            while chars.next_if(|c| c.is_whitespace()).is_some() {}
            if chars.next_if_eq(&'\'').is_some() {
                entry.push('\'');
                while let Some(c) = chars.next() {
                    entry.push(c);
                    if c == '\\' {
                        if let Some(escaped) = chars.next() {
                            entry.push(escaped);
                        }
                    } else if c == '\'' {
                        break;
                    }
                }
            } else {
                while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                    entry.push(c);
                }
            }
        }
        if key != "password" && key != "user" {
            kept.push(entry);
        }
    }
    kept.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lsn(n: u64) -> Lsn {
        Lsn(n)
    }

    #[test]
    fn a_replica_with_the_latest_sample_is_not_stale() {
        let t0 = Instant::now();
        let mut samples = PrimarySamples::new(Duration::from_secs(10));
        samples.push(t0, lsn(100));
        samples.push(t0 + Duration::from_secs(1), lsn(100));
        let now = t0 + Duration::from_secs(2);
        assert_eq!(samples.staleness(lsn(100), now), Some(Duration::ZERO));
        assert_eq!(samples.staleness(lsn(150), now), Some(Duration::ZERO));
    }

    #[test]
    fn a_paused_replica_ages_from_the_last_sample_it_holds() {
        let t0 = Instant::now();
        let mut samples = PrimarySamples::new(Duration::from_secs(10));
        samples.push(t0, lsn(100));
        samples.push(t0 + Duration::from_secs(1), lsn(200));
        samples.push(t0 + Duration::from_secs(2), lsn(300));
        let now = t0 + Duration::from_secs(3);
        // Holds everything of the sample at t0+1, not of t0+2.
        assert_eq!(
            samples.staleness(lsn(250), now),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            samples.staleness(lsn(100), now),
            Some(Duration::from_secs(3))
        );
        // Behind every sample: unknown, so out of rotation.
        assert_eq!(samples.staleness(lsn(50), now), None);
        assert_eq!(
            rotation(None, Duration::from_secs(60)),
            ReplicaState::Lagging
        );
    }

    #[test]
    fn the_lag_bound_decides_rotation() {
        let bound = Duration::from_secs(5);
        assert_eq!(rotation(Some(Duration::ZERO), bound), ReplicaState::Healthy);
        assert_eq!(rotation(Some(bound), bound), ReplicaState::Healthy);
        assert_eq!(
            rotation(Some(bound + Duration::from_millis(1)), bound),
            ReplicaState::Lagging
        );
    }

    #[test]
    fn old_samples_go_but_one_older_than_the_window_stays() {
        let t0 = Instant::now();
        let mut samples = PrimarySamples::new(Duration::from_secs(2));
        for i in 0..10 {
            samples.push(t0 + Duration::from_secs(i), lsn(i * 10));
        }
        let kept: Vec<u64> = samples.samples.iter().map(|(_, l)| l.0).collect();
        assert_eq!(kept, vec![60, 70, 80, 90]);
        let now = t0 + Duration::from_secs(9);
        assert_eq!(
            samples.staleness(lsn(65), now),
            Some(Duration::from_secs(3))
        );
        assert_eq!(samples.staleness(lsn(59), now), None);
        assert_eq!(
            PrimarySamples::new(Duration::ZERO).staleness(lsn(1), now),
            None
        );
    }

    #[test]
    fn reports_leave_credentials_out() {
        assert_eq!(
            without_credentials(
                "postgres://app:s3cret@db2.example:5432/claimtrail?sslmode=require&password=x"
            ),
            "postgres://db2.example:5432/claimtrail?sslmode=require"
        );
        assert_eq!(
            without_credentials("postgresql://app@db2/claimtrail"),
            "postgresql://db2/claimtrail"
        );
        assert_eq!(
            without_credentials(
                "host=/run/pg port=5433 user=app password='a b\\'c' dbname=claimtrail"
            ),
            "host=/run/pg port=5433 dbname=claimtrail"
        );
        assert_eq!(
            without_credentials("host = db2 password = secret dbname=x"),
            "host=db2 dbname=x"
        );
    }
}
