//! Money in and out over a period, for the collections report: paid lines, succeeded refunds,
//! and money held on attempts that did not pay their order.

use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;

use super::{on_pool, ts, Store};

/// One line of paid money or refunded money, for the collections report.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MoneyLine {
    pub payment_id: String,
    pub at: String,
    pub agency_code: Option<String>,
    pub gateway: Option<String>,
    pub sub_item: Option<String>,
    pub amount: i64,
}

impl Store {
    /// Paid lines with their money time in `[from, to)`, streamed into `each`.
    pub async fn paid_lines(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        agency: Option<&str>,
        each: &mut dyn FnMut(MoneyLine),
    ) -> Result<(), sqlx::Error> {
        let sql = "select p.payment_id, p.paid_at as at, p.agency_code, a.gateway, pl.sub_item, pl.amount
                   from payment p join payment_line pl on pl.payment_id = p.payment_id
                   left join attempt a on a.attempt_id = p.paid_attempt_id
                   where p.paid_at >= $1 and p.paid_at < $2 and p.status in ('paid', 'partially_refunded', 'refunded')
                     and ($3 is null or p.agency_code = $3)
                   order by p.payment_id, pl.position";
        // Years of lines are sorted before the first comes and stream for as long as they take:
        // on PostgreSQL the report waits `deadline::LONG`, not the requests' `database.timeout`.
        let streaming = self.long();
        on_pool!(streaming, pool => {
            let mut rows = sqlx::query_as::<_, MoneyLine>(sql).bind(ts(from)).bind(ts(to)).bind(agency).fetch(pool);
            while let Some(row) = rows.try_next().await? {
                each(row);
            }
            Ok::<(), sqlx::Error>(())
        })
    }

    /// Succeeded refunds with their time in `[from, to)`: (payment, time, amount), and the
    /// payment's lines to split them by.
    pub async fn refunds_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        agency: Option<&str>,
    ) -> Result<Vec<(String, String, i64)>, sqlx::Error> {
        on_pool!(self, pool => {
            sqlx::query_as(
                "select r.payment_id, r.updated_at, r.amount from refund r join payment p on p.payment_id = r.payment_id
                 where r.status = 'succeeded' and r.attempt_id = p.paid_attempt_id
                   and r.updated_at >= $1 and r.updated_at < $2 and ($3 is null or p.agency_code = $3)
                 order by r.updated_at",
            )
            .bind(ts(from))
            .bind(ts(to))
            .bind(agency)
            .fetch_all(pool)
            .await
        })
    }

    /// Money held on attempts with their money time in `[from, to)` that did not pay their
    /// order, net of its refunds: (gateway, amount) per attempt.
    pub async fn unapplied_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        agency: Option<&str>,
    ) -> Result<Vec<(String, i64)>, sqlx::Error> {
        on_pool!(self, pool => {
            sqlx::query_as(
                "select a.gateway, a.paid_amount - a.refunded_amount from attempt a join payment p on p.payment_id = a.payment_id
                 where a.status = 'succeeded' and a.paid_amount is not null and a.paid_amount > a.refunded_amount
                   and (p.paid_attempt_id is null or p.paid_attempt_id <> a.attempt_id)
                   and a.money_at >= $1 and a.money_at < $2 and ($3 is null or p.agency_code = $3)",
            )
            .bind(ts(from))
            .bind(ts(to))
            .bind(agency)
            .fetch_all(pool)
            .await
        })
    }

    /// The lines of one payment as money lines (for splitting a refund).
    pub async fn payment_money_lines(
        &self,
        payment_id: &str,
    ) -> Result<Vec<MoneyLine>, sqlx::Error> {
        on_pool!(self, pool => {
            sqlx::query_as(
                "select p.payment_id, coalesce(p.paid_at, p.created_at) as at, p.agency_code, a.gateway, pl.sub_item, pl.amount
                 from payment p join payment_line pl on pl.payment_id = p.payment_id
                 left join attempt a on a.attempt_id = p.paid_attempt_id
                 where p.payment_id = $1 order by pl.position",
            )
            .bind(payment_id)
            .fetch_all(pool)
            .await
        })
    }
}
