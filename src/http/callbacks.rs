//! Gateway callbacks: verified over the exact bytes signed, recorded with their verdict in their
//! own transaction, applied once by compare-and-set, answered with the gateway's own codes.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

mod bounded;
mod returns;

use bounded::{disabled, failed, Limited};
pub use returns::*;

use crate::gateways::vnpay::codes::IpnAnswer;
use crate::gateways::vnpay::wire::{parse_callback, verify_query};
use crate::gateways::{momo, zalopay, GatewayError};
use crate::ids::{new_id, IdKind};
use crate::money::format_vnd_plain;
use crate::payments::service;
use crate::startup::AppState;
use crate::storage::payments::{AttemptRow, CallbackRecord, GatewayResult, ResultApplied};

/// How a callback was judged before any transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    BadSignature,
    WrongMerchant,
    Malformed,
    UnknownReference,
    AmountMismatch,
    AlreadySettled,
    Valid,
}

impl Verdict {
    fn as_str(self) -> &'static str {
        match self {
            Self::BadSignature => "bad_signature",
            Self::WrongMerchant => "wrong_merchant",
            Self::Malformed => "malformed",
            Self::UnknownReference => "unknown_reference",
            Self::AmountMismatch => "amount_mismatch",
            Self::AlreadySettled => "already_settled",
            Self::Valid => "valid",
        }
    }

    /// Failed verification: kept bounded, limited per address, swept after retention.
    fn is_unverified(self) -> bool {
        matches!(
            self,
            Self::BadSignature | Self::Malformed | Self::WrongMerchant
        )
    }
}

/// Judges a verified callback against our attempt: unknown, wrong amount, already settled or valid.
fn judge(attempt: Option<&AttemptRow>, gateway: &str, amount: i64) -> Verdict {
    match attempt {
        None => Verdict::UnknownReference,
        Some(a) if a.gateway != gateway => Verdict::UnknownReference,
        Some(a) if a.amount != amount => Verdict::AmountMismatch,
        Some(a) if matches!(a.status.as_str(), "succeeded" | "failed") => Verdict::AlreadySettled,
        Some(_) => Verdict::Valid,
    }
}

struct Received<'a> {
    gateway: &'a str,
    /// The amount the callback claims, once its signature held.
    claimed_amount: Option<i64>,
    txn_ref: Option<&'a str>,
    attempt: Option<&'a AttemptRow>,
    verdict: Verdict,
    answer: &'a str,
    /// The callback as received: the query string or the body.
    payload: &'a [u8],
    /// The sender's address, for the limit on unverified callbacks.
    client: &'a str,
}

async fn record(state: &AppState, r: Received<'_>) -> anyhow::Result<()> {
    let unverified = r.verdict.is_unverified();
    if unverified {
        state
            .limits
            .unverified_callbacks
            .check(r.client, std::time::Instant::now())
            .map_err(Limited)?;
    }
    let kept = bounded::kept_text(r.payload, unverified);
    state
        .store
        .record_callback(
            &CallbackRecord {
                callback_id: &new_id(IdKind::Callback),
                gateway: r.gateway,
                txn_ref: r.txn_ref,
                payment_id: r.attempt.map(|a| a.payment_id.as_str()),
                verdict: r.verdict.as_str(),
                answer: r.answer,
                payload: &kept,
                payload_bytes: i64::try_from(r.payload.len()).unwrap_or(i64::MAX),
                payload_sha256: &bounded::sha256_hex(r.payload),
            },
            state.clock.now(),
        )
        .await?;
    if r.verdict == Verdict::AmountMismatch {
        if let Some(a) = r.attempt {
            let claimed = r.claimed_amount.map_or_else(
                || "another amount".to_owned(),
                |c| format!("{} đ", format_vnd_plain(c)),
            );
            let detail = format!(
                "{} callback for {} with {claimed}, not the attempt's {} đ",
                r.gateway,
                a.txn_ref,
                format_vnd_plain(a.amount)
            );
            state
                .store
                .flag_payment(&a.payment_id, "amount_mismatch", &detail, state.clock.now())
                .await?;
        }
    }
    Ok(())
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
    let client = state.limits.client_of(&req);
    match vnpay_ipn_inner(&state, req.query_string(), &client).await {
        Ok(answer) => vnpay_answer(&answer),
        Err(e) => failed(&e, "VNPay IPN", vnpay_answer(&IpnAnswer::unknown_error())),
    }
}

