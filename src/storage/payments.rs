//! Payment orders, their lines, holds, attempts, flags, callbacks and audit records. Every
//! transition is a compare-and-set on the expected status inside one write transaction that
//! also writes its events.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::kept::on_lookup_conn;
pub use super::payment_rows::{
    AttemptRow, FlagRow, NewPayment, PaymentLineRow, PaymentRecord, PaymentRow, ATTEMPT_COLUMNS,
    FLAG_COLUMNS, LINE_COLUMNS, PAYMENT_COLUMNS,
};
use super::txops;
use super::{in_write_tx, on_pool, ts, Store};
use crate::events::EventType;
use crate::payments::order::{self, OrderEvent, PaymentStatus};

/// An item held by an order: paid by it, or in it while it is live.
#[derive(Debug, Clone)]
pub struct HeldItem {
    /// A notice line id, or `asm_…:certificate_fee`.
    pub item_key: String,
    pub payment_id: String,
    pub agency_code: Option<String>,
    pub status: PaymentStatus,
}

#[derive(Debug, thiserror::Error)]
pub enum PaymentStoreError {
    #[error("an item is already paid or held by another live payment")]
    ItemHeld,
    #[error("the payment is {0}")]
    NotPayable(String),
    #[error("the payment was not found")]
    NotFound,
    #[error("the idempotency key was stored by another request meanwhile")]
    KeyTaken,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// A new attempt at a gateway.
pub struct NewAttempt {
    pub attempt_id: String,
    pub gateway: String,
    pub txn_ref: String,
    pub amount: i64,
    pub redirect_url: Option<String>,
    pub qr: Option<String>,
    pub client_ip: Option<String>,
    pub bank_code: Option<String>,
    pub expires_at: DateTime<Utc>,
    /// Extends the order's life (bank transfers settle by statement import).
    pub extend_order_to: Option<DateTime<Utc>>,
}

/// The gateway's word on an attempt (from a callback, a query or a statement row).
#[derive(Debug, Clone)]
pub struct GatewayResult {
    pub txn_ref: String,
    pub success: bool,
    pub amount: i64,
    pub gateway_txn_no: Option<String>,
    pub bank_code: Option<String>,
    pub paid_at: Option<DateTime<Utc>>,
    /// Who said it, for the audit trail (`vnpay.ipn`, `janitor.querydr`, `reconciliation`).
    pub source: String,
    /// For a failure: the gateway's code and what it means.
    pub failure: Option<AttemptFailure>,
}

/// Why the gateway says an attempt failed (`payment.attempt_failed`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AttemptFailure {
    pub code: Option<String>,
    pub reason_vi: String,
    pub reason_en: String,
}

/// What applying a gateway result did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResultApplied {
    /// The attempt had already been settled: nothing moved.
    AlreadyFinal,
    /// The order is now paid.
    Paid,
    /// The money was recorded, but the order could not take it: flagged for finance.
    Flagged(String),
    /// The attempt failed; the order is back to pending if nothing else is in flight.
    Failed,
}

/// A callback as received, for the log with the verdict and answer it got outside any
/// transition: it failed verification, or its decision failed (`error`). A decided callback is
/// logged by [`Store::decide_callback`].
pub struct CallbackRecord<'a> {
    pub callback_id: &'a str,
    pub gateway: &'a str,
    pub txn_ref: Option<&'a str>,
    pub verdict: &'a str,
    pub answer: &'a str,
    /// The text kept.
    pub payload: &'a str,
    /// Size and SHA-256 (lower-case hex) of the payload as received.
    pub payload_bytes: i64,
    pub payload_sha256: &'a str,
}

/// The orders past their expiry (`$1`) that are still open, oldest first, at most `$2`: read
/// through the partial index of open orders (`payment_status_expires_idx`, whose condition is
/// this statement's list of statuses).
pub fn overdue_sql() -> String {
    format!(
        "select payment_id from payment where status in {} and expires_at <= $1
         order by expires_at limit $2",
        order::sql_sources(OrderEvent::Expire)
    )
}

impl Store {
    pub async fn payment(&self, id: &str) -> Result<Option<PaymentRecord>, sqlx::Error> {
        // A read by key: on PostgreSQL, the pool of generic plans (`storage::lookup_options`).
        on_lookup_conn!(self, conn => txops::load_payment(conn, id).await)
    }

