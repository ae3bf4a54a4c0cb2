//! The head row as verify reads it, and the breaks it shows at the end of
//! the chain.
//!
//! Both read paths take the head row's columns as text, so a value of the
//! wrong type (which SQLite stores as given) can be named in the report
//! instead of failing the read.

use std::num::IntErrorKind;

use crate::hash::Hash;
use crate::log::LogHead;

use super::{BreakReason, ChainBreak};

/// Reads the head row's columns as text.
pub(super) const HEAD_TEXT_SQL: &str = "SELECT CAST(size AS TEXT), CAST(head_hash AS TEXT) \
     FROM compliance_audit_head WHERE id = 1";

/// Characters of a stored value shown in a break's detail.
const SHOWN_CHARS: usize = 80;

/// The head row as read in the same snapshot as the entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum HeadRow {
    /// A readable head row.
    Found(LogHead),
    /// No head row with id 1.
    Missing,
    /// A head row whose size or hash the log never writes, with a
    /// description of the stored value.
    Damaged(String),
}

impl HeadRow {
    /// Parses the head row's columns as [`HEAD_TEXT_SQL`] returns them;
    /// `None` stands for SQL NULL.
    pub(super) fn from_texts(size: Option<&str>, head_hash: Option<&str>) -> HeadRow {
        let size = match size {
            None => return HeadRow::Damaged("the head row's size is NULL".to_owned()),
            Some(text) => match text.parse::<i64>() {
                Ok(size) => match u64::try_from(size) {
                    Ok(size) => size,
                    Err(_) => {
                        return HeadRow::Damaged(format!(
                            "the head row's size is {size}, which is negative"
                        ));
                    }
                },
                Err(error) => {
                    let problem = match error.kind() {
                        IntErrorKind::PosOverflow | IntErrorKind::NegOverflow => "out of range",
                        _ => "not an integer",
                    };
                    return HeadRow::Damaged(format!(
                        "the head row's size is {}, which is {problem}",
                        shown(text)
                    ));
                }
            },
        };
        let head_hash = match head_hash {
            None => return HeadRow::Damaged("the head row's head_hash is NULL".to_owned()),
            Some(text) => match text.parse::<Hash>() {
                Ok(hash) => hash,
                Err(_) => {
                    return HeadRow::Damaged(format!(
                        "the head row's head_hash is {}, which is not 64 hex digits",
                        shown(text)
                    ));
                }
            },
        };
        HeadRow::Found(LogHead { size, head_hash })
    }

    /// Returns the number of entries the chain may hold: the recorded size,
    /// or no limit when the head row is missing or damaged.
    pub(super) fn limit(&self) -> u64 {
        match self {
            HeadRow::Found(head) => head.size,
            HeadRow::Missing | HeadRow::Damaged(_) => u64::MAX,
        }
    }

    /// Returns the break, if any, where the verified chain `leaves` ends:
    /// `stored_more` is true when a row follows at position
    /// [`HeadRow::limit`], which makes that row one beyond the head.
    pub(super) fn end_break(&self, leaves: &[Hash], stored_more: bool) -> Option<ChainBreak> {
        let size = leaves.len() as u64;
        let head = match self {
            HeadRow::Found(head) => head,
            HeadRow::Missing => {
                return Some(ChainBreak {
                    seq: size,
                    reason: BreakReason::HeadMissing,
                    detail: format!(
                        "compliance_audit_head has no row with id 1; the {size} stored entries link up to here"
                    ),
                });
            }
            HeadRow::Damaged(found) => {
                return Some(ChainBreak {
                    seq: size,
                    reason: BreakReason::HeadDamaged,
                    detail: format!("{found}; the {size} stored entries link up to here"),
                });
            }
        };
        if head.size > size {
            return Some(ChainBreak {
                seq: size,
                reason: BreakReason::Deleted,
                detail: format!(
                    "the head row records {} entries, {size} are stored",
                    head.size
                ),
            });
        }
        let last = leaves.last().copied().unwrap_or(Hash::ZERO);
        if head.head_hash != last {
            return Some(ChainBreak {
                seq: size.saturating_sub(1),
                reason: BreakReason::Edited,
                detail: format!(
                    "the head row records hash {}, the last entry has {last}",
                    head.head_hash
                ),
            });
        }
        stored_more.then(|| ChainBreak {
            seq: size,
            reason: BreakReason::Inserted,
            detail: format!(
                "entry {size} is beyond the recorded head: the head row records {} entries",
                head.size
            ),
        })
    }

    /// Returns what is wrong with the head row, for the detail of a break
    /// found before the end of the chain.
    pub(super) fn problem(&self) -> Option<String> {
        match self {
            HeadRow::Found(_) => None,
            HeadRow::Missing => Some("the head row is missing too".to_owned()),
            HeadRow::Damaged(found) => Some(format!("the head row is damaged too: {found}")),
        }
    }
}

/// Returns the break for a head row whose hash is that of entry `found`,
/// at or past the size it records: the size was lowered, so the entries
/// from that size to `found` are outside the recorded log.
pub(super) fn lowered_size_break(head: &LogHead, found: u64) -> ChainBreak {
    ChainBreak {
        seq: head.size,
        reason: BreakReason::HeadDamaged,
        detail: format!(
            "the head row records {} entries, but its hash {} is that of entry {found}, so entries {} to {found} are stored beyond the recorded size",
            head.size, head.head_hash, head.size
        ),
    }
}

/// Quotes a stored value for a detail, cut to [`SHOWN_CHARS`] characters.
pub(super) fn shown(text: &str) -> String {
    let mut shown: String = text.chars().take(SHOWN_CHARS).collect();
    if shown.len() < text.len() {
        shown.push('…');
    }
    format!("{shown:?}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH: &str = "1111111111111111111111111111111111111111111111111111111111111111";

    #[test]
    fn from_texts_reads_valid_row() {
        let head = HeadRow::from_texts(Some("3"), Some(HASH));
        let expected = LogHead {
            size: 3,
            head_hash: Hash([0x11; 32]),
        };
        assert_eq!(head, HeadRow::Found(expected));
    }

    #[test]
    fn from_texts_names_bad_values() {
        let cases = [
            (Some("-1"), Some(HASH), "-1, which is negative"),
            (Some("2.5"), Some(HASH), "\"2.5\", which is not an integer"),
            (Some("many"), Some(HASH), "\"many\""),
            (None, Some(HASH), "size is NULL"),
            (
                Some("3"),
                Some("xyz"),
                "\"xyz\", which is not 64 hex digits",
            ),
            (Some("3"), None, "head_hash is NULL"),
        ];
        for (size, hash, expected) in cases {
            match HeadRow::from_texts(size, hash) {
                HeadRow::Damaged(found) => assert!(found.contains(expected), "{found}"),
                other => panic!("{size:?} {hash:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn long_values_are_cut() {
        let text = "9".repeat(500);
        let HeadRow::Damaged(found) = HeadRow::from_texts(Some(&text), Some(HASH)) else {
            panic!("a 500-digit size parsed");
        };
        assert!(found.len() < 200, "{found}");
        assert!(found.contains("out of range"), "{found}");
        assert!(found.contains('…'), "{found}");
    }
}
