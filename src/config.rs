//! Settings: layered from `config/default.toml`, `config/{LANDPAY_ENV}.toml`, the `--config` file
//! and `LANDPAY__SECTION__KEY` environment variables, in that order (later wins), then validated.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::time::Duration;

use figment::providers::{Format, Serialized, Toml};
use figment::Figment;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

mod agencies;
mod hardening;
mod rails;
pub use agencies::{
    AgencyGateways, AgencyMomo, AgencySettings, AgencyVietqr, AgencyVnpay, AgencyZalopay,
};
mod keys;
mod operations;
pub use operations::{MetricsSettings, TelemetrySettings};
mod sources;
pub use hardening::{
    canonical, check_environment, Cidr, Rate, RateLimitSettings, RetentionSettings,
};
pub use keys::{check_keys, KeyAlg, KeySettings};
pub use rails::{AgencyDvcqg, DvcqgMessageTypes, DvcqgSettings, PaygovSettings};
pub use sources::{provenance_report, read_secret_file, ConfigSources};

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

/// A secret string: never printed by `Debug`, serialized as `"[redacted]"`.
pub struct Secret(SecretString);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(SecretString::from(value.into()))
    }
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl Clone for Secret {
    fn clone(&self) -> Self {
        Self::new(self.expose())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Secret::new)
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("[redacted]")
    }
}

/// A duration written as an integer and a unit: `ms`, `s`, `m`, `h` or `d`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ConfigDuration(pub Duration);

impl ConfigDuration {
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let split = text
            .find(|c: char| !c.is_ascii_digit())
            .ok_or_else(|| format!("`{text}` has no unit (ms, s, m, h, d, y)"))?;
        let (digits, unit) = text.split_at(split);
        let n: u64 = digits
            .parse()
            .map_err(|_| format!("`{text}` is not an integer followed by a unit"))?;
        let secs = |k: u64| Duration::from_secs(n.saturating_mul(k));
        let duration = match unit {
            "ms" => Duration::from_millis(n),
            "s" => secs(1),
            "m" => secs(60),
            "h" => secs(3600),
            "d" => secs(86_400),
            "y" => secs(365 * 86_400),
            _ => return Err(format!("`{text}` has an unknown unit (ms, s, m, h, d, y)")),
        };
        Ok(Self(duration))
    }
}

impl fmt::Debug for ConfigDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self)
    }
}

impl fmt::Display for ConfigDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0.as_millis();
        let (n, unit) = match ms {
            0 => (0, "s"),
            _ if ms.is_multiple_of(31_536_000_000) => (ms / 31_536_000_000, "y"),
            _ if ms.is_multiple_of(86_400_000) => (ms / 86_400_000, "d"),
            _ if ms.is_multiple_of(3_600_000) => (ms / 3_600_000, "h"),
            _ if ms.is_multiple_of(60_000) => (ms / 60_000, "m"),
            _ if ms.is_multiple_of(1000) => (ms / 1000, "s"),
            _ => (ms, "ms"),
        };
        write!(f, "{n}{unit}")
    }
}

impl<'de> Deserialize<'de> for ConfigDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        ConfigDuration::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl Serialize for ConfigDuration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
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

/// The hour at which a gateway closes its settlement day, `"HH:MM"` in UTC+7 (`"24:00"` = midnight):
/// the statement of day D carries money from D−1's cut-off to D's.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SettlementCutoff {
    /// Minutes after midnight, 0 to 1440.
    pub minutes: u32,
}

impl Default for SettlementCutoff {
    fn default() -> Self {
        Self { minutes: 24 * 60 }
    }
}

impl SettlementCutoff {
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = || format!("`{text}` is not a time HH:MM between 00:00 and 24:00");
        let (h, m) = text.trim().split_once(':').ok_or_else(bad)?;
        if h.len() != 2 || m.len() != 2 {
            return Err(bad());
        }
        let h: u32 = h.parse().map_err(|_| bad())?;
        let m: u32 = m.parse().map_err(|_| bad())?;
        if m > 59 || h > 24 || (h == 24 && m > 0) {
            return Err(bad());
        }
        Ok(Self {
            minutes: h * 60 + m,
        })
    }
}

