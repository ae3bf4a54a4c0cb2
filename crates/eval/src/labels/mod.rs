//! Human labels: export cases for review, import the labels, and measure
//! how well a judge agrees with people (accuracy and Cohen's kappa).
//!
//! [`review_items`] builds one [`ReviewItem`] per case of a run with its
//! judge score. [`write_review_jsonl`] or [`write_review_csv`] writes them
//! for reviewers to fill in `label`. [`read_labels`] reads the file back
//! with validation, and [`judge_agreement`] compares the labels with the
//! judge.

mod agreement;
mod import;
mod kappa;
mod review;

pub use agreement::{Agreement, judge_agreement};
pub use import::{LabelSet, read_labels};
pub use kappa::{KappaWeights, cohen_kappa};
pub use review::{
    REVIEW_CSV_HEADER, ReviewItem, review_items, write_review_csv, write_review_jsonl,
};
