//! Write-behind of the requests a [`FeedbackStore`](crate::FeedbackStore)
//! remembers.
//!
//! A gateway remembers every request it serves, so one database write per
//! request would cost a round trip to the database (on SQLite, a wake-up
//! of its worker thread) for each. The buffer collects the requests
//! instead and writes them in batches: when [`FLUSH_ROWS`] are waiting, or
//! [`FLUSH_AFTER`] after the first of them arrived. Lookups read the
//! buffer before the database, so feedback finds a request at once.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// Requests that start a write at once.
pub(crate) const FLUSH_ROWS: usize = 32;

/// The maximum time a remembered request waits before a write starts.
pub(crate) const FLUSH_AFTER: Duration = Duration::from_millis(250);

/// The wait before the next try after a failed write.
pub(crate) const RETRY_AFTER: Duration = Duration::from_secs(1);

/// Requests kept for a later try when the database rejects a write. Beyond
/// this, the oldest are dropped with a warning, so an unreachable database
/// cannot exhaust memory.
pub(crate) const MAX_WAITING_ROWS: usize = 100_000;

/// One remembered request: which model and prompt version served it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RequestRow {
    pub(crate) request_id: String,
    pub(crate) model: String,
    pub(crate) prompt: Option<(String, u32)>,
    pub(crate) created_at_ms: i64,
}

#[derive(Debug, Default)]
struct Rows {
    /// Remembered and not yet taken by a write, oldest first.
    waiting: Vec<RequestRow>,
    /// Taken by the write in progress, until it commits.
    writing: Option<Arc<Vec<RequestRow>>>,
    /// Whether a timed write is scheduled.
    timer_armed: bool,
}

/// The step that follows [`RequestBuffer::push`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AfterPush {
    /// Nothing: a write is already due.
    Nothing,
    /// Schedule a write after [`FLUSH_AFTER`].
    ArmTimer,
    /// Write now: [`FLUSH_ROWS`] wait.
    Flush,
}

/// Requests waiting to be written, shared by clones of a store.
#[derive(Debug, Default)]
pub(crate) struct RequestBuffer {
    rows: Mutex<Rows>,
    /// Held for the whole of a write, so writes run one at a time and in
    /// the order their rows arrived.
    write_turn: tokio::sync::Mutex<()>,
}

impl RequestBuffer {
    fn rows(&self) -> MutexGuard<'_, Rows> {
        // The rows stay consistent at every step a panic could interrupt.
        self.rows.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds a row and returns whether a write should start.
    pub(crate) fn push(&self, row: RequestRow) -> AfterPush {
        let mut rows = self.rows();
        rows.waiting.push(row);
        // Only the row that completes a batch starts a write. More rows
        // wait only after a failed write, whose retry is already scheduled.
        if rows.waiting.len() == FLUSH_ROWS {
            AfterPush::Flush
        } else if rows.timer_armed {
            AfterPush::Nothing
        } else {
            rows.timer_armed = true;
            AfterPush::ArmTimer
        }
    }

    /// Marks the timed write as started, so the next row arms a new one.
    pub(crate) fn timer_fired(&self) {
        self.rows().timer_armed = false;
    }

    /// Arms the timer when rows wait and no timed write is scheduled, and
    /// returns whether it did.
    pub(crate) fn arm_if_waiting(&self) -> bool {
        let mut rows = self.rows();
        if rows.timer_armed || rows.waiting.is_empty() {
            return false;
        }
        rows.timer_armed = true;
        true
    }

    /// Returns how many rows wait or are being written.
    pub(crate) fn len(&self) -> usize {
        let rows = self.rows();
        rows.waiting.len() + rows.writing.as_ref().map_or(0, |batch| batch.len())
    }

    /// Returns the prompt of the newest unwritten row for `request_id`:
    /// outer none when no such row waits, inner none when the request had
    /// no prompt.
    pub(crate) fn find(&self, request_id: &str) -> Option<Option<(String, u32)>> {
        let rows = self.rows();
        let newest = |batch: &[RequestRow]| {
            batch
                .iter()
                .rev()
                .find(|row| row.request_id == request_id)
                .map(|row| row.prompt.clone())
        };
        // Waiting rows arrived after the rows being written.
        newest(&rows.waiting).or_else(|| rows.writing.as_deref().and_then(|batch| newest(batch)))
    }

    /// Waits for the turn to write.
    pub(crate) async fn write_turn(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.write_turn.lock().await
    }

    /// Takes every waiting row for a write; call it holding the write turn.
    pub(crate) fn take(&self) -> Option<Arc<Vec<RequestRow>>> {
        let mut rows = self.rows();
        if rows.waiting.is_empty() {
            return None;
        }
        let batch = Arc::new(std::mem::take(&mut rows.waiting));
        rows.writing = Some(Arc::clone(&batch));
        Some(batch)
    }

    /// Ends the write of the taken rows: drops them once written, or puts
    /// them back before the rows that arrived meanwhile. Returns how many
    /// rows were dropped to stay within [`MAX_WAITING_ROWS`].
    pub(crate) fn finish(&self, written: bool) -> usize {
        let mut rows = self.rows();
        let Some(batch) = rows.writing.take() else {
            return 0;
        };
        if written {
            return 0;
        }
        let newer = std::mem::take(&mut rows.waiting);
        let mut requeued = Arc::unwrap_or_clone(batch);
        requeued.extend(newer);
        let dropped = requeued.len().saturating_sub(MAX_WAITING_ROWS);
        requeued.drain(..dropped);
        rows.waiting = requeued;
        dropped
    }
}

