//! Gateway callbacks: authenticated by the gateway's signature, verified over the exact bytes
//! it signed before anything else, committed to the callback log as received, then decided and
//! applied once in one transaction that also writes the verdict and the answer to the log —
//! the answer then sent is the one logged. Callbacks that fail verification are kept bounded
//! and limited per address; a verified one is never refused for rate.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

mod bounded;
mod dvcqg;
mod paygov;
mod returns;

use bounded::{disabled, failed, Limited};
pub use dvcqg::*;
pub use paygov::*;
pub use returns::*;

use crate::gateways::momo;
use crate::gateways::vnpay::codes::{IpnAnswer, ResponseCode};
use crate::gateways::vnpay::wire::{parse_callback, verify_query, VnpayCallback};
use crate::gateways::zalopay;
use crate::gateways::zalopay::wire::CallbackAnswer;
use crate::gateways::GatewayError;
use crate::http::state::AppState;
use crate::ids::{new_id, IdKind};
use crate::payments::credentials;
use crate::storage::payments::{AttemptFailure, CallbackRecord, GatewayResult, ResultApplied};
use crate::storage::transition::{CallbackClaim, CallbackOutcome};

/// Commits a callback to the log in its own statement; returns its id. An unverified one keeps
/// its first 2,048 bytes; size and digest always describe the whole payload.
async fn log_callback(
    state: &AppState,
    gateway: &str,
    txn_ref: Option<&str>,
    verdict_answer: (&str, &str),
    payload: &[u8],
    unverified: bool,
) -> anyhow::Result<String> {
    let id = new_id(IdKind::Callback);
    let text = bounded::kept_text(payload, unverified);
    let sha = bounded::sha256_hex(payload);
    state
        .store
        .record_callback(
            &CallbackRecord {
                callback_id: &id,
                gateway,
                txn_ref,
                verdict: verdict_answer.0,
                answer: verdict_answer.1,
                payload: &text,
                payload_bytes: i64::try_from(payload.len()).unwrap_or(i64::MAX),
                payload_sha256: &sha,
            },
            state.clock.now(),
        )
        .await?;
    Ok(id)
}

/// Logs a callback that failed verification (`bad_signature`, `malformed`, `wrong_merchant`)
/// with the answer sent, unless its sender is over the limit: then it is stored nowhere and
/// answered 429 ([`Limited`]).
async fn log_unverified(
    state: &AppState,
    client: &str,
    gateway: &str,
    txn_ref: Option<&str>,
    verdict_answer: (&str, &str),
    payload: &[u8],
) -> anyhow::Result<()> {
    state
        .limits
        .unverified_callbacks
        .check(client)
        .map_err(Limited)?;
    log_callback(state, gateway, txn_ref, verdict_answer, payload, true).await?;
    state.metrics.operator.callback(gateway, verdict_answer.0);
    Ok(())
}

/// A verified callback: logged as received, then decided and applied in one transaction that
/// logs the answer `answer_for` gives. A failure after the log was written logs the answer
/// `on_error` (what the caller then sends).
async fn decide(
    state: &AppState,
    claim: CallbackClaim<'_>,
    payload: &[u8],
    answer_for: &(dyn Fn(&CallbackOutcome) -> String + Sync),
    on_error: &str,
) -> anyhow::Result<CallbackOutcome> {
    let id = log_callback(
        state,
        claim.gateway,
        Some(claim.txn_ref),
        ("received", ""),
        payload,
        false,
    )
    .await?;
    let claim = CallbackClaim {
        callback_id: &id,
        ..claim
    };
    match state
        .store
        .decide_callback(&claim, answer_for, state.clock.now())
        .await
    {
        Ok((outcome, _)) => {
            state
                .metrics
                .operator
                .callback(claim.gateway, outcome.verdict());
            if matches!(outcome, CallbackOutcome::Applied(ResultApplied::Paid)) {
                state.delivery_kick.notify_one();
            }
            Ok(outcome)
        }
        Err(e) => {
            state.metrics.operator.callback(claim.gateway, "error");
            if let Err(log_error) = state.store.record_callback_error(&id, on_error).await {
                tracing::error!(error = ?log_error, callback_id = %id, "could not log the answer to a failed callback");
            }
            Err(e.into())
        }
    }
}

fn vnpay_answer(answer: &IpnAnswer) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(answer.to_json())
}

/// VNPay's answer to a decided IPN: `00` also for a recorded failed payment and for money
/// recorded on an order that could no longer take it.
fn vnpay_answer_for(outcome: &CallbackOutcome) -> IpnAnswer {
    match outcome {
        CallbackOutcome::UnknownReference => IpnAnswer::order_not_found(),
        CallbackOutcome::AmountMismatch => IpnAnswer::invalid_amount(),
        CallbackOutcome::AlreadySettled => IpnAnswer::order_already_confirmed(),
        CallbackOutcome::Noted | CallbackOutcome::Applied(_) => IpnAnswer::confirm_success(),
    }
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
    let client = state.limits.client_of(&req);
    match vnpay_ipn_inner(&state, req.query_string(), &client).await {
        Ok(answer) => vnpay_answer(&answer),
        Err(e) => failed(&e, "VNPay IPN", vnpay_answer(&IpnAnswer::unknown_error())),
    }
}

