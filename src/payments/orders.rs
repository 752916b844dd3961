//! Reading and closing payment orders: the list a caller may see, one order as its payer's page
//! loads it, the payer's choice of gateway, cancelling a pending order, and an order's history
//! of events and audit records.

use serde_json::Value;

use crate::app::Services;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::ids::PaymentId;
use crate::payments::link::{self, LinkError};
use crate::payments::order::{PaymentStatus, ALL_STATUSES};
use crate::payments::service;
use crate::payments::AttemptInput;
use crate::storage::payments::PaymentRecord;
use crate::storage::{parse_ts, ts};

/// What a list of orders is narrowed to; the times are RFC 3339 (`created_from` inclusive,
/// `created_to` exclusive).
#[derive(Default)]
pub struct ListFilter<'a> {
    pub agency_code: Option<&'a str>,
    pub dossier_code: Option<&'a str>,
    pub status: Option<&'a str>,
    pub created_from: Option<&'a str>,
    pub created_to: Option<&'a str>,
}

fn time_param(field: &str, value: Option<&str>) -> Result<Option<String>, ApiError> {
    value
        .map(|v| {
            parse_ts(v)
                .map(ts)
                .map_err(|_| ApiError::invalid_field(field, "must be an RFC 3339 time"))
        })
        .transpose()
}

/// Up to `limit` orders the caller may see after `after`, newest first. An agency-bound caller
/// asking for another agency gets none.
pub async fn list(
    state: &Services,
    caller: &Caller,
    filter: &ListFilter<'_>,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<PaymentRecord>, ApiError> {
    if filter
        .status
        .is_some_and(|s| PaymentStatus::parse(s).is_none())
    {
        return Err(ApiError::invalid_field(
            "status",
            crate::wording::one_of(ALL_STATUSES.iter().map(|s| s.as_str())),
        ));
    }
    let agency = match (caller.agency_scope(), filter.agency_code) {
        (Some(mine), Some(asked)) if mine != asked => return Ok(Vec::new()),
        (Some(mine), _) => Some(mine),
        (None, asked) => asked,
    };
    Ok(state
        .store
        .payments(
            agency,
            filter.dossier_code,
            filter.status,
            time_param("created_from", filter.created_from)?.as_deref(),
            time_param("created_to", filter.created_to)?.as_deref(),
            after,
            limit,
        )
        .await?)
}

/// Why a payer's link does not open its order.
#[derive(Debug)]
pub enum LinkRefused {
    /// No such order.
    NotFound,
    /// The token is not one this service signed for the order.
    Forged,
    /// The token was good and has expired.
    Expired,
    /// The order could not be read.
    Failed(ApiError),
}

/// The order a payer's link names, when its token (signed, expiring) is good.
pub async fn open_by_link(
    state: &Services,
    id: &str,
    token: &str,
) -> Result<PaymentRecord, LinkRefused> {
    let record = match state.store.payment(id).await {
        Ok(Some(r)) => r,
        Ok(None) => return Err(LinkRefused::NotFound),
        Err(e) => return Err(LinkRefused::Failed(e.into())),
    };
    let secret = state.settings.auth.link_secret.expose();
    match link::verify(secret, id, token, state.clock.now().timestamp()) {
        Ok(()) => Ok(record),
        Err(LinkError::Expired) => Err(LinkRefused::Expired),
        Err(LinkError::Forged) => Err(LinkRefused::Forged),
    }
}

/// Starts the gateway a payer chose on the pay page, at most one live attempt per gateway
/// (choosing it again returns the live one); where to send the payer, or `None` when the page
/// itself shows the code to pay (VietQR).
pub async fn start_for_payer(
    state: &Services,
    record: &PaymentRecord,
    input: &AttemptInput,
) -> Result<Option<String>, ApiError> {
    let now = state.clock.now();
    let live = record.attempts.iter().find(|a| {
        a.gateway.as_str() == input.gateway
            && a.status == super::order::AttemptStatus::Redirected
            && parse_ts(&a.expires_at).is_ok_and(|e| e > now)
    });
    if let Some(a) = live {
        return Ok(a.redirect_url.clone());
    }
    let view = service::start_attempt(state, record, input, "payer").await?;
    Ok(view.redirect_url)
}

/// Cancels a pending order the caller may see; the order as it now is.
pub async fn cancel(
    state: &Services,
    caller: &Caller,
    id: &PaymentId,
) -> Result<PaymentRecord, ApiError> {
    let record = service::visible(state, caller, id).await?;
    state
        .store
        .cancel_payment(&record.payment.payment_id, &caller.sub, state.clock.now())
        .await?;
    state.delivery_kick.notify_one();
    service::visible(state, caller, id).await
}

/// The events and audit records of an order the caller may see, oldest first.
pub async fn history(
    state: &Services,
    caller: &Caller,
    id: &PaymentId,
) -> Result<Vec<Value>, ApiError> {
    let record = service::visible(state, caller, id).await?;
    Ok(state
        .store
        .payment_history(&record.payment.payment_id)
        .await?)
}
