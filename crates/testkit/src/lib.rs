//! Mock model providers for tests.
