//! Refunds: reserved before the gateway is asked (so concurrent refunds can never exceed what
//! was paid), then settled with their event.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::payments::PaymentStoreError;
use super::{in_write_tx, on_pool, ts, Store};
use crate::events::EventType;
use crate::payments::order::{self, OrderEvent, PaymentStatus};

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct RefundRow {
    #[serde(rename = "id")]
    pub refund_id: String,
    pub payment_id: String,
    pub attempt_id: String,
    pub amount: i64,
    pub reason: String,
    pub status: String,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, thiserror::Error)]
pub enum RefundError {
    #[error("refunds would exceed what was paid ({available} đ left)")]
    Exceeds { available: i64 },
    #[error(transparent)]
    Store(#[from] PaymentStoreError),
}

impl From<sqlx::Error> for RefundError {
    fn from(e: sqlx::Error) -> Self {
        Self::Store(PaymentStoreError::Db(e))
    }
}

impl Store {
    /// Reserves a refund of `amount` on a paid order's paying attempt.
    pub async fn reserve_refund(
        &self,
        payment_id: &str,
        refund_id: &str,
        amount: i64,
        reason: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<RefundRow, RefundError> {
        in_write_tx!(self, tx, ops => {
            let row: Option<(String, i64, Option<String>)> =
                sqlx::query_as("select status, amount, paid_attempt_id from payment where payment_id = $1")
                    .bind(payment_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            let Some((status, paid, attempt_id)) = row else { return Err(PaymentStoreError::NotFound.into()) };
            let Some(attempt_id) = attempt_id.filter(|_| PaymentStatus::parse(&status).is_some_and(|s| order::next(s, OrderEvent::PartialRefund).is_ok())) else {
                return Err(PaymentStoreError::NotPayable(status).into());
            };
            let (reserved,): (i64,) = sqlx::query_as(
                "select cast(coalesce(sum(amount), 0) as bigint) from refund where payment_id = $1 and status in ('pending', 'succeeded')",
            )
            .bind(payment_id)
            .fetch_one(&mut *tx)
            .await?;
            let available = paid - reserved;
            if amount > available {
                return Err(RefundError::Exceeds { available });
            }
            sqlx::query(
                "insert into refund (refund_id, payment_id, attempt_id, amount, reason, status, created_by, created_at, updated_at)
                 values ($1, $2, $3, $4, $5, 'pending', $6, $7, $7)",
            )
            .bind(refund_id)
            .bind(payment_id)
            .bind(&attempt_id)
            .bind(amount)
            .bind(reason)
            .bind(actor)
            .bind(ts(now))
            .execute(&mut *tx)
            .await?;
            ops::audit(&mut tx, payment_id, "refund.requested", actor, &json!({"refund_id": refund_id, "amount": amount, "reason": reason}), now).await?;
            tx.commit().await?;
            Ok(RefundRow {
                refund_id: refund_id.to_owned(),
                payment_id: payment_id.to_owned(),
                attempt_id,
                amount,
                reason: reason.to_owned(),
                status: "pending".into(),
                created_by: actor.to_owned(),
                created_at: ts(now),
                updated_at: ts(now),
            })
        })
    }

    /// Settles a pending refund; a success moves the order to `partially_refunded` or
    /// `refunded` and emits `payment.refunded`.
    pub async fn finish_refund(
        &self,
        refund_id: &str,
        succeeded: bool,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<(), RefundError> {
        let to = if succeeded { "succeeded" } else { "failed" };
        in_write_tx!(self, tx, ops => {
            let row: Option<(String, String, i64)> = sqlx::query_as(
                "update refund set status = $2, updated_at = $3 where refund_id = $1 and status = 'pending'
                 returning payment_id, attempt_id, amount",
            )
            .bind(refund_id)
            .bind(to)
            .bind(ts(now))
            .fetch_optional(&mut *tx)
            .await?;
            let Some((payment_id, attempt_id, amount)) = row else {
                tx.commit().await?;
                return Ok(());
            };
            if succeeded {
                sqlx::query(
                    "update payment set refunded_amount = refunded_amount + $2,
                            status = case when refunded_amount + $2 >= amount then 'refunded' else 'partially_refunded' end,
                            updated_at = $3
                     where payment_id = $1",
                )
                .bind(&payment_id)
                .bind(amount)
                .bind(ts(now))
                .execute(&mut *tx)
                .await?;
                sqlx::query("update attempt set refunded_amount = refunded_amount + $2 where attempt_id = $1")
                    .bind(&attempt_id)
                    .bind(amount)
                    .execute(&mut *tx)
                    .await?;
                ops::audit(&mut tx, &payment_id, "refund.succeeded", actor, &json!({"refund_id": refund_id, "amount": amount}), now).await?;
                ops::emit_payment_with(&mut tx, &payment_id, EventType::PaymentRefunded, json!({"refund": {"id": refund_id, "amount": amount}}), now).await?;
            } else {
                ops::audit(&mut tx, &payment_id, "refund.failed", actor, &json!({"refund_id": refund_id, "amount": amount}), now).await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    pub async fn refund(&self, refund_id: &str) -> Result<Option<RefundRow>, sqlx::Error> {
        on_pool!(self, pool => {
            sqlx::query_as(
                "select refund_id, payment_id, attempt_id, amount, reason, status, created_by, created_at, updated_at
                 from refund where refund_id = $1",
            )
            .bind(refund_id)
            .fetch_optional(pool)
            .await
        })
    }
}
