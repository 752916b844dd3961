//! The delivery worker: claims due deliveries with a lease, posts signed events, records every
//! try, retries on the configured schedule with jitter (and `Retry-After`), and ends a delivery
//! `dead` after the last try. Several instances may run it against one PostgreSQL.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{DateTime, Utc};
use futures_util::future::join_all;
use rand::Rng;
use tokio::sync::watch;

use super::signing::signature_header;
use super::url_policy::Policy;
use crate::app::Services;
use crate::config::{ConfigDuration, Settings};
use crate::events::DeliveryStatus;
use crate::storage::parse_ts;
use crate::storage::webhooks::{ClaimedDelivery, DeliveryTry, EndpointRow};

/// Why a try got no answer.
pub(crate) enum Refused {
    Policy(String),
    Http(reqwest::Error),
}

/// Deliveries claimed by a pass after a quiet spell (and by [`run_once`]).
const BATCH: i64 = 32;

/// The most a pass claims. While passes come back full (a backlog), each claims twice as many
/// as the last, up to this: a pass costs about the same dozen round trips to the database
/// whatever it claims, and under load each round trip waits for a core, so at 32 a pass the
/// worker's pace was that of its round trips. Measured with the IPN benchmark (2 cores, about
/// 1,100 paid IPNs and 2,200 deliveries a second): passes of 32 took about 50 ms, about 600
/// deliveries a second, and each event's first try fell behind by 0.75 s every second of load
/// (7.8 s behind after 10 s, against the 1 s the contract allows). The tries of a pass are sent
/// together, so this, times [`LOOPS`], is also how many requests a backlog puts in flight at
/// once (32 before): 256 per loop kept up as well, but with twice the burst and 6 MB more
/// memory.
const MAX_BATCH: i64 = 128;

/// The least time from the start of a pass that found work to the start of the next, unless
/// the pass was full. A pass costs about a dozen round trips to the database whatever it
/// carries; under a steady stream of events, passes run back to back carried a delivery or two
/// each. A first try still goes out well within the contract's second.
const GATHER: Duration = Duration::from_millis(100);

/// Delivery loops per instance. Each claims and sends on its own, like another instance would
/// (the claim skips what another has leased, and takes only the first pending delivery of each
/// payment for each endpoint), so one loop claims and records while the other's tries are on
/// the wire. With one loop, passes of up to 256 still fell behind under the IPN benchmark:
/// about 1,500 deliveries a second against 2,000 made, each pass about 170 ms.
pub const LOOPS: usize = 2;

/// The claim of the pass after one that tried `tried` of `limit`: twice as many after a full
/// pass (up to [`MAX_BATCH`]), back to [`BATCH`] once the backlog is gone.
pub fn next_limit(tried: usize, limit: i64) -> i64 {
    if i64::try_from(tried).is_ok_and(|n| n >= limit) {
        limit.saturating_mul(2).min(MAX_BATCH)
    } else {
        BATCH
    }
}

/// The HTTP client for deliveries: bounded time, no redirects, and in production a resolver
/// that never yields internal addresses. Built once at start-up: a client that cannot be built
/// stops start-up rather than falling back to one without these bounds.
pub fn client(settings: &Settings) -> anyhow::Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder()
        .timeout(settings.webhooks.request_timeout.0)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("landpay-webhooks/", env!("CARGO_PKG_VERSION")));
    if let Some(resolver) = Policy::from_settings(settings).resolver() {
        builder = builder.dns_resolver(resolver);
    }
    finish(builder)
}

fn finish(builder: reqwest::ClientBuilder) -> anyhow::Result<reqwest::Client> {
    builder
        .build()
        .context("building the HTTP client for webhook deliveries")
}

/// Runs until `stop`: a pass whenever an event is committed here (kick), and on a short poll
/// for events committed by other instances and for retries that come due.
pub async fn run(state: std::sync::Arc<Services>, mut stop: watch::Receiver<bool>) {
    let poll = state.settings.webhooks.poll_interval.0;
    let mut limit = BATCH;
    loop {
        let started = Instant::now();
        match run_pass(&state, limit).await {
            Ok(n) if n > 0 => {
                let full = i64::try_from(n).is_ok_and(|n| n >= limit);
                limit = next_limit(n, limit);
                if !full {
                    // Events are still coming: let the next pass find more than one or two.
                    tokio::select! {
                        _ = tokio::time::sleep(GATHER.saturating_sub(started.elapsed())) => {}
                        _ = stop.changed() => break,
                    }
                }
                continue;
            }
            Ok(_) => limit = BATCH,
            Err(e) => {
                limit = BATCH;
                tracing::warn!(error = %e, "webhook delivery pass failed; will retry");
            }
        }
        tokio::select! {
            _ = state.delivery_kick.notified() => {}
            _ = tokio::time::sleep(poll) => {}
            _ = stop.changed() => break,
        }
    }
}

/// One pass at the service clock's now: claim due deliveries and try each; returns how many
/// were tried. Tests drive it directly and move the clock to reach a retry.
pub async fn run_once(state: &Services) -> anyhow::Result<usize> {
    run_pass(state, BATCH).await
}

