//! `metrics` and `telemetry`: who may scrape `/metrics`, and where traces go.

use serde::{Deserialize, Serialize};

use super::{ConfigError, Secret};

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsSettings {
    /// When set, `/metrics` answers only `Authorization: Bearer <this>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bearer_token: Option<Secret>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TelemetrySettings {
    /// OTLP over HTTP (protobuf) base URL, e.g. `http://otel-collector:4318`; empty = no traces.
    #[serde(default)]
    pub otlp_endpoint: String,
    /// `service.name` of the exported traces.
    #[serde(default = "default_service_name")]
    pub service_name: String,
}

impl Default for TelemetrySettings {
    fn default() -> Self {
        Self {
            otlp_endpoint: String::new(),
            service_name: default_service_name(),
        }
    }
}

fn default_service_name() -> String {
    "landpay".to_owned()
}

impl MetricsSettings {
    pub(super) fn check(&self) -> Result<(), ConfigError> {
        match &self.bearer_token {
            Some(token) if token.expose().trim().len() < 16 => Err(ConfigError::invalid(
                "metrics.bearer_token",
                "must be at least 16 bytes (or left unset for an open /metrics)",
            )),
            _ => Ok(()),
        }
    }
}

impl TelemetrySettings {
    pub(super) fn check(&self) -> Result<(), ConfigError> {
        if self.otlp_endpoint.is_empty() {
            return Ok(());
        }
        super::check_url("telemetry.otlp_endpoint", &self.otlp_endpoint)
    }
}
