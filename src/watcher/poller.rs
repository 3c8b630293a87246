//! The background poller: every tick it leases due watches (as many as it
//! has free slots; `FOR UPDATE SKIP LOCKED`, so several instances share the
//! work without polling one watch twice) and polls each on its own task.
//! Politeness holds across watches: the fetcher gives each host one request
//! at a time, with a pause between two.

use std::sync::Arc;

use tokio::sync::Semaphore;

use super::{LEASE, Watcher};
use crate::storage::pool::DbPool;
use crate::storage::watches;

pub fn spawn(watcher: Arc<Watcher>, pool: DbPool) {
    let Some(tick) = watcher.settings().tick else {
        return;
    };
    let slots = Arc::new(Semaphore::new(watcher.settings().concurrency.max(1)));
    tokio::spawn(async move {
        let mut failing = false;
        loop {
            tokio::time::sleep(tick).await;
            let free = slots.available_permits();
            if free == 0 {
                continue;
            }
            let leased = match pool.get().await {
                Ok(mut conn) => {
                    watches::lease_due(&mut conn, i64::try_from(free).unwrap_or(1), LEASE).await
                }
                Err(e) => Err(e.into()),
            };
            let due = match leased {
                Ok(due) => {
                    if failing {
                        tracing::info!("the watch poller reaches the database again");
                    }
                    failing = false;
                    due
                }
                Err(e) => {
                    // One line per outage, not one per tick.
                    if !failing {
                        tracing::warn!(error = %e, "the watch poller cannot reach the database");
                    }
                    failing = true;
                    continue;
                }
            };
            for watch in due {
                let Ok(permit) = slots.clone().acquire_owned().await else {
                    return;
                };
                let watcher = watcher.clone();
                let pool = pool.clone();
                tokio::spawn(async move {
                    let id = watch.id;
                    if let Err(e) = watcher.poll(&pool, watch).await {
                        tracing::warn!(watch = id, error = %e, "a watch poll was cut short");
                    }
                    drop(permit);
                });
            }
        }
    });
}
