//! Reconciliation of the ledger against gateway settlement files, and collections reports.

pub mod collections;
pub mod csv;
pub mod diff;
pub mod findings;
pub mod job;
pub mod report;
