//! The built-in VNPay 2.1.0 simulator: a payment page with *Pay* and *Decline*,
//! a signed IPN to our own endpoint (waiting for its answer), a redirect to `vnp_ReturnUrl`, and
//! `querydr`/`refund` answers. It lets the whole flow run on one machine with no gateway account;
//! production refuses to start with it enabled.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::{DateTime, Utc};
use rand::Rng;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::gateways::vnpay::codes::{ApiResponseCode, ResponseCode, TransactionStatus};
use crate::gateways::vnpay::sandbox::{
    build_querydr_response, parse_payment_request, sign_callback_for,
};
use crate::gateways::vnpay::transaction::{
    signed_body, verify_body, TransactionResponse, REFUND_REQUEST_FIELDS,
};
use crate::gateways::vnpay::wire::{format_date, PaymentRequest, VnpayCallback};
use crate::http::pages::{error_page, local_time, money, render};
use crate::http::state::AppState;
use crate::http::texts::{for_lang, Texts};
use crate::payments;
use crate::payments::sandbox::SimulatedTxn;

#[derive(Template)]
#[template(path = "sandbox.html")]
struct SandboxPage<'a> {
    t: &'a Texts,
    merchant: String,
    amount: String,
    order_info: String,
    txn_ref: String,
    expires: String,
    query: String,
}

/// The secret of the merchant a payment URL names (`vnp_TmnCode`): the simulator signs as
/// that merchant, as VNPay signs with each merchant's own secret.
fn merchant_secret(state: &AppState, query: &str) -> crate::config::Secret {
    let tmn_code = form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "vnp_TmnCode")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    state.settings.vnpay_secret_of_merchant(&tmn_code)
}

/// `GET /sandbox/vnpay/paymentv2/vpcpay.html?…`: checks our signature as VNPay would.
#[utoipa::path(get, path = "/sandbox/vnpay/paymentv2/vpcpay.html", tag = "sandbox",
    params(("vnp_TxnRef" = String, Query, description = "…and every vnp_* parameter of a VNPay 2.1.0 payment URL")),
    responses((status = 200, description = "The simulated VNPay page with Pay and Decline (HTML; not mounted in production)", content_type = "text/html")))]
pub async fn payment_page(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let query = req.query_string();
    let secret = merchant_secret(&state, query);
    let secret = secret.expose();
    let request = match parse_payment_request(query, secret) {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(error = %e, "sandbox: refused a payment URL");
            return error_page(
                StatusCode::BAD_REQUEST,
                "vi",
                "Sai chữ ký (checksum) hoặc tham số",
                "The payment URL's signature or parameters are wrong.",
            );
        }
    };
    let t = for_lang(Some(if request.locale.as_str() == "en" {
        "en"
    } else {
        "vi"
    }));
    let view = SandboxPage {
        t,
        merchant: request.tmn_code.clone(),
        amount: money(request.amount_vnd),
        order_info: request.order_info.clone(),
        txn_ref: request.txn_ref.clone(),
        expires: local_time(request.expire_date),
        query: query.to_owned(),
    };
    render(StatusCode::OK, &view, "")
}

#[derive(Deserialize)]
pub struct Decision {
    q: String,
    decision: String,
}

/// `POST /sandbox/vnpay/paymentv2/complete`: the payer's decision. Signs the IPN, calls it and
/// waits for the answer, then sends the browser to the return URL with the same parameters.
pub async fn complete(state: web::Data<AppState>, form: web::Form<Decision>) -> HttpResponse {
    let secret = merchant_secret(&state, &form.q);
    let secret = secret.expose();
    let Ok(request) = parse_payment_request(&form.q, secret) else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "vi",
            "Sai chữ ký (checksum)",
            "The payment URL's signature is wrong.",
        );
    };
    let callback = simulated_callback(&request, &form.decision, state.clock.now());
    let signed = sign_callback_for(&callback, secret);
    let txn = SimulatedTxn {
        txn_ref: &request.txn_ref,
        signed: &signed,
        response_code: callback.response_code.code(),
        transaction_no: &callback.transaction_no,
    };
    if let Err(e) = payments::sandbox::record(&state, &txn).await {
        tracing::error!(error = ?e, "sandbox: recording the transaction");
    }
    call_ipn(&state, &request.txn_ref, &signed).await;
    let sep = if request.return_url.contains('?') {
        '&'
    } else {
        '?'
    };
    HttpResponse::SeeOther()
        .insert_header((
            header::LOCATION,
            format!("{}{}{}", request.return_url, sep, signed),
        ))
        .finish()
}