async fn vnpay_ipn_inner(state: &AppState, query: &str, client: &str) -> anyhow::Result<IpnAnswer> {
    let reference = credentials::vnpay_reference(query);
    let agency = credentials::agency_of_reference(state, reference.as_deref()).await?;
    let cfg = &state.settings.vnpay_for(agency.as_deref());
    let parsed = if bounded::query_has_nul(query) {
        Err(GatewayError::invalid(
            "query",
            "a value holds a NUL character",
        ))
    } else {
        parse_callback(query, cfg.hash_secret.expose())
    };
    let callback = match parsed {
        Ok(cb) if cb.tmn_code == cfg.tmn_code => cb,
        Ok(cb) => {
            let answer = IpnAnswer::invalid_signature();
            let logged = ("wrong_merchant", answer.rsp_code.as_str());
            let txn_ref = Some(cb.txn_ref.as_str());
            log_unverified(state, client, "vnpay", txn_ref, logged, query.as_bytes()).await?;
            return Ok(answer);
        }
        // Signed, but an amount that is not whole đồng: it cannot be the attempt's amount.
        Err(GatewayError::InvalidField {
            field: "vnp_Amount",
            ..
        }) => {
            let verified = verify_query(query, cfg.hash_secret.expose())?;
            let txn_ref = verified.get("vnp_TxnRef").unwrap_or_default().to_owned();
            let claim = CallbackClaim {
                callback_id: "",
                gateway: "vnpay",
                txn_ref: &txn_ref,
                amount: None,
                result: None,
            };
            return vnpay_decided(state, claim, query).await;
        }
        Err(e) => {
            let (verdict, answer) = if e.is_signature() {
                ("bad_signature", IpnAnswer::invalid_signature())
            } else {
                ("malformed", IpnAnswer::unknown_error())
            };
            log_unverified(
                state,
                client,
                "vnpay",
                None,
                (verdict, &answer.rsp_code),
                query.as_bytes(),
            )
            .await?;
            return Ok(answer);
        }
    };
    let result = vnpay_result(&callback);
    let claim = CallbackClaim {
        callback_id: "",
        gateway: "vnpay",
        txn_ref: &callback.txn_ref,
        amount: Some(callback.amount_vnd),
        result: Some(&result),
    };
    vnpay_decided(state, claim, query).await
}

async fn vnpay_decided(
    state: &AppState,
    claim: CallbackClaim<'_>,
    query: &str,
) -> anyhow::Result<IpnAnswer> {
    let error = IpnAnswer::unknown_error().rsp_code;
    let answer_for = |o: &CallbackOutcome| vnpay_answer_for(o).rsp_code;
    let outcome = decide(state, claim, query.as_bytes(), &answer_for, &error).await?;
    Ok(vnpay_answer_for(&outcome))
}

