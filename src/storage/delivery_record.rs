//! The delivery worker's record of a pass: each try written, and its delivery moved on, only
//! while the worker's lease on it holds. A first try is written on the delivery itself, in the
//! update that moves it; a later try gets a row of its own in `delivery_try` (migration 0028):
//! nearly every delivery is delivered at its first try, and that update rewrites the delivery
//! anyway, so the common case writes no row, key or reference check of its own.

use super::webhooks::DeliveryTry;
use super::{ts, Store};

impl Store {
    /// Records a pass's tries and moves their deliveries, each only if our lease on it still
    /// holds; returns the ids of the deliveries recorded. A delivery's move and its try are
    /// written together or not at all; on PostgreSQL the whole pass is one statement.
    pub async fn record_delivery_tries(
        &self,
        tries: &[DeliveryTry<'_>],
    ) -> Result<Vec<String>, sqlx::Error> {
        if tries.is_empty() {
            return Ok(Vec::new());
        }
        match &self.db {
            super::Db::Postgres(pool) => {
                super::deadline::bounded(self.timeout, pg_record_tries(pool, tries)).await
            }
            super::Db::Sqlite(pools) => sqlite_record_tries(&pools.write, tries).await,
        }
    }
}

/// [`Store::record_delivery_tries`] on PostgreSQL: one statement for the whole pass.
/// PostgreSQL: records a pass's tries (`$1`… `$9`: arrays of delivery id, outcome, next try,
/// time, the lease, try number, status code, error, duration) and moves each delivery whose lease
/// still holds; returns the ids recorded. A first try is written on the delivery, in the update
/// that moves it; a later try gets a row of its own (migration 0028).
///
/// The lease still holding is the whole condition: only this statement ends a lease, and it
/// sets the delivery's status with it, so a leased delivery is pending. `d.status = 'pending'`
/// is left out on purpose: it lets the planner reach the rows through the partial indexes of
/// pending deliveries, which statistics taken while few were pending make look like a row or
/// two, and it then read and hashed every pending delivery at each pass (5,000 to record 32,
/// measured); without it each delivery is found by its key.
pub const PG_RECORD_TRIES: &str = "with r as (
           select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
                                $6::bigint[], $7::bigint[], $8::text[], $9::bigint[])
                    as r(delivery_id, status, next_at, at, locked_until, attempt_no, code, error, duration_ms)),
         m as (
           update delivery d set status = r.status, tries = d.tries + 1, next_attempt_at = r.next_at,
                                 locked_until = null, updated_at = r.at,
                                 first_try_at = case when r.attempt_no = 1 then r.at else d.first_try_at end,
                                 first_status_code = case when r.attempt_no = 1 then r.code else d.first_status_code end,
                                 first_error = case when r.attempt_no = 1 then r.error else d.first_error end,
                                 first_duration_ms = case when r.attempt_no = 1 then r.duration_ms else d.first_duration_ms end
           from r
           where d.delivery_id = r.delivery_id and d.locked_until = r.locked_until
           returning d.delivery_id),
         later as (
           insert into delivery_try (delivery_id, attempt_no, at, status_code, error, duration_ms)
           select r.delivery_id, r.attempt_no, r.at, r.code, r.error, r.duration_ms
           from r join m on m.delivery_id = r.delivery_id
           where r.attempt_no > 1)
         select delivery_id from m";

async fn pg_record_tries(
    pool: &sqlx::PgPool,
    tries: &[DeliveryTry<'_>],
) -> Result<Vec<String>, sqlx::Error> {
    let col = |f: fn(&DeliveryTry<'_>) -> Option<String>| -> Vec<Option<String>> {
        tries.iter().map(f).collect()
    };
    let num = |f: fn(&DeliveryTry<'_>) -> Option<i64>| -> Vec<Option<i64>> {
        tries.iter().map(f).collect()
    };
    sqlx::query_scalar(PG_RECORD_TRIES)
        .bind(col(|t| Some(t.claimed.delivery_id.clone())))
        .bind(col(|t| Some(t.outcome.as_str().to_owned())))
        .bind(col(|t| Some(ts(t.next_attempt_at))))
        .bind(col(|t| Some(ts(t.at))))
        .bind(col(|t| Some(t.claimed.locked_until.clone())))
        .bind(num(|t| Some(t.claimed.tries + 1)))
        .bind(num(|t| t.status_code.map(i64::from)))
        .bind(col(|t| t.error.clone()))
        .bind(num(|t| Some(t.duration_ms)))
        .fetch_all(pool)
        .await
}

/// [`Store::record_delivery_tries`] on SQLite: one transaction on the writer; a first try on
/// the delivery, a later one in a row of its own, as on PostgreSQL.
async fn sqlite_record_tries(
    write: &sqlx::SqlitePool,
    tries: &[DeliveryTry<'_>],
) -> Result<Vec<String>, sqlx::Error> {
    let mut tx = write.begin_with("BEGIN IMMEDIATE").await?;
    let mut recorded = Vec::with_capacity(tries.len());
    for t in tries {
        let at = ts(t.at);
        let attempt_no = t.claimed.tries + 1;
        let code = t.status_code.map(i64::from);
        let moved = sqlx::query(
            "update delivery set status = $2, tries = tries + 1, next_attempt_at = $3, locked_until = null, updated_at = $4,
                    first_try_at = case when $6 = 1 then $4 else first_try_at end,
                    first_status_code = case when $6 = 1 then $7 else first_status_code end,
                    first_error = case when $6 = 1 then $8 else first_error end,
                    first_duration_ms = case when $6 = 1 then $9 else first_duration_ms end
             where delivery_id = $1 and locked_until = $5 and status = 'pending'",
        )
        .bind(&t.claimed.delivery_id)
        .bind(t.outcome)
        .bind(ts(t.next_attempt_at))
        .bind(&at)
        .bind(&t.claimed.locked_until)
        .bind(attempt_no)
        .bind(code)
        .bind(t.error.as_deref())
        .bind(t.duration_ms)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if moved != 1 {
            continue;
        }
        recorded.push(t.claimed.delivery_id.clone());
        if attempt_no == 1 {
            continue;
        }
        sqlx::query(
            "insert into delivery_try (delivery_id, attempt_no, at, status_code, error, duration_ms)
             values ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&t.claimed.delivery_id)
        .bind(attempt_no)
        .bind(&at)
        .bind(code)
        .bind(t.error.as_deref())
        .bind(t.duration_ms)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(recorded)
}
