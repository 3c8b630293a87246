//! What the log says while requests are refused with 503 (the database is
//! down, or no connection came free in time): the change of state once, a
//! reminder with the count of refused requests at most every
//! [`REMIND_EVERY`], and the recovery once — not a line per refused request
//! (a busy service refuses thousands a second, and the log must stay
//! readable and small through an outage).

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How often a continuing outage is logged again.
pub const REMIND_EVERY: Duration = Duration::from_secs(30);

/// The outage bookkeeping, with time passed in (so that it is tested
/// without waiting).
#[derive(Debug, Default)]
pub struct OutageLog {
    current: Option<Outage>,
}

#[derive(Debug)]
struct Outage {
    since: Instant,
    since_wall: chrono::DateTime<chrono::Utc>,
    refused: u64,
    last_line: Instant,
}

/// A line to log, if any.
#[derive(Debug, PartialEq, Eq)]
pub enum Line {
    Began {
        detail: String,
    },
    Continues {
        since: String,
        refused: u64,
        detail: String,
    },
    Ended {
        after: Duration,
        refused: u64,
    },
}

impl OutageLog {
    /// A request was refused because the database is unavailable.
    pub fn refused(&mut self, now: Instant, detail: &str) -> Option<Line> {
        match &mut self.current {
            None => {
                self.current = Some(Outage {
                    since: now,
                    since_wall: chrono::Utc::now(),
                    refused: 1,
                    last_line: now,
                });
                Some(Line::Began {
                    detail: detail.to_owned(),
                })
            }
            Some(outage) => {
                outage.refused += 1;
                if now.duration_since(outage.last_line) < REMIND_EVERY {
                    return None;
                }
                outage.last_line = now;
                Some(Line::Continues {
                    since: outage
                        .since_wall
                        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    refused: outage.refused,
                    detail: detail.to_owned(),
                })
            }
        }
    }

    /// A request used the database successfully.
    pub fn served(&mut self, now: Instant) -> Option<Line> {
        let outage = self.current.take()?;
        Some(Line::Ended {
            after: now.duration_since(outage.since),
            refused: outage.refused,
        })
    }
}

static LOG: Mutex<OutageLog> = Mutex::new(OutageLog { current: None });
/// Read on every request without taking the lock.
static IN_OUTAGE: AtomicBool = AtomicBool::new(false);

fn emit(line: Line) {
    match line {
        Line::Began { detail } => tracing::warn!(
            %detail,
            "refusing requests with 503: {detail} (further refusals are counted, not logged one by one)"
        ),
        Line::Continues {
            since,
            refused,
            detail,
        } => tracing::warn!(
            %since, refused, %detail,
            "still refusing requests since {since}: {refused} refused so far (last: {detail})"
        ),
        Line::Ended { after, refused } => tracing::warn!(
            after_s = after.as_secs_f64(),
            refused,
            "serving again after {:.1} s of refusals; {refused} requests were refused",
            after.as_secs_f64()
        ),
    }
}

/// Notes a request refused for want of the database.
pub fn note_refused(detail: &str) {
    IN_OUTAGE.store(true, Ordering::Relaxed);
    let line = LOG
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .refused(Instant::now(), detail);
    if let Some(line) = line {
        emit(line);
    }
}

/// Notes a request that the database served; ends a run of refusals.
pub fn note_served() {
    if !IN_OUTAGE.load(Ordering::Relaxed) {
        return;
    }
    let line = {
        let mut log = LOG.lock().unwrap_or_else(|e| e.into_inner());
        IN_OUTAGE.store(false, Ordering::Relaxed);
        log.served(Instant::now())
    };
    if let Some(line) = line {
        emit(line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outage_is_logged_when_it_begins_every_thirty_seconds_and_when_it_ends() {
        let mut log = OutageLog::default();
        let t0 = Instant::now();
        assert!(log.served(t0).is_none(), "no outage, nothing to say");
        assert_eq!(
            log.refused(t0, "connection refused"),
            Some(Line::Began {
                detail: "connection refused".into()
            })
        );
        // A thousand refusals within the reminder period: silence.
        for i in 1..=1_000 {
            assert!(log.refused(t0 + Duration::from_millis(i), "x").is_none());
        }
        match log.refused(t0 + REMIND_EVERY, "still refused") {
            Some(Line::Continues {
                refused, detail, ..
            }) => {
                assert_eq!(refused, 1_002);
                assert_eq!(detail, "still refused");
            }
            other => panic!("{other:?}"),
        }
        assert!(
            log.refused(t0 + REMIND_EVERY + Duration::from_secs(1), "x")
                .is_none()
        );
        assert_eq!(
            log.served(t0 + Duration::from_secs(45)),
            Some(Line::Ended {
                after: Duration::from_secs(45),
                refused: 1_003
            })
        );
        assert!(log.served(t0 + Duration::from_secs(46)).is_none());
        // The next outage starts afresh.
        assert!(matches!(
            log.refused(t0 + Duration::from_secs(50), "again"),
            Some(Line::Began { .. })
        ));
    }
}
