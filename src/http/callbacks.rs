//! Gateway callbacks: authenticated by the gateway's signature, not a token. Each handler hands
//! the exact bytes the gateway signed to [`payments::callbacks::receive`], which verifies,
//! logs, decides and applies them, and renders the answer it logged in the gateway's own form.
//! Callbacks that fail verification are limited per address; a verified one is never refused
//! for rate.
//!
//! [`payments::callbacks::receive`]: crate::payments::callbacks::receive

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

mod bounded;
mod dvcqg;
mod paygov;
mod returns;

use bounded::{disabled, failed};
pub use dvcqg::*;
pub use paygov::*;
pub use returns::*;

use crate::gateways::momo::callback::RECORDED;
use crate::gateways::vnpay::callback::ipn_answer;
use crate::gateways::vnpay::codes::IpnAnswer;
use crate::gateways::zalopay::callback::callback_answer;
use crate::gateways::zalopay::wire::CallbackAnswer;
use crate::gateways::GatewayId;
use crate::http::state::AppState;
use crate::payments::callbacks::{receive, Outcome, RawCallback, ReceiveError};

/// Receives one callback, counting its verdict.
async fn received(
    state: &AppState,
    req: &HttpRequest,
    gateway: GatewayId,
    payload: &[u8],
) -> Result<Outcome, ReceiveError> {
    let client = state.limits.client_of(req);
    let admit = || state.limits.unverified_callbacks.check(&client);
    let raw = RawCallback {
        gateway,
        payload,
        admit_unverified: &admit,
    };
    let outcome = receive(state, raw).await;
    let verdict = match &outcome {
        Ok(o) => Some(o.verdict()),
        Err(ReceiveError::Undecided(_)) => Some("error"),
        Err(_) => None,
    };
    if let Some(verdict) = verdict {
        state.metrics.operator.callback(gateway.as_str(), verdict);
    }
    outcome
}

fn vnpay_answer(answer: &IpnAnswer) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(answer.to_json())
}

/// VNPay IPN: the gateway's signed word on a payment.
#[utoipa::path(get, path = "/callbacks/vnpay/ipn", tag = "callbacks",
    params(("vnp_TxnRef" = String, Query, description = "…and every other vnp_* field VNPay signs")),
    responses((status = 200, description = "VNPay's answer codes: 00 recorded, 01 order not found, 02 already confirmed, 04 amount differs, 97 bad signature, 99 other",
        example = json!({"RspCode": "00", "Message": "Confirm Success"}))))]
pub async fn vnpay_ipn(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    if !state.settings.gateways.vnpay.enabled {
        return disabled();
    }
    let query = req.query_string().as_bytes();
    match received(&state, &req, GatewayId::Vnpay, query).await {
        Ok(outcome) => vnpay_answer(&ipn_answer(&outcome.answer)),
        Err(e) => failed(&e, "VNPay IPN", vnpay_answer(&IpnAnswer::unknown_error())),
    }
}

/// MoMo IPN: the gateway's signed word on a payment.
#[utoipa::path(post, path = "/callbacks/momo/ipn", tag = "callbacks",
    request_body(content = Object, description = "MoMo's signed IPN (HMAC-SHA256)"),
    responses((status = 204, description = "Recorded"), (status = 400, description = "Bad signature or body")))]
pub async fn momo_ipn(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    if !state.settings.gateways.momo.enabled {
        return disabled();
    }
    match received(&state, &req, GatewayId::Momo, &body).await {
        Ok(outcome) if outcome.answer == RECORDED => HttpResponse::NoContent().finish(),
        Ok(_) => HttpResponse::BadRequest().json(json!({"resultCode": 1, "message": "rejected"})),
        Err(e) => failed(&e, "MoMo IPN", HttpResponse::InternalServerError().finish()),
    }
}

/// ZaloPay callback: the gateway's signed word on a payment.
#[utoipa::path(post, path = "/callbacks/zalopay", tag = "callbacks",
    request_body(content = Object, description = "`{data, mac, type}`: mac = HMAC-SHA256(key2, data)"),
    responses((status = 200, description = "1 recorded, 2 duplicate, -1 bad mac", example = json!({"return_code": 1, "return_message": "success"}))))]
pub async fn zalopay_callback(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    if !state.settings.gateways.zalopay.enabled {
        return disabled();
    }
    match received(&state, &req, GatewayId::Zalopay, &body).await {
        Ok(outcome) => HttpResponse::Ok().json(callback_answer(&outcome.answer)),
        Err(e) => failed(
            &e,
            "ZaloPay callback",
            HttpResponse::Ok().json(CallbackAnswer::retry()),
        ),
    }
}