/// A pass that claims up to `limit` due deliveries and tries them all at once.
pub async fn run_pass(state: &Services, limit: i64) -> anyhow::Result<usize> {
    let now = state.clock.now();
    let claimed = state
        .store
        .claim_deliveries(now, now + chrono::Duration::from_std(lease(state))?, limit)
        .await?;
    let n = claimed.len();
    if n == 0 {
        return Ok(0);
    }
    // Each endpoint of the batch is read once (as it is now, deleted or not), and its URL
    // checked once (in production, a DNS lookup of its host), not per delivery.
    let mut endpoints: HashMap<&str, Option<Target>> = HashMap::new();
    let policy = Policy::from_settings(&state.settings);
    for c in &claimed {
        if !endpoints.contains_key(c.endpoint_id.as_str()) {
            let row = state
                .store
                .endpoint_including_deleted(&c.endpoint_id)
                .await?;
            let target = match row {
                Some(row) if row.deleted_at.is_none() => {
                    let url = policy.check_resolved(&row.url).await;
                    Some(Target { row, url })
                }
                Some(row) => Some(Target {
                    row,
                    url: Err(String::new()),
                }),
                None => None,
            };
            endpoints.insert(c.endpoint_id.as_str(), target);
        }
    }
    // The bodies of the batch in one read, the tries sent concurrently, and what came of them
    // recorded in one write.
    let mut ids: Vec<&str> = claimed.iter().map(|c| c.event_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    let bodies = state.store.event_bodies(&ids).await?;
    let tries = join_all(claimed.iter().map(|c| {
        let endpoint = endpoints.get(c.endpoint_id.as_str()).cloned().flatten();
        // One event may go to several endpoints: each delivery gets its own copy.
        deliver(state, c, endpoint, bodies.get(c.event_id.as_str()).cloned())
    }))
    .await;
    let recorded = state.store.record_delivery_tries(&tries).await?;
    for t in &tries {
        let id = &t.claimed.delivery_id;
        if recorded.contains(id) {
            tracing::info!(delivery = %id, event = %t.claimed.event_id, status = ?t.status_code, outcome = t.outcome.as_str(), "webhook try");
        } else {
            tracing::warn!(delivery = %id, "delivery lease lost before its try was recorded");
        }
    }
    Ok(n)
}

/// How long a claim holds: the request timeout plus time to record the try.
pub fn lease(state: &Services) -> Duration {
    state.settings.webhooks.request_timeout.0 + Duration::from_secs(5)
}

/// What one try came to.
struct Answer {
    status: Option<u16>,
    error: Option<String>,
    retry_after: Option<u64>,
    delivered: bool,
    duration_ms: i64,
}

/// An endpoint as a pass found it, with its URL checked against the rules (and, in production,
/// against the addresses its host resolves to) at the start of the pass.
#[derive(Clone)]
struct Target {
    row: EndpointRow,
    url: Result<reqwest::Url, String>,
}

/// Sends one claimed delivery (or gives it up when it cannot be sent at all); returns the try
/// to record.
async fn deliver<'c>(
    state: &Services,
    claimed: &'c ClaimedDelivery,
    target: Option<Target>,
    body: Option<String>,
) -> DeliveryTry<'c> {
    let now = state.clock.now();
    let (Some(target), Some(body)) = (target, body) else {
        return give_up(claimed, "endpoint or event missing", now);
    };
    if target.row.deleted_at.is_some() {
        return give_up(claimed, "endpoint deleted", now);
    }
    let answer = attempt(state, &target, claimed, body, now).await;
    let at = state.clock.now();
    let schedule = &state.settings.webhooks.retry_schedule;
    let (outcome, next_attempt_at) = next_step(schedule, claimed.tries, &answer, at);
    DeliveryTry {
        claimed,
        at,
        status_code: answer.status,
        error: answer.error,
        duration_ms: answer.duration_ms,
        outcome,
        next_attempt_at,
    }
}

/// Ends a delivery that cannot be tried at all.
fn give_up<'c>(claimed: &'c ClaimedDelivery, why: &str, now: DateTime<Utc>) -> DeliveryTry<'c> {
    DeliveryTry {
        claimed,
        at: now,
        status_code: None,
        error: Some(why.to_owned()),
        duration_ms: 0,
        outcome: DeliveryStatus::Dead,
        next_attempt_at: now,
    }
}

