//! How `serve` stops: the first SIGTERM or SIGINT (Ctrl-C) drains, a second
//! one stops at once.
//!
//! actix's own handlers treat SIGINT as a forced stop, which would cut the
//! requests in flight when an operator presses Ctrl-C; and they give no way
//! to cut a drain short. So the server runs with its handlers off and this
//! module counts the signals instead.

use std::io;

use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;

/// Counts SIGTERM and SIGINT from the moment it is created.
#[derive(Clone)]
pub struct StopSignals {
    received: watch::Receiver<u32>,
}

impl StopSignals {
    /// Installs the handlers; must run inside the server's runtime.
    pub fn listen() -> io::Result<Self> {
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        let (count, received) = watch::channel(0u32);
        actix_web::rt::spawn(async move {
            loop {
                let name = tokio::select! {
                    _ = term.recv() => "SIGTERM",
                    _ = int.recv() => "SIGINT",
                };
                count.send_modify(|n| *n += 1);
                if *count.borrow() == 1 {
                    tracing::info!(
                        signal = name,
                        "stopping: new connections are refused, requests in flight finish (a second signal stops at once)"
                    );
                } else {
                    tracing::warn!(
                        signal = name,
                        "stopping at once: requests still in flight are cut"
                    );
                }
            }
        });
        Ok(Self { received })
    }

    /// Resolves once `n` signals have arrived.
    pub async fn nth(&self, n: u32) {
        let mut received = self.received.clone();
        // The sender lives as long as the runtime; an error means it is gone,
        // which is a stop too.
        let _ = received.wait_for(|count| *count >= n).await;
    }
}
