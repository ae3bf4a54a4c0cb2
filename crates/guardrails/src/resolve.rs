//! Deterministic overlap resolution.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use crate::finding::Finding;

/// Orders findings by preference: higher score, then longer span, then
/// earlier start, then entity name and recognizer name so ties never depend
/// on input order.
fn preference(a: &Finding, b: &Finding) -> Ordering {
    b.score
        .total_cmp(&a.score)
        .then_with(|| b.len().cmp(&a.len()))
        .then_with(|| a.bytes.start.cmp(&b.bytes.start))
        .then_with(|| a.entity.as_str().cmp(b.entity.as_str()))
        .then_with(|| a.recognizer.cmp(&b.recognizer))
}

/// Keeps the preferred finding of every overlapping group and returns the
/// survivors sorted by start. The result never contains two overlapping spans.
pub fn resolve_overlaps(mut findings: Vec<Finding>) -> Vec<Finding> {
    findings.retain(|f| !f.is_empty());
    findings.sort_by(preference);
    // Accepted spans keyed by start byte, mapping to end byte.
    let mut accepted_spans: BTreeMap<usize, usize> = BTreeMap::new();
    let mut survivors = Vec::with_capacity(findings.len());
    for finding in findings {
        let (start, end) = (finding.bytes.start, finding.bytes.end);
        // Accepted spans are disjoint, so only the last one starting before
        // `end` can overlap.
        let overlaps = accepted_spans
            .range(..end)
            .next_back()
            .is_some_and(|(_, &accepted_end)| accepted_end > start);
        if overlaps {
            continue;
        }
        accepted_spans.insert(start, end);
        survivors.push(finding);
    }
    survivors.sort_by_key(|f| (f.bytes.start, f.bytes.end));
    survivors
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;
    use crate::entity::EntityType;

    fn finding(entity: EntityType, start: usize, end: usize, score: f32) -> Finding {
        Finding {
            entity,
            bytes: start..end,
            chars: start..end,
            score,
            recognizer: Cow::Borrowed("test"),
        }
    }

    #[test]
    fn higher_score_wins() {
        let kept = resolve_overlaps(vec![
            finding(EntityType::PhoneNumber, 0, 12, 0.5),
            finding(EntityType::KrBrn, 0, 12, 0.8),
        ]);
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].entity, EntityType::KrBrn);
    }

    #[test]
    fn longer_span_breaks_score_tie() {
        let kept = resolve_overlaps(vec![
            finding(EntityType::Url, 2, 5, 0.5),
            finding(EntityType::Url, 0, 9, 0.5),
        ]);
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].bytes, 0..9);
    }

    #[test]
    fn earlier_start_breaks_length_tie() {
        let kept = resolve_overlaps(vec![
            finding(EntityType::Url, 3, 8, 0.5),
            finding(EntityType::Url, 1, 6, 0.5),
        ]);
        assert_eq!(kept[0].bytes, 1..6);
        assert_eq!(kept.len(), 1);
    }

    #[test]
    fn adjacent_spans_both_kept() {
        let kept = resolve_overlaps(vec![
            finding(EntityType::Url, 5, 9, 0.5),
            finding(EntityType::Url, 0, 5, 0.5),
        ]);
        assert_eq!(kept.len(), 2);
        assert_eq!(kept[0].bytes, 0..5);
    }
}
