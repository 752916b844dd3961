//! The operator's metrics: the webhook backlog, open flags, callback verdicts, janitor passes and
//! open reconciliation findings; and the optional bearer token in front of `/metrics`.

use actix_web::http::header;
use actix_web::HttpRequest;
use prometheus::{Gauge, IntCounter, IntCounterVec, IntGaugeVec, Opts, Registry};
use subtle::ConstantTimeEq;

use crate::http::state::AppState;
use crate::reconciliation::findings::KINDS as ITEM_KINDS;

const FLAGS: [&str; 3] = ["amount_mismatch", "paid_after_expiry", "duplicate_payment"];

pub struct OperatorMetrics {
    deliveries: IntGaugeVec,
    oldest_pending: Gauge,
    flags_open: IntGaugeVec,
    callbacks: IntCounterVec,
    janitor_runs: IntCounter,
    reconciliation_items: IntGaugeVec,
}

impl OperatorMetrics {
    pub fn register(registry: &Registry) -> anyhow::Result<Self> {
        let gauges =
            |name: &str, help: &str, label: &str| IntGaugeVec::new(Opts::new(name, help), &[label]);
        let me = Self {
            deliveries: gauges(
                "landpay_webhook_deliveries",
                "Webhook deliveries by state",
                "state",
            )?,
            oldest_pending: Gauge::new(
                "landpay_webhook_oldest_pending_seconds",
                "Age of the oldest pending webhook delivery (0 when none is pending)",
            )?,
            flags_open: gauges("landpay_flags_open", "Open flags by kind", "flag")?,
            callbacks: IntCounterVec::new(
                Opts::new(
                    "landpay_callbacks_total",
                    "Gateway callbacks received, by gateway and verdict",
                ),
                &["gateway", "verdict"],
            )?,
            janitor_runs: IntCounter::new(
                "landpay_janitor_runs_total",
                "Janitor passes completed",
            )?,
            reconciliation_items: gauges(
                "landpay_reconciliation_items",
                "Open findings of current reconciliation runs, by kind",
                "kind",
            )?,
        };
        registry.register(Box::new(me.deliveries.clone()))?;
        registry.register(Box::new(me.oldest_pending.clone()))?;
        registry.register(Box::new(me.flags_open.clone()))?;
        registry.register(Box::new(me.callbacks.clone()))?;
        registry.register(Box::new(me.janitor_runs.clone()))?;
        registry.register(Box::new(me.reconciliation_items.clone()))?;
        Ok(me)
    }

    /// Counts a callback with the verdict it was logged with.
    pub fn callback(&self, gateway: &str, verdict: &str) {
        self.callbacks.with_label_values(&[gateway, verdict]).inc();
    }

    /// Counts a completed janitor pass.
    pub fn janitor_run(&self) {
        self.janitor_runs.inc();
    }

    /// Reads the database's figures into the gauges (each scrape).
    pub async fn refresh(&self, state: &AppState) -> anyhow::Result<()> {
        let figures = crate::operations::figures(state).await?;
        let delivery_states = crate::events::DeliveryStatus::ALL.map(|s| s.as_str());
        fill(&self.deliveries, &delivery_states, &figures.deliveries);
        fill(&self.flags_open, &FLAGS, &figures.flags_open);
        fill(
            &self.reconciliation_items,
            &ITEM_KINDS,
            &figures.reconciliation_items,
        );
        self.oldest_pending.set(figures.oldest_pending_seconds);
        Ok(())
    }
}

/// Sets every known label (0 when absent) and any other the database holds.
fn fill(gauge: &IntGaugeVec, known: &[&str], counts: &[(String, i64)]) {
    gauge.reset();
    for label in known {
        gauge.with_label_values(&[label]).set(0);
    }
    for (label, n) in counts {
        gauge.with_label_values(&[label.as_str()]).set(*n);
    }
}

/// Whether the request may read `/metrics`: always when `metrics.bearer_token` is unset, else
/// only with `Authorization: Bearer <that token>` (compared in constant time).
pub fn may_scrape(state: &AppState, req: &HttpRequest) -> bool {
    let Some(expected) = &state.settings.metrics.bearer_token else {
        return true;
    };
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .unwrap_or_default();
    bool::from(given.as_bytes().ct_eq(expected.expose().as_bytes()))
}
