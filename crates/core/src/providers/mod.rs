//! HTTP backends for model providers.
