//! Creating orders, and reading them in bulk: a new order's lines and holds are written in one
//! statement each on PostgreSQL (arrays), its `payment.created` snapshot is built from what was
//! just written (no read back), and a page of orders is one query.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::create_batch::Batched;
use super::idempotency::{sqlite_store_answer, KeyAnswer};
use super::inserting;
use super::payments::{HeldItem, NewPayment, PaymentRecord, PaymentStoreError};
use super::snapshot::{PaymentLoadRow, PG_LIST, SQLITE_LIST};
use super::txops;
use super::{is_some_unique_violation, is_unique_violation, unique, Store};
use crate::events::EventType;
use crate::payments::order::PaymentStatus;

impl Store {
    /// Stores a new order with its holds and its `payment.created` event, or refuses if any
    /// item is already held (paid, or in another live order). Returns the order as stored.
    pub async fn insert_payment(
        &self,
        new: &NewPayment,
        now: DateTime<Utc>,
    ) -> Result<PaymentRecord, PaymentStoreError> {
        self.insert_payment_answered(new, None, now).await
    }

    /// [`Self::insert_payment`], storing the request's idempotency key with its answer in the
    /// same transaction (one commit for the order and the answer a retry replays). A key already
    /// stored is [`PaymentStoreError::KeyTaken`], and nothing is written.
    pub async fn insert_payment_answered(
        &self,
        new: &NewPayment,
        answer: Option<&KeyAnswer>,
        now: DateTime<Utc>,
    ) -> Result<PaymentRecord, PaymentStoreError> {
        let record = new.record();
        let event = txops::event_of(&record, EventType::PaymentCreated, serde_json::Value::Null);
        let audit = json!({"amount": new.row.amount});
        let result: Result<(), sqlx::Error> = async {
            match &self.db {
                super::Db::Sqlite(pools) => {
                    let mut tx = pools.write.begin_with("BEGIN IMMEDIATE").await?;
                    if let Some(answer) = answer {
                        sqlite_store_answer(&mut tx, answer, now).await?;
                    }
                    inserting::sqlite_insert_order(&mut tx, new, &audit, now).await?;
                    txops::emit_all(&mut *tx, vec![event], now).await?;
                    tx.commit().await
                }
                super::Db::Postgres(pool) => {
                    let batched = self.create_in_batch(new, &audit, &event, answer, now).await;
                    if batched == Batched::Yes {
                        return Ok(());
                    }
                    let checked = async {
                        match Self::create_alone(pool, new, &audit, &event, answer, now).await {
                            // A batch whose answer was lost may have committed this order: the
                            // lone copy then fails on one of its unique keys, and the order stored
                            // under its id, made for this request, at its time, is the batch's.
                            Err(e)
                                if batched == Batched::Unknown && is_some_unique_violation(&e) =>
                            {
                                let (stored,): (bool,) = sqlx::query_as(
                                    "select exists (select 1 from payment
                                                where payment_id = $1 and created_at = $2)",
                                )
                                .bind(&new.row.payment_id)
                                .bind(&new.row.created_at)
                                .fetch_one(pool)
                                .await?;
                                if stored {
                                    Ok(())
                                } else {
                                    Err(e)
                                }
                            }
                            other => other,
                        }
                    };
                    super::deadline::bounded(self.timeout, checked).await
                }
            }
        }
        .await;
        match result {
            Ok(()) => Ok(record),
            Err(e) if is_unique_violation(&e, unique::PAYMENT_HOLD) => {
                Err(PaymentStoreError::ItemHeld)
            }
            Err(e) if is_unique_violation(&e, unique::IDEMPOTENCY_KEY) => {
                Err(PaymentStoreError::KeyTaken)
            }
            Err(other) => Err(PaymentStoreError::Db(other)),
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
        let found: Vec<(String, String, Option<String>, PaymentStatus)> = match &self.db {
            super::Db::Sqlite(pools) => {
                let list =
                    serde_json::to_string(keys).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
                sqlx::query_as(&format!("{SELECT} in (select value from json_each($1))"))
                    .bind(list)
                    .fetch_all(&pools.read)
                    .await?
            }
            super::Db::Postgres(pool) => {
                let sql = format!("{SELECT} = any($1)");
                let read = sqlx::query_as(&sql).bind(keys).fetch_all(pool);
                super::deadline::bounded(self.timeout, read).await?
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
                let read = list_query(
                    &PG_LIST,
                    agency,
                    dossier_code,
                    status,
                    created_from,
                    created_to,
                    after,
                    limit,
                )
                .fetch_all(pool);
                super::deadline::bounded(self.timeout, read).await?
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
