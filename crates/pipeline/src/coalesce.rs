//! Coalescing: items pushed by many concurrent callers are written in batches (up to `max` items,
//! waiting at most `linger` for company), several batches in flight at once. The producer's
//! `SendMessageBatch` calls, the audit log and the accepted-voucher index use it.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Semaphore, mpsc, oneshot};

/// Items waiting at most; a pusher waits when the queue is full (backpressure, not memory).
const QUEUE: usize = 16 * 1024;

enum Cmd<T> {
    Item(T),
    Flush(oneshot::Sender<()>),
}

/// The pushing end of a coalescer; cheap to clone. The writer task ends when every clone is gone.
#[derive(Debug)]
pub(crate) struct Coalescer<T> {
    tx: mpsc::Sender<Cmd<T>>,
}

impl<T> Clone for Coalescer<T> {
    fn clone(&self) -> Self {
        Coalescer {
            tx: self.tx.clone(),
        }
    }
}

impl<T> std::fmt::Debug for Cmd<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Cmd::Item(_) => "Item",
            Cmd::Flush(_) => "Flush",
        })
    }
}

impl<T: Send + 'static> Coalescer<T> {
    /// Starts the writer task: `write` gets each batch (1 to `max` items); up to `parallel`
    /// batches are written at once.
    pub(crate) fn spawn<F, Fut>(max: usize, linger: Duration, parallel: usize, write: F) -> Self
    where
        F: Fn(Vec<T>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(run(rx, max.max(1), linger, parallel.max(1), write));
        Coalescer { tx }
    }

    /// Queues an item; `false` when the writer is gone.
    pub(crate) async fn push(&self, item: T) -> bool {
        self.tx.send(Cmd::Item(item)).await.is_ok()
    }

    /// Waits until everything pushed before this call is written.
    pub(crate) async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.tx.send(Cmd::Flush(done)).await.is_ok() {
            let _ = wait.await;
        }
    }
}

async fn run<T, F, Fut>(
    mut rx: mpsc::Receiver<Cmd<T>>,
    max: usize,
    linger: Duration,
    parallel: usize,
    write: F,
) where
    T: Send + 'static,
    F: Fn(Vec<T>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let slots = Arc::new(Semaphore::new(parallel));
    let all = u32::try_from(parallel).unwrap_or(u32::MAX);
    while let Some(first) = rx.recv().await {
        let mut batch = Vec::with_capacity(max);
        let mut flushes = Vec::new();
        let mut take = |cmd: Cmd<T>, batch: &mut Vec<T>| match cmd {
            Cmd::Item(item) => batch.push(item),
            Cmd::Flush(done) => flushes.push(done),
        };
        take(first, &mut batch);
        let deadline = tokio::time::Instant::now() + linger;
        while batch.len() < max {
            // Whatever is queued already joins at once; then wait for company until the deadline.
            let next = match rx.try_recv() {
                Ok(cmd) => Some(cmd),
                Err(mpsc::error::TryRecvError::Disconnected) => None,
                Err(mpsc::error::TryRecvError::Empty) if batch.is_empty() => None,
                Err(mpsc::error::TryRecvError::Empty) => {
                    tokio::time::timeout_at(deadline, rx.recv())
                        .await
                        .ok()
                        .flatten()
                }
            };
            let Some(cmd) = next else { break };
            let flush = matches!(cmd, Cmd::Flush(_));
            take(cmd, &mut batch);
            if flush {
                break;
            }
        }
        if !batch.is_empty()
            && let Ok(slot) = slots.clone().acquire_owned().await
        {
            let job = write(batch);
            tokio::spawn(async move {
                job.await;
                drop(slot);
            });
        }
        if !flushes.is_empty() {
            // Every batch before the flush is written once every slot is free again.
            if let Ok(every) = slots.acquire_many(all).await {
                drop(every);
            }
            for done in flushes {
                let _ = done.send(());
            }
        }
    }
    let _ = slots.acquire_many(all).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_items_share_batches_and_flush_waits_for_them() {
        let sizes = Arc::new(Mutex::new(Vec::new()));
        let seen = sizes.clone();
        let c = Coalescer::spawn(10, Duration::from_millis(20), 4, move |batch: Vec<u32>| {
            let seen = seen.clone();
            async move {
                tokio::time::sleep(Duration::from_millis(5)).await;
                seen.lock().expect("lock").push(batch.len());
            }
        });
        let pushes = (0..95).map(|i| {
            let c = c.clone();
            async move { c.push(i).await }
        });
        assert!(
            futures::future::join_all(pushes)
                .await
                .into_iter()
                .all(|ok| ok)
        );
        c.flush().await;
        let sizes = sizes.lock().expect("lock").clone();
        assert_eq!(sizes.iter().sum::<usize>(), 95, "every item written once");
        assert!(sizes.iter().all(|n| *n <= 10), "{sizes:?}");
        assert!(sizes.len() <= 12, "coalesced: {sizes:?}");
    }
}
