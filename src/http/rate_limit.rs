//! Rate limits kept in process: a fixed window per key (client address or token subject).
//! Each instance counts on its own, so N instances allow up to N times the rate in total.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, HttpRequest};

use crate::config::{canonical, Cidr, Rate, Settings};
use crate::error::ApiError;
use crate::startup::AppState;

/// Windows are forgotten once this many keys are held and theirs have ended.
const SWEEP_ABOVE: usize = 10_000;

/// One limit: at most `rate.count` per window of `rate.per_seconds`, per key.
pub struct Limiter {
    rate: Rate,
    windows: Mutex<HashMap<String, (Instant, u32)>>,
}

impl Limiter {
    pub fn new(rate: Rate) -> Self {
        Self {
            rate,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one request of `key`; over the limit → the whole seconds until the window ends.
    pub fn check(&self, key: &str, now: Instant) -> Result<(), u64> {
        let window = Duration::from_secs(u64::from(self.rate.per_seconds));
        let mut map = self
            .windows
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.len() > SWEEP_ABOVE {
            map.retain(|_, (start, _)| now.duration_since(*start) < window);
        }
        let entry = map.entry(key.to_owned()).or_insert((now, 0));
        if now.duration_since(entry.0) >= window {
            *entry = (now, 0);
        }
        if entry.1 >= self.rate.count {
            let left = window.saturating_sub(now.duration_since(entry.0));
            return Err(left.as_secs().max(1));
        }
        entry.1 += 1;
        Ok(())
    }

    /// Like [`Limiter::check`], as the API's error.
    pub fn admit(&self, key: &str) -> Result<(), ApiError> {
        self.check(key, Instant::now())
            .map_err(ApiError::RateLimited)
    }
}

/// The service's limits, from `rate_limits`.
pub struct Limits {
    pub public: Limiter,
    pub sign_in: Limiter,
    pub unverified_callbacks: Limiter,
    pub api: Limiter,
    trusted: Vec<Cidr>,
}

impl Limits {
    pub fn new(settings: &Settings) -> Self {
        let r = &settings.rate_limits;
        Self {
            public: Limiter::new(r.public_per_ip),
            sign_in: Limiter::new(r.sign_in_per_ip),
            unverified_callbacks: Limiter::new(r.unverified_callbacks_per_ip),
            api: Limiter::new(r.api_per_subject),
            trusted: settings.trusted_proxies(),
        }
    }

    /// The client's address: the peer, or, when the peer is a trusted proxy, the right-most
    /// address of `X-Forwarded-For` that is not itself a trusted proxy.
    pub fn client_ip(&self, peer: Option<SocketAddr>, forwarded_for: Option<&str>) -> String {
        let Some(peer) = peer.map(|p| canonical(p.ip())) else {
            return "unknown".to_owned();
        };
        let trusted = |ip: IpAddr| self.trusted.iter().any(|n| n.contains(ip));
        if !trusted(peer) {
            return peer.to_string();
        }
        let mut client = peer;
        for hop in forwarded_for.unwrap_or("").rsplit(',') {
            match hop.trim().parse::<IpAddr>() {
                Ok(ip) => {
                    client = canonical(ip);
                    if !trusted(client) {
                        break;
                    }
                }
                Err(_) => break,
            }
        }
        client.to_string()
    }

    /// The client address of a request.
    pub fn client_of(&self, req: &HttpRequest) -> String {
        let xff = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok());
        self.client_ip(req.peer_addr(), xff)
    }
}

/// Which per-address limit a path falls under, if any. The API is limited per subject by the
/// authentication extractor; callbacks only when they fail verification.
fn limit_of<'a>(limits: &'a Limits, method: &str, path: &str) -> Option<&'a Limiter> {
    if path == "/finance/login" && method == "POST" {
        Some(&limits.sign_in)
    } else if path.starts_with("/pay/")
        || path.starts_with("/sandbox/")
        || path.starts_with("/verify")
        || (path.starts_with("/callbacks/") && path.ends_with("/return"))
    {
        Some(&limits.public)
    } else {
        None
    }
}

/// Middleware: per-address limits of the public pages and the sign-in form.
pub async fn per_ip(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if let Some(state) = req.app_data::<web::Data<AppState>>().cloned() {
        let limits = &state.limits;
        if let Some(limiter) = limit_of(limits, req.method().as_str(), req.path()) {
            let key = limits.client_of(req.request());
            if let Err(e) = limiter.admit(&key) {
                return Ok(req.error_response(e));
            }
        }
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_window_admits_its_count_then_says_how_long_to_wait() {
        let l = Limiter::new(Rate::parse("3/min").unwrap());
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(l.check("a", t0).is_ok());
        }
        let wait = l.check("a", t0 + Duration::from_secs(20)).unwrap_err();
        assert_eq!(wait, 40);
        assert!(l.check("b", t0).is_ok(), "keys are separate");
        assert!(l.check("a", t0 + Duration::from_secs(60)).is_ok());
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let mut settings_trusted = vec![Cidr::parse("10.0.0.0/8").unwrap()];
        let limits = |trusted: Vec<Cidr>| Limits {
            public: Limiter::new(Rate::parse("1/s").unwrap()),
            sign_in: Limiter::new(Rate::parse("1/s").unwrap()),
            unverified_callbacks: Limiter::new(Rate::parse("1/s").unwrap()),
            api: Limiter::new(Rate::parse("1/s").unwrap()),
            trusted,
        };
        let proxy: SocketAddr = "10.1.1.1:4000".parse().unwrap();
        let stranger: SocketAddr = "198.51.100.7:4000".parse().unwrap();
        let l = limits(settings_trusted.clone());
        assert_eq!(
            l.client_ip(Some(proxy), Some("203.0.113.9, 10.2.2.2")),
            "203.0.113.9"
        );
        assert_eq!(
            l.client_ip(Some(stranger), Some("203.0.113.9")),
            "198.51.100.7"
        );
        assert_eq!(l.client_ip(Some(proxy), None), "10.1.1.1");
        // A spoofed left-most entry does not win over the address the proxy saw.
        assert_eq!(
            l.client_ip(Some(proxy), Some("1.2.3.4, 203.0.113.9")),
            "203.0.113.9"
        );
        settings_trusted.clear();
        let l = limits(settings_trusted);
        assert_eq!(l.client_ip(Some(proxy), Some("203.0.113.9")), "10.1.1.1");
    }
}
