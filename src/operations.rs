//! What the operator's probes and metrics read: whether the database answers, the pool's
//! connections, and the figures behind the operator's gauges.

use std::time::Duration;

use crate::app::Services;
use crate::storage::parse_ts;

/// How long readiness waits for the database.
pub const READY_WITHIN: Duration = Duration::from_millis(800);

/// Whether the database is reachable and migrated, answering within [`READY_WITHIN`].
pub async fn readiness(state: &Services) -> anyhow::Result<()> {
    // Probes give up after a second or so: a database that does not answer in time is down.
    tokio::time::timeout(READY_WITHIN, state.store.is_ready())
        .await
        .unwrap_or_else(|_| {
            Err(anyhow::anyhow!(
                "the database did not answer within {READY_WITHIN:?}"
            ))
        })
}

/// The database pool's connections: (open, idle).
pub fn pool_stats(state: &Services) -> (u32, usize) {
    state.store.pool_stats()
}

/// The operator's figures, read from the database.
pub struct Figures {
    /// Deliveries by state (`pending`, `delivered`, `dead`).
    pub deliveries: Vec<(String, i64)>,
    /// Age of the oldest pending delivery in seconds; 0 when none is pending.
    pub oldest_pending_seconds: f64,
    /// Open flags by kind.
    pub flags_open: Vec<(String, i64)>,
    /// Open findings of current reconciliation runs, by kind.
    pub reconciliation_items: Vec<(String, i64)>,
}

/// Reads the operator's figures (each scrape).
pub async fn figures(state: &Services) -> anyhow::Result<Figures> {
    let figures = state.store.ops_figures().await?;
    let oldest_pending_seconds = figures
        .oldest_pending
        .as_deref()
        .and_then(|t| parse_ts(t).ok())
        .map_or(0.0, |oldest| {
            let ms = (state.clock.now() - oldest).num_milliseconds().max(0);
            // Seconds as a float for Prometheus; not money.
            #[allow(clippy::as_conversions)]
            let seconds = ms as f64 / 1000.0;
            seconds
        });
    Ok(Figures {
        deliveries: figures.deliveries,
        oldest_pending_seconds,
        flags_open: figures.flags_open,
        reconciliation_items: figures.reconciliation_items,
    })
}
