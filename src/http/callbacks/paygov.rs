//! PayGov's browser return. It is browser-borne: without a configured return checksum it only
//! moves the attempt to `unknown` ("received, being confirmed") and a settlement file records
//! the money; with one, a return whose checksum verifies is decided like a callback.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use super::bounded::{disabled, query_has_nul};
use super::decide;
use crate::gateways::paygov::return_verified;
use crate::http::state::AppState;
use crate::storage::payments::{AttemptFailure, GatewayResult};
use crate::storage::transition::{CallbackClaim, CallbackOutcome};

fn bad_link() -> HttpResponse {
    crate::http::pages::error_page(
        StatusCode::BAD_REQUEST,
        "vi",
        "Liên kết trả về không hợp lệ",
        "The return link is not valid.",
    )
}

/// PayGov browser return.
#[utoipa::path(get, path = "/callbacks/paygov/return", tag = "callbacks",
    params(("orderId" = String, Query, description = "…and `errorCode`, `amount`, `transactionNo`, `checksum` and the other return fields")),
    responses((status = 303, description = "Redirects to the payer's result page; the attempt is `unknown` until a settlement file (or a configured return checksum) confirms it"),
        (status = 400, description = "A return that names no PayGov attempt or whose checksum is wrong")))]
pub async fn paygov_return(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    if !state.settings.gateways.paygov.enabled {
        return disabled();
    }
    let query = req.query_string();
    if query_has_nul(query) || query.len() > 8192 {
        return bad_link();
    }
    let params: HashMap<String, String> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let value = |k: &str| params.get(k).cloned();
    let order_id = value("orderId").unwrap_or_default();
    let paid = value("errorCode").as_deref() == Some("00");
    let outcome = match return_verified(&state.settings.gateways.paygov, value) {
        None if paid => crate::payments::rails::paygov_returned_unconfirmed(&state, &order_id)
            .await
            .map(|known| known.then_some(())),
        None => Ok(Some(())),
        Some(Ok(())) => confirmed(&state, &params, query).await.map(Some),
        Some(Err(_)) => Ok(None),
    };
    match outcome {
        Ok(Some(())) => super::returns::result_redirect(&state, &order_id).await,
        Ok(None) => bad_link(),
        Err(e) => {
            tracing::error!(error = ?e, "PayGov return failed");
            bad_link()
        }
    }
}

/// A return whose configured checksum verifies: decided like a callback.
async fn confirmed(
    state: &AppState,
    params: &HashMap<String, String>,
    query: &str,
) -> anyhow::Result<()> {
    let get = |k: &str| params.get(k).cloned().unwrap_or_default();
    let order_id = get("orderId");
    let code = get("errorCode");
    let amount = Some(get("amount"))
        .filter(|a| !a.is_empty() && a.len() < 19 && a.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|a| a.parse::<i64>().ok());
    let success = code == "00";
    let result = GatewayResult {
        txn_ref: order_id.clone(),
        success,
        amount: amount.unwrap_or(0),
        gateway_txn_no: Some(get("transactionNo")).filter(|n| !n.is_empty()),
        bank_code: Some(get("paygate")).filter(|n| !n.is_empty()),
        paid_at: None,
        source: "paygov.return".into(),
        failure: (!success).then(|| AttemptFailure {
            code: Some(code.chars().take(16).collect()),
            reason_vi: "PayGov báo giao dịch không thành công".into(),
            reason_en: "PayGov reports that the payment did not go through".into(),
        }),
    };
    let claim = CallbackClaim {
        callback_id: "",
        gateway: "paygov",
        txn_ref: &order_id,
        amount,
        result: Some(&result),
    };
    let answer_for = |o: &CallbackOutcome| o.verdict().to_owned();
    decide(state, claim, query.as_bytes(), &answer_for, "error").await?;
    Ok(())
}
