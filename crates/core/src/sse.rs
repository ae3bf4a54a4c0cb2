//! Incremental server-sent event parsing on bytes.
