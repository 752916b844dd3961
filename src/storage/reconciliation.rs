//! Reconciliation runs and their items; the ledger side of a gateway's day; collections.

use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;

use super::{in_write_tx, is_unique_violation, on_pool, ts, Store};
use crate::reconciliation::csv::RowStatus;
use crate::reconciliation::diff::{Item, LedgerEntry, Summary};

/// A stored run.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RunRow {
    pub rec_id: String,
    pub gateway: String,
    pub statement_date: String,
    pub status: String,
    pub superseded_by: Option<String>,
    pub summary: String,
    pub rows_total: i64,
    pub created_at: String,
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct ItemRow {
    pub kind: String,
    pub txn_ref: String,
    pub gateway_txn_no: Option<String>,
    pub payment_id: Option<String>,
    pub ledger_amount: Option<i64>,
    pub statement_amount: Option<i64>,
    pub ledger_status: Option<String>,
    pub statement_status: Option<String>,
    pub line: Option<i64>,
}

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

/// Findings written per statement.
const ITEM_BATCH: usize = 200;

impl Store {
    /// Money recorded on attempts of `gateway` with its time in `[from, to)`.
    pub async fn ledger_for(
        &self,
        gateway: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<LedgerEntry>, sqlx::Error> {
        let rows: Vec<(String, Option<String>, String, i64, i64)> = on_pool!(self, pool => {
            sqlx::query_as(
                "select txn_ref, gateway_txn_no, payment_id, coalesce(paid_amount, amount), refunded_amount from attempt
                 where gateway = $1 and status = 'succeeded' and money_at >= $2 and money_at < $3",
            )
            .bind(gateway)
            .bind(ts(from))
            .bind(ts(to))
            .fetch_all(pool)
            .await
        })?;
        Ok(rows
            .into_iter()
            .map(
                |(txn_ref, gateway_txn_no, payment_id, amount, refunded)| LedgerEntry {
                    txn_ref,
                    gateway_txn_no,
                    payment_id,
                    amount,
                    status: if refunded >= amount && amount > 0 {
                        RowStatus::Refunded
                    } else {
                        RowStatus::Success
                    },
                },
            )
            .collect())
    }

    /// Stores a run as the current one for its gateway and date; the previous current run
    /// becomes `superseded` and points at it.
    #[allow(clippy::too_many_arguments)]
    pub async fn save_run(
        &self,
        rec_id: &str,
        gateway: &str,
        statement_date: &str,
        summary: &Summary,
        items: &[Item],
        rows_total: u64,
        created_by: &str,
        now: DateTime<Utc>,
    ) -> Result<(), sqlx::Error> {
        let mut tries = 0;
        loop {
            match self
                .try_save_run(
                    rec_id,
                    gateway,
                    statement_date,
                    summary,
                    items,
                    rows_total,
                    created_by,
                    now,
                )
                .await
            {
                Err(e) if is_unique_violation(&e) && tries < 3 => tries += 1,
                other => return other,
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn try_save_run(
        &self,
        rec_id: &str,
        gateway: &str,
        statement_date: &str,
        summary: &Summary,
        items: &[Item],
        rows_total: u64,
        created_by: &str,
        now: DateTime<Utc>,
    ) -> Result<(), sqlx::Error> {
        let summary_json = serde_json::to_string(summary).unwrap_or_default();
        in_write_tx!(self, tx => {
            sqlx::query(
                "update reconciliation set status = 'superseded', superseded_by = $3
                 where gateway = $1 and statement_date = $2 and status = 'current'",
            )
            .bind(gateway)
            .bind(statement_date)
            .bind(rec_id)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "insert into reconciliation (rec_id, gateway, statement_date, status, summary, rows_total, created_by, created_at)
                 values ($1, $2, $3, 'current', $4, $5, $6, $7)",
            )
            .bind(rec_id)
            .bind(gateway)
            .bind(statement_date)
            .bind(&summary_json)
            .bind(i64::try_from(rows_total).unwrap_or(i64::MAX))
            .bind(created_by)
            .bind(ts(now))
            .execute(&mut *tx)
            .await?;
            // Many rows per statement: a file of unknown references can list 100,000 findings.
            for (chunk_no, chunk) in items.chunks(ITEM_BATCH).enumerate() {
                let mut sql = String::from(
                    "insert into reconciliation_item (rec_id, position, kind, txn_ref, gateway_txn_no, payment_id, ledger_amount,
                                                      statement_amount, ledger_status, statement_status, line) values ",
                );
                for i in 0..chunk.len() {
                    let b = i * 11;
                    if i > 0 {
                        sql.push(',');
                    }
                    sql.push_str(&format!(
                        "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${})",
                        b + 1, b + 2, b + 3, b + 4, b + 5, b + 6, b + 7, b + 8, b + 9, b + 10, b + 11
                    ));
                }
                let mut q = sqlx::query(&sql);
                for (i, item) in chunk.iter().enumerate() {
                    q = q
                        .bind(rec_id)
                        .bind(i64::try_from(chunk_no * ITEM_BATCH + i).unwrap_or(i64::MAX))
                        .bind(item.kind.as_str())
                        .bind(&item.txn_ref)
                        .bind(&item.gateway_txn_no)
                        .bind(&item.payment_id)
                        .bind(item.ledger_amount)
                        .bind(item.statement_amount)
                        .bind(item.ledger_status)
                        .bind(item.statement_status)
                        .bind(item.line.and_then(|l| i64::try_from(l).ok()));
                }
                q.execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    pub async fn run(&self, rec_id: &str) -> Result<Option<RunRow>, sqlx::Error> {
        on_pool!(self, pool => {
            sqlx::query_as(
                "select rec_id, gateway, statement_date, status, superseded_by, summary, rows_total, created_at
                 from reconciliation where rec_id = $1",
            )
            .bind(rec_id)
            .fetch_optional(pool)
            .await
        })
    }

    pub async fn run_items(&self, rec_id: &str) -> Result<Vec<ItemRow>, sqlx::Error> {
        on_pool!(self, pool => {
            sqlx::query_as(
                "select kind, txn_ref, gateway_txn_no, payment_id, ledger_amount, statement_amount, ledger_status,
                        statement_status, line
                 from reconciliation_item where rec_id = $1 order by position",
            )
            .bind(rec_id)
            .fetch_all(pool)
            .await
        })
    }

    /// The current runs' open findings, newest first (for the finance dashboard).
    pub async fn current_findings(
        &self,
        limit: i64,
    ) -> Result<Vec<(String, String, String, ItemRow)>, sqlx::Error> {
        #[derive(sqlx::FromRow)]
        struct Row {
            rec_id: String,
            gateway: String,
            statement_date: String,
            #[sqlx(flatten)]
            item: ItemRow,
        }
        let rows: Vec<Row> = on_pool!(self, pool => {
            sqlx::query_as(
                "select r.rec_id, r.gateway, r.statement_date, i.kind, i.txn_ref, i.gateway_txn_no, i.payment_id,
                        i.ledger_amount, i.statement_amount, i.ledger_status, i.statement_status, i.line
                 from reconciliation r join reconciliation_item i on i.rec_id = r.rec_id
                 where r.status = 'current' order by r.statement_date desc, i.position limit $1",
            )
            .bind(limit)
            .fetch_all(pool)
            .await
        })?;
        Ok(rows
            .into_iter()
            .map(|r| (r.rec_id, r.gateway, r.statement_date, r.item))
            .collect())
    }

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
        on_pool!(self, pool => {
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
