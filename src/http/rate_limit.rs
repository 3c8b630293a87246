//! Per-token rate limit on writes: a burst, then a steady rate (a token
//! bucket per token, `governor`'s keyed limiter). Reads are never limited:
//! a reviewer paging through a story should not be slowed by the limit
//! meant for a runaway script.

use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::error::AppError;

pub struct WriteLimiter {
    limiter: Option<DefaultKeyedRateLimiter<i64>>,
    clock: DefaultClock,
}

impl WriteLimiter {
    /// `per_second` writes per token on average, `burst` at once; a zero
    /// rate turns the limit off.
    pub fn new(per_second: u32, burst: u32) -> Self {
        let limiter = NonZeroU32::new(per_second).map(|rate| {
            let burst = NonZeroU32::new(burst).unwrap_or(rate);
            RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst))
        });
        WriteLimiter {
            limiter,
            clock: DefaultClock::default(),
        }
    }

    /// Takes one write from the token's bucket, or says when to retry.
    pub fn check(&self, token_id: i64) -> Result<(), AppError> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        limiter.check_key(&token_id).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            AppError::TooManyRequests {
                detail: format!(
                    "this token has used up its write quota; retry in {} ms",
                    wait.as_millis().max(1)
                ),
                retry_after_secs: wait.as_secs_f64().ceil().max(1.0) as u64,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_refusal_per_token_and_off_at_zero() {
        let limiter = WriteLimiter::new(1, 3);
        for _ in 0..3 {
            assert!(limiter.check(7).is_ok());
        }
        match limiter.check(7) {
            Err(AppError::TooManyRequests {
                retry_after_secs, ..
            }) => assert_eq!(retry_after_secs, 1),
            other => panic!("expected 429, got {other:?}"),
        }
        // Another token has its own bucket.
        assert!(limiter.check(8).is_ok());
        let off = WriteLimiter::new(0, 0);
        assert!((0..1000).all(|_| off.check(7).is_ok()));
    }
}
