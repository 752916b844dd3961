//! Reconciliation runs and their items; the ledger side of a gateway's day; collections.

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::{Database, Encode, Executor, FromRow, IntoArguments, Type};

use super::snapshot::PaymentLoadRow;
use super::txops::{self, DbOf, TxConn};
use super::{in_write_tx, is_unique_violation, on_pool, ts, unique, Store};
use crate::events::EventType;
use crate::money::format_vnd_plain;
use crate::payments::order::{AttemptStatus, FlagStatus};
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
    pub agency_code: Option<String>,
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
    /// `open`, or `resolved` when a later run carried the row (`resolved_by`).
    pub status: String,
    pub resolved_by: Option<String>,
    /// Why a person resolved it (their e-mail address is `resolved_by`).
    #[sqlx(default)]
    pub note: Option<String>,
    #[sqlx(default)]
    pub resolved_at: Option<String>,
}

/// A stored item with its place in the run (the paging key).
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct PositionedItem {
    #[serde(skip)]
    pub position: i64,
    #[sqlx(flatten)]
    #[serde(flatten)]
    pub item: ItemRow,
}

pub use super::collections::MoneyLine;

/// What the ledger knows of a gateway reference, wherever its money falls.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RefRow {
    pub attempt_id: String,
    pub payment_id: String,
    pub agency_code: Option<String>,
    pub txn_ref: String,
    pub status: AttemptStatus,
    pub amount: i64,
    pub paid_amount: Option<i64>,
    pub refunded_amount: i64,
    pub money_at: Option<String>,
    pub gateway_txn_no: Option<String>,
}

impl RefRow {
    /// The attempt's money as a ledger entry, when it has money.
    pub fn ledger_entry(&self) -> Option<LedgerEntry> {
        let amount = self
            .paid_amount
            .filter(|_| self.status == AttemptStatus::Succeeded)?;
        Some(LedgerEntry {
            txn_ref: self.txn_ref.clone(),
            gateway_txn_no: self.gateway_txn_no.clone(),
            payment_id: self.payment_id.clone(),
            amount,
            status: if self.refunded_amount >= amount && amount > 0 {
                RowStatus::Refunded
            } else {
                RowStatus::Success
            },
        })
    }
}

/// Findings written per statement.
const ITEM_BATCH: usize = 200;
const ITEM_COLUMNS: &str =
    "kind, txn_ref, gateway_txn_no, payment_id, ledger_amount, statement_amount, ledger_status, \
                            statement_status, line, status, resolved_by, note, resolved_at";

impl Store {
    /// Money recorded on attempts of `gateway` with its time in `[from, to)`, of one agency's
    /// orders when `agency` is given.
    pub async fn ledger_for(
        &self,
        gateway: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        agency: Option<&str>,
    ) -> Result<Vec<LedgerEntry>, sqlx::Error> {
        let rows: Vec<RefRow> = on_pool!(self, pool => {
            sqlx::query_as(
                "select a.attempt_id, a.payment_id, p.agency_code, a.txn_ref, a.status, a.amount, a.paid_amount,
                        a.refunded_amount, a.money_at, a.gateway_txn_no
                 from attempt a join payment p on p.payment_id = a.payment_id
                 where a.gateway = $1 and a.status = 'succeeded' and a.money_at >= $2 and a.money_at < $3
                   and ($4 is null or p.agency_code = $4)",
            )
            .bind(gateway)
            .bind(ts(from))
            .bind(ts(to))
            .bind(agency)
            .fetch_all(pool)
            .await
        })?;
        Ok(rows.iter().filter_map(RefRow::ledger_entry).collect())
    }

    /// The attempts of `gateway` that these references name, with their order's agency.
    pub async fn refs_of(&self, gateway: &str, refs: &[&str]) -> Result<Vec<RefRow>, sqlx::Error> {
        let mut out = Vec::new();
        for chunk in refs.chunks(500) {
            let placeholders: Vec<String> = (2..chunk.len() + 2).map(|i| format!("${i}")).collect();
            let sql = format!(
                "select a.attempt_id, a.payment_id, p.agency_code, a.txn_ref, a.status, a.amount, a.paid_amount,
                        a.refunded_amount, a.money_at, a.gateway_txn_no
                 from attempt a join payment p on p.payment_id = a.payment_id
                 where a.gateway = $1 and a.txn_ref in ({})",
                placeholders.join(",")
            );
            let rows: Vec<RefRow> = on_pool!(self, pool => {
                let mut q = sqlx::query_as(&sql).bind(gateway);
                for r in chunk {
                    q = q.bind(*r);
                }
                q.fetch_all(pool).await
            })?;
            out.extend(rows);
        }
        Ok(out)
    }

