//! The janitor's pass: attempts past their expiry are asked about at their gateway, and orders
//! past theirs expire. Safe on several instances: every move is a compare-and-set.

use crate::app::Services;
use crate::gateways::adapters::{AttemptRef, GatewayFailure, QueryOutcome};
use crate::gateways::GatewayId;
use crate::payments::order::AttemptStatus;
use crate::storage::parse_ts;
use crate::storage::payments::{AttemptRow, GatewayResult, PaymentStoreError};

/// One janitor pass: ask the gateways about attempts past their expiry, then expire orders
/// past theirs.
pub async fn janitor_pass(state: &Services) -> anyhow::Result<()> {
    let now = state.clock.now();
    for attempt in state.store.stale_attempts(now, 100).await? {
        resolve_attempt(state, &attempt).await?;
    }
    for payment_id in state.store.overdue_payments(now, 100).await? {
        match state
            .store
            .expire_payment(&payment_id, state.clock.now())
            .await
        {
            Ok(()) => tracing::info!(%payment_id, "payment expired"),
            Err(PaymentStoreError::NotPayable(_)) => {} // moved meanwhile, or an attempt is still open
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Asks the gateway what became of one open attempt and records the answer.
pub async fn resolve_attempt(state: &Services, attempt: &AttemptRow) -> anyhow::Result<()> {
    let Some(gateway) = super::credentials::gateway_of_attempt(state, attempt).await? else {
        return Ok(());
    };
    let reference = AttemptRef {
        txn_ref: attempt.txn_ref.clone(),
        created: parse_ts(&attempt.created_at)?,
        gateway_txn_no: attempt.gateway_txn_no.clone(),
        amount_vnd: attempt.amount,
        agency_code: super::facts::agency_of(state, attempt).await?,
    };
    let answer = gateway.query(&reference).await;
    record_answer(state, attempt, answer).await
}

/// Records the gateway's answer about an attempt.
async fn record_answer(
    state: &Services,
    attempt: &AttemptRow,
    answer: Result<QueryOutcome, GatewayFailure>,
) -> anyhow::Result<()> {
    let now = state.clock.now();
    let source = format!("janitor.{}.query", attempt.gateway);
    let to = match answer {
        Ok(QueryOutcome::Paid {
            amount_vnd,
            gateway_txn_no,
            bank_code,
            paid_at,
        }) => {
            if amount_vnd != attempt.amount {
                return flag_amount(state, attempt, amount_vnd).await;
            }
            let result = GatewayResult {
                txn_ref: attempt.txn_ref.clone(),
                success: true,
                amount: amount_vnd,
                gateway_txn_no,
                bank_code,
                paid_at,
                source,
                failure: None,
            };
            super::service::settle(state, &result).await?;
            return Ok(());
        }
        Ok(QueryOutcome::Failed) => {
            let result = GatewayResult {
                txn_ref: attempt.txn_ref.clone(),
                success: false,
                amount: attempt.amount,
                gateway_txn_no: None,
                bank_code: None,
                paid_at: None,
                source,
                failure: None,
            };
            super::service::settle(state, &result).await?;
            return Ok(());
        }
        Ok(QueryOutcome::NotFound) => AttemptStatus::Expired,
        // A bank transfer past its expiry is closed (money that still arrives by statement is
        // recorded and flagged); other gateways are asked again on the next pass.
        Ok(QueryOutcome::Pending) if attempt.gateway == GatewayId::Vietqr => AttemptStatus::Expired,
        Ok(QueryOutcome::Pending) => AttemptStatus::Unknown,
        Err(e) => {
            tracing::warn!(attempt = %attempt.attempt_id, error = %e, "gateway query failed; will ask again");
            AttemptStatus::Unknown
        }
    };
    state
        .store
        .settle_attempt_without_money(&attempt.attempt_id, to, now)
        .await?;
    Ok(())
}

/// Flags the order of an attempt the gateway reports another amount for; nothing moves.
async fn flag_amount(
    state: &Services,
    attempt: &AttemptRow,
    amount_vnd: i64,
) -> anyhow::Result<()> {
    let detail = format!(
        "the gateway reports {} đ for {}, not the attempt's {} đ",
        crate::money::format_vnd_plain(amount_vnd),
        attempt.txn_ref,
        crate::money::format_vnd_plain(attempt.amount)
    );
    state
        .store
        .flag_payment(
            &attempt.payment_id,
            "amount_mismatch",
            &detail,
            state.clock.now(),
        )
        .await?;
    Ok(())
}
