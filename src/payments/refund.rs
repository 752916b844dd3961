//! Refunding money an order's attempt holds: the refund is reserved first (so concurrent refunds
//! never exceed what was paid), the gateway is asked when it refunds by API, and the refund is
//! settled with its event. Used by the API and by the finance dashboard's refund form.

use crate::app::Services;
use crate::auth::Caller;
use crate::error::{ApiError, FieldError};
use crate::gateways::adapters::{AttemptRef, RefundOutcome};
use crate::ids::{new_id, IdKind, PaymentId};
use crate::payments::service;
use crate::storage::parse_ts;
use crate::storage::refunds::{RefundError, RefundRow};

/// What is refunded, and why.
pub struct RefundRequest<'a> {
    pub amount: i64,
    pub reason: &'a str,
    pub attempt_id: Option<&'a str>,
    /// The refund's id when the caller chose it beforehand (a confirmation form sent twice
    /// refunds once); a new id otherwise.
    pub refund_id: Option<&'a str>,
}

/// Whether the request itself is sound (amount, reason), before any order is looked at.
pub fn check(r: &RefundRequest<'_>) -> Result<(), ApiError> {
    let mut errors = Vec::new();
    if r.amount <= 0 {
        errors.push(FieldError::new("amount", "must be > 0 (whole đồng)"));
    }
    if r.reason.trim().is_empty() {
        errors.push(FieldError::new("reason", "must not be empty"));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid(errors))
    }
}

fn refund_error(e: RefundError) -> ApiError {
    match e {
        RefundError::Exceeds { available } => {
            ApiError::invalid_field("amount", format!("at most {available} đ is left to refund"))
        }
        RefundError::AttemptRequired(ids) => ApiError::invalid_field(
            "attempt_id",
            format!("is required: more than one attempt of this payment holds money ({ids})"),
        ),
        RefundError::NotAHolder => ApiError::invalid_field(
            "attempt_id",
            "must name an attempt of this payment that received money",
        ),
        RefundError::AlreadyReserved => {
            ApiError::Conflict("a refund with this refund_id already exists".into())
        }
        RefundError::Store(s) => s.into(),
    }
}

/// Whether `id` has the shape of a refund id (`rfd_` and 26 ULID characters).
pub fn is_refund_id(id: &str) -> bool {
    id.strip_prefix("rfd_")
        .is_some_and(|u| u.len() == 26 && u.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// A fresh refund id for a confirmation form.
pub fn new_refund_id() -> String {
    new_id(IdKind::Refund)
}

/// Refunds `r.amount` of a payment `caller` may see; audited with `caller.sub`.
pub async fn refund(
    state: &Services,
    caller: &Caller,
    payment_id: &PaymentId,
    r: &RefundRequest<'_>,
) -> Result<RefundRow, ApiError> {
    check(r)?;
    let record = service::visible(state, caller, payment_id).await?;
    let now = state.clock.now();
    let refund_id = match r.refund_id {
        Some(id) if is_refund_id(id) => id.to_owned(),
        Some(_) => {
            return Err(ApiError::invalid_field(
                "refund_id",
                "is not a refund id this service issued",
            ))
        }
        None => new_id(IdKind::Refund),
    };
    if let Some(done) = state.store.refund(&refund_id).await? {
        return replay(done, &record.payment.payment_id);
    }
    let reserved = state
        .store
        .reserve_refund(
            &record.payment.payment_id,
            r.attempt_id,
            &refund_id,
            r.amount,
            r.reason.trim(),
            &caller.sub,
            now,
        )
        .await;
    let reserved = match reserved {
        Err(RefundError::AlreadyReserved) => {
            // A concurrent copy of this request reserved it first: answer as a retry would.
            let done =
                state.store.refund(&refund_id).await?.ok_or_else(|| {
                    ApiError::Internal(anyhow::anyhow!("a reserved refund vanished"))
                })?;
            return replay(done, &record.payment.payment_id);
        }
        other => other.map_err(refund_error)?,
    };
    let status = ask_gateway(
        state,
        caller,
        &record,
        &reserved.attempt_id,
        &refund_id,
        r.amount,
    )
    .await;
    if let Some(ok) = status {
        state
            .store
            .finish_refund(&refund_id, ok, &caller.sub, state.clock.now())
            .await
            .map_err(|e| match e {
                RefundError::Store(s) => ApiError::from(s),
                other => ApiError::Internal(other.into()),
            })?;
        state.delivery_kick.notify_one();
    }
    state
        .store
        .refund(&refund_id)
        .await?
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("refund vanished")))
}

/// The answer to a refund id already used: the refund itself, when it is this payment's.
fn replay(done: RefundRow, payment_id: &str) -> Result<RefundRow, ApiError> {
    if done.payment_id == payment_id {
        Ok(done)
    } else {
        Err(ApiError::invalid_field(
            "refund_id",
            "belongs to another payment",
        ))
    }
}

/// Asks the attempt's gateway to refund when it refunds by API: `Some(true)` refunded,
/// `Some(false)` refused, `None` when finance pays it back by hand (or the gateway is away).
async fn ask_gateway(
    state: &Services,
    caller: &Caller,
    record: &crate::storage::payments::PaymentRecord,
    attempt_id: &str,
    refund_id: &str,
    amount: i64,
) -> Option<bool> {
    let attempt = record.attempts.iter().find(|a| a.attempt_id == attempt_id);
    let gateway = attempt.and_then(|a| {
        state
            .gateways
            .of(record.payment.agency_code.as_deref(), a.gateway)
    });
    let outcome = match (attempt, gateway) {
        (Some(a), Some(gateway)) => {
            let Ok(created) = parse_ts(&a.created_at) else {
                tracing::error!(%refund_id, "refund: the attempt's time does not parse");
                return None;
            };
            let reference = AttemptRef {
                txn_ref: a.txn_ref.clone(),
                created,
                gateway_txn_no: a.gateway_txn_no.clone(),
                amount_vnd: a.paid_amount.unwrap_or(a.amount),
                agency_code: record.payment.agency_code.clone(),
            };
            let full = amount == a.paid_amount.unwrap_or(a.amount) - a.refunded_amount;
            gateway.refund(&reference, amount, full, &caller.sub).await
        }
        _ => Ok(RefundOutcome::Manual),
    };
    match outcome {
        Ok(RefundOutcome::Succeeded) => Some(true),
        Ok(RefundOutcome::Failed(why)) => {
            tracing::warn!(%refund_id, %why, "refund refused by the gateway");
            Some(false)
        }
        Ok(RefundOutcome::Manual) => None,
        Err(e) => {
            tracing::warn!(%refund_id, error = %e, "refund: gateway unavailable; the refund stays pending");
            None
        }
    }
}
