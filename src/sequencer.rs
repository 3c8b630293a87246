//! The sequencer: the one task that integrates committed audit events into
//! the transparency log, in batches, off every request's path. Several
//! service instances may each run one; an advisory lock lets one work at a
//! time (see [`crate::storage::audit_log::integrate`]).

use std::sync::Arc;
use std::time::Duration;

use crate::domain::audit::LogSigner;
use crate::storage::audit_log;
use crate::storage::pool::DbPool;

#[derive(Debug, Clone, Copy)]
pub struct SequencerSettings {
    /// How long the sequencer waits between steps when it has caught up.
    /// With the time a step takes, this bounds the log's merge delay.
    pub interval: Duration,
    /// Most events integrated (and hashed) in one step.
    pub max_batch: i64,
}

impl Default for SequencerSettings {
    fn default() -> Self {
        SequencerSettings {
            interval: Duration::from_millis(500),
            max_batch: 10_000,
        }
    }
}

/// Runs the sequencer on the current runtime until the runtime stops.
pub fn spawn(
    pool: DbPool,
    signer: Arc<LogSigner>,
    settings: SequencerSettings,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        // One line per outage, not one per step.
        let mut failing = false;
        loop {
            let step = match pool.get().await {
                Ok(mut conn) => audit_log::integrate(&mut conn, &signer, settings.max_batch).await,
                Err(e) => Err(e.into()),
            };
            match step {
                Ok(done) => {
                    if failing {
                        tracing::info!("the audit log sequencer works again");
                        failing = false;
                    }
                    if let Some(step) = done {
                        tracing::debug!(from = step.from, to = step.to, "audit events integrated");
                        if step.full {
                            continue;
                        }
                    }
                }
                Err(e) => {
                    if !failing {
                        tracing::warn!(error = %e, "the audit log sequencer failed; retrying");
                        failing = true;
                    }
                }
            }
            tokio::time::sleep(settings.interval).await;
        }
    })
}
