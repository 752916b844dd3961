//! Refunds: reserved before the gateway is asked (so concurrent refunds can never exceed what
//! was paid), then settled with their event.

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::{Database, Encode, Executor, FromRow, IntoArguments, Type};

use super::payments::PaymentStoreError;
use super::txops::{self, DbOf, TxConn};
use super::{in_write_tx, on_pool, ts, Store};
use crate::events::EventType;
use crate::payments::order::{self, OrderEvent, PaymentStatus, RefundStatus};

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct RefundRow {
    #[serde(rename = "id")]
    pub refund_id: String,
    pub payment_id: String,
    pub attempt_id: String,
    pub amount: i64,
    pub reason: String,
    #[schema(value_type = String)]
    pub status: RefundStatus,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, thiserror::Error)]
pub enum RefundError {
    #[error("refunds would exceed what was paid ({available} đ left)")]
    Exceeds { available: i64 },
    /// More than one attempt holds money and the request did not say which.
    #[error("more than one attempt of this payment holds money: {0}")]
    AttemptRequired(String),
    /// The named attempt is not one of this payment's attempts that hold money.
    #[error("not an attempt of this payment that holds money")]
    NotAHolder,
    /// A refund with this id was reserved meanwhile (a concurrent copy of the request).
    #[error("a refund with this id already exists")]
    AlreadyReserved,
    #[error(transparent)]
    Store(#[from] PaymentStoreError),
}

impl From<sqlx::Error> for RefundError {
    fn from(e: sqlx::Error) -> Self {
        Self::Store(PaymentStoreError::Db(e))
    }
}

/// An attempt that received money: what it received and what is already refunded or being refunded.
#[derive(Debug, Clone, sqlx::FromRow)]
struct Holder {
    attempt_id: String,
    paid: i64,
    reserved: i64,
}

/// Picks the attempt a refund draws on: the one named, or else the only one holding money,
/// or else the one that paid the order.
fn choose<'a>(
    holders: &'a [Holder],
    named: Option<&str>,
    paying: Option<&str>,
) -> Result<Option<&'a Holder>, RefundError> {
    if let Some(named) = named {
        return holders
            .iter()
            .find(|h| h.attempt_id == named && h.paid > 0)
            .map(Some)
            .ok_or(RefundError::NotAHolder);
    }
    let holding: Vec<&Holder> = holders.iter().filter(|h| h.paid > h.reserved).collect();
    if holding.len() > 1 {
        let ids: Vec<&str> = holding.iter().map(|h| h.attempt_id.as_str()).collect();
        return Err(RefundError::AttemptRequired(ids.join(", ")));
    }
    // With nothing held any more, the paying attempt (or the only one that received money)
    // answers, so that the caller hears how much is left: nothing.
    Ok(holding
        .first()
        .copied()
        .or_else(|| {
            holders
                .iter()
                .find(|h| Some(h.attempt_id.as_str()) == paying)
        })
        .or(match holders {
            [only] => Some(only),
            _ => None,
        }))
}

