//! The delivery worker's claim: which due deliveries it takes next, and how PostgreSQL is kept
//! to an index walk for it whatever it believes of the table.

use chrono::{DateTime, Utc};
use tracing::Instrument;

use super::webhooks::ClaimedDelivery;
use super::{ts, Backend, Db, Store};

/// Run in the claim's transaction, before it, on PostgreSQL: no sequential scan, no bitmap scan.
///
/// The claim wants the first `limit` due deliveries in time order, and the cheap way to them
/// is to walk `delivery_pending_due_idx` in order and stop at `limit`. The planner picks that
/// only when it knows many deliveries are due. Its statistics say otherwise whenever they were
/// taken while the table held few or none (a fresh install; a table `VACUUM` had just
/// emptied; autovacuum analyses at most once a minute), and it then reads every due delivery,
/// runs the order check on each and sorts them all, for 32 rows: under the IPN benchmark,
/// with a few thousand deliveries queued, 40–60 ms per claim with a plan made fresh, 0.1–12 s
/// with one a connection had kept since the table was empty (`auto_explain`). With these
/// two off for the transaction (`set_config(…, true)` is `SET LOCAL`) the walk is the only
/// plan left, made once and kept, and a claim reads about `limit` rows whatever the backlog.
pub const CLAIM_PLAN_SETTINGS: &str = "select set_config('enable_seqscan', 'off', true),
            set_config('enable_bitmapscan', 'off', true)";

/// The delivery worker's claim (`$1` now, `$2` lease end, `$3` limit): due deliveries, each the
/// first still pending of its (endpoint, payment), locked with their lease in one statement.
///
/// A delivery goes first when its sequence is the lowest still pending for its endpoint and
/// payment. That is written as a correlated `min` (a sub-plan run per candidate through
/// `delivery_pending_order_idx`) rather than `not exists`: as an anti-join, a plan made while
/// the table looked empty scanned every pending delivery for each candidate. On PostgreSQL it
/// runs after [`CLAIM_PLAN_SETTINGS`].
pub fn claim_sql(backend: Backend) -> String {
    let due = |column: &str| {
        format!(
            "select d.{column} from delivery d
         where d.status = 'pending' and d.event_sequence is not null and d.next_attempt_at <= $1 and (d.locked_until is null or d.locked_until < $1)
           and d.event_sequence = (select min(e.event_sequence) from delivery e
                                   where e.endpoint_id = d.endpoint_id and e.order_key = d.order_key
                                     and e.status = 'pending')
         order by d.next_attempt_at limit $3"
        )
    };
    match backend {
        // The due rows are chosen and locked once, in a CTE: as `in (subquery)`, a plan that
        // rescans the subquery per row would skip the rows it has just leased (updated by this
        // very statement) and go on past the limit. They are leased by their place in the
        // table (`ctid`, stable while this statement holds their lock), from an array made
        // once: a TID scan, whatever the planner believes. Joined by `delivery_id`, a plan that
        // thought the table held a row or two walked a whole index for the lease (44 ms of a
        // claim's 49 ms with 4,000 deliveries queued, `auto_explain`).
        Backend::Postgres => format!(
            "with due as ({} for update skip locked)
             update delivery set locked_until = $2
             where ctid = any(array(select ctid from due))
             returning delivery_id, endpoint_id, event_id, event_type, tries, locked_until",
            due("ctid")
        ),
        // One writer: the subquery runs once, before any row changes.
        Backend::Sqlite => format!(
            "update delivery set locked_until = $2 where delivery_id in ({})
             returning delivery_id, endpoint_id, event_id, event_type, tries, locked_until",
            due("delivery_id")
        ),
    }
}

impl Store {
    /// Claims up to `limit` due deliveries for `lease`: the earliest pending delivery of each
    /// (endpoint, payment) only, so that one payment's events reach one endpoint in order.
    pub async fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<ClaimedDelivery>, sqlx::Error> {
        // A delivery whose event has no sequence yet is not claimable: it would run ahead of
        // the feed. Number what has committed first.
        self.catch_up_events().await?;
        let sql = claim_sql(self.backend());
        let (now, lease_until) = (ts(now), ts(lease_until));
        match &self.db {
            Db::Sqlite(pools) => {
                sqlx::query_as(&sql)
                    .bind(now)
                    .bind(lease_until)
                    .bind(limit)
                    .fetch_all(&pools.write)
                    .instrument(super::db_span("sqlite"))
                    .await
            }
            Db::Postgres(pool) => {
                let claim = async {
                    let mut tx = pool.begin().await?;
                    sqlx::query(CLAIM_PLAN_SETTINGS).execute(&mut *tx).await?;
                    let claimed = sqlx::query_as(&sql)
                        .bind(now)
                        .bind(lease_until)
                        .bind(limit)
                        .fetch_all(&mut *tx)
                        .await?;
                    tx.commit().await?;
                    Ok(claimed)
                };
                super::deadline::bounded(
                    self.timeout,
                    claim.instrument(super::db_span("postgresql")),
                )
                .await
            }
        }
    }
}
