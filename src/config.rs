//! Settings: layered from `config/default.toml`, `config/{LANDPAY_ENV}.toml`, the `--config` file
//! and `LANDPAY__SECTION__KEY` environment variables, in that order (later wins), then validated.

use std::collections::BTreeMap;
use std::path::Path;

use figment::providers::{Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

mod agencies;
mod checks;
use checks::{check_url, DEVELOPMENT_SECRETS};
mod gateways;
mod hardening;
mod rails;
pub use agencies::{
    AgencyGateways, AgencyMomo, AgencySettings, AgencyVietqr, AgencyVnpay, AgencyZalopay,
};
mod keys;
mod operations;
pub use operations::{MetricsSettings, TelemetrySettings};
mod sources;
pub use gateways::{
    GatewaySettings, MomoSettings, SandboxSettings, VietqrSettings, VnpaySettings, ZalopaySettings,
};
pub use hardening::{
    canonical, check_environment, Cidr, Rate, RateLimitSettings, RetentionSettings,
};
pub use keys::{check_keys, KeyAlg, KeySettings};
pub use rails::{AgencyDvcqg, DvcqgMessageTypes, DvcqgSettings, PaygovSettings};
pub use sources::{provenance_report, read_secret_file, ConfigSources};
mod values;
pub use values::{ConfigDuration, Secret, SettlementCutoff};

/// What the loader and the validator can refuse, always naming the key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration key `{key}`: {message}")]
    Invalid { key: String, message: String },
    #[error("configuration: {0}")]
    Load(String),
    #[error("production configuration refused: {0}")]
    Production(String),
}