async fn vnpay_ipn_inner(state: &AppState, query: &str, client: &str) -> anyhow::Result<IpnAnswer> {
    let cfg = &state.settings.gateways.vnpay;
    let parsed = if bounded::query_has_nul(query) {
        Err(GatewayError::invalid(
            "query",
            "a value holds a NUL character",
        ))
    } else {
        parse_callback(query, cfg.hash_secret.expose())
    };
    let callback = match parsed {
        Ok(cb) => cb,
        // Signed, but an amount that is not whole đồng: it cannot be the attempt's amount.
        Err(GatewayError::InvalidField {
            field: "vnp_Amount",
            ..
        }) => {
            return vnpay_odd_amount(state, query, client).await;
        }
        Err(e) => {
            let (verdict, answer) = if e.is_signature() {
                (Verdict::BadSignature, IpnAnswer::invalid_signature())
            } else {
                (Verdict::Malformed, IpnAnswer::unknown_error())
            };
            record(
                state,
                Received {
                    claimed_amount: None,
                    gateway: "vnpay",
                    txn_ref: None,
                    attempt: None,
                    verdict,
                    answer: &answer.rsp_code,
                    payload: query.as_bytes(),
                    client,
                },
            )
            .await?;
            return Ok(answer);
        }
    };
    if callback.tmn_code != cfg.tmn_code {
        let answer = IpnAnswer::invalid_signature();
        record(
            state,
            Received {
                claimed_amount: None,
                gateway: "vnpay",
                txn_ref: Some(&callback.txn_ref),
                attempt: None,
                verdict: Verdict::WrongMerchant,
                answer: &answer.rsp_code,
                payload: query.as_bytes(),
                client,
            },
        )
        .await?;
        return Ok(answer);
    }
    let attempt = state.store.attempt_by_ref(&callback.txn_ref).await?;
    let verdict = judge(attempt.as_ref(), "vnpay", callback.amount_vnd);
    let early = match verdict {
        Verdict::UnknownReference => Some(IpnAnswer::order_not_found()),
        Verdict::AmountMismatch => Some(IpnAnswer::invalid_amount()),
        Verdict::AlreadySettled => Some(IpnAnswer::order_already_confirmed()),
        _ => None,
    };
    let provisional = early.clone().unwrap_or_else(IpnAnswer::confirm_success);
    record(
        state,
        Received {
            claimed_amount: Some(callback.amount_vnd),
            gateway: "vnpay",
            txn_ref: Some(&callback.txn_ref),
            attempt: attempt.as_ref(),
            verdict,
            answer: &provisional.rsp_code,
            payload: query.as_bytes(),
            client,
        },
    )
    .await?;
    if let Some(answer) = early {
        return Ok(answer);
    }
    let result = GatewayResult {
        txn_ref: callback.txn_ref.clone(),
        success: callback.is_success(),
        amount: callback.amount_vnd,
        gateway_txn_no: Some(callback.transaction_no.clone()).filter(|n| n != "0"),
        bank_code: callback.bank_code.clone(),
        paid_at: callback.pay_date,
        source: "vnpay.ipn".into(),
    };
    Ok(match service::settle(state, &result).await? {
        ResultApplied::AlreadyFinal => IpnAnswer::order_already_confirmed(),
        ResultApplied::Paid | ResultApplied::Flagged(_) | ResultApplied::Failed => {
            IpnAnswer::confirm_success()
        }
    })
}

