//! Token counting for chat requests and texts.
