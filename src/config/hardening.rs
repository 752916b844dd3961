//! The hardening settings: rate limits, retention, trusted proxies, the environment name and the
//! production check that names every problem at once.

use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{ConfigDuration, Settings};

/// The environments `LANDPAY_ENV` may name.
pub const ENVIRONMENTS: &[&str] = &["local", "test", "production"];

/// Refuses an unknown `LANDPAY_ENV`, naming the three accepted values.
pub fn check_environment(name: &str) -> Result<(), String> {
    if ENVIRONMENTS.contains(&name) {
        Ok(())
    } else {
        Err(format!(
            "LANDPAY_ENV must be one of local, test, production (got `{}`)",
            name.escape_debug()
        ))
    }
}

/// A rate written `N/s`, `N/min` or `N/h`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub count: u32,
    pub per_seconds: u32,
}

impl Rate {
    pub fn parse(text: &str) -> Result<Self, String> {
        let (n, unit) = text
            .trim()
            .split_once('/')
            .ok_or_else(|| format!("`{text}` is not N/s, N/min or N/h"))?;
        let count: u32 = n
            .trim()
            .parse()
            .map_err(|_| format!("`{text}`: the count must be a whole number"))?;
        let per_seconds = match unit.trim() {
            "s" => 1,
            "min" => 60,
            "h" => 3600,
            _ => return Err(format!("`{text}`: the unit must be s, min or h")),
        };
        if count == 0 {
            return Err(format!("`{text}`: the count must be at least 1"));
        }
        Ok(Self { count, per_seconds })
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = match self.per_seconds {
            1 => "s",
            60 => "min",
            _ => "h",
        };
        write!(f, "{}/{unit}", self.count)
    }
}

impl fmt::Debug for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl<'de> Deserialize<'de> for Rate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Rate::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