/// What VNPay would report for the payer's decision: paid, declined, or too late.
fn simulated_callback(
    request: &PaymentRequest,
    decision: &str,
    now: DateTime<Utc>,
) -> VnpayCallback {
    let (response_code, status, transaction_no) = if request.expire_date < now {
        ("11", "02", "0".to_owned())
    } else if decision == "pay" {
        let no: u32 = rand::thread_rng().gen_range(10_000_000..99_999_999);
        ("00", "00", no.to_string())
    } else {
        ("24", "02", "0".to_owned())
    };
    let paid = transaction_no != "0";
    VnpayCallback {
        tmn_code: request.tmn_code.clone(),
        txn_ref: request.txn_ref.clone(),
        amount_vnd: request.amount_vnd,
        response_code: ResponseCode::from_code(response_code),
        transaction_status: TransactionStatus::from_code(status),
        bank_code: Some("NCB".into()),
        bank_tran_no: paid.then(|| format!("VNP{transaction_no}")),
        transaction_no,
        card_type: Some("ATM".into()),
        pay_date: Some(now),
        order_info: Some(request.order_info.clone()),
    }
}

/// Calls our own IPN with the signed callback and waits for its answer (logged only).
async fn call_ipn(state: &AppState, txn_ref: &str, signed: &str) {
    let ipn = format!(
        "{}/callbacks/vnpay/ipn?{}",
        state.settings.base_url(),
        signed
    );
    match reqwest::Client::new()
        .get(&ipn)
        .timeout(std::time::Duration::from_secs(10))
        .send()
        .await
    {
        Ok(res) => {
            let body = res.text().await.unwrap_or_default();
            tracing::info!(%txn_ref, answer = %body, "sandbox: IPN answered");
        }
        Err(e) => {
            tracing::warn!(%txn_ref, error = %e.without_url(), "sandbox: IPN not answered; querydr will tell")
        }
    }
}

/// `POST /sandbox/vnpay/merchant_webapi/api/transaction`: `querydr` and `refund`.
#[utoipa::path(post, path = "/sandbox/vnpay/merchant_webapi/api/transaction", tag = "sandbox",
    request_body(content = Object, description = "A signed VNPay querydr or refund request"),
    responses((status = 200, description = "A signed VNPay answer")))]
pub async fn transaction_api(state: web::Data<AppState>, body: web::Bytes) -> HttpResponse {
    let parsed = serde_json::from_slice::<Value>(&body).ok();
    let command = parsed
        .as_ref()
        .and_then(|v| v["vnp_Command"].as_str().map(str::to_owned));
    let tmn_code = parsed
        .as_ref()
        .and_then(|v| v["vnp_TmnCode"].as_str())
        .unwrap_or_default();
    let secret = state.settings.vnpay_secret_of_merchant(tmn_code);
    let secret = secret.expose();
    match command.as_deref() {
        Some("querydr") => querydr(&state, &body, secret).await,
        Some("refund") => refund(&state, &body, secret).await,
        _ => HttpResponse::Ok()
            .json(json!({"vnp_ResponseCode": "03", "vnp_Message": "Invalid request format"})),
    }
}

