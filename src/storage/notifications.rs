//! What one service instance tells the others through the database
//! (PostgreSQL's LISTEN/NOTIFY): the audit log grew (streams on every
//! instance wake at once instead of polling), a token was revoked (every
//! instance forgets it at once instead of within its cache period).
//! A notification is sent in the writing transaction, so it arrives only if
//! that transaction commits. Each instance keeps one listening connection
//! and reconnects when it breaks; while it is down, streams fall back to
//! polling and revocations to the token cache's period.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use diesel::sql_types::{BigInt, Text};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use futures_util::StreamExt;
use tokio::sync::{broadcast, watch};

use crate::error::AppResult;

/// The transparency log has a new checkpoint (payload: its tree size).
pub const LOG_CHANNEL: &str = "claimtrail_log";
/// A token was revoked (payload: its id).
pub const TOKEN_CHANNEL: &str = "claimtrail_token_revoked";

/// Tells every instance that the log grew to `tree_size`, on commit.
pub async fn log_grew(conn: &mut AsyncPgConnection, tree_size: i64) -> AppResult<()> {
    send(conn, LOG_CHANNEL, tree_size).await
}

/// Tells every instance that `token_id` was revoked, on commit.
pub async fn token_revoked(conn: &mut AsyncPgConnection, token_id: i64) -> AppResult<()> {
    send(conn, TOKEN_CHANNEL, token_id).await
}

async fn send(conn: &mut AsyncPgConnection, channel: &str, payload: i64) -> AppResult<()> {
    diesel::sql_query("SELECT pg_notify($1, $2::text)")
        .bind::<Text, _>(channel)
        .bind::<BigInt, _>(payload)
        .execute(conn)
        .await?;
    Ok(())
}

/// One instance's end of the notifications.
pub struct Notifications {
    /// The log's latest tree size heard of.
    log: watch::Sender<i64>,
    revoked: broadcast::Sender<i64>,
    /// (Called as `AtomicBool::load(&…)`: with diesel-async's `RunQueryDsl`
    /// in scope, `.load` on it would name the query method.)
    listening: AtomicBool,
}

impl Default for Notifications {
    fn default() -> Self {
        Notifications {
            log: watch::Sender::new(0),
            revoked: broadcast::Sender::new(256),
            listening: AtomicBool::new(false),
        }
    }
}

impl Notifications {
    /// Changes whenever the log grows.
    pub fn log_growth(&self) -> watch::Receiver<i64> {
        self.log.subscribe()
    }

    /// Every revoked token's id, as revocations arrive.
    pub fn revocations(&self) -> broadcast::Receiver<i64> {
        self.revoked.subscribe()
    }

    /// Whether notifications arrive now (else the streams poll).
    pub fn is_listening(&self) -> bool {
        AtomicBool::load(&self.listening, Ordering::Relaxed)
    }

    fn deliver(&self, channel: &str, payload: &str) {
        let Ok(value) = payload.parse::<i64>() else {
            return;
        };
        match channel {
            LOG_CHANNEL => {
                self.log.send_if_modified(|size| {
                    let grew = value > *size;
                    *size = (*size).max(value);
                    grew
                });
            }
            TOKEN_CHANNEL => {
                let _ = self.revoked.send(value);
            }
            _ => {}
        }
    }

    /// Listens on the primary at `url` until the runtime stops,
    /// reconnecting with a growing pause (up to 5 s) when the connection
    /// breaks.
    pub fn spawn_listener(self: Arc<Self>, url: String) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut pause = Duration::from_millis(100);
            // One line per outage, not one per attempt.
            let mut warned = false;
            loop {
                let ended = self.listen(&url).await;
                if AtomicBool::swap(&self.listening, false, Ordering::Relaxed) {
                    // It was listening: this is a new outage.
                    pause = Duration::from_millis(100);
                    warned = false;
                }
                if !warned {
                    let error = match ended {
                        Ok(()) => "the connection closed".to_owned(),
                        Err(e) => e.to_string(),
                    };
                    tracing::warn!(
                        error,
                        "not listening for notifications; event streams poll until it works again"
                    );
                    warned = true;
                }
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(5));
            }
        })
    }

    /// One connection's life: LISTEN, then deliver until it ends.
    async fn listen(&self, url: &str) -> anyhow::Result<()> {
        let mut conn = AsyncPgConnection::establish(url).await?;
        diesel::sql_query(format!("LISTEN {LOG_CHANNEL}"))
            .execute(&mut conn)
            .await?;
        diesel::sql_query(format!("LISTEN {TOKEN_CHANNEL}"))
            .execute(&mut conn)
            .await?;
        AtomicBool::store(&self.listening, true, Ordering::Relaxed);
        tracing::info!("listening for notifications");
        let mut stream = std::pin::pin!(conn.notifications_stream());
        while let Some(notification) = stream.next().await {
            let notification = notification?;
            self.deliver(&notification.channel, &notification.payload);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_size_only_grows_and_wakes_on_growth() {
        let notifications = Notifications::default();
        let mut growth = notifications.log_growth();
        notifications.deliver(LOG_CHANNEL, "5");
        assert!(growth.has_changed().unwrap());
        assert_eq!(*growth.borrow_and_update(), 5);
        // An older checkpoint heard late wakes nobody.
        notifications.deliver(LOG_CHANNEL, "3");
        assert!(!growth.has_changed().unwrap());
        notifications.deliver(LOG_CHANNEL, "not a number");
        assert!(!growth.has_changed().unwrap());
    }

    #[test]
    fn revocations_reach_every_subscriber() {
        let notifications = Notifications::default();
        let mut a = notifications.revocations();
        let mut b = notifications.revocations();
        notifications.deliver(TOKEN_CHANNEL, "42");
        notifications.deliver("someone_elses_channel", "7");
        assert_eq!(a.try_recv().unwrap(), 42);
        assert_eq!(b.try_recv().unwrap(), 42);
        assert!(a.try_recv().is_err());
    }
}
