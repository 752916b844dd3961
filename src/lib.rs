//! landpay: compute, collect and report the financial obligations of Vietnamese land procedures.

pub mod accounts;
pub mod agencies;
pub mod app;
pub mod auth;
pub mod clock;
pub mod config;
pub mod confirmation;
pub mod error;
pub mod events;
pub mod exports;
pub mod gateways;
pub mod http;
pub mod idempotency;
pub mod ids;
pub mod money;
pub mod notices;
pub mod notifications;
pub mod obligations;
pub mod payments;
pub mod reconciliation;
pub mod startup;
pub mod storage;
pub mod telemetry;
pub mod webhooks;
pub mod wording;
pub mod workers;
