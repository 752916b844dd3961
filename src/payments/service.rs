//! Payment use cases.