/// Returns the rows of `batch` to write: the last row of each request id,
/// in order. A request remembered twice keeps its newest entry, and one
/// statement never names an id twice, which PostgreSQL's upsert refuses.
pub(crate) fn newest_per_request(batch: &[RequestRow]) -> Vec<&RequestRow> {
    let mut last = foldhash::HashMap::default();
    for (index, row) in batch.iter().enumerate() {
        last.insert(row.request_id.as_str(), index);
    }
    batch
        .iter()
        .enumerate()
        .filter(|(index, row)| last.get(row.request_id.as_str()) == Some(index))
        .map(|(_, row)| row)
        .collect()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn row(id: &str, version: u32) -> RequestRow {
        RequestRow {
            request_id: id.into(),
            model: "m".into(),
            prompt: Some(("p".into(), version)),
            created_at_ms: 1,
        }
    }

    #[test]
    fn push_arms_timer_then_flushes_when_full() {
        let buffer = RequestBuffer::default();
        assert_eq!(buffer.push(row("a", 1)), AfterPush::ArmTimer);
        assert_eq!(buffer.push(row("b", 1)), AfterPush::Nothing);
        for index in 2..FLUSH_ROWS - 1 {
            assert_eq!(buffer.push(row(&index.to_string(), 1)), AfterPush::Nothing);
        }
        assert_eq!(buffer.push(row("last", 1)), AfterPush::Flush);
        buffer.timer_fired();
        let batch = buffer.take().expect("rows wait");
        assert_eq!(batch.len(), FLUSH_ROWS);
        assert_eq!(buffer.push(row("next", 1)), AfterPush::ArmTimer);
    }

    #[test]
    fn retry_is_armed_only_while_rows_wait() {
        let buffer = RequestBuffer::default();
        assert!(!buffer.arm_if_waiting(), "nothing waits");
        for index in 0..FLUSH_ROWS {
            buffer.push(row(&index.to_string(), 1));
        }
        buffer.take();
        buffer.timer_fired();
        buffer.finish(false);
        // The rows are back, more than a batch: a new row starts no write
        // of its own, and the retry timer is armed once.
        assert_eq!(buffer.push(row("more", 1)), AfterPush::ArmTimer);
        buffer.timer_fired();
        assert!(buffer.arm_if_waiting());
        assert!(!buffer.arm_if_waiting());
        assert_eq!(buffer.push(row("again", 1)), AfterPush::Nothing);
        assert_eq!(buffer.len(), FLUSH_ROWS + 2);
    }

    #[test]
    fn lookups_see_waiting_and_writing_rows_newest_first() {
        let buffer = RequestBuffer::default();
        buffer.push(row("a", 1));
        let _batch = buffer.take();
        assert_eq!(buffer.find("a"), Some(Some(("p".into(), 1))));
        buffer.push(row("a", 2));
        assert_eq!(buffer.find("a"), Some(Some(("p".into(), 2))));
        assert_eq!(buffer.find("b"), None);
        assert_eq!(buffer.finish(true), 0);
        assert_eq!(buffer.find("a"), Some(Some(("p".into(), 2))));
        buffer.take();
        buffer.finish(true);
        assert_eq!(buffer.find("a"), None);
        assert_eq!(buffer.take(), None);
    }

    #[test]
    fn failed_write_requeues_rows_in_order() {
        let buffer = RequestBuffer::default();
        buffer.push(row("old", 1));
        buffer.take();
        buffer.push(row("new", 1));
        assert_eq!(buffer.finish(false), 0);
        let again = buffer.take().expect("rows are back");
        let ids: Vec<&str> = again.iter().map(|row| row.request_id.as_str()).collect();
        assert_eq!(ids, ["old", "new"]);
    }

    #[test]
    fn failed_writes_keep_at_most_the_newest_rows() {
        let buffer = RequestBuffer::default();
        for index in 0..MAX_WAITING_ROWS + 5 {
            buffer.push(row(&index.to_string(), 1));
        }
        buffer.take();
        assert_eq!(buffer.finish(false), 5);
        assert_eq!(buffer.len(), MAX_WAITING_ROWS);
        assert_eq!(buffer.find("4"), None);
        assert!(buffer.find("5").is_some());
    }

    proptest! {
        /// Each id appears once, with its last row, and ids keep the order
        /// of their last rows.
        #[test]
        fn newest_per_request_keeps_each_ids_last_row(
            ids in proptest::collection::vec(0_u8..8, 0..64),
        ) {
            let batch: Vec<RequestRow> = ids
                .iter()
                .enumerate()
                .map(|(position, id)| row(&id.to_string(), position as u32))
                .collect();
            let kept = newest_per_request(&batch);
            let mut expected: Vec<&RequestRow> = Vec::new();
            for (position, candidate) in batch.iter().enumerate() {
                let later = batch[position + 1..]
                    .iter()
                    .any(|other| other.request_id == candidate.request_id);
                if !later {
                    expected.push(candidate);
                }
            }
            prop_assert_eq!(kept, expected);
        }
    }
}
