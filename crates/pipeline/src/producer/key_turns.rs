//! One request at a time per idempotency key in this process: a request whose key is in flight
//! waits a moment for the first to finish (and then answers what the first did); past that wait
//! it is refused as in flight (409 in the API). Across processes the conditional claim decides.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::watch;

type Turns = Arc<Mutex<HashMap<String, watch::Receiver<()>>>>;

/// The idempotency keys whose request is in flight here.
#[derive(Debug, Default)]
pub(crate) struct KeyTurns {
    turns: Turns,
}

/// A request's turn with its key, given back on drop (waking who waits).
#[derive(Debug)]
pub(crate) struct KeyTurn {
    turns: Turns,
    key: String,
    _done: watch::Sender<()>,
}

impl Drop for KeyTurn {
    fn drop(&mut self) {
        self.turns
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.key);
    }
}

impl KeyTurns {
    /// Takes `key`'s turn, waiting at most `wait` for a request that holds it; `None` if that
    /// request is still in flight then.
    pub(crate) async fn enter(&self, key: &str, wait: Duration) -> Option<KeyTurn> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let mut held = {
                let mut turns = self.turns.lock().unwrap_or_else(PoisonError::into_inner);
                if let Some(held) = turns.get(key) {
                    held.clone()
                } else {
                    let (done, held) = watch::channel(());
                    turns.insert(key.to_string(), held);
                    return Some(KeyTurn {
                        turns: self.turns.clone(),
                        key: key.to_string(),
                        _done: done,
                    });
                }
            };
            // Ends when the holder's turn is dropped (its sender with it).
            if tokio::time::timeout_at(deadline, held.changed())
                .await
                .is_err()
            {
                return None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_second_request_waits_for_the_first_or_is_refused() {
        let turns = KeyTurns::default();
        let first = turns.enter("k", Duration::ZERO).await.expect("free");
        assert!(
            turns.enter("k", Duration::from_millis(20)).await.is_none(),
            "in flight"
        );
        let _other = turns
            .enter("other", Duration::ZERO)
            .await
            .expect("another key");
        let waiter = async { turns.enter("k", Duration::from_secs(5)).await };
        let release = async {
            tokio::time::sleep(Duration::from_millis(20)).await;
            drop(first);
        };
        let (second, ()) = tokio::join!(waiter, release);
        assert!(second.is_some(), "the turn passes when the first is done");
    }
}
