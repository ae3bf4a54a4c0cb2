//! A page of entry rows as one read path returns them, and the checks
//! that need no row outside the page.

use sqlx::Row as _;
use sqlx::any::AnyRow;

use crate::log::to_i64;

use super::row::{CheckedRow, StoredRow};
use super::{BreakReason, ChainBreak};

/// Rows read in sequence order by one read path.
pub(super) trait EntryPage: Send + 'static {
    /// Returns the number of rows.
    fn len(&self) -> usize;

    /// Returns the sequence number of row `index`, or why it cannot be read.
    fn seq(&self, index: usize) -> Result<i64, String>;

    /// Calls `check` with the other columns of row `index`, or returns why
    /// they cannot be read.
    fn with_row<R>(
        &self,
        index: usize,
        check: impl FnOnce(&StoredRow<'_>) -> R,
    ) -> Result<R, String>;
}

impl EntryPage for Vec<AnyRow> {
    fn len(&self) -> usize {
        <[AnyRow]>::len(self)
    }

    fn seq(&self, index: usize) -> Result<i64, String> {
        let row = self.get(index).ok_or_else(|| missing_row(index))?;
        row.try_get(0).map_err(|error| error.to_string())
    }

    fn with_row<R>(
        &self,
        index: usize,
        check: impl FnOnce(&StoredRow<'_>) -> R,
    ) -> Result<R, String> {
        let row = self.get(index).ok_or_else(|| missing_row(index))?;
        let read = |row: &AnyRow| -> Result<_, sqlx::Error> {
            let kind: String = row.try_get(1)?;
            let actor: String = row.try_get(2)?;
            let subject: String = row.try_get(3)?;
            let at_ms: i64 = row.try_get(4)?;
            let payload: Option<String> = row.try_get(5)?;
            let sealed: Option<String> = row.try_get(6)?;
            let content: String = row.try_get(7)?;
            let prev: String = row.try_get(8)?;
            let hash: String = row.try_get(9)?;
            Ok((
                kind, actor, subject, at_ms, payload, sealed, content, prev, hash,
            ))
        };
        let (kind, actor, subject, at_ms, payload, sealed, content, prev, hash) =
            read(row).map_err(|error| error.to_string())?;
        Ok(check(&StoredRow {
            kind: &kind,
            actor: &actor,
            subject: &subject,
            at_ms,
            payload: payload.as_deref(),
            sealed: sealed.as_deref(),
            content: &content,
            prev: &prev,
            hash: &hash,
        }))
    }
}

fn missing_row(index: usize) -> String {
    format!("row {index} is beyond the page")
}

/// Checks the rows of one page on their own, in order: sequence numbers
/// without gaps from `from`, then each row's digest and hash. Returns the
/// rows that passed and the first break, which ends the page.
pub(super) fn check_page<P: EntryPage>(
    page: &P,
    from: u64,
) -> (Vec<CheckedRow>, Option<ChainBreak>) {
    let mut checked = Vec::with_capacity(page.len());
    for index in 0..page.len() {
        let expected = from + index as u64;
        let unreadable = |detail: String| ChainBreak {
            seq: expected,
            reason: BreakReason::Unreadable,
            detail,
        };
        match page.seq(index) {
            Err(detail) => return (checked, Some(unreadable(detail))),
            Ok(seq) if seq != to_i64(expected) => return (checked, Some(gap(expected, seq))),
            Ok(_) => {}
        }
        match page.with_row(index, |row| row.check(expected)) {
            Ok(Ok(row)) => checked.push(row),
            Ok(Err(problem)) => return (checked, Some(problem)),
            Err(detail) => return (checked, Some(unreadable(detail))),
        }
    }
    (checked, None)
}

/// Returns the break for a missing entry `expected` followed by `found`.
fn gap(expected: u64, found: i64) -> ChainBreak {
    ChainBreak {
        seq: expected,
        reason: BreakReason::Deleted,
        detail: format!("expected entry {expected}, the next stored entry is {found}"),
    }
}
