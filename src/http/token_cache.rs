//! The cache of validated tokens.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use subtle::ConstantTimeEq;

use crate::storage::users::AuthUser;

/// Tokens recently found valid, so that a busy client costs one database
/// lookup per `ttl` instead of one per request (a third of a cheap read).
/// Unknown tokens are never cached. A revoked token is forgotten at once by
/// every instance, through the database's notifications, wherever it was
/// revoked (the API, the CLI); should notifications be down, it stops
/// working within `ttl`.
///
/// Entries are found by the first 8 bytes of the token's SHA-256 and then
/// checked against the whole digest in constant time (`subtle`): lookup
/// timing depends only on digest bits a caller cannot steer, and the final
/// comparison on nothing.
pub struct TokenCache {
    ttl: Duration,
    entries: Mutex<HashMap<u64, CachedToken>>,
}

/// The full digest, who the token belongs to, and when it was checked.
type CachedToken = ([u8; 32], AuthUser, Instant);

fn cache_key(hash: &[u8; 32]) -> u64 {
    u64::from_le_bytes(hash[..8].try_into().expect("8 bytes"))
}

/// Entries kept at most; a full cache drops its expired entries, or all.
const TOKEN_CACHE_CAPACITY: usize = 10_000;

impl TokenCache {
    /// How long a validated token is trusted without asking the database.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// A zero `ttl` turns the cache off.
    pub fn new(ttl: Duration) -> Self {
        TokenCache {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    pub fn get(&self, hash: &[u8; 32]) -> Option<AuthUser> {
        if self.ttl.is_zero() {
            return None;
        }
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(&cache_key(hash))
            .filter(|(full, _, at)| bool::from(full.ct_eq(hash)) && at.elapsed() < self.ttl)
            .map(|(_, user, _)| user.clone())
    }

    pub fn put(&self, hash: [u8; 32], user: AuthUser) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= TOKEN_CACHE_CAPACITY {
            entries.retain(|_, (_, _, at)| at.elapsed() < self.ttl);
            if entries.len() >= TOKEN_CACHE_CAPACITY {
                entries.clear();
            }
        }
        entries.insert(cache_key(&hash), (hash, user, Instant::now()));
    }

    /// Drops a revoked token, whichever instance revoked it (the database
    /// tells every instance; see `storage::notifications`).
    pub fn forget(&self, token_id: i64) {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|_, (_, user, _)| user.token_id != token_id);
    }

    pub fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::auth::Role;

    fn user() -> AuthUser {
        AuthUser {
            user_id: 1,
            name: "rita".into(),
            role: Role::Reviewer,
            token_id: 7,
        }
    }

    #[test]
    fn the_token_cache_expires_entries_and_can_be_cleared_or_off() {
        let cache = TokenCache::new(Duration::from_millis(50));
        cache.put([1; 32], user());
        assert_eq!(cache.get(&[1; 32]).map(|u| u.token_id), Some(7));
        assert!(cache.get(&[2; 32]).is_none());
        cache.clear();
        assert!(cache.get(&[1; 32]).is_none());
        cache.put([1; 32], user());
        cache.put(
            [3; 32],
            AuthUser {
                token_id: 8,
                ..user()
            },
        );
        cache.forget(7);
        assert!(cache.get(&[1; 32]).is_none(), "forgotten");
        assert_eq!(cache.get(&[3; 32]).map(|u| u.token_id), Some(8));
        cache.put([1; 32], user());
        std::thread::sleep(Duration::from_millis(60));
        assert!(cache.get(&[1; 32]).is_none(), "expired");

        let off = TokenCache::new(Duration::ZERO);
        off.put([1; 32], user());
        assert!(off.get(&[1; 32]).is_none());
    }
}