    /// Flags an order (e.g. `amount_mismatch`) and emits `payment.flagged` when the flag is new.
    pub async fn flag_payment(
        &self,
        payment_id: &str,
        flag: &str,
        detail: &str,
        now: DateTime<Utc>,
    ) -> Result<(), PaymentStoreError> {
        in_write_tx!(self, tx => {
            txops::lock_payment(&mut *tx, payment_id).await?;
            txops::raise_flag(&mut *tx, payment_id, flag, detail, None, now).await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// Cancels a pending order, releasing its items. `Err(NotPayable(status))` otherwise.
    pub async fn cancel_payment(
        &self,
        payment_id: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<(), PaymentStoreError> {
        self.close_payment(payment_id, OrderEvent::Cancel, None, actor, now)
            .await
    }

    /// Expires an order past its expiry with no attempt still open, releasing its items.
    pub async fn expire_payment(
        &self,
        payment_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(), PaymentStoreError> {
        self.close_payment(payment_id, OrderEvent::Expire, Some(now), "janitor", now)
            .await
    }

    async fn close_payment(
        &self,
        payment_id: &str,
        event: OrderEvent,
        expired_before: Option<DateTime<Utc>>,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<(), PaymentStoreError> {
        let to = order::target(event).map_or("expired", |s| s.as_str());
        let deadline = expired_before.map(ts).unwrap_or_else(|| "9999".into());
        let sql = format!(
            "update payment set status = $2, updated_at = $3
             where payment_id = $1 and status in {} and expires_at <= $4
               and not exists (select 1 from attempt where payment_id = $1 and status in {})",
            order::sql_sources(event),
            txops::sql_open_states()
        );
        in_write_tx!(self, tx => {
            let n = sqlx::query(&sql)
            .bind(payment_id)
            .bind(to)
            .bind(ts(now))
            .bind(&deadline)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 0 {
                let status: Option<(String,)> = sqlx::query_as("select status from payment where payment_id = $1")
                    .bind(payment_id)
                    .fetch_optional(&mut *tx)
                    .await?;
                tx.commit().await?;
                return Err(match status {
                    None => PaymentStoreError::NotFound,
                    Some((s,)) => PaymentStoreError::NotPayable(s),
                });
            }
            txops::release_holds(&mut *tx, payment_id).await?;
            txops::audit(&mut *tx, payment_id, &format!("payment.{to}"), actor, &json!({}), now).await?;
            let event = if event == OrderEvent::Cancel { EventType::PaymentCancelled } else { EventType::PaymentExpired };
            txops::emit_payment(&mut *tx, payment_id, event, serde_json::Value::Null, now).await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// Orders past their expiry that are still pending or processing.
    pub async fn overdue_payments(
        &self,
        now: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<String>, sqlx::Error> {
        let rows: Vec<(String,)> = on_pool!(self, pool => {
            sqlx::query_as(&overdue_sql())
            .bind(ts(now))
            .bind(limit)
            .fetch_all(pool)
            .await
        })?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    /// The audit trail of a payment: its events (those numbered on the feed) and audit records,
    /// oldest first.
    pub async fn payment_history(
        &self,
        payment_id: &str,
    ) -> Result<Vec<serde_json::Value>, sqlx::Error> {
        self.catch_up_events().await?;
        let events: Vec<(String, Option<i64>)> = on_pool!(self, pool => {
            sqlx::query_as(super::outbox::PAYMENT_EVENTS_SQL)
                .bind(payment_id)
                .fetch_all(pool)
                .await
        })?;
        let audits: Vec<(String, String, String, String, String)> = on_pool!(self, pool => {
            sqlx::query_as("select audit_id, type, actor, data, created_at from audit where payment_id = $1 order by created_at, audit_id")
                .bind(payment_id)
                .fetch_all(pool)
                .await
        })?;
        let mut all: Vec<(String, u8, serde_json::Value)> = Vec::new();
        for (body, sequence) in events {
            let body = super::outbox::with_sequence(body, sequence);
            let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
            let at = v["created_at"].as_str().unwrap_or_default().to_owned();
            all.push((at, 1, v));
        }
        for (id, kind, actor, data, at) in audits {
            if kind == "payment.created" || kind == "payment.cancelled" || kind == "payment.expired"
            {
                continue; // the event of the same transition says it
            }
            let data: serde_json::Value = serde_json::from_str(&data).unwrap_or_default();
            all.push((
                at.clone(),
                0,
                json!({"id": id, "type": kind, "created_at": at, "actor": actor, "data": data}),
            ));
        }
        all.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
        Ok(all.into_iter().map(|(_, _, v)| v).collect())
    }
}