impl Store {
    /// Reserves a refund of `amount` drawn on one attempt's money: the attempt that paid the
    /// order (then the order must be paid), or one whose money the order did not take
    /// (a duplicate, money after expiry, a transfer of the wrong amount).
    ///
    /// The payment's row lock, held to commit, makes concurrent reservations of one payment
    /// take turns: each reads what the ones before it reserved, so together they never exceed
    /// what was paid; a copy of the same refund id that waited for the lock is told
    /// [`RefundError::AlreadyReserved`], to be answered as a retry is.
    #[allow(clippy::too_many_arguments)]
    pub async fn reserve_refund(
        &self,
        payment_id: &str,
        attempt_id: Option<&str>,
        refund_id: &str,
        amount: i64,
        reason: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<RefundRow, RefundError> {
        in_write_tx!(self, tx => {
            txops::lock_payment(&mut *tx, payment_id).await?;
            let copy: Option<(String,)> = sqlx::query_as("select refund_id from refund where refund_id = $1")
                .bind(refund_id)
                .fetch_optional(&mut *tx)
                .await?;
            if copy.is_some() {
                return Err(RefundError::AlreadyReserved);
            }
            let row: Option<(PaymentStatus, Option<String>)> =
                sqlx::query_as("select status, paid_attempt_id from payment where payment_id = $1")
                    .bind(payment_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            let Some((status, paying)) = row else { return Err(PaymentStoreError::NotFound.into()) };
            let holders: Vec<Holder> = sqlx::query_as(
                "select a.attempt_id, coalesce(a.paid_amount, 0) as paid,
                        cast(coalesce((select sum(r.amount) from refund r
                                       where r.attempt_id = a.attempt_id and r.status in ('pending', 'succeeded')), 0) as bigint) as reserved
                 from attempt a where a.payment_id = $1 and a.status = 'succeeded' and a.paid_amount is not null
                 order by a.created_at, a.attempt_id",
            )
            .bind(payment_id)
            .fetch_all(&mut *tx)
            .await?;
            let Some(holder) = choose(&holders, attempt_id, paying.as_deref())? else {
                return Err(PaymentStoreError::NotPayable(status.to_string()).into());
            };
            let applied = paying.as_deref() == Some(holder.attempt_id.as_str());
            if applied && order::next(status, OrderEvent::PartialRefund).is_err() {
                return Err(PaymentStoreError::NotPayable(status.to_string()).into());
            }
            let available = holder.paid.saturating_sub(holder.reserved);
            if amount > available {
                return Err(RefundError::Exceeds { available });
            }
            let attempt_id = holder.attempt_id.clone();
            let inserted = sqlx::query(
                "insert into refund (refund_id, payment_id, attempt_id, amount, reason, status, created_by, created_at, updated_at)
                 values ($1, $2, $3, $4, $5, 'pending', $6, $7, $7) on conflict (refund_id) do nothing",
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
            if inserted.rows_affected() == 0 {
                return Err(RefundError::AlreadyReserved);
            }
            txops::audit(&mut *tx, payment_id, "refund.requested", actor,
                &json!({"refund_id": refund_id, "attempt_id": attempt_id, "amount": amount, "reason": reason, "of_unapplied": !applied}), now).await?;
            tx.commit().await?;
            Ok(RefundRow {
                refund_id: refund_id.to_owned(),
                payment_id: payment_id.to_owned(),
                attempt_id,
                amount,
                reason: reason.to_owned(),
                status: RefundStatus::Pending,
                created_by: actor.to_owned(),
                created_at: ts(now),
                updated_at: ts(now),
            })
        })
    }

    /// Settles a pending refund and emits `payment.refunded`. A refund of the paying attempt
    /// moves the order to `partially_refunded` or `refunded` (and a fully refunded order's
    /// notice lines are unpaid again); a refund of money the order did not take leaves the
    /// order as it is and, once that attempt holds nothing more, resolves its open flag.
    pub async fn finish_refund(
        &self,
        refund_id: &str,
        succeeded: bool,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<(), RefundError> {
        let to = if succeeded {
            RefundStatus::Succeeded
        } else {
            RefundStatus::Failed
        };
        in_write_tx!(self, tx => {
            let row: Option<(String, String, i64, String)> = sqlx::query_as(
                "update refund set status = $2, updated_at = $3 where refund_id = $1 and status = 'pending'
                 returning payment_id, attempt_id, amount, reason",
            )
            .bind(refund_id)
            .bind(to)
            .bind(ts(now))
            .fetch_optional(&mut *tx)
            .await?;
            let Some((payment_id, attempt_id, amount, reason)) = row else {
                tx.commit().await?;
                return Ok(());
            };
            if !succeeded {
                txops::audit(&mut *tx, &payment_id, "refund.failed", actor, &json!({"refund_id": refund_id, "attempt_id": attempt_id, "amount": amount}), now).await?;
                tx.commit().await?;
                return Ok(());
            }
            let (paying,): (Option<String>,) = sqlx::query_as("select paid_attempt_id from payment where payment_id = $1")
                .bind(&payment_id)
                .fetch_one(&mut *tx)
                .await?;
            let applied = paying.as_deref() == Some(attempt_id.as_str());
            let (paid, refunded): (Option<i64>, i64) = sqlx::query_as(
                "update attempt set refunded_amount = refunded_amount + $2 where attempt_id = $1
                 returning paid_amount, refunded_amount",
            )
            .bind(&attempt_id)
            .bind(amount)
            .fetch_one(&mut *tx)
            .await?;
            txops::audit(&mut *tx, &payment_id, "refund.succeeded", actor,
                &json!({"refund_id": refund_id, "attempt_id": attempt_id, "amount": amount, "of_unapplied": !applied}), now).await?;
            if applied {
                refund_order(&mut *tx, &payment_id, amount, actor, now).await?;
            } else if paid.unwrap_or(0) <= refunded {
                let refund = Settled { refund_id, attempt_id: &attempt_id, note: &reason, actor };
                resolve_attempt_flags(&mut *tx, &payment_id, &refund, now).await?;
            }
            let refund = json!({"refund": {"id": refund_id, "attempt_id": attempt_id, "amount": amount, "of_unapplied": !applied}});
            txops::lock_payment(&mut *tx, &payment_id).await?;
            txops::emit_payment(&mut *tx, &payment_id, EventType::PaymentRefunded, refund, now).await?;
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

impl Store {
    /// A payment's refunds, oldest first.
    pub async fn refunds_of(&self, payment_id: &str) -> Result<Vec<RefundRow>, sqlx::Error> {
        on_pool!(self, pool => {
            sqlx::query_as(
                "select refund_id, payment_id, attempt_id, amount, reason, status, created_by, created_at, updated_at
                 from refund where payment_id = $1 order by created_at, refund_id",
            )
            .bind(payment_id)
            .fetch_all(pool)
            .await
        })
    }
}

/// Adds a refund of the paying attempt to its order: `partially_refunded`, or `refunded` when
/// everything went back (then its notice lines are unpaid again).
async fn refund_order<C>(
    conn: &mut C,
    payment_id: &str,
    amount: i64,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error>
where
    C: TxConn,
    for<'c> &'c mut C: Executor<'c, Database = DbOf<C>>,
    for<'q> <DbOf<C> as Database>::Arguments<'q>: IntoArguments<'q, DbOf<C>>,
    for<'q> &'q str: Encode<'q, DbOf<C>> + Type<DbOf<C>>,
    for<'q> i64: Encode<'q, DbOf<C>> + Type<DbOf<C>>,
    for<'r> (PaymentStatus,): FromRow<'r, <DbOf<C> as Database>::Row>,
    for<'r> (String, String): FromRow<'r, <DbOf<C> as Database>::Row>,
{
    let (status,): (PaymentStatus,) = sqlx::query_as(
        "update payment set refunded_amount = refunded_amount + $2,
                status = case when refunded_amount + $2 >= amount then 'refunded' else 'partially_refunded' end,
                updated_at = $3
         where payment_id = $1 returning status",
    )
    .bind(payment_id)
    .bind(amount)
    .bind(ts(now).as_str())
    .fetch_one(&mut *conn)
    .await?;
    if status == PaymentStatus::Refunded {
        unpay_notice_lines(conn, payment_id, actor, now).await?;
    }
    Ok(())
}

/// Gives a fully refunded order's notice lines back to the taxpayer as unpaid, recomputes their
/// notices, and releases the order's holds so that the lines can be paid again.
async fn unpay_notice_lines<C>(
    conn: &mut C,
    payment_id: &str,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error>
where
    C: TxConn,
    for<'c> &'c mut C: Executor<'c, Database = DbOf<C>>,
    for<'q> <DbOf<C> as Database>::Arguments<'q>: IntoArguments<'q, DbOf<C>>,
    for<'q> &'q str: Encode<'q, DbOf<C>> + Type<DbOf<C>>,
    for<'r> (String, String): FromRow<'r, <DbOf<C> as Database>::Row>,
{
    let lines: Vec<(String, String)> = sqlx::query_as(
        "update notice_line set status = 'unpaid', paid_by = null, paid_at = null
         where paid_by = $1 and status = 'paid' returning notice_line_id, notice_id",
    )
    .bind(payment_id)
    .fetch_all(&mut *conn)
    .await?;
    let mut notices: Vec<&str> = lines.iter().map(|(_, n)| n.as_str()).collect();
    notices.sort_unstable();
    notices.dedup();
    for notice_id in &notices {
        sqlx::query(
            "update notice set status = case when exists (select 1 from notice_line where notice_id = $1 and status = 'paid')
                                             then 'partially_paid' else 'unpaid' end,
                               updated_at = $2
             where notice_id = $1",
        )
        .bind(*notice_id)
        .bind(ts(now).as_str())
        .execute(&mut *conn)
        .await?;
    }
    txops::release_holds(&mut *conn, payment_id).await?;
    if !lines.is_empty() {
        let ids: Vec<&str> = lines.iter().map(|(l, _)| l.as_str()).collect();
        let data = json!({"notice_line_ids": ids, "notices": notices});
        txops::audit(conn, payment_id, "notice_lines.unpaid", actor, &data, now).await?;
    }
    Ok(())
}

/// A settled refund of money the order did not take, as the note of the flags it resolves.
struct Settled<'a> {
    refund_id: &'a str,
    attempt_id: &'a str,
    note: &'a str,
    actor: &'a str,
}

/// Resolves the open flags of an attempt whose unapplied money is all refunded.
async fn resolve_attempt_flags<C>(
    conn: &mut C,
    payment_id: &str,
    refund: &Settled<'_>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error>
where
    C: TxConn,
    for<'c> &'c mut C: Executor<'c, Database = DbOf<C>>,
    for<'q> <DbOf<C> as Database>::Arguments<'q>: IntoArguments<'q, DbOf<C>>,
    for<'q> &'q str: Encode<'q, DbOf<C>> + Type<DbOf<C>>,
    for<'r> (String,): FromRow<'r, <DbOf<C> as Database>::Row>,
{
    let flags: Vec<(String,)> = sqlx::query_as(
        "update payment_flag set status = 'resolved', note = $3, resolved_by = $4, resolved_at = $5
         where payment_id = $1 and attempt_id = $2 and status = 'open' returning flag",
    )
    .bind(payment_id)
    .bind(refund.attempt_id)
    .bind(refund.note)
    .bind(refund.actor)
    .bind(ts(now).as_str())
    .fetch_all(&mut *conn)
    .await?;
    for (flag,) in flags {
        let data = json!({"flag": flag, "note": refund.note, "refund_id": refund.refund_id,
                          "attempt_id": refund.attempt_id});
        txops::audit(
            &mut *conn,
            payment_id,
            "flag.resolved",
            refund.actor,
            &data,
            now,
        )
        .await?;
    }
    Ok(())
}
