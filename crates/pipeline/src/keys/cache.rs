//! The keys a server read lately (and the ids it found unknown), so a request costs no read
//! while its key is fresh.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

use voucherdeck_core::domain::ApiKeyRecord;
use voucherdeck_core::domain::limits::KEY_CACHE_TTL;

/// How long an unknown key id is remembered as unknown (floods of made-up keys stay cheap, and a
/// new key works everywhere soon).
const UNKNOWN_TTL: Duration = Duration::from_secs(1);
/// Cached keys at most; past it the cache starts afresh.
const CACHE_MAX: usize = 100_000;

/// What a server last read of a key id.
#[derive(Debug, Clone)]
pub(super) enum Cached {
    Known(ApiKeyRecord),
    Unknown,
}

/// Recently read keys (and unknown ids), with when they were read.
#[derive(Debug, Default)]
pub(crate) struct KeyCache {
    entries: Mutex<HashMap<String, (Cached, Instant)>>,
}

impl KeyCache {
    pub(super) fn get(&self, id: &str) -> Option<Cached> {
        let map = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let (key, at) = map.get(id)?;
        let ttl = match key {
            Cached::Known(_) => KEY_CACHE_TTL,
            Cached::Unknown => UNKNOWN_TTL,
        };
        (at.elapsed() < ttl).then(|| key.clone())
    }

    pub(super) fn put(&self, id: &str, key: Option<ApiKeyRecord>) {
        let key = key.map_or(Cached::Unknown, Cached::Known);
        let mut map = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if map.len() >= CACHE_MAX {
            map.clear();
        }
        map.insert(id.to_string(), (key, Instant::now()));
    }
}
