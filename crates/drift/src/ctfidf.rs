//! Class-based TF-IDF (c-TF-IDF) topic labels.
//!
//! Each topic's inputs are treated as one document. A term's weight in a
//! topic is its frequency within the topic, divided by the topic's term
//! count, times `ln(1 + A / f)`, where `A` is the mean term count per topic
//! and `f` the term's count over all topics. This is the weighting of
//! Grootendorst, "BERTopic: Neural topic modeling with a class-based TF-IDF
//! procedure" (arXiv:2203.05794, 2022).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::text::terms;

/// A term of a topic label with its c-TF-IDF weight.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopicTerm {
    /// The lowercase term.
    pub term: String,
    /// Its c-TF-IDF weight in the topic.
    pub weight: f64,
}

/// Returns the `top` highest-weighted terms of each topic, where
/// `assignments[i]` is the topic of `texts[i]` and topics are numbered
/// `0..topic_count`. Ties are broken by the term, so results are stable.
pub(crate) fn top_terms(
    texts: &[String],
    assignments: &[usize],
    topic_count: usize,
    top: usize,
) -> Vec<Vec<TopicTerm>> {
    let mut counts: Vec<HashMap<String, f64>> = vec![HashMap::new(); topic_count];
    for (text, &topic) in texts.iter().zip(assignments) {
        if let Some(topic_counts) = counts.get_mut(topic) {
            for term in terms(text) {
                *topic_counts.entry(term).or_default() += 1.0;
            }
        }
    }

    let mut overall: HashMap<&str, f64> = HashMap::new();
    for topic_counts in &counts {
        for (term, count) in topic_counts {
            *overall.entry(term.as_str()).or_default() += count;
        }
    }
    let total: f64 = overall.values().sum();
    let mean_per_topic = total / topic_count.max(1) as f64;

    counts
        .iter()
        .map(|topic_counts| {
            let topic_total: f64 = topic_counts.values().sum();
            let mut weighted: Vec<TopicTerm> = topic_counts
                .iter()
                .map(|(term, &count)| {
                    let frequency = overall.get(term.as_str()).copied().unwrap_or(count);
                    let idf = (1.0 + mean_per_topic / frequency).ln();
                    TopicTerm {
                        term: term.clone(),
                        weight: count / topic_total * idf,
                    }
                })
                .collect();
            weighted.sort_by(|a, b| {
                b.weight
                    .total_cmp(&a.weight)
                    .then_with(|| a.term.cmp(&b.term))
            });
            weighted.truncate(top);
            weighted
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::top_terms;

    #[test]
    fn distinctive_terms_rank_first() {
        let texts: Vec<String> = [
            "freeze my bank account",
            "bank account balance",
            "book a flight to paris",
            "flight status to paris",
        ]
        .map(String::from)
        .to_vec();
        let labels = top_terms(&texts, &[0, 0, 1, 1], 2, 2);
        let first: Vec<&str> = labels[0].iter().map(|t| t.term.as_str()).collect();
        let second: Vec<&str> = labels[1].iter().map(|t| t.term.as_str()).collect();
        assert_eq!(first, ["account", "bank"]);
        assert_eq!(second, ["flight", "paris"]);
    }

    #[test]
    fn common_term_weighs_less_than_distinctive() {
        let texts: Vec<String> = ["card help", "card help", "loan help"]
            .map(String::from)
            .to_vec();
        let labels = top_terms(&texts, &[0, 0, 1], 2, 5);
        let weight = |topic: usize, term: &str| {
            labels[topic]
                .iter()
                .find(|t| t.term == term)
                .map(|t| t.weight)
                .unwrap()
        };
        assert!(weight(1, "loan") > weight(1, "help"));
    }

    #[test]
    fn empty_topic_has_no_terms() {
        let texts = vec!["the and of".to_string()];
        let labels = top_terms(&texts, &[0], 2, 3);
        assert!(labels[0].is_empty());
        assert!(labels[1].is_empty());
    }
}
