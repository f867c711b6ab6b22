//! The keys a server read lately (and the ids it found unknown), so a request costs no read
//! while its key is fresh. Both are bounded LRUs, apart: a flood of made-up ids evicts only other
//! made-up ids, never a real key, and nothing is ever flushed wholesale.

use std::num::NonZeroUsize;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use lru::LruCache;
use tokio::time::Instant;

use voucherdeck_core::domain::ApiKeyRecord;
use voucherdeck_core::domain::limits::KEY_CACHE_TTL;

/// How long an unknown key id is remembered as unknown (a repeated made-up key stays cheap, and a
/// new key works everywhere soon).
const UNKNOWN_TTL: Duration = Duration::from_secs(1);
/// Real keys remembered at most (the least recently used goes first).
const KNOWN_MAX: NonZeroUsize = NonZeroUsize::new(100_000).expect("non-zero");
/// Unknown ids remembered at most.
const UNKNOWN_MAX: NonZeroUsize = NonZeroUsize::new(50_000).expect("non-zero");

/// What a server last read of a key id.
#[derive(Debug, Clone)]
pub(super) enum Cached {
    Known(ApiKeyRecord),
    Unknown,
}

/// Recently read keys and unknown ids, each with when it was read.
#[derive(Debug)]
pub(crate) struct KeyCache {
    known: Mutex<LruCache<String, (ApiKeyRecord, Instant)>>,
    unknown: Mutex<LruCache<String, Instant>>,
}

impl Default for KeyCache {
    fn default() -> Self {
        KeyCache::with_capacity(KNOWN_MAX, UNKNOWN_MAX)
    }
}

impl KeyCache {
    fn with_capacity(known: NonZeroUsize, unknown: NonZeroUsize) -> Self {
        KeyCache {
            known: Mutex::new(LruCache::new(known)),
            unknown: Mutex::new(LruCache::new(unknown)),
        }
    }

    pub(super) fn get(&self, id: &str) -> Option<Cached> {
        {
            let mut known = self.known.lock().unwrap_or_else(PoisonError::into_inner);
            match known.get(id) {
                Some((key, at)) if at.elapsed() < KEY_CACHE_TTL => {
                    return Some(Cached::Known(key.clone()));
                }
                Some(_) => {
                    known.pop(id);
                }
                None => {}
            }
        }
        let mut unknown = self.unknown.lock().unwrap_or_else(PoisonError::into_inner);
        match unknown.get(id) {
            Some(at) if at.elapsed() < UNKNOWN_TTL => Some(Cached::Unknown),
            Some(_) => {
                unknown.pop(id);
                None
            }
            None => None,
        }
    }

    pub(super) fn put(&self, id: &str, key: Option<ApiKeyRecord>) {
        let now = Instant::now();
        let mut known = self.known.lock().unwrap_or_else(PoisonError::into_inner);
        let mut unknown = self.unknown.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(k) = key {
            unknown.pop(id);
            known.put(id.to_string(), (k, now));
        } else {
            known.pop(id);
            unknown.put(id.to_string(), now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use voucherdeck_core::domain::{KeySpec, Role, Timestamp};

    fn record(id: &str) -> ApiKeyRecord {
        let spec = KeySpec {
            sender: "acme".into(),
            role: Role::Gifter,
            per_minute: 10,
            daily: 10,
        };
        let mut k = voucherdeck_core::domain::apikey::generate_key(
            &spec,
            b"pepper",
            "local:test",
            Timestamp(0),
        )
        .expect("key")
        .record;
        k.id = id.to_string();
        k
    }

    /// A flood of made-up ids, many times the cache, leaves the real keys cached and the cache
    /// bounded; the least recently used real key goes first when real keys overflow.
    #[test]
    fn made_up_ids_never_evict_real_keys() {
        let cache = KeyCache::with_capacity(
            NonZeroUsize::new(3).expect("3"),
            NonZeroUsize::new(4).expect("4"),
        );
        for id in ["a", "b", "c"] {
            cache.put(id, Some(record(id)));
        }
        for n in 0..1000 {
            cache.put(&format!("junk{n}"), None);
        }
        for id in ["a", "b", "c"] {
            assert!(matches!(cache.get(id), Some(Cached::Known(_))), "{id}");
        }
        assert!(matches!(cache.get("junk999"), Some(Cached::Unknown)));
        assert!(cache.get("junk0").is_none(), "the oldest unknown ids went");
        assert_eq!(cache.unknown.lock().expect("lock").len(), 4);
        cache.get("a");
        cache.put("d", Some(record("d")));
        assert!(cache.get("b").is_none(), "b was the least recently used");
        assert!(matches!(cache.get("a"), Some(Cached::Known(_))));
        cache.put("a", None);
        assert!(
            matches!(cache.get("a"), Some(Cached::Unknown)),
            "a deleted key"
        );
    }
}
