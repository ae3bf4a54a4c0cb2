//! Close model names for "unknown model" messages.

/// Returns up to `limit` candidates close to `query`, closest first.
///
/// A candidate is close when it starts with the query (`claude-3-7-sonnet`
/// finds the dated ids), or when its edit distance to the query is at most a
/// third of the query's length (a typo or a changed date suffix).
pub(crate) fn close_names<'a>(
    query: &str,
    candidates: impl Iterator<Item = &'a str>,
    limit: usize,
) -> Vec<&'a str> {
    let query = query
        .split_once('/')
        .map_or(query, |(_, bare)| bare)
        .to_lowercase();
    let max_distance = (query.chars().count() / 3).max(2);

    let mut scored: Vec<(usize, &str)> = candidates
        .filter_map(|candidate| {
            let lower = candidate.to_lowercase();
            if !query.is_empty() && lower.starts_with(&query) {
                return Some((0, candidate));
            }
            let distance = edit_distance(&query, &lower);
            (distance <= max_distance).then_some((distance, candidate))
        })
        .collect();
    scored.sort_by(|left, right| left.0.cmp(&right.0).then_with(|| left.1.cmp(right.1)));
    scored
        .into_iter()
        .take(limit)
        .map(|(_, candidate)| candidate)
        .collect()
}

/// Levenshtein distance over Unicode scalar values.
fn edit_distance(left: &str, right: &str) -> usize {
    let right: Vec<char> = right.chars().collect();
    let mut previous: Vec<usize> = (0..=right.len()).collect();
    let mut current = vec![0; right.len() + 1];
    for (i, left_char) in left.chars().enumerate() {
        current[0] = i + 1;
        for (j, right_char) in right.iter().enumerate() {
            let substitution = previous[j] + usize::from(left_char != *right_char);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[right.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_edits() {
        assert_eq!(edit_distance("", ""), 0);
        assert_eq!(edit_distance("gpt-4o", "gpt-4o"), 0);
        assert_eq!(edit_distance("gpt-4o", "gpt4o"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("한국어", "한국"), 1);
    }

    #[test]
    fn close_names_prefers_prefix_then_distance() {
        let names = [
            "gpt-4o",
            "gpt-4o-mini",
            "gpt-4",
            "claude-3-7-sonnet-20250219",
            "o1",
        ];
        assert_eq!(
            close_names("gpt4o", names.into_iter(), 5),
            vec!["gpt-4o", "gpt-4"]
        );
        assert_eq!(
            close_names("claude-3-7-sonnet", names.into_iter(), 5),
            vec!["claude-3-7-sonnet-20250219"]
        );
        assert!(close_names("llama-3-70b-instruct", names.into_iter(), 5).is_empty());
        assert_eq!(
            close_names("openai/gpt-4o-mnii", names.into_iter(), 1),
            vec!["gpt-4o-mini"]
        );
    }
}
