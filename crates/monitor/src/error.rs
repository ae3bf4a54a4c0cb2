//! Errors of the monitor.

/// What can go wrong while recording, aggregating or serving metrics.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MonitorError {
    /// A value given to the monitor is out of its range.
    #[error("invalid {field} {value:?}: {fix}")]
    Invalid {
        /// The field, such as `rating`.
        field: &'static str,
        /// The value as given.
        value: String,
        /// What a valid value looks like.
        fix: String,
    },
    /// A data source of a panel failed.
    #[error("the {panel} source failed: {message}")]
    Source {
        /// The panel, such as `drift`.
        panel: &'static str,
        /// The source's error text.
        message: String,
    },
}
