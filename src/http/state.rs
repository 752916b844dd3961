//! The web layer's shared state: the use cases' [`Services`] plus what only HTTP needs (token
//! keys, request metrics, rate limits, the OpenAPI document).

use std::ops::Deref;
use std::sync::Arc;

use crate::app::Services;
use crate::auth::jwt::JwtKeys;

/// Everything a handler needs, shared by all workers of all threads.
pub struct AppState {
    pub app: Arc<Services>,
    pub jwt: JwtKeys,
    pub metrics: super::ops::Metrics,
    /// Per-address and per-subject rate limits.
    pub limits: super::rate_limit::Limits,
    /// `/openapi.json`, built once from the handlers and the loaded rule book.
    pub openapi_json: String,
}

impl AppState {
    /// Wraps the use cases' services (built by start-up) with the web layer's own parts.
    pub fn new(app: Services) -> anyhow::Result<Self> {
        let settings = app.settings.clone();
        Ok(Self {
            openapi_json: super::openapi::document(&app.rules).to_string(),
            limits: super::rate_limit::Limits::new(&settings),
            jwt: JwtKeys::new(&settings.auth),
            metrics: super::ops::Metrics::new()?,
            app: Arc::new(app),
        })
    }
}

/// Handlers pass `&state` where a use case takes `&Services`.
impl Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.app
    }
}
