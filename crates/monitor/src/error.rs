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
    /// The feedback store failed to read or write.
    #[error("the feedback store failed: {0}")]
    Store(#[from] llmops_store::StoreError),
    /// A notifier failed to deliver an alert.
    #[error("the {notifier} notifier failed: {message}")]
    Notify {
        /// The notifier, such as `webhook`.
        notifier: &'static str,
        /// What failed.
        message: String,
    },
    /// An OTLP metrics export failed.
    #[error(
        "OTLP metrics export to {endpoint} failed: {message}; check that a collector listens there"
    )]
    Export {
        /// The URL the export was sent to.
        endpoint: String,
        /// What failed.
        message: String,
    },
}
