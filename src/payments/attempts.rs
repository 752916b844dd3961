//! Starting an attempt: the order sent to one gateway, for its whole amount, until the
//! attempt's (or the order's) expiry.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use super::AttemptInput;
use crate::app::Services;
use crate::error::ApiError;
use crate::gateways::adapters::{GatewayFailure, PaymentGateway, StartRequest, Started};
use crate::gateways::GatewayId;
use crate::ids::{new_id, IdKind};
use crate::storage::payments::{NewAttempt, PaymentRecord};
use crate::storage::{parse_ts, ts};

/// The view of a new attempt.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct AttemptView {
    pub id: String,
    pub gateway: String,
    pub status: String,
    pub redirect_url: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub qr: Option<serde_json::Value>,
    pub reference: String,
    pub amount: i64,
    pub expires_at: String,
}

/// Starts an attempt at a gateway for a payable order.
pub async fn start_attempt(
    state: &Services,
    record: &PaymentRecord,
    input: &AttemptInput,
    actor: &str,
) -> Result<AttemptView, ApiError> {
    let p = &record.payment;
    let (gateway_id, gateway) = enabled_gateway(state, p.agency_code.as_deref(), &input.gateway)?;
    let now = state.clock.now();
    let order_expires = payable_until(record, now)?;
    let attempt_id = new_id(IdKind::Attempt);
    let base_ref = attempt_id.trim_start_matches("att_").to_ascii_uppercase();
    let txn_ref = gateway.reference(&base_ref, now);
    let (expires, extend_order_to) = expiry(state, record, gateway_id, now, order_expires);
    let order_info = format!(
        "Thanh toan ho so {} ma {}",
        p.dossier_code.as_deref().unwrap_or("-"),
        base_ref
    );
    let facts = super::facts::of(record).map_err(ApiError::Internal)?;
    let started = gateway
        .start(&StartRequest {
            txn_ref: txn_ref.clone(),
            amount_vnd: p.amount,
            order_info,
            client_ip: input
                .client_ip
                .clone()
                .unwrap_or_else(|| "127.0.0.1".into()),
            bank_code: input.bank_code.clone(),
            locale: p.locale.clone(),
            created: now,
            expires,
            facts,
        })
        .await
        .map_err(refused_or_unavailable)?;
    let (redirect_url, qr) = where_next(started);
    let new = NewAttempt {
        attempt_id: attempt_id.clone(),
        gateway: gateway_id.as_str().to_owned(),
        txn_ref: txn_ref.clone(),
        amount: p.amount,
        redirect_url: redirect_url.clone(),
        qr: qr.as_ref().map(|q| q.to_string()),
        client_ip: input.client_ip.clone(),
        bank_code: input.bank_code.clone(),
        expires_at: expires,
        extend_order_to,
    };
    state
        .store
        .insert_attempt(&p.payment_id, &new, actor, now)
        .await?;
    Ok(AttemptView {
        id: attempt_id,
        gateway: gateway_id.as_str().to_owned(),
        status: "redirected".into(),
        redirect_url,
        qr,
        reference: txn_ref,
        amount: p.amount,
        expires_at: ts(expires),
    })
}

/// The gateway named `name`, as an order of `agency` uses it, when it is enabled there.
fn enabled_gateway<'a>(
    state: &'a Services,
    agency: Option<&str>,
    name: &str,
) -> Result<(GatewayId, &'a Arc<dyn PaymentGateway>), ApiError> {
    let gateway_id: GatewayId = name.parse().map_err(|_| {
        ApiError::invalid_field(
            "gateway",
            crate::wording::one_of(GatewayId::ALL.iter().map(|g| g.as_str())),
        )
    })?;
    let gateway = state.gateways.of(agency, gateway_id).ok_or_else(|| {
        ApiError::invalid_field("gateway", format!("{gateway_id} is not enabled here"))
    })?;
    Ok((gateway_id, gateway))
}

/// The order's expiry, when it can still be paid at `now`.
fn payable_until(record: &PaymentRecord, now: DateTime<Utc>) -> Result<DateTime<Utc>, ApiError> {
    let p = &record.payment;
    let order_expires = parse_ts(&p.expires_at)?;
    let payable = p.status.is_payable();
    if !payable || order_expires <= now {
        return Err(ApiError::InvalidState(format!(
            "the payment is {} and cannot be paid",
            p.status
        )));
    }
    Ok(order_expires)
}

/// When the attempt expires, and until when the order is extended for it: a bank transfer
/// (VietQR) keeps an order without interest open for days; any other attempt lives
/// `payments.attempt_ttl`, never past the order.
fn expiry(
    state: &Services,
    record: &PaymentRecord,
    gateway_id: GatewayId,
    now: DateTime<Utc>,
    order_expires: DateTime<Utc>,
) -> (DateTime<Utc>, Option<DateTime<Utc>>) {
    let has_interest = record
        .lines
        .iter()
        .any(|l| l.kind == crate::obligations::line::LineKind::LatePaymentInterest);
    if gateway_id == GatewayId::Vietqr && !has_interest {
        let until = now
            + Duration::from_std(state.settings.gateways.vietqr.order_ttl.0)
                .unwrap_or(Duration::hours(72));
        (until.max(order_expires), Some(until))
    } else {
        let attempt_ttl = Duration::from_std(state.settings.payments.attempt_ttl.0)
            .unwrap_or(Duration::minutes(15));
        ((now + attempt_ttl).min(order_expires), None)
    }
}

fn refused_or_unavailable(e: GatewayFailure) -> ApiError {
    match e {
        GatewayFailure::Refused(why) => ApiError::invalid_field("gateway", why),
        GatewayFailure::Unavailable(why) => ApiError::GatewayUnavailable(why),
    }
}

/// Where the payer goes next: a redirect URL, or a QR code to scan.
fn where_next(started: Started) -> (Option<String>, Option<serde_json::Value>) {
    match started {
        Started::Redirect(url) => (Some(url), None),
        Started::Qr {
            payload,
            svg,
            reference,
        } => (
            None,
            Some(serde_json::json!({"payload": payload, "svg": svg, "reference": reference})),
        ),
    }
}
