//! The delivery worker: claims due deliveries with a lease, posts signed events, records every
//! try, retries on the configured schedule with jitter (and `Retry-After`), and ends a delivery
//! `dead` after the last try. Several instances may run it against one PostgreSQL.

use std::time::{Duration, Instant};

use chrono::Utc;
use futures_util::future::join_all;
use rand::Rng;
use tokio::sync::watch;

use super::signing::signature_header;
use super::url_policy::Policy;
use crate::app::Services;
use crate::events::DeliveryStatus;
use crate::storage::parse_ts;
use crate::storage::webhooks::ClaimedDelivery;

/// Why a try got no answer.
pub(crate) enum Refused {
    Policy(String),
    Http(reqwest::Error),
}

/// Deliveries claimed per pass.
const BATCH: i64 = 32;

/// The HTTP client for deliveries: bounded time, no redirects, and in production a resolver
/// that never yields internal addresses.
pub fn client(state: &Services) -> reqwest::Client {
    let mut builder = reqwest::Client::builder()
        .timeout(state.settings.webhooks.request_timeout.0)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("landpay-webhooks/", env!("CARGO_PKG_VERSION")));
    if let Some(resolver) = Policy::from_settings(&state.settings).resolver() {
        builder = builder.dns_resolver(resolver);
    }
    builder.build().unwrap_or_default()
}

/// Runs until `stop`: a pass whenever an event is committed here (kick), and on a short poll
/// for events committed by other instances and for retries that come due.
pub async fn run(state: std::sync::Arc<Services>, mut stop: watch::Receiver<bool>) {
    let http = client(&state);
    let poll = state.settings.webhooks.poll_interval.0;
    loop {
        match run_once_with(&state, &http).await {
            Ok(n) if n > 0 => continue,
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "webhook delivery pass failed; will retry"),
        }
        tokio::select! {
            _ = state.delivery_kick.notified() => {}
            _ = tokio::time::sleep(poll) => {}
            _ = stop.changed() => break,
        }
    }
}

/// One pass: claim due deliveries and try each; returns how many were tried.
pub async fn run_once(state: &Services) -> anyhow::Result<usize> {
    run_once_with(state, &client(state)).await
}

async fn run_once_with(state: &Services, http: &reqwest::Client) -> anyhow::Result<usize> {
    let now = state.clock.now();
    let lease = state.settings.webhooks.request_timeout.0 + Duration::from_secs(5);
    let claimed = state
        .store
        .claim_deliveries(now, now + chrono::Duration::from_std(lease)?, BATCH)
        .await?;
    let n = claimed.len();
    let results = join_all(claimed.iter().map(|c| deliver(state, http, c))).await;
    for r in results {
        if let Err(e) = r {
            tracing::warn!(error = %e, "recording a delivery try failed");
        }
    }
    Ok(n)
}

async fn deliver(
    state: &Services,
    http: &reqwest::Client,
    claimed: &ClaimedDelivery,
) -> anyhow::Result<()> {
    let now = state.clock.now();
    let endpoint = state
        .store
        .endpoint_including_deleted(&claimed.endpoint_id)
        .await?;
    let body = state.store.event_body(&claimed.event_id).await?;
    let (Some(endpoint), Some(body)) = (endpoint, body) else {
        state
            .store
            .record_delivery_try(
                claimed,
                now,
                None,
                Some("endpoint or event missing"),
                0,
                DeliveryStatus::Dead,
                now,
            )
            .await?;
        return Ok(());
    };
    if endpoint.deleted_at.is_some() {
        state
            .store
            .record_delivery_try(
                claimed,
                now,
                None,
                Some("endpoint deleted"),
                0,
                DeliveryStatus::Dead,
                now,
            )
            .await?;
        return Ok(());
    }
    let mut secrets = vec![endpoint.secret.as_str()];
    if let (Some(old), Some(until)) = (&endpoint.previous_secret, &endpoint.previous_expires_at) {
        if parse_ts(until).is_ok_and(|u| u > now) {
            secrets.push(old.as_str());
        }
    }
    let signature = signature_header(&secrets, Utc::now().timestamp(), body.as_bytes());
    let started = Instant::now();
    // The URL is checked again: the rules or the host's addresses may have changed.
    let sent = match Policy::from_settings(&state.settings)
        .check_resolved(&endpoint.url)
        .await
    {
        Ok(url) => Ok(url),
        Err(why) => Err(format!("the URL is refused: {why}")),
    };
    let sent = match sent {
        Ok(url) => {
            super::workflow::send(state, http, &endpoint, claimed, body, url, signature).await
        }
        Err(why) => Err(Refused::Policy(why)),
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
    let delivered = ok && status.is_some_and(|s| (200..300).contains(&s));
    let schedule = &state.settings.webhooks.retry_schedule;
    let tries_after = usize::try_from(claimed.tries + 1).unwrap_or(usize::MAX);
    let finished_at = state.clock.now();
    let (outcome, next) = if delivered {
        (DeliveryStatus::Delivered, finished_at)
    } else if tries_after > schedule.len() {
        (DeliveryStatus::Dead, finished_at)
    } else {
        let base = schedule[tries_after - 1].0;
        let wait = jitter(base).max(Duration::from_secs(retry_after.unwrap_or(0)));
        (
            DeliveryStatus::Pending,
            finished_at + chrono::Duration::from_std(wait)?,
        )
    };
    let recorded = state
        .store
        .record_delivery_try(
            claimed,
            finished_at,
            status,
            error.as_deref(),
            duration_ms,
            outcome,
            next,
        )
        .await?;
    if !recorded {
        tracing::warn!(delivery = %claimed.delivery_id, "delivery lease lost before its try was recorded");
    }
    tracing::info!(delivery = %claimed.delivery_id, event = %claimed.event_id, ?status, outcome = outcome.as_str(), "webhook try");
    Ok(())
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
}
