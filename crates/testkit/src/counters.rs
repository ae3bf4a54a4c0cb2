//! Counters the server keeps for test assertions.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::Notify;

/// Request and disconnect counts shared by all connections of a server.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    requests: AtomicU64,
    disconnects: AtomicU64,
    changed: Notify,
}

impl Counters {
    /// Counts a received request and returns its serial number, from 1.
    pub(crate) fn record_request(&self) -> u64 {
        let serial = self.requests.fetch_add(1, Ordering::Relaxed) + 1;
        self.changed.notify_waiters();
        serial
    }

    pub(crate) fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    pub(crate) fn disconnects(&self) -> u64 {
        self.disconnects.load(Ordering::Relaxed)
    }

    /// Waits until `read` returns at least `target`.
    pub(crate) async fn wait_until(&self, target: u64, read: impl Fn(&Counters) -> u64) {
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            // Registers interest before the check, so a change between the
            // check and the await still wakes this task.
            changed.as_mut().enable();
            if read(self) >= target {
                return;
            }
            changed.await;
        }
    }
}

/// Counts a client disconnect when dropped before [`DisconnectGuard::finish`].
///
/// The server drops a response body early only when the client went away
/// (the next write failed or the connection closed), so an unfinished drop
/// is a disconnect. Aborts the server makes on purpose call `finish` first.
#[derive(Debug)]
pub(crate) struct DisconnectGuard {
    counters: Arc<Counters>,
    finished: bool,
}

impl DisconnectGuard {
    pub(crate) fn new(counters: Arc<Counters>) -> Self {
        DisconnectGuard {
            counters,
            finished: false,
        }
    }

    /// Marks the response as ended by the server, so the drop counts nothing.
    pub(crate) fn finish(&mut self) {
        self.finished = true;
    }
}

impl Drop for DisconnectGuard {
    fn drop(&mut self) {
        if !self.finished {
            self.counters.disconnects.fetch_add(1, Ordering::Relaxed);
            self.counters.changed.notify_waiters();
            tracing::debug!("client disconnected before the response ended");
        }
    }
}
