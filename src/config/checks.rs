//! What the loaded settings must satisfy: structural checks on every start, and what production
//! refuses on top.

use super::{check_keys, Cidr, ConfigError, Secret, Settings};

/// The development defaults that production refuses, by key.
pub(super) const DEVELOPMENT_SECRETS: &[(&str, &str)] = &[
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
    /// Structural checks, naming the key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_url("server.public_base_url", &self.server.public_base_url)?;
        self.notifications.validate()?;
        self.check_database()?;
        self.check_auth()?;
        self.check_agencies()?;
        self.metrics.check()?;
        self.telemetry.check()?;
        self.check_gateways()?;
        if self.webhooks.retry_schedule.is_empty() {
            return Err(ConfigError::invalid(
                "webhooks.retry_schedule",
                "must list at least one interval",
            ));
        }
        self.check_durations()?;
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

    fn check_database(&self) -> Result<(), ConfigError> {
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
        if self.database.timeout.0 < std::time::Duration::from_millis(100) {
            return Err(ConfigError::invalid(
                "database.timeout",
                "must be at least 100ms",
            ));
        }
        Ok(())
    }

    fn check_auth(&self) -> Result<(), ConfigError> {
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
        check_keys(&self.auth.keys, 16)
    }

    fn check_gateways(&self) -> Result<(), ConfigError> {
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
        Ok(())
    }

    fn check_durations(&self) -> Result<(), ConfigError> {
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

    pub(super) fn secret_by_key(&self, key: &str) -> Option<&Secret> {
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
}

pub(super) fn check_url(key: &str, url: &str) -> Result<(), ConfigError> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| ConfigError::invalid(key, "must be an http:// or https:// URL"))?;
    if rest.is_empty() || rest.starts_with('/') {
        return Err(ConfigError::invalid(key, "must name a host"));
    }
    Ok(())
}