impl ConfigError {
    fn invalid(key: &str, message: impl Into<String>) -> Self {
        Self::Invalid {
            key: key.to_owned(),
            message: message.into(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub auth: AuthSettings,
    pub gateways: GatewaySettings,
    pub payments: PaymentSettings,
    pub webhooks: WebhookSettings,
    pub log: LogSettings,
    pub rules: RuleSettings,
    pub rate_limits: RateLimitSettings,
    pub retention: RetentionSettings,
    /// Who may read `/metrics`.
    #[serde(default)]
    pub metrics: MetricsSettings,
    /// Where traces are exported (OTLP over HTTP).
    #[serde(default)]
    pub telemetry: TelemetrySettings,
    /// Per-agency settings (`[agencies."HN-VPDKDD"]`), each part optional.
    #[serde(default)]
    pub agencies: BTreeMap<String, AgencySettings>,
    /// `[notifications.smtp]`: e-mailing the payer's confirmation (off when absent).
    #[serde(default)]
    pub notifications: crate::notifications::NotificationSettings,
    /// `LANDPAY_ENV`: local, test or production (not a key of the files).
    #[serde(skip)]
    pub environment: String,
    /// Where each effective key's value came from (a file, a variable, the built-in defaults).
    #[serde(skip)]
    pub origins: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    pub public_base_url: String,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// How long in-flight requests get to finish after SIGTERM.
    pub shutdown_timeout: ConfigDuration,
    /// The longest the server waits, in total, for a request body; then 408 and the connection closed.
    pub body_timeout: ConfigDuration,
    /// Proxies (CIDR networks) whose `X-Forwarded-For` is believed; empty = none.
    pub trusted_proxies: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    pub url: Secret,
    pub max_connections: u32,
    /// Waiting time for a locked SQLite database before giving up.
    pub busy_timeout: ConfigDuration,
    /// PostgreSQL: the longest an operation waits for the database's answer before it is
    /// abandoned and the request answered as the database being unavailable.
    pub timeout: ConfigDuration,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    pub jwt_secret: Secret,
    pub issuer: String,
    pub audience: String,
    /// Key for the signed links of the payer pages.
    pub link_secret: Secret,
    /// Further token keys by `kid` (a token naming a `kid` is verified with that key only).
    #[serde(default)]
    pub keys: Vec<KeySettings>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentSettings {
    pub order_ttl: ConfigDuration,
    pub attempt_ttl: ConfigDuration,
    /// How often the janitor looks for stale attempts and expired orders.
    pub janitor_interval: ConfigDuration,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSettings {
    pub retry_schedule: Vec<ConfigDuration>,
    pub request_timeout: ConfigDuration,
    /// Hosts that webhook URLs may name in production (`https` only there).
    pub allowed_hosts: Vec<String>,
    /// How often the delivery worker looks for due deliveries.
    pub poll_interval: ConfigDuration,
    /// Production: allow webhook URLs resolving to loopback, private, link-local, CGNAT or
    /// metadata addresses.
    pub allow_private: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    /// `json` (one object per line) or `pretty`.
    pub format: String,
    /// A `tracing` filter such as `info,sqlx=warn`.
    pub filter: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSettings {
    /// Folder of effective-dated reference data whose files replace the built-in ones of the same
    /// name. Empty = `<config folder>/rules` when it exists, else only the built-in tables.
    pub dir: String,
}

/// `config/default.toml`, built into the binary so that it runs from any working directory.
pub const BUILTIN_DEFAULTS: &str = include_str!("../config/default.toml");

impl Settings {
    /// Loads the layers with the process environment and validates the result.
    pub fn load(sources: &ConfigSources) -> Result<Self, ConfigError> {
        let env: Vec<(String, String)> = std::env::vars().collect();
        Self::load_with_env(sources, &env)
    }

    /// Loads the layers with the given `LANDPAY__…` variables; used by tests.
    pub fn load_with_env(
        sources: &ConfigSources,
        env: &[(String, String)],
    ) -> Result<Self, ConfigError> {
        check_environment(&sources.environment).map_err(ConfigError::Load)?;
        // The built-in defaults first; files of the config folder, when present, only override.
        let mut figment = Figment::new()
            .merge(Toml::string(BUILTIN_DEFAULTS))
            .merge(Toml::file(sources.dir.join("default.toml")))
            .merge(Toml::file(
                sources.dir.join(format!("{}.toml", sources.environment)),
            ));
        if let Some(extra) = &sources.extra_file {
            if !extra.exists() {
                return Err(ConfigError::Load(format!(
                    "--config {} not found",
                    extra.display()
                )));
            }
            figment = figment.merge(Toml::file(extra));
        }
        for var in sources::env_overrides(env)? {
            figment = figment.merge(var);
        }
        let (tree, origins) = sources::resolve(&figment)?;
        let mut settings: Settings = Figment::from(Serialized::defaults(tree))
            .extract_lossy()
            .map_err(figment_error)?;
        settings.origins = origins;
        let rules_dir = sources.dir.join("rules");
        if settings.rules.dir.is_empty() && rules_dir.is_dir() {
            settings.rules.dir = rules_dir.display().to_string();
        }
        settings.environment.clone_from(&sources.environment);
        settings.validate()?;
        if sources.environment == "production" {
            settings.check_production()?;
        }
        Ok(settings)
    }

    /// Every effective key with its value, secrets shown as `"[redacted]"`, as TOML.
    pub fn to_redacted_toml(&self) -> Result<String, ConfigError> {
        toml::to_string_pretty(self).map_err(|e| ConfigError::Load(e.to_string()))
    }

    /// The public base URL without a trailing slash.
    pub fn base_url(&self) -> &str {
        self.server.public_base_url.trim_end_matches('/')
    }
}

fn figment_error(error: figment::Error) -> ConfigError {
    let key = error.path.join(".");
    let message = error.kind.to_string();
    if key.is_empty() {
        ConfigError::Load(message)
    } else {
        ConfigError::Invalid { key, message }
    }
}

/// Where the SQLite file of a `sqlite://PATH` URL lives, if the URL names a file.
pub fn sqlite_path(url: &str) -> Option<&Path> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    if path.is_empty() || path.starts_with(":memory:") {
        None
    } else {
        Some(Path::new(path))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use std::time::Duration;

    use super::*;

    fn sources(env: &str) -> ConfigSources {
        ConfigSources {
            dir: std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/config")),
            environment: env.to_owned(),
            extra_file: None,
        }
    }

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn durations_parse_every_unit() {
        assert_eq!(
            ConfigDuration::parse("250ms").unwrap().0,
            Duration::from_millis(250)
        );
        assert_eq!(
            ConfigDuration::parse("10s").unwrap().0,
            Duration::from_secs(10)
        );
        assert_eq!(
            ConfigDuration::parse("5m").unwrap().0,
            Duration::from_secs(300)
        );
        assert_eq!(
            ConfigDuration::parse("2h").unwrap().0,
            Duration::from_secs(7200)
        );
        assert_eq!(
            ConfigDuration::parse("1d").unwrap().0,
            Duration::from_secs(86_400)
        );
        assert!(ConfigDuration::parse("10").is_err());
        assert!(ConfigDuration::parse("1w").is_err());
        assert_eq!(ConfigDuration::parse("90s").unwrap().to_string(), "90s");
    }

    #[test]
    fn env_wins_and_converts_to_the_key_type() {
        let env = vars(&[
            ("LANDPAY__SERVER__PORT", "8081"),
            ("LANDPAY__GATEWAYS__VNPAY__ENABLED", "false"),
            ("LANDPAY__SERVER__PUBLIC_BASE_URL", "http://127.0.0.1:8081"),
            ("LANDPAY__GATEWAYS__VIETQR__ACCOUNT_NO", "0012345"),
            ("LANDPAY__WEBHOOKS__RETRY_SCHEDULE", r#"["1s","5s"]"#),
        ]);
        let s = Settings::load_with_env(&sources("local"), &env).unwrap();
        assert_eq!(s.server.port, 8081);
        assert!(!s.gateways.vnpay.enabled);
        assert_eq!(s.server.public_base_url, "http://127.0.0.1:8081");
        assert_eq!(s.gateways.vietqr.account_no, "0012345");
        assert_eq!(s.webhooks.retry_schedule.len(), 2);
        assert_eq!(s.webhooks.retry_schedule[1].0, Duration::from_secs(5));
    }

    #[test]
    fn the_database_timeout_is_ten_seconds_unless_set_and_never_below_100ms() {
        let s = Settings::load_with_env(&sources("local"), &[]).unwrap();
        assert_eq!(s.database.timeout.0, Duration::from_secs(10));
        let env = vars(&[("LANDPAY__DATABASE__TIMEOUT", "2s")]);
        let s = Settings::load_with_env(&sources("local"), &env).unwrap();
        assert_eq!(s.database.timeout.0, Duration::from_secs(2));
        let env = vars(&[("LANDPAY__DATABASE__TIMEOUT", "50ms")]);
        let err = Settings::load_with_env(&sources("local"), &env)
            .unwrap_err()
            .to_string();
        assert!(err.contains("database.timeout"), "{err}");
    }

    #[test]
    fn a_bad_value_names_its_key() {
        let env = vars(&[("LANDPAY__WEBHOOKS__REQUEST_TIMEOUT", "soon")]);
        let err = Settings::load_with_env(&sources("local"), &env)
            .unwrap_err()
            .to_string();
        assert!(err.contains("webhooks.request_timeout"), "{err}");
        let env = vars(&[("LANDPAY__SERVER__PUBLIC_BASE_URL", "localhost")]);
        let err = Settings::load_with_env(&sources("local"), &env)
            .unwrap_err()
            .to_string();
        assert!(err.contains("server.public_base_url"), "{err}");
    }

    #[test]
    fn production_names_each_development_secret() {
        let err = Settings::load_with_env(&sources("production"), &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("auth.jwt_secret"), "{err}");
        assert!(err.contains("gateways.vnpay.hash_secret"), "{err}");
        assert!(
            !err.contains("dev-only"),
            "the secret itself must not be printed: {err}"
        );
    }

    #[test]
    fn redacted_output_hides_secrets() {
        let s = Settings::load_with_env(&sources("local"), &[]).unwrap();
        let text = s.to_redacted_toml().unwrap();
        assert!(text.contains("[redacted]"));
        assert!(!text.contains("dev-only"), "{text}");
        assert!(!format!("{s:?}").contains("dev-only"));
    }
}
