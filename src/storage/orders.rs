//! Creating orders, and reading them in bulk: a new order's lines and holds are written in one
//! statement each on PostgreSQL (arrays), its `payment.created` snapshot is built from what was
//! just written (no read back), and a page of orders is one query.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::payments::{HeldItem, NewPayment, PaymentRecord, PaymentStoreError};
use super::snapshot::{PaymentLoadRow, PG_LIST, SQLITE_LIST};
use super::{in_write_tx, is_unique_violation, ts, Store};
use crate::events::EventType;
use crate::ids::{new_id, IdKind};

impl Store {
    /// Stores a new order with its holds and its `payment.created` event, or refuses if any
    /// item is already held (paid, or in another live order). Returns the order as stored.
    pub async fn insert_payment(
        &self,
        new: &NewPayment,
        now: DateTime<Utc>,
    ) -> Result<PaymentRecord, PaymentStoreError> {
        let record = PaymentRecord {
            payment: new.row.clone(),
            lines: new.lines.clone(),
            attempts: Vec::new(),
            flags: Vec::new(),
        };
        let event =
            super::txops::event_of(&record, EventType::PaymentCreated, serde_json::Value::Null);
        let audit = json!({"amount": new.row.amount});
        let result: Result<(), PaymentStoreError> = async {
            in_write_tx!(self, tx, ops => {
                ops::insert_order(&mut tx, new, &audit, now).await?;
                ops::emit(&mut tx, event, now).await?;
                tx.commit().await?;
                Ok(())
            })
        }
        .await;
        match result {
            Ok(()) => Ok(record),
            Err(PaymentStoreError::Db(e)) if is_unique_violation(&e) => {
                Err(PaymentStoreError::ItemHeld)
            }
            Err(other) => Err(other),
        }
    }

    /// Which of these item keys are held (paid or in a live order), and by which order.
    pub async fn held_items(&self, keys: &[String]) -> Result<Vec<HeldItem>, sqlx::Error> {
        const SELECT: &str = "select h.item_key, h.payment_id, p.agency_code, p.status
             from payment_hold h join payment p on p.payment_id = h.payment_id where h.item_key ";
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        // One query for all the keys: an array on PostgreSQL, a JSON list on SQLite.
        let found: Vec<(String, String, Option<String>, String)> = match &self.db {
            super::Db::Sqlite(pools) => {
                let list =
                    serde_json::to_string(keys).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
                sqlx::query_as(&format!("{SELECT} in (select value from json_each($1))"))
                    .bind(list)
                    .fetch_all(&pools.read)
                    .await?
            }
            super::Db::Postgres(pool) => {
                sqlx::query_as(&format!("{SELECT} = any($1)"))
                    .bind(keys)
                    .fetch_all(pool)
                    .await?
            }
        };
        let mut held: Vec<HeldItem> = found
            .into_iter()
            .map(|(item_key, payment_id, agency_code, status)| HeldItem {
                item_key,
                payment_id,
                agency_code,
                status,
            })
            .collect();
        held.sort_by_key(|h| keys.iter().position(|k| *k == h.item_key));
        Ok(held)
    }

    /// Payments matching the filters, oldest first, after `cursor` (a payment id).
    #[allow(clippy::too_many_arguments)]
    pub async fn payments(
        &self,
        agency: Option<&str>,
        dossier_code: Option<&str>,
        status: Option<&str>,
        created_from: Option<&str>,
        created_to: Option<&str>,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<PaymentRecord>, sqlx::Error> {
        let rows: Vec<PaymentLoadRow> = match &self.db {
            super::Db::Sqlite(pools) => {
                list_query(
                    &SQLITE_LIST,
                    agency,
                    dossier_code,
                    status,
                    created_from,
                    created_to,
                    after,
                    limit,
                )
                .fetch_all(&pools.read)
                .await?
            }
            super::Db::Postgres(pool) => {
                list_query(
                    &PG_LIST,
                    agency,
                    dossier_code,
                    status,
                    created_from,
                    created_to,
                    after,
                    limit,
                )
                .fetch_all(pool)
                .await?
            }
        };
        rows.into_iter().map(PaymentLoadRow::into_record).collect()
    }
}

/// The page query of [`Store::payments`], bound (the same parameters on both backends).
#[allow(clippy::too_many_arguments)]
fn list_query<'q, DB: sqlx::Database>(
    sql: &'q str,
    agency: Option<&'q str>,
    dossier_code: Option<&'q str>,
    status: Option<&'q str>,
    created_from: Option<&'q str>,
    created_to: Option<&'q str>,
    after: Option<&'q str>,
    limit: i64,
) -> sqlx::query::QueryAs<'q, DB, PaymentLoadRow, <DB as sqlx::Database>::Arguments<'q>>
where
    PaymentLoadRow: for<'r> sqlx::FromRow<'r, DB::Row>,
    Option<&'q str>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    sqlx::query_as(sql)
        .bind(agency)
        .bind(dossier_code)
        .bind(status)
        .bind(created_from)
        .bind(created_to)
        .bind(after.unwrap_or(""))
        .bind(limit)
}

/// An audit record's id.
fn audit_id() -> String {
    new_id(IdKind::Callback).replacen("cbk_", "aud_", 1)
}