/// Signs and sends one try to a URL the pass has checked again.
async fn attempt(
    state: &Services,
    target: &Target,
    claimed: &ClaimedDelivery,
    body: String,
    now: DateTime<Utc>,
) -> Answer {
    let endpoint = &target.row;
    let mut secrets = vec![endpoint.secret.as_str()];
    if let (Some(old), Some(until)) = (&endpoint.previous_secret, &endpoint.previous_expires_at) {
        if parse_ts(until).is_ok_and(|u| u > now) {
            secrets.push(old.as_str());
        }
    }
    // Stamped with the wall clock: receivers compare it with theirs.
    let signature = signature_header(&secrets, Utc::now().timestamp(), body.as_bytes());
    let started = Instant::now();
    // The URL was checked again at the start of the pass: the rules or the host's addresses
    // may have changed since the endpoint was registered.
    let sent = match &target.url {
        Ok(url) => {
            let (http, url) = (&state.webhook_http, url.clone());
            super::workflow::send(state, http, endpoint, claimed, body, url, signature).await
        }
        Err(why) => Err(Refused::Policy(format!("the URL is refused: {why}"))),
    };
    let duration_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
    let (status, error, retry_after, ok) = match sent {
        Ok(s) => (Some(s.status), s.note, s.retry_after, s.ok),
        Err(Refused::Policy(why)) => (None, Some(why), None, false),
        Err(Refused::Http(e)) if e.is_timeout() => {
            (None, Some("timed out".to_owned()), None, false)
        }
        Err(Refused::Http(e)) if e.is_connect() => {
            (None, Some("connection failed".to_owned()), None, false)
        }
        Err(Refused::Http(e)) => (None, Some(e.without_url().to_string()), None, false),
    };
    Answer {
        delivered: ok && status.is_some_and(|s| (200..300).contains(&s)),
        status,
        error,
        retry_after,
        duration_ms,
    }
}

/// The delivery's state after its `tries_before + 1`th try finished at `at`, and when it is
/// next due: the retry schedule (with jitter, never sooner than `Retry-After`, never later than
/// a year) counts from the service clock.
fn next_step(
    schedule: &[ConfigDuration],
    tries_before: i64,
    answer: &Answer,
    at: DateTime<Utc>,
) -> (DeliveryStatus, DateTime<Utc>) {
    let tries_after = usize::try_from(tries_before + 1).unwrap_or(usize::MAX);
    if answer.delivered {
        (DeliveryStatus::Delivered, at)
    } else if tries_after > schedule.len() {
        (DeliveryStatus::Dead, at)
    } else {
        let base = schedule[tries_after - 1].0;
        let wait = jitter(base).max(Duration::from_secs(answer.retry_after.unwrap_or(0)));
        // A wait too long for a date (a hostile `Retry-After`) is capped at a year.
        let wait = chrono::Duration::from_std(wait)
            .unwrap_or(chrono::Duration::MAX)
            .min(chrono::Duration::days(365));
        (DeliveryStatus::Pending, at + wait)
    }
}

/// ±10% around `base`, in whole milliseconds.
fn jitter(base: Duration) -> Duration {
    let ms = u64::try_from(base.as_millis()).unwrap_or(u64::MAX);
    let factor: u64 = rand::thread_rng().gen_range(900..=1100);
    Duration::from_millis(ms.saturating_mul(factor) / 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_within_ten_percent() {
        for _ in 0..1000 {
            let d = jitter(Duration::from_secs(10)).as_millis();
            assert!((9000..=11000).contains(&d), "{d}");
        }
    }

    fn failed(retry_after: Option<u64>) -> Answer {
        Answer {
            status: Some(503),
            error: None,
            retry_after,
            delivered: false,
            duration_ms: 1,
        }
    }

    #[test]
    fn retry_after_delays_a_retry_within_a_year_and_the_schedule_ends_it() {
        let schedule = [ConfigDuration(Duration::from_secs(10))];
        let at = Utc::now();
        let (status, next) = next_step(&schedule, 0, &failed(Some(120)), at);
        assert_eq!(
            (status, next),
            (DeliveryStatus::Pending, at + chrono::Duration::seconds(120))
        );
        // A receiver's hostile Retry-After parks the delivery for a year instead of failing
        // to record its try (which would send it again at every lease).
        let (status, next) = next_step(&schedule, 0, &failed(Some(u64::MAX)), at);
        assert_eq!(
            (status, next),
            (DeliveryStatus::Pending, at + chrono::Duration::days(365))
        );
        let (status, next) = next_step(&schedule, 0, &failed(None), at);
        assert_eq!(status, DeliveryStatus::Pending);
        let wait = (next - at).num_milliseconds();
        assert!((9_000..=11_000).contains(&wait), "{wait}");
        assert_eq!(
            next_step(&schedule, 1, &failed(None), at),
            (DeliveryStatus::Dead, at)
        );
    }

    #[test]
    fn a_backlog_doubles_the_claim_up_to_its_cap_and_a_short_pass_resets_it() {
        let mut limit = BATCH;
        let mut seen = vec![limit];
        for _ in 0..6 {
            limit = next_limit(usize::try_from(limit).unwrap(), limit);
            seen.push(limit);
        }
        assert_eq!(seen, [32, 64, 128, 128, 128, 128, 128]);
        assert_eq!(
            next_limit(127, 128),
            BATCH,
            "a pass that found less than it could take"
        );
        assert_eq!(next_limit(0, 64), BATCH);
    }

    #[test]
    fn a_client_that_cannot_be_built_is_an_error_not_a_default() {
        // No TLS version is left to speak: the builder refuses.
        let builder = reqwest::Client::builder().max_tls_version(reqwest::tls::Version::TLS_1_0);
        let err = finish(builder).expect_err("the builder refuses");
        assert!(err.to_string().contains("webhook deliveries"), "{err:#}");
    }
}
