//! A connection's socket, watched for its timeouts: how long the current head has been arriving
//! and how long an answer has waited on a full socket.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::Notify;
use tokio::time::Instant;

/// What a connection is doing, as its timeouts need it: requests in the service, since when the
/// current head has been arriving, since when an answer has been waiting on a full socket.
pub(super) struct Activity {
    epoch: Instant,
    pub(super) in_flight: AtomicUsize,
    /// Milliseconds since `epoch` plus one when the head began; 0: no head is arriving.
    head_since: AtomicU64,
    /// Milliseconds since `epoch` plus one when a write first found the socket full; 0: none
    /// since the last complete flush.
    write_blocked_since: AtomicU64,
    changed: Notify,
}

/// Which timeout a connection passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Overdue {
    Head,
    Write,
}

impl Activity {
    pub(super) fn new() -> Self {
        Activity {
            epoch: Instant::now(),
            in_flight: AtomicUsize::new(0),
            // A new connection owes its first head at once.
            head_since: AtomicU64::new(1),
            write_blocked_since: AtomicU64::new(0),
            changed: Notify::new(),
        }
    }

    pub(super) fn now_mark(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX - 1) + 1
    }

    pub(super) fn at(&self, mark: u64) -> Instant {
        self.epoch + Duration::from_millis(mark - 1)
    }

    /// Bytes arrived: with no request in the service, they begin the next head.
    pub(super) fn read(&self) {
        if self.in_flight.load(Ordering::Acquire) == 0
            && self.head_since.load(Ordering::Acquire) == 0
        {
            self.head_since.store(self.now_mark(), Ordering::Release);
            self.changed.notify_one();
        }
    }

    /// A write found the socket full.
    pub(super) fn write_blocked(&self) {
        if self.write_blocked_since.load(Ordering::Acquire) == 0 {
            self.write_blocked_since
                .store(self.now_mark(), Ordering::Release);
            self.changed.notify_one();
        }
    }

    /// Everything written so far has left.
    pub(super) fn flushed(&self) {
        self.write_blocked_since.store(0, Ordering::Release);
    }

    /// Resolves once a head has been arriving for longer than `head`, or an answer waiting on a
    /// full socket for longer than `write`.
    pub(super) async fn overdue(&self, head: Duration, write: Duration) -> Overdue {
        loop {
            let head_since = self.head_since.load(Ordering::Acquire);
            let heading = head_since != 0 && self.in_flight.load(Ordering::Acquire) == 0;
            let blocked = self.write_blocked_since.load(Ordering::Acquire);
            let deadlines = [
                heading.then(|| (self.at(head_since) + head, Overdue::Head)),
                (blocked != 0).then(|| (self.at(blocked) + write, Overdue::Write)),
            ];
            let Some((deadline, which)) = deadlines.into_iter().flatten().min_by_key(|d| d.0)
            else {
                self.changed.notified().await;
                continue;
            };
            if Instant::now() >= deadline {
                return which;
            }
            tokio::select! {
                () = tokio::time::sleep_until(deadline) => {}
                () = self.changed.notified() => {}
            }
        }
    }
}

/// A request in the service: its head is complete. Counted on its connection and in the server.
pub(super) struct RequestInFlight {
    activity: Arc<Activity>,
    requests: Arc<AtomicUsize>,
}

impl RequestInFlight {
    pub(super) fn start(activity: &Arc<Activity>, requests: &Arc<AtomicUsize>) -> Self {
        activity.in_flight.fetch_add(1, Ordering::AcqRel);
        activity.head_since.store(0, Ordering::Release);
        requests.fetch_add(1, Ordering::Relaxed);
        RequestInFlight {
            activity: Arc::clone(activity),
            requests: Arc::clone(requests),
        }
    }
}

impl Drop for RequestInFlight {
    fn drop(&mut self) {
        self.activity.in_flight.fetch_sub(1, Ordering::AcqRel);
        self.requests.fetch_sub(1, Ordering::Relaxed);
        self.activity.changed.notify_one();
    }
}

/// The socket, telling `Activity` when bytes arrive.
pub(super) struct Watched {
    pub(super) inner: TcpStream,
    pub(super) activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.read();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if polled.is_pending() {
            self.activity.write_blocked();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if polled.is_pending() {
            self.activity.write_blocked();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    // hyper flushes once it has written all it holds: a slow reader's clock runs from the first
    // blocked write until then, whatever trickles out in between.
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let polled = Pin::new(&mut self.inner).poll_flush(cx);
        if matches!(polled, Poll::Ready(Ok(()))) {
            self.activity.flushed();
        }
        polled
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
