//! The HTTP edge: thin handlers, extractors, pages and framework error shapes.

pub mod callback_log;
pub mod callbacks;
pub mod docs;
pub mod error_docs;
pub mod errors;
pub mod extract;
pub mod finance;
pub mod guard;
pub mod notices;
pub mod obligations;
pub mod openapi;
pub mod ops;
pub mod pages;
pub mod paging;
pub mod payments;
pub mod rate_limit;
pub mod reconciliation;
pub mod sandbox;
pub mod texts;
pub mod webhooks;
