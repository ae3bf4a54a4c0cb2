//! An embedded local model backend.
