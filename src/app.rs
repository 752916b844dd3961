//! What the use cases run on: the store, the clock, the settings, the gateways and the rule book.
//! Nothing here knows HTTP; `http::state::AppState` wraps it with what only the web layer needs.

use std::sync::Arc;

use anyhow::Context;
use tokio::sync::Notify;

use crate::clock::Clock;
use crate::config::Settings;
use crate::gateways::adapters::Gateways;
use crate::obligations::RuleBook;
use crate::storage::Store;

/// The services every use case may take, shared by all workers of all threads.
pub struct Services {
    pub settings: Arc<Settings>,
    pub store: Store,
    pub clock: Arc<Clock>,
    pub rules: RuleBook,
    pub gateways: Gateways,
    /// Wakes the delivery worker when an event was just committed.
    pub delivery_kick: Arc<Notify>,
    /// The delivery worker's HTTP client (bounded time, no redirects, address policy).
    pub webhook_http: reqwest::Client,
}

impl Services {
    /// Loads the rule book (built in, or `rules.dir`) and builds the gateway and webhook
    /// clients; any of them failing stops start-up.
    pub fn new(settings: Arc<Settings>, store: Store, clock: Arc<Clock>) -> anyhow::Result<Self> {
        let rules = if settings.rules.dir.is_empty() {
            RuleBook::builtin()
        } else {
            RuleBook::from_dir(std::path::Path::new(&settings.rules.dir))
        }
        .context("loading the reference data (rules.dir)")?;
        Ok(Self {
            gateways: Gateways::build(&settings)?,
            delivery_kick: Arc::new(Notify::new()),
            webhook_http: crate::webhooks::delivery::client(&settings)?,
            rules,
            settings,
            store,
            clock,
        })
    }
}
