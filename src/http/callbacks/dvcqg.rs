//! The DVCQG payment platform's result message and browser return. `MaXacThuc` is checked in
//! constant time against the service's key and every agency's before anything else; a verified
//! result then takes the same decision path as a VNPay IPN.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::bounded::{body_has_nul, disabled, failed, query_has_nul};
use super::{decide, log_unverified};
use crate::gateways::dvcqg::keys;
use crate::gateways::dvcqg::wire::{self, ResultMessage, ResultReply};
use crate::gateways::GatewayError;
use crate::http::state::AppState;
use crate::storage::payments::{AttemptFailure, GatewayResult};
use crate::storage::transition::{CallbackClaim, CallbackOutcome};

/// The partner code whose key signed `msg`, if any. A message without `MaDoiTac` is tried
/// with each partner code in turn (each one is part of what is signed).
pub fn verified_partner(state: &AppState, msg: &ResultMessage) -> Option<String> {
    keys(&state.settings)
        .into_iter()
        .filter(|(partner, _)| msg.partner_code.is_empty() || *partner == msg.partner_code)
        .find(|(partner, key)| {
            let mut m = msg.clone();
            m.partner_code.clone_from(partner);
            m.verify(key).is_ok()
        })
        .map(|(partner, _)| partner)
}

/// The platform's answer to a decided result: `99` only for an unknown reference.
fn answer_for(outcome: &CallbackOutcome) -> String {
    match outcome {
        CallbackOutcome::UnknownReference => wire::REFUSED.into(),
        _ => wire::OK.into(),
    }
}

fn reply(state: &AppState, code: &str, partner: &str, reference: &str) -> ResultReply {
    let message = if code == wire::OK {
        "Thành công"
    } else {
        "Không xử lý được bản tin"
    };
    ResultReply {
        code: code.to_owned(),
        message: message.to_owned(),
        partner_code: partner.to_owned(),
        reference: reference.to_owned(),
        time: wire::format_time(state.clock.now()),
    }
}

/// DVCQG payment platform: the signed result of a payment.
#[utoipa::path(post, path = "/callbacks/dvcqg", tag = "callbacks",
    request_body(content = Object, description = "The platform's result message; `MaXacThuc` = SHA-256 of LoaiBanTin|MaLoi|MaDoiTac|MaThamChieu|SoTien|MaTienTe|MaGiaoDich|MaNganHang|ThoiGianGD|ThongTinGiaoDich|key"),
    responses((status = 200, description = "`MaLoi` 00 recorded (duplicates included), 99 bad signature, unknown reference or malformed body",
        example = json!({"MaLoi": "00", "MoTaLoi": "Thành công", "MaDoiTac": "LANDPAY", "MaThamChieu": "B3M0D5N6D2CQ1W3V9HZX", "ThoiGianGD": "20261202093000"}))))]
pub async fn dvcqg_result(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    if !state.settings.gateways.dvcqg.enabled {
        return disabled();
    }
    let client = state.limits.client_of(&req);
    match dvcqg_inner(&state, &body, &client).await {
        Ok(answer) => HttpResponse::Ok().json(answer),
        Err(e) => {
            let partner = state.settings.gateways.dvcqg.partner_code.clone();
            let fallback = HttpResponse::Ok().json(reply(&state, wire::REFUSED, &partner, ""));
            failed(&e, "DVCQG result", fallback)
        }
    }
}

async fn dvcqg_inner(state: &AppState, body: &[u8], client: &str) -> anyhow::Result<ResultReply> {
    let own = state.settings.gateways.dvcqg.partner_code.clone();
    let parsed = if body_has_nul(body) {
        Err(GatewayError::Json("the body holds a NUL character".into()))
    } else {
        ResultMessage::parse(body)
    };
    let msg = match parsed {
        Ok(m) => m,
        Err(e) => {
            let verdict = if e.is_signature() {
                "bad_signature"
            } else {
                "malformed"
            };
            log_unverified(state, client, "dvcqg", None, (verdict, wire::REFUSED), body).await?;
            return Ok(reply(state, wire::REFUSED, &own, ""));
        }
    };
    let Some(partner) = verified_partner(state, &msg) else {
        let logged = ("bad_signature", wire::REFUSED);
        log_unverified(state, client, "dvcqg", None, logged, body).await?;
        return Ok(reply(state, wire::REFUSED, &own, &msg.reference));
    };
    if !crate::payments::rails::dvcqg_partner_matches(state, &msg.reference, &partner).await? {
        let logged = ("wrong_merchant", wire::REFUSED);
        let txn_ref = Some(msg.reference.as_str());
        log_unverified(state, client, "dvcqg", txn_ref, logged, body).await?;
        return Ok(reply(state, wire::REFUSED, &partner, &msg.reference));
    }
    let result = gateway_result(&msg);
    let claim = CallbackClaim {
        callback_id: "",
        gateway: "dvcqg",
        txn_ref: &msg.reference,
        amount: msg.amount_vnd(),
        result: Some(&result),
    };
    let outcome = decide(state, claim, body, &answer_for, wire::REFUSED).await?;
    Ok(reply(
        state,
        &answer_for(&outcome),
        &partner,
        &msg.reference,
    ))
}

fn gateway_result(msg: &ResultMessage) -> GatewayResult {
    let success = msg.code == wire::OK;
    GatewayResult {
        txn_ref: msg.reference.clone(),
        success,
        amount: msg.amount_vnd().unwrap_or(0),
        gateway_txn_no: Some(msg.transaction_no.clone()).filter(|n| !n.is_empty()),
        bank_code: Some(msg.bank_code.clone()).filter(|b| !b.is_empty()),
        paid_at: wire::parse_time(&msg.time),
        source: "dvcqg.result".into(),
        failure: (!success).then(|| AttemptFailure {
            code: Some(msg.code.chars().take(16).collect()),
            reason_vi: format!(
                "Cổng DVCQG báo giao dịch không thành công (mã {})",
                msg.code.chars().take(16).collect::<String>()
            ),
            reason_en: format!(
                "The DVCQG payment platform reports that the payment did not go through (code {})",
                msg.code.chars().take(16).collect::<String>()
            ),
        }),
    }
}

/// DVCQG browser return: the signed result again, as query parameters; verified, it changes
/// nothing and leads the payer to the result page.
#[utoipa::path(get, path = "/callbacks/dvcqg/return", tag = "callbacks",
    params(("MaThamChieu" = String, Query, description = "…and every other field of the signed result")),
    responses((status = 303, description = "Verified, changes nothing; redirects to the payer's result page")))]
pub async fn dvcqg_return(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    if !state.settings.gateways.dvcqg.enabled {
        return disabled();
    }
    let query = req.query_string();
    let map: serde_json::Map<String, serde_json::Value> = form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), json!(v)))
        .collect();
    let body = serde_json::Value::Object(map).to_string();
    let verified = (!query_has_nul(query))
        .then(|| ResultMessage::parse(body.as_bytes()).ok())
        .flatten()
        .filter(|m| verified_partner(&state, m).is_some());
    match verified {
        Some(m) => super::returns::result_redirect(&state, &m.reference).await,
        None => crate::http::pages::error_page(
            StatusCode::BAD_REQUEST,
            "vi",
            "Liên kết trả về không hợp lệ",
            "The return link is not valid.",
        ),
    }
}
