//! What the payment use cases share: a payment as a caller may see it, the payer's links, and
//! applying a gateway's verified word. The use cases themselves are in their own modules
//! (create, attempts, callbacks, refund, flags, the janitor); their entry points are named here
//! too. Decisions are made in them; the store applies them with compare-and-set inside one
//! transaction each.

pub use super::attempts::{start_attempt, AttemptView};
pub use super::create::{create, MAX_ITEMS};
pub use super::janitor::{janitor_pass, resolve_attempt};

use crate::app::Services;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::ids::PaymentId;
use crate::storage::parse_ts;
use crate::storage::payments::{GatewayResult, PaymentRecord, PaymentStoreError, ResultApplied};

impl From<PaymentStoreError> for ApiError {
    fn from(e: PaymentStoreError) -> Self {
        match e {
            PaymentStoreError::ItemHeld => {
                ApiError::Conflict("an item is already paid or held by another live payment".into())
            }
            PaymentStoreError::NotPayable(status) => {
                ApiError::InvalidState(format!("the payment is {status} and cannot take this"))
            }
            PaymentStoreError::NotFound => ApiError::NotFound("payment".into()),
            PaymentStoreError::KeyTaken => ApiError::IdempotencyKeyInUse,
            PaymentStoreError::Db(e) => e.into(),
        }
    }
}

/// A payment visible to `caller`, or 404.
pub async fn visible(
    state: &Services,
    caller: &Caller,
    id: &PaymentId,
) -> Result<PaymentRecord, ApiError> {
    state
        .store
        .payment(id.as_str())
        .await?
        .filter(|p| caller.can_see(p.payment.agency_code.as_deref()))
        .ok_or_else(|| ApiError::NotFound(format!("payment {id}")))
}

/// The payer link of a payment, with a fresh token valid until the order expires.
pub fn pay_url(state: &Services, record: &PaymentRecord) -> String {
    let expires = parse_ts(&record.payment.expires_at)
        .map(|t| t.timestamp())
        .unwrap_or(0);
    let token = super::link::issue(
        state.settings.auth.link_secret.expose(),
        &record.payment.payment_id,
        expires,
    );
    // The payer's pages speak the order's language from the first click on.
    let lang = if record.payment.locale == "en" {
        "&lang=en"
    } else {
        ""
    };
    format!(
        "{}/pay/{}?t={}{lang}",
        state.settings.base_url(),
        record.payment.payment_id,
        token
    )
}

/// Applies a gateway's verified word on an attempt; the caller has checked amount and merchant.
pub async fn settle(
    state: &Services,
    result: &GatewayResult,
) -> Result<ResultApplied, PaymentStoreError> {
    let applied = state
        .store
        .apply_gateway_result(result, state.clock.now())
        .await?;
    if applied == ResultApplied::Paid {
        state.delivery_kick.notify_one();
    }
    Ok(applied)
}

/// A full link to one of the payment's pages (`""` = the pay page, `/result`), with a fresh token.
pub fn visible_link(state: &Services, record: &PaymentRecord, suffix: &str) -> String {
    let url = pay_url(state, record);
    let id = &record.payment.payment_id;
    url.replacen(&format!("/pay/{id}?"), &format!("/pay/{id}{suffix}?"), 1)
}
