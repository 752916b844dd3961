//! Rate limits kept in process, on `governor`'s keyed GCRA limiter: `N/min` admits a burst of N
//! and then one request every minute / N, per key (client address or token subject). Each
//! instance counts on its own, so N instances allow up to N times the rate in total.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, HttpRequest};
use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

use crate::config::{canonical, Cidr, Rate, Settings};
use crate::error::ApiError;
use crate::http::state::AppState;

/// Keys whose state is back to full are forgotten every this many checks, once this many are held.
const SWEEP_EVERY: u32 = 1024;
const SWEEP_ABOVE: usize = 10_000;

type Keyed<C> =
    RateLimiter<String, DefaultKeyedStateStore<String>, C, NoOpMiddleware<<C as Clock>::Instant>>;

/// `rate` as a quota: a burst of `count`, refilled one at a time over `per_seconds`.
pub fn quota(rate: Rate) -> Quota {
    let count = NonZeroU32::new(rate.count).unwrap_or(NonZeroU32::MIN);
    let period = Duration::from_secs(u64::from(rate.per_seconds)) / count.get();
    Quota::with_period(period)
        .unwrap_or_else(|| Quota::per_second(count))
        .allow_burst(count)
}

/// One limit, per key.
pub struct Limiter<C: Clock = DefaultClock> {
    inner: Keyed<C>,
    clock: C,
    checks: AtomicU32,
}

impl Limiter {
    pub fn new(rate: Rate) -> Self {
        Self::with_clock(rate, DefaultClock::default())
    }
}

impl<C: Clock + Clone> Limiter<C> {
    pub fn with_clock(rate: Rate, clock: C) -> Self {
        Self {
            inner: RateLimiter::new(
                quota(rate),
                DefaultKeyedStateStore::default(),
                clock.clone(),
            ),
            clock,
            checks: AtomicU32::new(0),
        }
    }

    /// Counts one request of `key`; over the limit → the whole seconds (at least 1) to wait.
    pub fn check(&self, key: &str) -> Result<(), u64> {
        if self
            .checks
            .fetch_add(1, Ordering::Relaxed)
            .is_multiple_of(SWEEP_EVERY)
            && self.inner.len() > SWEEP_ABOVE
        {
            self.inner.retain_recent();
        }
        self.inner.check_key(&key.to_owned()).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
        })
    }

    /// Like [`Limiter::check`], as the API's error.
    pub fn admit(&self, key: &str) -> Result<(), ApiError> {
        self.check(key).map_err(ApiError::RateLimited)
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
    fn a_burst_is_admitted_then_one_request_per_period_with_the_wait_in_seconds() {
        let clock = governor::clock::FakeRelativeClock::default();
        let l = Limiter::with_clock(Rate::parse("3/min").unwrap(), clock.clone());
        for _ in 0..3 {
            assert!(l.check("a").is_ok());
        }
        assert_eq!(l.check("a").unwrap_err(), 20);
        assert!(l.check("b").is_ok(), "keys are separate");
        clock.advance(Duration::from_millis(19_500));
        assert_eq!(l.check("a").unwrap_err(), 1, "a part of a second rounds up");
        clock.advance(Duration::from_millis(500));
        assert!(l.check("a").is_ok());
        assert_eq!(l.check("a").unwrap_err(), 20);
        clock.advance(Duration::from_secs(60));
        for _ in 0..3 {
            assert!(
                l.check("a").is_ok(),
                "a full minute refills the whole burst"
            );
        }
        assert!(l.check("a").is_err());
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
