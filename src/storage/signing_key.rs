//! The audit log's signing key, in a file outside the database: someone who
//! controls the database (even its superuser) cannot sign a checkpoint of a
//! log they changed. The file holds one line, the signer key in the format
//! of Go's `golang.org/x/mod/sumdb/note` (`PRIVATE+KEY+<origin>+<id>+<key>`),
//! readable by its owner only.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use anyhow::Context;

use crate::domain::audit::LogSigner;

/// The key file's name inside the data folder, unless another path is set.
pub const DEFAULT_FILE: &str = "audit-log.key";

/// Loads the key; makes one first (for a log named `origin`, or a random
/// name when none is given) when the file does not exist yet.
pub fn load_or_create(path: &Path, origin: Option<&str>) -> anyhow::Result<LogSigner> {
    if !path.exists() {
        let origin = match origin {
            Some(o) => o.to_owned(),
            None => {
                let mut tag = [0u8; 6];
                getrandom::fill(&mut tag).context("drawing a random log name")?;
                format!("claimtrail-{}", hex::encode(tag))
            }
        };
        let skey = LogSigner::generate(&origin)?;
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
        }
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .with_context(|| format!("creating the log signing key {}", path.display()))?;
        writeln!(file, "{skey}")?;
        file.sync_all()?;
        tracing::info!(path = %path.display(), origin, "made a new audit log signing key; back it up and keep it secret");
    }
    let signer = load(path)?;
    if let Some(origin) = origin
        && origin != signer.origin()
    {
        anyhow::bail!(
            "the log signing key {} is for the log {:?}, not {origin:?} (CLAIMTRAIL_LOG_ORIGIN names a new log's origin only)",
            path.display(),
            signer.origin()
        );
    }
    Ok(signer)
}

/// Loads an existing key.
pub fn load(path: &Path) -> anyhow::Result<LogSigner> {
    let mode = fs::metadata(path)
        .with_context(|| format!("reading the log signing key {}", path.display()))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        tracing::warn!(path = %path.display(), "the log signing key can be read by other users; chmod 600 it");
    }
    let text = fs::read_to_string(path)
        .with_context(|| format!("reading the log signing key {}", path.display()))?;
    LogSigner::from_key(text.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_key_is_made_once_and_kept_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        let first = load_or_create(&path, Some("news.example/log")).unwrap();
        let again = load_or_create(&path, None).unwrap();
        assert_eq!(first.verifier_key(), again.verifier_key());
        assert_eq!(again.origin(), "news.example/log");
        let mode = fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert!(load_or_create(&path, Some("other.example/log")).is_err());
    }
}
