//! API tests: each test spawns the real application on a fresh database (SQLite by default,
//! PostgreSQL when TEST_DATABASE_URL is set) and talks to it over HTTP.

mod auth;
mod browser;
mod bulk_reads;
mod cli;
mod conventions;
mod crash;
mod feed_contract;
mod finance_browser;
mod finance_truth;
mod gateways;
mod hardening_callbacks;
mod hardening_config;
mod hardening_edge;
mod hardening_payer;
mod hardening_privacy;
mod hardening_scope;
mod hardening_webhooks;
mod helpers;
mod idempotency;
mod money_path;
mod obligations;
mod openapi_examples;
mod operations;
mod payments;
mod reconciliation;
mod store_contract;
mod transition_contract;
mod webhooks;
