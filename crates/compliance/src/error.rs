//! The error type of the compliance crate.

use llmops_store::StoreError;

use crate::verify::ChainBreak;

/// A `Result` with [`ComplianceError`] as its error type.
pub type Result<T, E = ComplianceError> = std::result::Result<T, E>;

/// A failure of a compliance operation.
///
/// Messages name sequence numbers, review ids, states and key ids, but never
/// payload contents or key material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ComplianceError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),

    /// A value could not be written as RFC 8785 canonical JSON.
    #[error("cannot write canonical JSON: {reason}")]
    Canonical {
        /// The serializer's message.
        reason: String,
    },

    /// An event field is empty, too long or of the wrong JSON type.
    #[error("invalid audit event field `{field}`: {reason}")]
    InvalidEvent {
        /// The field name.
        field: &'static str,
        /// The problem and its fix.
        reason: String,
    },

    /// A text is not a 64-digit hex SHA-256 digest.
    #[error("invalid hash `{value}`: {reason}; write 64 lower-case hex digits")]
    InvalidHash {
        /// The rejected text, cut to 80 characters.
        value: String,
        /// The decoder's message.
        reason: String,
    },

    /// A stored row cannot be read back, because a column contains a value
    /// the log never writes.
    #[error(
        "audit log row {seq} has an unreadable `{column}`: {reason}; run verify to find tampering"
    )]
    CorruptRow {
        /// The sequence number of the row.
        seq: u64,
        /// The column that failed to decode.
        column: &'static str,
        /// The decoder's message.
        reason: String,
    },

    /// The head row is missing or contains a value the log never writes,
    /// so appends and reads that need the log's size stop.
    #[error("the audit log's head row is unusable: {reason}; run verify to find tampering")]
    InvalidHeadRow {
        /// The problem, naming the stored value.
        reason: String,
    },

    /// The database has none of the audit log's tables, so it is not the
    /// database the log was written to.
    #[error(
        "no audit log in `{url}`: its tables are missing; open the database the log was written to"
    )]
    NoAuditLog {
        /// The database URL with any password removed.
        url: String,
    },

    /// The database has some of the audit log's tables, but not all.
    #[error(
        "the audit log in `{url}` is incomplete because the database lacks {tables}; restore the database from a backup"
    )]
    AuditTablesMissing {
        /// The database URL with any password removed.
        url: String,
        /// The missing tables, comma-separated.
        tables: String,
    },

    /// No entry has this sequence number.
    #[error("audit log has no entry {seq}; the log holds {size} entries, numbered from 0")]
    EntryNotFound {
        /// The sequence number looked up.
        seq: u64,
        /// The number of entries in the log.
        size: u64,
    },

    /// A tree size is beyond the log or not allowed for the operation.
    #[error("invalid tree size {size}: {reason}")]
    InvalidTreeSize {
        /// The requested size.
        size: u64,
        /// The problem and the allowed range.
        reason: String,
    },

    /// A checkpoint's signature does not verify under the given key.
    #[error("checkpoint of size {size} has an invalid signature for key {key_id}")]
    BadSignature {
        /// The tree size the checkpoint covers.
        size: u64,
        /// The key id the checkpoint names.
        key_id: String,
    },

    /// A checkpoint names a key id that is not the id of its public key.
    #[error("checkpoint of size {size} names key {key_id}, but its public key has id {expected}")]
    KeyIdMismatch {
        /// The tree size the checkpoint covers.
        size: u64,
        /// The key id the checkpoint names.
        key_id: String,
        /// The id of the checkpoint's public key.
        expected: String,
    },

    /// The log fails verification, so a checkpoint would sign a broken
    /// chain.
    #[error(
        "the audit log fails verification at {problem}; a checkpoint signs only a log that verifies, so find the cause with `llmops audit verify`"
    )]
    ChainBroken {
        /// The first break.
        problem: ChainBreak,
    },

    /// A public or secret key has the wrong length or is not a valid point.
    #[error("invalid key: {reason}")]
    InvalidKey {
        /// The problem.
        reason: String,
    },

    /// A checkpoint is signed by a key that is not among the trusted keys.
    #[error(
        "checkpoint of size {size} is signed by key {key_id}, which is not among the trusted keys; add its public key if you trust the signer, otherwise treat the checkpoint as forged"
    )]
    UntrustedKey {
        /// Entries the checkpoint covers.
        size: u64,
        /// The signing key's id.
        key_id: String,
    },

    /// Encrypting or decrypting personal data failed.
    #[error("cannot {operation} personal data of data subject `{data_subject}`: {reason}")]
    Crypto {
        /// `encrypt` or `decrypt`.
        operation: &'static str,
        /// The data subject's pseudonymous id.
        data_subject: String,
        /// What failed.
        reason: String,
    },

    /// An extract file cannot be parsed.
    #[error("invalid extract at line {line}: {reason}")]
    InvalidExtract {
        /// The 1-based line number.
        line: usize,
        /// The problem.
        reason: String,
    },

    /// Reading or writing an extract failed.
    #[error("cannot {operation} the extract: {source}")]
    Io {
        /// `read` or `write`.
        operation: &'static str,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },

    /// A bundle folder does not match what its export recorded.
    #[error("invalid bundle: {file}: {reason}")]
    InvalidBundle {
        /// The file inside the bundle that fails the check.
        file: String,
        /// The mismatch found.
        reason: String,
    },

    /// A bundle file or folder cannot be read or written.
    #[error("cannot {operation} {}: {source}", .path.display())]
    File {
        /// `create`, `read`, `write` or `rename`.
        operation: &'static str,
        /// The file or folder.
        path: std::path::PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },

    /// A purge was requested while legal holds are in place.
    #[error("purge rejected: legal holds are in place ({holds}); release them before purging")]
    LegalHoldActive {
        /// The names of the holds, comma separated.
        holds: String,
    },

    /// A report period ends before it starts.
    #[error(
        "invalid period: it starts at {} and ends at {}; give a start before the end",
        llmops_store::utc_time(*.from_ms),
        llmops_store::utc_time(*.to_ms)
    )]
    InvalidPeriod {
        /// The start.
        from_ms: i64,
        /// The end.
        to_ms: i64,
    },

    /// No review item has this id.
    #[error("review item {id} not found")]
    ReviewNotFound {
        /// The id looked up.
        id: i64,
    },

    /// A review action does not fit the item's current state.
    #[error("review item {id} cannot go from `{from}` to `{to}`; allowed next states: {allowed}")]
    InvalidTransition {
        /// The review item id.
        id: i64,
        /// The current state.
        from: String,
        /// The requested state.
        to: String,
        /// The allowed next states, comma separated, or `none` for a closed item.
        allowed: String,
    },

    /// An impact assessment is incomplete or contradicts itself, or a
    /// sign-off breaks the four-eyes rule.
    #[error("invalid impact assessment: `{field}`: {reason}")]
    InvalidAssessment {
        /// The field at fault, such as `risks[0].severity`.
        field: String,
        /// What is wrong and how to fix it.
        reason: String,
    },

    /// No assessment version matches.
    #[error(
        "no impact assessment of `{system}`{}; list versions with `llmops compliance assess history {system}`",
        .version.map(|v| format!(" at version {v}")).unwrap_or_default()
    )]
    AssessmentNotFound {
        /// The system name.
        system: String,
        /// The version asked for.
        version: Option<u32>,
    },

    /// Another writer changed the same record at the same moment.
    #[error("{what} was changed by another writer at the same moment; read it again and retry")]
    ConcurrentChange {
        /// The record.
        what: String,
    },

    /// An incident update breaks the incident's life cycle.
    #[error("{}: {reason}", .id.map_or_else(|| "new incident".to_owned(), |id| format!("incident {id}")))]
    InvalidIncident {
        /// The incident id, `None` for a new one.
        id: Option<i64>,
        /// What is wrong and how to fix it.
        reason: String,
    },

    /// No incident has this id.
    #[error("incident {id} not found; list incidents with `llmops compliance incident list`")]
    IncidentNotFound {
        /// The id asked for.
        id: i64,
    },

    /// A new review item asks for something the queue cannot do.
    #[error("cannot queue the review: {reason}")]
    InvalidReview {
        /// The setting at fault and its fix.
        reason: String,
    },
    /// A review action breaks a rule of the review queue other than the state order.
    #[error("review item {id}: {reason}")]
    ReviewRejected {
        /// The review item id.
        id: i64,
        /// The rule broken and what to do instead.
        reason: String,
    },
}