/// A correctly signed IPN whose `vnp_Amount` is not a whole number of đồng: `04` for a known
/// reference (flagged), `01` otherwise.
async fn vnpay_odd_amount(
    state: &AppState,
    query: &str,
    client: &str,
) -> anyhow::Result<IpnAnswer> {
    let verified = verify_query(query, state.settings.gateways.vnpay.hash_secret.expose())?;
    let txn_ref = verified.get("vnp_TxnRef").unwrap_or_default().to_owned();
    let attempt = state
        .store
        .attempt_by_ref(&txn_ref)
        .await?
        .filter(|a| a.gateway == "vnpay");
    let (verdict, answer) = match &attempt {
        Some(_) => (Verdict::AmountMismatch, IpnAnswer::invalid_amount()),
        None => (Verdict::UnknownReference, IpnAnswer::order_not_found()),
    };
    record(
        state,
        Received {
            claimed_amount: None,
            gateway: "vnpay",
            txn_ref: Some(&txn_ref),
            attempt: attempt.as_ref(),
            verdict,
            answer: &answer.rsp_code,
            payload: query.as_bytes(),
            client,
        },
    )
    .await?;
    Ok(answer)
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

async fn momo_ipn_inner(state: &AppState, body: &[u8], client: &str) -> anyhow::Result<bool> {
    let cfg = &state.settings.gateways.momo;
    let payload = body;
    let parsed = if bounded::body_has_nul(body) {
        Err(GatewayError::Json("the body holds a NUL character".into()))
    } else {
        momo::wire::parse_ipn(body, cfg.access_key.expose(), cfg.secret_key.expose())
    };
    let ipn = match parsed {
        Ok(ipn) if ipn.partner_code == cfg.partner_code => ipn,
        Ok(ipn) => {
            record(
                state,
                Received {
                    claimed_amount: None,
                    gateway: "momo",
                    txn_ref: Some(&ipn.order_id),
                    attempt: None,
                    verdict: Verdict::WrongMerchant,
                    answer: "400",
                    payload,
                    client,
                },
            )
            .await?;
            return Ok(false);
        }
        Err(e) => {
            let verdict = if e.is_signature() {
                Verdict::BadSignature
            } else {
                Verdict::Malformed
            };
            record(
                state,
                Received {
                    claimed_amount: None,
                    gateway: "momo",
                    txn_ref: None,
                    attempt: None,
                    verdict,
                    answer: "400",
                    payload,
                    client,
                },
            )
            .await?;
            return Ok(false);
        }
    };
    let attempt = state.store.attempt_by_ref(&ipn.order_id).await?;
    let verdict = judge(attempt.as_ref(), "momo", ipn.amount_vnd);
    record(
        state,
        Received {
            claimed_amount: Some(ipn.amount_vnd),
            gateway: "momo",
            txn_ref: Some(&ipn.order_id),
            attempt: attempt.as_ref(),
            verdict,
            answer: "204",
            payload,
            client,
        },
    )
    .await?;
    if verdict != Verdict::Valid || ipn.is_pending() {
        return Ok(verdict != Verdict::UnknownReference);
    }
    service::settle(
        state,
        &GatewayResult {
            txn_ref: ipn.order_id.clone(),
            success: ipn.is_success(),
            amount: ipn.amount_vnd,
            gateway_txn_no: Some(ipn.trans_id.to_string()),
            bank_code: Some(ipn.pay_type.clone()).filter(|p| !p.is_empty()),
            paid_at: Some(ipn.response_time),
            source: "momo.ipn".into(),
        },
    )
    .await?;
    Ok(true)
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
            HttpResponse::Ok().json(zalopay::wire::CallbackAnswer::retry()),
        ),
    }
}

async fn zalopay_inner(
    state: &AppState,
    body: &[u8],
    client: &str,
) -> anyhow::Result<zalopay::wire::CallbackAnswer> {
    use zalopay::wire::CallbackAnswer;
    let cfg = &state.settings.gateways.zalopay;
    let payload = body;
    let parsed = if bounded::body_has_nul(body) {
        Err(GatewayError::Json("the body holds a NUL character".into()))
    } else {
        zalopay::wire::parse_callback(body, cfg.key2.expose())
    };
    let cb = match parsed {
        Ok(cb) => cb,
        Err(e) => {
            let verdict = if e.is_signature() {
                Verdict::BadSignature
            } else {
                Verdict::Malformed
            };
            record(
                state,
                Received {
                    claimed_amount: None,
                    gateway: "zalopay",
                    txn_ref: None,
                    attempt: None,
                    verdict,
                    answer: "-1",
                    payload,
                    client,
                },
            )
            .await?;
            return Ok(CallbackAnswer::bad_mac());
        }
    };
    let attempt = state.store.attempt_by_ref(&cb.app_trans_id).await?;
    let verdict = judge(attempt.as_ref(), "zalopay", cb.amount_vnd);
    let answer = match verdict {
        Verdict::AlreadySettled => CallbackAnswer::duplicate(),
        Verdict::UnknownReference => CallbackAnswer::retry(),
        _ => CallbackAnswer::success(),
    };
    record(
        state,
        Received {
            claimed_amount: Some(cb.amount_vnd),
            gateway: "zalopay",
            txn_ref: Some(&cb.app_trans_id),
            attempt: attempt.as_ref(),
            verdict,
            answer: &answer.return_code.to_string(),
            payload,
            client,
        },
    )
    .await?;
    if verdict != Verdict::Valid {
        return Ok(answer);
    }
    let applied = service::settle(
        state,
        &GatewayResult {
            txn_ref: cb.app_trans_id.clone(),
            success: true,
            amount: cb.amount_vnd,
            gateway_txn_no: Some(cb.zp_trans_id.to_string()),
            bank_code: None,
            paid_at: cb.server_time_utc(),
            source: "zalopay.callback".into(),
        },
    )
    .await?;
    Ok(if applied == ResultApplied::AlreadyFinal {
        CallbackAnswer::duplicate()
    } else {
        CallbackAnswer::success()
    })
}