fn vnpay_result(callback: &VnpayCallback) -> GatewayResult {
    let failure = (!callback.is_success()).then(|| {
        // The response code says why; when it says nothing, the transaction status does.
        let code = if callback.response_code == ResponseCode::Success {
            callback.transaction_status.code().to_owned()
        } else {
            callback.response_code.code().to_owned()
        };
        let (vi, en) = if callback.response_code == ResponseCode::Success {
            (
                callback.transaction_status.meaning_vi(),
                callback.transaction_status.meaning_en(),
            )
        } else {
            (
                callback.response_code.meaning_vi(),
                callback.response_code.meaning_en(),
            )
        };
        AttemptFailure {
            code: Some(code),
            reason_vi: vi.to_owned(),
            reason_en: en.to_owned(),
        }
    });
    GatewayResult {
        txn_ref: callback.txn_ref.clone(),
        success: callback.is_success(),
        amount: callback.amount_vnd,
        gateway_txn_no: Some(callback.transaction_no.clone()).filter(|n| n != "0"),
        bank_code: callback.bank_code.clone(),
        paid_at: callback.pay_date,
        source: "vnpay.ipn".into(),
        failure,
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
    let client = state.limits.client_of(&req);
    match momo_ipn_inner(&state, &body, &client).await {
        Ok(true) => HttpResponse::NoContent().finish(),
        Ok(false) => {
            HttpResponse::BadRequest().json(json!({"resultCode": 1, "message": "rejected"}))
        }
        Err(e) => failed(&e, "MoMo IPN", HttpResponse::InternalServerError().finish()),
    }
}

/// MoMo's answer (an HTTP status) to a decided IPN.
fn momo_answer_for(outcome: &CallbackOutcome) -> String {
    match outcome {
        CallbackOutcome::UnknownReference => "400".into(),
        _ => "204".into(),
    }
}

async fn momo_ipn_inner(state: &AppState, body: &[u8], client: &str) -> anyhow::Result<bool> {
    let reference = credentials::momo_reference(body);
    let agency = credentials::agency_of_reference(state, reference.as_deref()).await?;
    let cfg = &state.settings.momo_for(agency.as_deref());
    let parsed = if bounded::body_has_nul(body) {
        Err(GatewayError::Json("the body holds a NUL character".into()))
    } else {
        momo::wire::parse_ipn(body, cfg.access_key.expose(), cfg.secret_key.expose())
    };
    let ipn = match parsed {
        Ok(ipn) if ipn.partner_code == cfg.partner_code => ipn,
        Ok(ipn) => {
            log_unverified(
                state,
                client,
                "momo",
                Some(&ipn.order_id),
                ("wrong_merchant", "400"),
                body,
            )
            .await?;
            return Ok(false);
        }
        Err(e) => {
            let verdict = if e.is_signature() {
                "bad_signature"
            } else {
                "malformed"
            };
            log_unverified(state, client, "momo", None, (verdict, "400"), body).await?;
            return Ok(false);
        }
    };
    let result = GatewayResult {
        txn_ref: ipn.order_id.clone(),
        success: ipn.is_success(),
        amount: ipn.amount_vnd,
        gateway_txn_no: Some(ipn.trans_id.to_string()),
        bank_code: Some(ipn.pay_type.clone()).filter(|p| !p.is_empty()),
        paid_at: Some(ipn.response_time),
        source: "momo.ipn".into(),
        failure: Some(AttemptFailure {
            code: Some(ipn.result_code.to_string()),
            reason_vi: ipn.message.clone(),
            reason_en: ipn.message.clone(),
        }),
    };
    let claim = CallbackClaim {
        callback_id: "",
        gateway: "momo",
        txn_ref: &ipn.order_id,
        amount: Some(ipn.amount_vnd),
        result: (!ipn.is_pending()).then_some(&result),
    };
    let outcome = decide(state, claim, body, &momo_answer_for, "500").await?;
    Ok(momo_answer_for(&outcome) == "204")
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
    let client = state.limits.client_of(&req);
    match zalopay_inner(&state, &body, &client).await {
        Ok(a) => HttpResponse::Ok().json(a),
        Err(e) => failed(
            &e,
            "ZaloPay callback",
            HttpResponse::Ok().json(CallbackAnswer::retry()),
        ),
    }
}

/// ZaloPay's answer to a decided callback (`0` makes it call again).
fn zalopay_answer_for(outcome: &CallbackOutcome) -> CallbackAnswer {
    match outcome {
        CallbackOutcome::AlreadySettled => CallbackAnswer::duplicate(),
        CallbackOutcome::UnknownReference => CallbackAnswer::retry(),
        _ => CallbackAnswer::success(),
    }
}

async fn zalopay_inner(
    state: &AppState,
    body: &[u8],
    client: &str,
) -> anyhow::Result<CallbackAnswer> {
    let reference = credentials::zalopay_reference(body);
    let agency = credentials::agency_of_reference(state, reference.as_deref()).await?;
    let cfg = &state.settings.zalopay_for(agency.as_deref());
    let parsed = if bounded::body_has_nul(body) {
        Err(GatewayError::Json("the body holds a NUL character".into()))
    } else {
        zalopay::wire::parse_callback(body, cfg.key2.expose())
    };
    let cb = match parsed {
        Ok(cb) => cb,
        Err(e) => {
            let verdict = if e.is_signature() {
                "bad_signature"
            } else {
                "malformed"
            };
            log_unverified(state, client, "zalopay", None, (verdict, "-1"), body).await?;
            return Ok(CallbackAnswer::bad_mac());
        }
    };
    // ZaloPay calls back for successful payments only.
    let result = GatewayResult {
        txn_ref: cb.app_trans_id.clone(),
        success: true,
        amount: cb.amount_vnd,
        gateway_txn_no: Some(cb.zp_trans_id.to_string()),
        bank_code: None,
        paid_at: cb.server_time_utc(),
        source: "zalopay.callback".into(),
        failure: None,
    };
    let claim = CallbackClaim {
        callback_id: "",
        gateway: "zalopay",
        txn_ref: &cb.app_trans_id,
        amount: Some(cb.amount_vnd),
        result: Some(&result),
    };
    let answer_for = |o: &CallbackOutcome| zalopay_answer_for(o).return_code.to_string();
    let retry = CallbackAnswer::retry().return_code.to_string();
    let outcome = decide(state, claim, body, &answer_for, &retry).await?;
    Ok(zalopay_answer_for(&outcome))
}