impl fmt::Debug for SettlementCutoff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self)
    }
}

impl fmt::Display for SettlementCutoff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.minutes / 60, self.minutes % 60)
    }
}

impl<'de> Deserialize<'de> for SettlementCutoff {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        SettlementCutoff::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl Serialize for SettlementCutoff {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct GatewaySettings {
    pub sandbox: SandboxSettings,
    pub vnpay: VnpaySettings,
    pub momo: MomoSettings,
    pub zalopay: ZalopaySettings,
    pub vietqr: VietqrSettings,
    #[serde(default)]
    pub dvcqg: DvcqgSettings,
    #[serde(default)]
    pub paygov: PaygovSettings,
}

impl GatewaySettings {
    /// The settlement cut-off of a gateway by its id (`vnpay`, `momo`, `zalopay`, `vietqr`).
    pub fn settlement_cutoff(&self, gateway: &str) -> SettlementCutoff {
        match gateway {
            "vnpay" => self.vnpay.settlement_cutoff,
            "momo" => self.momo.settlement_cutoff,
            "zalopay" => self.zalopay.settlement_cutoff,
            "vietqr" => self.vietqr.settlement_cutoff,
            _ => SettlementCutoff::default(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SandboxSettings {
    pub enabled: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct VnpaySettings {
    pub enabled: bool,
    pub tmn_code: String,
    pub hash_secret: Secret,
    pub payment_url: String,
    pub api_url: String,
    /// When the gateway closes its settlement day (UTC+7).
    #[serde(default)]
    pub settlement_cutoff: SettlementCutoff,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MomoSettings {
    pub enabled: bool,
    pub partner_code: String,
    pub access_key: Secret,
    pub secret_key: Secret,
    pub endpoint: String,
    /// When the gateway closes its settlement day (UTC+7).
    #[serde(default)]
    pub settlement_cutoff: SettlementCutoff,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ZalopaySettings {
    pub enabled: bool,
    pub app_id: String,
    pub key1: Secret,
    pub key2: Secret,
    pub endpoint: String,
    /// When the gateway closes its settlement day (UTC+7).
    #[serde(default)]
    pub settlement_cutoff: SettlementCutoff,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct VietqrSettings {
    pub enabled: bool,
    pub bank_bin: String,
    pub account_no: String,
    pub account_name: String,
    pub order_ttl: ConfigDuration,
    /// When the gateway closes its settlement day (UTC+7).
    #[serde(default)]
    pub settlement_cutoff: SettlementCutoff,
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

/// The development defaults that production refuses, by key.
const DEVELOPMENT_SECRETS: &[(&str, &str)] = &[
    ("auth.jwt_secret", "dev-only-change-me"),
    ("auth.link_secret", "dev-only-link-secret"),
    ("gateways.vnpay.hash_secret", "dev-only-vnpay-secret"),
    ("gateways.momo.access_key", "dev-only-momo-access-key"),
    ("gateways.momo.secret_key", "dev-only-momo-secret"),
    ("gateways.zalopay.key1", "dev-only-zalopay-key1"),
    ("gateways.zalopay.key2", "dev-only-zalopay-key2"),
    ("gateways.dvcqg.hash_key", "dev-only-dvcqg-hash-key"),
    ("gateways.paygov.secret_key", "dev-only-paygov-secret"),
];

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

    /// Structural checks, naming the key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_url("server.public_base_url", &self.server.public_base_url)?;
        self.notifications.validate()?;
        let db = self.database.url.expose();
        if !(db.starts_with("sqlite:")
            || db.starts_with("postgres://")
            || db.starts_with("postgresql://"))
        {
            return Err(ConfigError::invalid(
                "database.url",
                "must start with sqlite:// or postgres://",
            ));
        }
        if self.database.max_connections == 0 {
            return Err(ConfigError::invalid(
                "database.max_connections",
                "must be at least 1",
            ));
        }
        if self.auth.jwt_secret.expose().len() < 16 {
            return Err(ConfigError::invalid(
                "auth.jwt_secret",
                "must be at least 16 bytes",
            ));
        }
        if self.auth.link_secret.expose().len() < 16 {
            return Err(ConfigError::invalid(
                "auth.link_secret",
                "must be at least 16 bytes",
            ));
        }
        check_keys(&self.auth.keys, 16)?;
        self.check_agencies()?;
        self.metrics.check()?;
        self.telemetry.check()?;
        for (key, url) in [
            (
                "gateways.vnpay.payment_url",
                &self.gateways.vnpay.payment_url,
            ),
            ("gateways.vnpay.api_url", &self.gateways.vnpay.api_url),
            ("gateways.momo.endpoint", &self.gateways.momo.endpoint),
            ("gateways.zalopay.endpoint", &self.gateways.zalopay.endpoint),
        ] {
            if !url.is_empty() {
                check_url(key, url)?;
            }
        }
        if self.gateways.vnpay.enabled && self.gateways.vnpay.tmn_code.is_empty() {
            return Err(ConfigError::invalid(
                "gateways.vnpay.tmn_code",
                "must be set when VNPay is enabled",
            ));
        }
        if self.webhooks.retry_schedule.is_empty() {
            return Err(ConfigError::invalid(
                "webhooks.retry_schedule",
                "must list at least one interval",
            ));
        }
        for (key, d) in [
            ("payments.order_ttl", self.payments.order_ttl),
            ("payments.attempt_ttl", self.payments.attempt_ttl),
            ("payments.janitor_interval", self.payments.janitor_interval),
            ("webhooks.request_timeout", self.webhooks.request_timeout),
            ("webhooks.poll_interval", self.webhooks.poll_interval),
            ("gateways.vietqr.order_ttl", self.gateways.vietqr.order_ttl),
            ("server.body_timeout", self.server.body_timeout),
            (
                "retention.unverified_callbacks",
                self.retention.unverified_callbacks,
            ),
            ("retention.personal_data", self.retention.personal_data),
        ] {
            if d.0.is_zero() {
                return Err(ConfigError::invalid(key, "must be longer than 0"));
            }
        }
        for (i, net) in self.server.trusted_proxies.iter().enumerate() {
            Cidr::parse(net)
                .map_err(|m| ConfigError::invalid(&format!("server.trusted_proxies[{i}]"), m))?;
        }
        if !matches!(self.log.format.as_str(), "json" | "pretty") {
            return Err(ConfigError::invalid(
                "log.format",
                "must be `json` or `pretty`",
            ));
        }
        Ok(())
    }

    /// Production refuses development secrets of what is enabled, short keys, plain-http public
    /// URLs, the sandbox and the demo beneficiary, naming every problem at once.
    pub fn check_production(&self) -> Result<(), ConfigError> {
        let problems = self.production_problems();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigError::Production(problems.join("; ")))
        }
    }

    fn secret_by_key(&self, key: &str) -> Option<&Secret> {
        Some(match key {
            "auth.jwt_secret" => &self.auth.jwt_secret,
            "auth.link_secret" => &self.auth.link_secret,
            "gateways.vnpay.hash_secret" => &self.gateways.vnpay.hash_secret,
            "gateways.momo.access_key" => &self.gateways.momo.access_key,
            "gateways.momo.secret_key" => &self.gateways.momo.secret_key,
            "gateways.zalopay.key1" => &self.gateways.zalopay.key1,
            "gateways.zalopay.key2" => &self.gateways.zalopay.key2,
            "gateways.dvcqg.hash_key" => &self.gateways.dvcqg.hash_key,
            "gateways.paygov.secret_key" => &self.gateways.paygov.secret_key,
            _ => return None,
        })
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

fn check_url(key: &str, url: &str) -> Result<(), ConfigError> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| ConfigError::invalid(key, "must be an http:// or https:// URL"))?;
    if rest.is_empty() || rest.starts_with('/') {
        return Err(ConfigError::invalid(key, "must name a host"));
    }
    Ok(())
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