    /// Starts a run: stored as `running` (no other run is superseded yet) so that its
    /// findings can be written as the statement streams through.
    pub async fn begin_run(
        &self,
        rec_id: &str,
        gateway: &str,
        statement_date: &str,
        agency: Option<&str>,
        created_by: &str,
        now: DateTime<Utc>,
    ) -> Result<(), sqlx::Error> {
        in_write_tx!(self, tx => {
            sqlx::query(
                "insert into reconciliation (rec_id, gateway, statement_date, status, summary, rows_total, created_by, created_at, agency_code)
                 values ($1, $2, $3, 'running', '{}', 0, $4, $5, $6)",
            )
            .bind(rec_id)
            .bind(gateway)
            .bind(statement_date)
            .bind(created_by)
            .bind(ts(now))
            .bind(agency)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// Appends findings to a running run, numbered from `first_position`.
    pub async fn insert_items(
        &self,
        rec_id: &str,
        first_position: u64,
        items: &[Item],
    ) -> Result<(), sqlx::Error> {
        if items.is_empty() {
            return Ok(());
        }
        in_write_tx!(self, tx => {
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
                    let position = first_position + u64::try_from(chunk_no * ITEM_BATCH + i).unwrap_or(u64::MAX);
                    q = q
                        .bind(rec_id)
                        .bind(i64::try_from(position).unwrap_or(i64::MAX))
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

    /// Closes the open `missing_in_statement` findings of earlier runs of `gateway` whose
    /// reference this run's statement carried.
    pub async fn resolve_missing(
        &self,
        gateway: &str,
        rec_id: &str,
        refs: &[String],
    ) -> Result<u64, sqlx::Error> {
        let mut n = 0;
        for chunk in refs.chunks(500) {
            let placeholders: Vec<String> = (3..chunk.len() + 3).map(|i| format!("${i}")).collect();
            let sql = format!(
                "update reconciliation_item set status = 'resolved', resolved_by = $2
                 where kind = 'missing_in_statement' and status = 'open' and txn_ref in ({})
                   and rec_id <> $2 and rec_id in (select rec_id from reconciliation where gateway = $1)",
                placeholders.join(",")
            );
            n += in_write_tx!(self, tx => {
                let mut q = sqlx::query(&sql).bind(gateway).bind(rec_id);
                for r in chunk {
                    q = q.bind(r);
                }
                let done = q.execute(&mut *tx).await?.rows_affected();
                tx.commit().await?;
                Ok::<u64, sqlx::Error>(done)
            })?;
        }
        Ok(n)
    }

    /// Makes a running run the current one for its gateway, date and agency; the previous
    /// current run becomes `superseded` and points at it.
    #[allow(clippy::too_many_arguments)]
    pub async fn finish_run(
        &self,
        rec_id: &str,
        gateway: &str,
        statement_date: &str,
        agency: Option<&str>,
        summary: &Summary,
        rows_total: u64,
    ) -> Result<(), sqlx::Error> {
        let summary_json = serde_json::to_string(summary).unwrap_or_default();
        let mut tries: u32 = 0;
        loop {
            // In a block of its own, so that a statement's `?` ends this try, not the loop.
            let done: Result<(), sqlx::Error> = async { in_write_tx!(self, tx => {
                sqlx::query(
                    "update reconciliation set status = 'superseded', superseded_by = $3
                     where gateway = $1 and statement_date = $2 and status = 'current'
                       and coalesce(agency_code, '') = coalesce($4, '')",
                )
                .bind(gateway)
                .bind(statement_date)
                .bind(rec_id)
                .bind(agency)
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "update reconciliation set status = 'current', summary = $2, rows_total = $3 where rec_id = $1",
                )
                .bind(rec_id)
                .bind(&summary_json)
                .bind(i64::try_from(rows_total).unwrap_or(i64::MAX))
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }) }
            .await;
            match done {
                // Another run of the same day became current after this one's statements
                // took their snapshot: each round lets at least one of the racing runs
                // through, so a retry after a short pause converges.
                Err(e) if is_unique_violation(&e, unique::CURRENT_RUN) && tries < 32 => {
                    tries += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(2 + u64::from(tries) * 3))
                        .await;
                }
                other => return other,
            }
        }
    }

    /// A page of a run's findings after `after` (a position), of one kind if given.
    pub async fn run_items_page(
        &self,
        rec_id: &str,
        kind: Option<&str>,
        after: Option<i64>,
        limit: i64,
    ) -> Result<Vec<PositionedItem>, sqlx::Error> {
        let sql = format!(
            "select position, {ITEM_COLUMNS} from reconciliation_item
             where rec_id = $1 and ($2 is null or kind = $2) and position > $3
             order by position limit $4"
        );
        on_pool!(self, pool => {
            sqlx::query_as(&sql)
                .bind(rec_id)
                .bind(kind)
                .bind(after.unwrap_or(-1))
                .bind(limit)
                .fetch_all(pool)
                .await
        })
    }

    /// The current runs' open findings, newest first (for the finance dashboard), of one
    /// agency's runs when `agency` is given.
    pub async fn current_findings(
        &self,
        limit: i64,
        agency: Option<&str>,
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
                        i.ledger_amount, i.statement_amount, i.ledger_status, i.statement_status, i.line, i.status, i.resolved_by
                 from reconciliation r join reconciliation_item i on i.rec_id = r.rec_id
                 where r.status = 'current' and i.status = 'open' and ($2 is null or r.agency_code = $2)
                 order by r.statement_date desc, i.position limit $1",
            )
            .bind(limit)
            .bind(agency)
            .fetch_all(pool)
            .await
        })?;
        Ok(rows
            .into_iter()
            .map(|r| (r.rec_id, r.gateway, r.statement_date, r.item))
            .collect())
    }

    /// Records a bank transfer of the wrong amount on its attempt without paying the order:
    /// the attempt holds the money, the order goes back to `pending` (nothing else in flight)
    /// and is flagged `amount_mismatch` for that attempt. `false` when the attempt was no
    /// longer open.
    #[allow(clippy::too_many_arguments)]
    pub async fn record_wrong_transfer(
        &self,
        attempt_id: &str,
        payment_id: &str,
        amount: i64,
        gateway_txn_no: Option<&str>,
        bank_code: Option<&str>,
        paid_at: DateTime<Utc>,
        source: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, sqlx::Error> {
        let sql = format!(
            "update attempt set status = 'succeeded', gateway_txn_no = $2, bank_code = coalesce($3, bank_code),
                    paid_amount = $4, money_at = $5, updated_at = $6
             where attempt_id = $1 and status in {}",
            txops::sql_money_states()
        );
        in_write_tx!(self, tx => {
            let moved = sqlx::query(&sql)
            .bind(attempt_id)
            .bind(gateway_txn_no)
            .bind(bank_code)
            .bind(amount)
            .bind(ts(paid_at))
            .bind(ts(now))
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if moved == 0 {
                tx.commit().await?;
                return Ok(false);
            }
            // This transaction may emit the payment's event: it holds the payment's row lock.
            txops::lock_payment(&mut *tx, payment_id).await?;
            let (expected,): (i64,) = sqlx::query_as("select amount from attempt where attempt_id = $1")
                .bind(attempt_id)
                .fetch_one(&mut *tx)
                .await?;
            txops::audit(&mut *tx, payment_id, "money.received", source,
                &json!({"attempt_id": attempt_id, "amount": amount, "expected": expected, "gateway_txn_no": gateway_txn_no,
                        "applied": false}), now).await?;
            txops::back_to_pending(&mut *tx, payment_id, now).await?;
            let detail = format!(
                "{} đ transferred for {attempt_id}, not the {} đ it was for; the order was not paid",
                format_vnd_plain(amount),
                format_vnd_plain(expected)
            );
            flag_wrong_amount(&mut *tx, payment_id, attempt_id, &detail, now).await?;
            tx.commit().await?;
            Ok(true)
        })
    }
}

/// Flags `amount_mismatch` for the money on `attempt_id`: a flag of this kind that already
/// exists now stands for this money (and is open again). Emits `payment.flagged` when the
/// flag was not open.
async fn flag_wrong_amount<C>(
    conn: &mut C,
    payment_id: &str,
    attempt_id: &str,
    detail: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error>
where
    C: TxConn,
    for<'c> &'c mut C: Executor<'c, Database = DbOf<C>>,
    for<'q> <DbOf<C> as Database>::Arguments<'q>: IntoArguments<'q, DbOf<C>>,
    for<'q> &'q str: Encode<'q, DbOf<C>> + Type<DbOf<C>>,
    for<'q> Option<&'q str>: Encode<'q, DbOf<C>> + Type<DbOf<C>>,
    for<'r> (String,): FromRow<'r, <DbOf<C> as Database>::Row>,
    for<'r> (FlagStatus,): FromRow<'r, <DbOf<C> as Database>::Row>,
    for<'r> PaymentLoadRow: FromRow<'r, <DbOf<C> as Database>::Row>,
{
    let open: Option<(FlagStatus,)> = sqlx::query_as(
        "select status from payment_flag where payment_id = $1 and flag = 'amount_mismatch'",
    )
    .bind(payment_id)
    .fetch_optional(&mut *conn)
    .await?;
    let raised = match open {
        None => {
            sqlx::query(
                "insert into payment_flag (payment_id, flag, status, detail, created_at, attempt_id)
                 values ($1, 'amount_mismatch', 'open', $2, $3, $4)",
            )
            .bind(payment_id)
            .bind(detail)
            .bind(ts(now).as_str())
            .bind(attempt_id)
            .execute(&mut *conn)
            .await?;
            true
        }
        Some((status,)) => {
            sqlx::query(
                "update payment_flag set status = 'open', detail = $2, attempt_id = $3, note = null,
                        resolved_by = null, resolved_at = null
                 where payment_id = $1 and flag = 'amount_mismatch'",
            )
            .bind(payment_id)
            .bind(detail)
            .bind(attempt_id)
            .execute(&mut *conn)
            .await?;
            status != FlagStatus::Open
        }
    };
    let data = json!({"flag": "amount_mismatch", "detail": detail, "attempt_id": attempt_id});
    txops::audit(&mut *conn, payment_id, "flag.raised", "landpay", &data, now).await?;
    if raised {
        let none = serde_json::Value::Null;
        txops::emit_payment(conn, payment_id, EventType::PaymentFlagged, none, now).await?;
    }
    Ok(())
}