/// PostgreSQL: the order, its lines, its holds and its `payment.created` audit record in one
/// statement (lines and holds as arrays, so its text never changes and it is prepared once).
/// A held item fails the statement with the holds' unique violation.
pub async fn pg_insert_order(
    conn: &mut sqlx::PgConnection,
    new: &NewPayment,
    audit: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let p = &new.row;
    let l = &new.lines;
    let positions: Vec<i64> = (0..l.len())
        .map(|i| i64::try_from(i).unwrap_or(i64::MAX))
        .collect();
    sqlx::query(
        "with p as (
           insert into payment (payment_id, agency_code, dossier_code, status, amount, refunded_amount, payer,
                                return_url, locale, created_by, expires_at, created_at, updated_at)
           values ($1, $2, $3, 'pending', $4, 0, $5, $6, $7, $8, $9, $10, $10) returning payment_id),
         l as (
           insert into payment_line (payment_id, position, kind, source, notice_line_id, assessment_line,
                                     sub_item, name, amount, days, due_date)
           select p.payment_id, u.* from p, unnest($11::bigint[], $12::text[], $13::text[], $14::text[], $15::text[],
                                                    $16::text[], $17::text[], $18::bigint[], $19::bigint[], $20::text[]) as u),
         h as (
           insert into payment_hold (item_key, payment_id, created_at)
           select k, p.payment_id, $21 from p, unnest($22::text[]) as k)
         insert into audit (audit_id, payment_id, type, actor, data, created_at)
         select $23, p.payment_id, 'payment.created', $8, $24, $21 from p",
    )
    .bind(&p.payment_id)
    .bind(&p.agency_code)
    .bind(&p.dossier_code)
    .bind(p.amount)
    .bind(&p.payer)
    .bind(&p.return_url)
    .bind(&p.locale)
    .bind(&p.created_by)
    .bind(&p.expires_at)
    .bind(&p.created_at)
    .bind(positions)
    .bind(l.iter().map(|l| l.kind.as_str()).collect::<Vec<_>>())
    .bind(l.iter().map(|l| l.source.as_str()).collect::<Vec<_>>())
    .bind(l.iter().map(|l| l.notice_line_id.as_deref()).collect::<Vec<_>>())
    .bind(l.iter().map(|l| l.assessment_line.as_deref()).collect::<Vec<_>>())
    .bind(l.iter().map(|l| l.sub_item.as_deref()).collect::<Vec<_>>())
    .bind(l.iter().map(|l| l.name.as_str()).collect::<Vec<_>>())
    .bind(l.iter().map(|l| l.amount).collect::<Vec<_>>())
    .bind(l.iter().map(|l| l.days).collect::<Vec<_>>())
    .bind(l.iter().map(|l| l.due_date.as_deref()).collect::<Vec<_>>())
    .bind(ts(now))
    .bind(&new.holds)
    .bind(audit_id())
    .bind(audit.to_string())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// SQLite: the same rows, one statement each (in-process calls on the one writer).
pub async fn sqlite_insert_order(
    conn: &mut sqlx::SqliteConnection,
    new: &NewPayment,
    audit: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let p = &new.row;
    sqlx::query(
        "insert into payment (payment_id, agency_code, dossier_code, status, amount, refunded_amount, payer,
                              return_url, locale, created_by, expires_at, created_at, updated_at)
         values ($1, $2, $3, 'pending', $4, 0, $5, $6, $7, $8, $9, $10, $10)",
    )
    .bind(&p.payment_id)
    .bind(&p.agency_code)
    .bind(&p.dossier_code)
    .bind(p.amount)
    .bind(&p.payer)
    .bind(&p.return_url)
    .bind(&p.locale)
    .bind(&p.created_by)
    .bind(&p.expires_at)
    .bind(&p.created_at)
    .execute(&mut *conn)
    .await?;
    for (i, l) in new.lines.iter().enumerate() {
        sqlx::query(
            "insert into payment_line (payment_id, position, kind, source, notice_line_id, assessment_line,
                                       sub_item, name, amount, days, due_date)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(&p.payment_id)
        .bind(i64::try_from(i).unwrap_or(i64::MAX))
        .bind(&l.kind)
        .bind(&l.source)
        .bind(&l.notice_line_id)
        .bind(&l.assessment_line)
        .bind(&l.sub_item)
        .bind(&l.name)
        .bind(l.amount)
        .bind(l.days)
        .bind(&l.due_date)
        .execute(&mut *conn)
        .await?;
    }
    for key in &new.holds {
        sqlx::query(
            "insert into payment_hold (item_key, payment_id, created_at) values ($1, $2, $3)",
        )
        .bind(key)
        .bind(&p.payment_id)
        .bind(ts(now))
        .execute(&mut *conn)
        .await?;
    }
    sqlx::query("insert into audit (audit_id, payment_id, type, actor, data, created_at) values ($1, $2, 'payment.created', $3, $4, $5)")
        .bind(audit_id())
        .bind(&p.payment_id)
        .bind(&p.created_by)
        .bind(audit.to_string())
        .bind(ts(now))
        .execute(&mut *conn)
        .await?;
    Ok(())
}