async fn querydr(state: &AppState, body: &[u8], secret: &str) -> HttpResponse {
    let request = match crate::gateways::vnpay::sandbox::parse_querydr_request(body, secret) {
        Ok(r) => r,
        Err(_) => {
            return HttpResponse::Ok()
                .json(json!({"vnp_ResponseCode": "97", "vnp_Message": "Invalid checksum"}))
        }
    };
    let found = payments::sandbox::find(state, &request.txn_ref)
        .await
        .ok()
        .flatten();
    let response = match found {
        Some(txn) => TransactionResponse {
            response_id: ulid::Ulid::new().to_string(),
            command: "querydr".into(),
            response_code: ApiResponseCode::from_code("00"),
            message: "QueryDR Success".into(),
            tmn_code: request.tmn_code.clone(),
            txn_ref: request.txn_ref.clone(),
            amount_vnd: txn.amount_vnd,
            bank_code: Some("NCB".into()),
            pay_date: txn.pay_date,
            transaction_no: Some(txn.transaction_no.clone()),
            transaction_type: Some("01".into()),
            transaction_status: Some(TransactionStatus::from_code(if txn.response_code == "00" {
                "00"
            } else {
                "02"
            })),
            order_info: Some(request.order_info.clone()),
            promotion_code: None,
            promotion_amount: None,
        },
        None => TransactionResponse {
            response_id: ulid::Ulid::new().to_string(),
            command: "querydr".into(),
            response_code: ApiResponseCode::from_code("91"),
            message: "Transaction not found".into(),
            tmn_code: request.tmn_code.clone(),
            txn_ref: request.txn_ref.clone(),
            amount_vnd: None,
            bank_code: None,
            pay_date: None,
            transaction_no: None,
            transaction_type: None,
            transaction_status: None,
            order_info: None,
            promotion_code: None,
            promotion_amount: None,
        },
    };
    match build_querydr_response(&response, secret) {
        Ok(v) => HttpResponse::Ok().json(v),
        Err(_) => HttpResponse::Ok()
            .json(json!({"vnp_ResponseCode": "99", "vnp_Message": "Unknown error"})),
    }
}

async fn refund(state: &AppState, body: &[u8], secret: &str) -> HttpResponse {
    let Ok(map) = verify_body(body, &REFUND_REQUEST_FIELDS, secret) else {
        return HttpResponse::Ok()
            .json(json!({"vnp_ResponseCode": "97", "vnp_Message": "Invalid checksum"}));
    };
    let get = |k: &str| {
        map.get(k)
            .and_then(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .or_else(|| v.as_i64().map(|n| n.to_string()))
            })
            .unwrap_or_default()
    };
    let txn_ref = get("vnp_TxnRef");
    let found = payments::sandbox::find(state, &txn_ref)
        .await
        .ok()
        .flatten();
    let code = match &found {
        Some(t) if t.response_code == "00" => "00",
        Some(_) => "95",
        None => "91",
    };
    let fields = vec![
        ("vnp_ResponseId", ulid::Ulid::new().to_string()),
        ("vnp_Command", "refund".to_owned()),
        ("vnp_ResponseCode", code.to_owned()),
        (
            "vnp_Message",
            if code == "00" {
                "Refund success".into()
            } else {
                "Refund refused".into()
            },
        ),
        ("vnp_TmnCode", get("vnp_TmnCode")),
        ("vnp_TxnRef", txn_ref),
        ("vnp_Amount", get("vnp_Amount")),
        ("vnp_BankCode", "NCB".to_owned()),
        ("vnp_PayDate", format_date(state.clock.now())),
        (
            "vnp_TransactionNo",
            found.map(|t| t.transaction_no).unwrap_or_default(),
        ),
        ("vnp_TransactionType", get("vnp_TransactionType")),
        (
            "vnp_TransactionStatus",
            if code == "00" {
                "05".into()
            } else {
                "02".into()
            },
        ),
        ("vnp_OrderInfo", get("vnp_OrderInfo")),
    ];
    HttpResponse::Ok().json(signed_body(&fields, secret))
}
