//! Background work inside the service: the janitor and housekeeping on an interval, and the
//! webhook delivery worker; all stop on shutdown.

use std::time::Duration;

use actix_web::web;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::http::state::AppState;

/// How long idempotency keys are kept (at least 24 h).
pub const IDEMPOTENCY_RETENTION: Duration = Duration::from_secs(48 * 3600);

/// Starts every worker; each ends when `stop` turns true.
pub fn spawn_all(state: web::Data<AppState>, stop: watch::Receiver<bool>) -> Vec<JoinHandle<()>> {
    let mut workers = vec![
        tokio::spawn(housekeeping(state.clone(), stop.clone())),
        tokio::spawn(crate::confirmation::mail::run(
            state.app.clone(),
            stop.clone(),
        )),
    ];
    for _ in 0..crate::webhooks::delivery::LOOPS {
        workers.push(tokio::spawn(crate::webhooks::delivery::run(
            state.app.clone(),
            stop.clone(),
        )));
    }
    workers
}

async fn housekeeping(state: web::Data<AppState>, mut stop: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(state.settings.payments.janitor_interval.0);
    loop {
        tokio::select! {
            _ = tick.tick() => {
                if let Err(e) = sweep(&state).await {
                    tracing::warn!(error = %e, "housekeeping failed; will retry");
                }
            }
            _ = stop.changed() => break,
        }
    }
}

/// One housekeeping pass (tests call it directly): the janitor (stale attempts, expired
/// orders), then the idempotency-key sweep.
pub async fn sweep(state: &AppState) -> anyhow::Result<()> {
    crate::payments::service::janitor_pass(state).await?;
    state.metrics.operator.janitor_run();
    state.delivery_kick.notify_one();
    let retention = chrono::Duration::from_std(IDEMPOTENCY_RETENTION)?;
    let removed = state
        .store
        .sweep_idempotency_keys(state.clock.now() - retention)
        .await?;
    if removed > 0 {
        tracing::info!(removed, "swept idempotency keys");
    }
    retention_sweep(state).await
}

/// Deletes callbacks that failed verification after `retention.unverified_callbacks` and
/// anonymises orders closed longer than `retention.personal_data` ago.
pub async fn retention_sweep(state: &AppState) -> anyhow::Result<()> {
    let keep = chrono::Duration::from_std(state.settings.retention.unverified_callbacks.0)?;
    let removed = state
        .store
        .sweep_unverified_callbacks(state.clock.now() - keep)
        .await?;
    if removed > 0 {
        tracing::info!(removed, "swept unverified callbacks");
    }
    let keep = chrono::Duration::from_std(state.settings.retention.personal_data.0)?;
    let (orders, notices) = state
        .store
        .anonymise_closed_before(state.clock.now() - keep)
        .await?;
    if orders + notices > 0 {
        tracing::info!(orders, notices, "anonymised personal data");
    }
    Ok(())
}