impl Serialize for Rate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitSettings {
    /// Pay pages and their forms, the sandbox, `/verify`: per client address.
    pub public_per_ip: Rate,
    /// The finance sign-in form: per client address.
    pub sign_in_per_ip: Rate,
    /// Callbacks that fail verification: per client address.
    pub unverified_callbacks_per_ip: Rate,
    /// The `/v1` API: per token subject.
    pub api_per_subject: Rate,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionSettings {
    /// Callbacks that failed verification are deleted after this.
    pub unverified_callbacks: ConfigDuration,
    /// Payer and taxpayer names and numbers of orders closed longer ago are anonymised.
    pub personal_data: ConfigDuration,
}

/// A network written `ADDR/PREFIX` (or a bare address).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub fn parse(text: &str) -> Result<Self, String> {
        let (addr, prefix) = match text.trim().split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text.trim(), None),
        };
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| format!("`{text}` is not an address or CIDR network"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("`{text}` has a prefix length out of range"))?,
        };
        Ok(Self { addr, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// An IPv4-mapped IPv6 address as the IPv4 address it carries.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

impl Settings {
    /// The trusted proxy networks, parsed (validated at load).
    pub fn trusted_proxies(&self) -> Vec<Cidr> {
        self.server
            .trusted_proxies
            .iter()
            .filter_map(|t| Cidr::parse(t).ok())
            .collect()
    }

    /// Every production problem, each naming its key; empty when the settings may serve.
    pub fn production_problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        for (key, default) in super::DEVELOPMENT_SECRETS {
            if !self.secret_required(key) {
                continue;
            }
            let value = self.secret_by_key(key).map(super::Secret::expose);
            if value == Some(*default) {
                problems.push(format!("`{key}` still has its development default"));
            } else if value.is_some_and(str::is_empty) {
                problems.push(format!("`{key}` must be set"));
            }
        }
        for (key, secret) in [
            ("auth.jwt_secret", &self.auth.jwt_secret),
            ("auth.link_secret", &self.auth.link_secret),
        ] {
            if secret.expose().len() < 32 {
                problems.push(format!("`{key}` must be at least 32 bytes"));
            }
        }
        if let Err(e) = super::check_keys(&self.auth.keys, 32) {
            problems.push(e.to_string());
        }
        if !self.server.public_base_url.starts_with("https://") {
            problems.push("`server.public_base_url` must be an https URL".to_owned());
        }
        if self.gateways.sandbox.enabled {
            problems.push("`gateways.sandbox.enabled` must be false".to_owned());
        }
        self.vnpay_problems(&mut problems);
        self.wallet_problems(&mut problems);
        self.rail_problems(&mut problems);
        let qr = &self.gateways.vietqr;
        if qr.enabled && (qr.account_no == "0000000000" || qr.account_name == "LANDPAY DEMO") {
            problems.push(
                "`gateways.vietqr.account_no` and `gateways.vietqr.account_name` must name a real beneficiary, not the shipped demo (or disable VietQR)"
                    .to_owned(),
            );
        }
        problems
    }

    fn vnpay_problems(&self, problems: &mut Vec<String>) {
        let vnpay = &self.gateways.vnpay;
        if !vnpay.enabled {
            return;
        }
        if vnpay.tmn_code == "LANDPAY1" {
            problems.push("`gateways.vnpay.tmn_code` still has its development default".into());
        }
        for (key, url) in [
            ("gateways.vnpay.payment_url", &vnpay.payment_url),
            ("gateways.vnpay.api_url", &vnpay.api_url),
        ] {
            if url.trim().is_empty() {
                problems.push(format!(
                    "`{key}` must be set to VNPay's host (empty means the sandbox)"
                ));
            } else if url.contains("/sandbox/") || url.contains("sandbox.vnpayment.vn") {
                problems.push(format!("`{key}` must not be a sandbox URL"));
            } else if !url.starts_with("https://") {
                problems.push(format!("`{key}` must be an https URL"));
            }
        }
    }

    /// MoMo and ZaloPay, when enabled, must have their merchant's own id and an https endpoint
    /// that is not their sandbox. Their status answers carry no signature (their documentation
    /// lists none), and a status answer that reports a payment records the money: the TLS
    /// connection to the gateway's host is what vouches for it.
    fn wallet_problems(&self, problems: &mut Vec<String>) {
        let (momo, zalopay) = (&self.gateways.momo, &self.gateways.zalopay);
        let wallets = [
            (
                momo.enabled,
                "gateways.momo",
                ("partner_code", momo.partner_code.as_str(), "MOMOLANDPAY"),
                momo.endpoint.as_str(),
                "test-payment.momo.vn",
            ),
            (
                zalopay.enabled,
                "gateways.zalopay",
                ("app_id", zalopay.app_id.as_str(), "2553"),
                zalopay.endpoint.as_str(),
                "sb-openapi.zalopay.vn",
            ),
        ];
        for (_, gateway, (id_key, id, shipped), endpoint, sandbox) in
            wallets.into_iter().filter(|w| w.0)
        {
            if id.trim() == shipped {
                problems.push(format!(
                    "`{gateway}.{id_key}` still has its development default"
                ));
            }
            let url = reqwest::Url::parse(endpoint.trim()).ok();
            let host = url.as_ref().and_then(reqwest::Url::host_str);
            if url.as_ref().map(reqwest::Url::scheme) != Some("https") {
                problems.push(format!("`{gateway}.endpoint` must be an https URL"));
            } else if host.is_some_and(|h| h.eq_ignore_ascii_case(sandbox)) {
                problems.push(format!(
                    "`{gateway}.endpoint` must not be the sandbox ({sandbox})"
                ));
            }
        }
    }

    /// The national rails, when enabled, must name their real endpoints over https.
    fn rail_problems(&self, problems: &mut Vec<String>) {
        let g = &self.gateways;
        let urls = [
            (
                g.dvcqg.enabled,
                "gateways.dvcqg.init_url",
                &g.dvcqg.init_url,
            ),
            (
                g.paygov.enabled,
                "gateways.paygov.create_url",
                &g.paygov.create_url,
            ),
        ];
        for (_, key, url) in urls.iter().filter(|(on, _, _)| *on) {
            if url.trim().is_empty() {
                problems.push(format!("`{key}` must be set (empty means the sandbox)"));
            } else if !url.starts_with("https://") || url.contains("/sandbox/") {
                problems.push(format!(
                    "`{key}` must be an https URL that is not the sandbox"
                ));
            }
        }
    }

    /// Whether production needs this secret: the auth keys always, a gateway's only when enabled.
    fn secret_required(&self, key: &str) -> bool {
        match key.split('.').nth(1) {
            Some("vnpay") => self.gateways.vnpay.enabled,
            Some("momo") => self.gateways.momo.enabled,
            Some("zalopay") => self.gateways.zalopay.enabled,
            Some("dvcqg") => self.gateways.dvcqg.enabled,
            Some("paygov") => self.gateways.paygov.enabled,
            _ => true,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn rates_parse_the_three_units_and_refuse_others() {
        assert_eq!(Rate::parse("120/min").unwrap().per_seconds, 60);
        assert_eq!(Rate::parse("10/s").unwrap().count, 10);
        assert_eq!(Rate::parse("5/h").unwrap().per_seconds, 3600);
        for bad in ["120", "0/min", "x/min", "10/day", "-1/s"] {
            assert!(Rate::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn cidrs_contain_what_they_should() {
        let net = Cidr::parse("10.0.0.0/8").unwrap();
        assert!(net.contains("10.1.2.3".parse().unwrap()));
        assert!(net.contains("::ffff:10.1.2.3".parse().unwrap()));
        assert!(!net.contains("11.0.0.1".parse().unwrap()));
        let one = Cidr::parse("127.0.0.1").unwrap();
        assert!(one.contains("127.0.0.1".parse().unwrap()));
        assert!(!one.contains("127.0.0.2".parse().unwrap()));
        assert!(Cidr::parse("::1/128")
            .unwrap()
            .contains("::1".parse().unwrap()));
        assert!(Cidr::parse("0.0.0.0/0")
            .unwrap()
            .contains("8.8.8.8".parse().unwrap()));
        assert!(Cidr::parse("10.0.0.0/33").is_err());
        assert!(Cidr::parse("example.com").is_err());
    }

    #[test]
    fn environments_are_the_three() {
        assert!(check_environment("production").is_ok());
        for bad in ["prod", "Production", "staging", ""] {
            let err = check_environment(bad).unwrap_err();
            assert!(err.contains("local, test, production"), "{err}");
        }
    }
}
