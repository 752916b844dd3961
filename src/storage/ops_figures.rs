//! Figures the operator metrics read from the database at each scrape: the webhook outbox, open
//! flags and open reconciliation findings.

use super::{on_pool, Store};

/// One scrape's worth of counts.
#[derive(Debug, Default)]
pub struct OpsFigures {
    /// Deliveries by state (`pending`, `delivered`, `dead`), from the tally the database keeps
    /// as deliveries are written (`delivery_tally`), not by counting them.
    pub deliveries: Vec<(String, i64)>,
    /// When the oldest pending delivery was created (stored text), if any is pending.
    pub oldest_pending: Option<String>,
    /// Open flags by kind.
    pub flags_open: Vec<(String, i64)>,
    /// Open findings of current reconciliation runs, by kind.
    pub reconciliation_items: Vec<(String, i64)>,
}

impl Store {
    pub async fn ops_figures(&self) -> Result<OpsFigures, sqlx::Error> {
        // Kept as deliveries change (migration 0027): the table itself is never counted.
        let deliveries_sql = "select status, n from delivery_tally order by status";
        let oldest_sql = "select min(created_at) from delivery where status = 'pending'";
        let flags_sql =
            "select flag, count(*) from payment_flag where status = 'open' group by flag";
        let items_sql = "select i.kind, count(*) from reconciliation_item i \
                         join reconciliation r on r.rec_id = i.rec_id \
                         where r.status = 'current' and i.status = 'open' group by i.kind";
        let deliveries: Vec<(String, i64)> =
            on_pool!(self, pool => sqlx::query_as(deliveries_sql).fetch_all(pool).await)?;
        let oldest: (Option<String>,) =
            on_pool!(self, pool => sqlx::query_as(oldest_sql).fetch_one(pool).await)?;
        let flags_open: Vec<(String, i64)> =
            on_pool!(self, pool => sqlx::query_as(flags_sql).fetch_all(pool).await)?;
        let reconciliation_items: Vec<(String, i64)> =
            on_pool!(self, pool => sqlx::query_as(items_sql).fetch_all(pool).await)?;
        Ok(OpsFigures {
            deliveries,
            oldest_pending: oldest.0,
            flags_open,
            reconciliation_items,
        })
    }
}
