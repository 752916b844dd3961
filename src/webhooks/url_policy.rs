//! Which receiver URLs webhooks may be sent to. URLs are parsed by the sending client's own
//! parser (`reqwest::Url`), so the check and the connection see the same host. Userinfo is
//! refused everywhere; production accepts only `https` to a host on `webhooks.allowed_hosts`
//! whose addresses are public, unless `webhooks.allow_private` — checked when an endpoint is
//! registered and again by every delivery pass (once per endpoint in the pass), where the
//! client's resolver also drops such addresses.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::Url;

use crate::config::{canonical, Settings};

/// The rules of one configuration.
#[derive(Debug, Clone)]
pub struct Policy {
    pub production: bool,
    pub allowed_hosts: Vec<String>,
    pub allow_private: bool,
}

impl Policy {
    pub fn from_settings(s: &Settings) -> Self {
        Self {
            production: s.environment == "production",
            allowed_hosts: s.webhooks.allowed_hosts.clone(),
            allow_private: s.webhooks.allow_private,
        }
    }

    /// Whether addresses must be public.
    fn public_only(&self) -> bool {
        self.production && !self.allow_private
    }

    /// Parses and checks a URL without resolving it.
    pub fn check(&self, raw: &str) -> Result<Url, String> {
        if raw.len() > 2000 || raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("must be an absolute http(s) URL of at most 2000 characters".into());
        }
        let url = Url::parse(raw).map_err(|e| format!("is not a valid URL ({e})"))?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err("must not carry user:password@ (userinfo)".into());
        }
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or("must name a host")?;
        match (self.production, url.scheme()) {
            (false, "http" | "https") | (true, "https") => {}
            (true, _) => return Err("must be an https URL".into()),
            (false, _) => return Err("must be an http(s) URL".into()),
        }
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        if self.production
            && !self
                .allowed_hosts
                .iter()
                .any(|h| h.eq_ignore_ascii_case(bare))
        {
            return Err("the host is not on webhooks.allowed_hosts".into());
        }
        if self.public_only() {
            if let Ok(ip) = bare.parse::<IpAddr>() {
                if is_internal(ip) {
                    return Err("must not point at a loopback, private, link-local, CGNAT or metadata address".into());
                }
            }
        }
        Ok(url)
    }

    /// [`Policy::check`], then every address the host resolves to.
    pub async fn check_resolved(&self, raw: &str) -> Result<Url, String> {
        let url = self.check(raw)?;
        if !self.public_only() {
            return Ok(url);
        }
        let host = url.host_str().unwrap_or_default().to_owned();
        let port = url.port_or_known_default().unwrap_or(443);
        let addrs =
            tokio::net::lookup_host((host.trim_start_matches('[').trim_end_matches(']'), port))
                .await
                .map_err(|_| "the host does not resolve".to_owned())?;
        for a in addrs {
            if is_internal(a.ip()) {
                return Err(
                    "resolves to a loopback, private, link-local, CGNAT or metadata address".into(),
                );
            }
        }
        Ok(url)
    }

    /// The delivery client's resolver: in production, internal addresses are dropped.
    pub fn resolver(&self) -> Option<Arc<PublicOnly>> {
        self.public_only().then(|| Arc::new(PublicOnly))
    }
}

/// Loopback, private, link-local (metadata services live there), CGNAT, unspecified,
/// multicast, broadcast, and their IPv6 counterparts.
pub fn is_internal(ip: IpAddr) -> bool {
    match canonical(ip) {
        IpAddr::V4(v4) => is_internal_v4(v4),
        IpAddr::V6(v6) => is_internal_v6(v6),
    }
}

fn is_internal_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_multicast()
        || ip.is_broadcast()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && ip.octets()[2] == 0)
}

fn is_internal_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
        || ip
            .to_ipv4()
            .is_some_and(|v4| is_internal_v4(v4) && ip.segments()[..6] == [0; 6])
}

/// A resolver that never hands the client an internal address.
pub struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let found = tokio::net::lookup_host((name.as_str(), 0)).await?;
            let public: Vec<SocketAddr> = found.filter(|a| !is_internal(a.ip())).collect();
            if public.is_empty() {
                return Err("the webhook host resolves only to internal addresses".into());
            }
            let addrs: Addrs = Box::new(public.into_iter());
            Ok(addrs)
        })
    }
}

/// A URL as listings show it: userinfo masked.
pub fn masked(raw: &str) -> String {
    match Url::parse(raw) {
        Ok(mut url) if !url.username().is_empty() || url.password().is_some() => {
            let _ = url.set_username("***");
            let _ = url.set_password(None);
            url.to_string()
        }
        Ok(_) => raw.to_owned(),
        Err(_) => raw
            .split_once('@')
            .map_or_else(|| raw.to_owned(), |(_, rest)| format!("***@{rest}")),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn production(allow_private: bool) -> Policy {
        Policy {
            production: true,
            allowed_hosts: vec!["allowed.example.com".into(), "127.0.0.1".into()],
            allow_private,
        }
    }

    #[test]
    fn the_backslash_trick_is_read_as_the_client_reads_it() {
        let p = production(false);
        let err = p
            .check(r"https://127.0.0.1:19999\@allowed.example.com/hook")
            .unwrap_err();
        assert!(
            err.contains("loopback") || err.contains("allowed_hosts"),
            "{err}"
        );
        let url = Url::parse(r"https://127.0.0.1:19999\@allowed.example.com/hook").unwrap();
        assert_eq!(url.host_str(), Some("127.0.0.1"));
        assert!(p
            .check("https://u:p@allowed.example.com/hook")
            .unwrap_err()
            .contains("userinfo"));
        assert!(p
            .check("http://allowed.example.com/hook")
            .unwrap_err()
            .contains("https"));
        assert!(p
            .check("https://other.example.com/hook")
            .unwrap_err()
            .contains("allowed_hosts"));
        assert!(p.check("https://allowed.example.com/hook").is_ok());
        assert!(production(true).check("https://127.0.0.1/hook").is_ok());
    }

    #[test]
    fn outside_production_any_http_url_without_userinfo_passes() {
        let p = Policy {
            production: false,
            allowed_hosts: vec![],
            allow_private: false,
        };
        assert!(p.check("http://127.0.0.1:9/hook").is_ok());
        assert!(p.check("http://169.254.169.254/latest/meta-data/").is_ok());
        assert!(p
            .check("http://user:pw@127.0.0.1/")
            .unwrap_err()
            .contains("userinfo"));
        assert!(p.check("ftp://example.com/").is_err());
    }

    #[test]
    fn internal_addresses_are_recognised() {
        for ip in [
            "127.0.0.1",
            "10.0.0.1",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.100.100.200",
            "0.0.0.0",
            "::1",
            "fd00:ec2::254",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
        ] {
            assert!(is_internal(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "8.8.8.8",
            "203.0.113.5",
            "2001:4860:4860::8888",
            "100.128.0.1",
        ] {
            assert!(!is_internal(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn listings_mask_userinfo() {
        assert_eq!(
            masked("https://u:secret@h.example/x"),
            "https://***@h.example/x"
        );
        assert_eq!(masked("https://h.example/x"), "https://h.example/x");
    }
}
