//! The built-in simulators of the national rails, speaking both protocols with the configured
//! keys: the DVCQG payment platform (`/sandbox/dvcqg/…`: create message → page with *Pay* and
//! *Decline* → the signed result POSTed to `/callbacks/dvcqg`, then the browser returned) and
//! PayGov (`/sandbox/paygov/…`: create → page → the browser returned with the result). The
//! simulators keep no state: what the page and its buttons need travels in the page's URL —
//! PayGov's request signed as it came, and for DVCQG a [`Ticket`] the simulator tags itself.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpResponse};
use askama::Template;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::gateways::dvcqg::wire::{self, InitMessage, ResultMessage};
use crate::gateways::paygov;
use crate::http::pages::{error_page, money, render};
use crate::http::state::AppState;
use crate::http::texts::{for_lang, Texts};

#[derive(Template)]
#[template(path = "sandbox_rail.html")]
struct RailPage<'a> {
    t: &'a Texts,
    title: &'a str,
    note: &'a str,
    merchant: String,
    amount: String,
    order_info: String,
    reference: String,
    action: &'a str,
    message: String,
}

#[derive(Deserialize)]
pub struct PageQuery {
    m: String,
}

#[derive(Deserialize)]
pub struct Decision {
    m: String,
    decision: String,
}

fn refused() -> HttpResponse {
    error_page(
        StatusCode::BAD_REQUEST,
        "vi",
        "Sai chữ ký (checksum) hoặc tham số",
        "The payment request's signature or parameters are wrong.",
    )
}

fn encode(v: &impl serde::Serialize) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap_or_default())
}

fn decode<T: serde::de::DeserializeOwned>(m: &str) -> Option<T> {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(m.as_bytes()).ok()?).ok()
}

/// What the DVCQG simulator's page and buttons need of a create message it has verified. The
/// message itself lists a fee entry per order line in its receipt, so an order of 5,000 lines
/// made a page address of about a megabyte; the ticket stays the same size whatever the order.
/// It is tagged with HMAC-SHA256 under the partner's key, so it cannot be altered on the way.
#[derive(Serialize, Deserialize)]
struct Ticket {
    partner_code: String,
    reference: String,
    amount: String,
    currency: String,
    description: String,
    language: String,
}

impl Ticket {
    fn of(msg: &InitMessage) -> Self {
        Self {
            partner_code: msg.partner_code.clone(),
            reference: msg.reference.clone(),
            amount: msg.amount.clone(),
            currency: msg.currency.clone(),
            description: msg.description.clone(),
            language: msg.language.clone(),
        }
    }

    /// `<payload>.<tag>`: the ticket as base64url JSON, and its HMAC-SHA256 (hex) under `key`.
    fn seal(&self, key: &str) -> String {
        let payload = encode(self);
        let tag = crate::gateways::hmac_sha256_hex(key.as_bytes(), payload.as_bytes());
        format!("{payload}.{tag}")
    }

    /// A sealed ticket whose tag verifies (in constant time) under a key of its partner, with
    /// that key.
    fn open(state: &AppState, sealed: &str) -> Option<(Self, String)> {
        let (payload, tag) = sealed.split_once('.')?;
        let ticket: Self = decode(payload)?;
        crate::gateways::dvcqg::keys(&state.settings)
            .into_iter()
            .filter(|(partner, _)| *partner == ticket.partner_code)
            .find(|(_, key)| {
                crate::gateways::verify_hmac_sha256_hex(key.as_bytes(), payload.as_bytes(), tag)
                    .is_ok()
            })
            .map(|(_, key)| (ticket, key))
    }
}

/// A create message signed with a key landpay holds, with its key.
fn dvcqg_verified(state: &AppState, msg: &InitMessage) -> Option<String> {
    crate::gateways::dvcqg::keys(&state.settings)
        .into_iter()
        .find(|(partner, key)| *partner == msg.partner_code && msg.verify(key).is_ok())
        .map(|(_, key)| key)
}

/// `POST /sandbox/dvcqg/init`: checks `MaXacThuc` as the platform would; answers `UrlThanhToan`.
#[utoipa::path(post, path = "/sandbox/dvcqg/init", tag = "sandbox",
    request_body(content = Object, description = "A signed DVCQG create message"),
    responses((status = 200, description = "`{MaLoi: 00, UrlThanhToan}` or `{MaLoi: 99}` (not mounted in production)")))]
pub async fn dvcqg_init(state: web::Data<AppState>, body: web::Bytes) -> HttpResponse {
    let msg = serde_json::from_slice::<InitMessage>(&body).ok();
    match msg.and_then(|m| dvcqg_verified(&state, &m).map(|key| Ticket::of(&m).seal(&key))) {
        Some(ticket) => HttpResponse::Ok().json(json!({
            "MaLoi": wire::OK, "MoTaLoi": "Thành công",
            "UrlThanhToan": format!("{}/sandbox/dvcqg/pay?m={ticket}", state.settings.base_url()),
        })),
        None => HttpResponse::Ok()
            .json(json!({"MaLoi": wire::REFUSED, "MoTaLoi": "Sai mã xác thực hoặc bản tin"})),
    }
}

/// `GET /sandbox/dvcqg/pay?m=`: the platform's payment page.
pub async fn dvcqg_page(state: web::Data<AppState>, q: web::Query<PageQuery>) -> HttpResponse {
    let Some((msg, _)) = Ticket::open(&state, &q.m) else {
        return refused();
    };
    let t = for_lang(Some(if msg.language == "en" { "en" } else { "vi" }));
    let view = RailPage {
        t,
        title: "Nền tảng thanh toán DVCQG (thử nghiệm) / DVCQG payment platform (sandbox)",
        note: "landpay — DVCQG sandbox",
        merchant: msg.partner_code.clone(),
        amount: money(msg.amount.parse().unwrap_or(0)),
        order_info: msg.description.clone(),
        reference: msg.reference.clone(),
        action: "/sandbox/dvcqg/complete",
        message: q.m.clone(),
    };
    render(StatusCode::OK, &view, "")
}

/// `POST /sandbox/dvcqg/complete`: signs the result, POSTs it to `/callbacks/dvcqg` and waits
/// for the answer, then returns the browser with the signed result.
pub async fn dvcqg_complete(state: web::Data<AppState>, form: web::Form<Decision>) -> HttpResponse {
    let Some((msg, key)) = Ticket::open(&state, &form.m) else {
        return refused();
    };
    let paid = form.decision == "pay";
    let no: u32 = rand::thread_rng().gen_range(10_000_000..99_999_999);
    let result = ResultMessage {
        message_type: state.settings.gateways.dvcqg.message_types.result.clone(),
        code: if paid { wire::OK } else { "24" }.into(),
        partner_code: msg.partner_code.clone(),
        reference: msg.reference.clone(),
        amount: msg.amount.clone(),
        currency: msg.currency.clone(),
        transaction_no: if paid {
            format!("DVC{no}")
        } else {
            String::new()
        },
        bank_code: "NCB".into(),
        time: wire::format_time(state.clock.now()),
        description: msg.description.clone(),
        mac: String::new(),
    }
    .sign(&key);
    let base = state.settings.base_url();
    match reqwest::Client::new()
        .post(format!("{base}/callbacks/dvcqg"))
        .json(&result.to_json())
        .timeout(std::time::Duration::from_secs(10))
        .send()
        .await
    {
        Ok(res) => {
            let body = res.text().await.unwrap_or_default();
            tracing::info!(reference = %msg.reference, answer = %body, "sandbox: DVCQG result answered");
        }
        Err(e) => {
            tracing::warn!(reference = %msg.reference, error = %e.without_url(), "sandbox: DVCQG result not answered")
        }
    }
    let query = serde_urlencoded::to_string(
        result
            .to_json()
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default(),
    )
    .unwrap_or_default();
    HttpResponse::SeeOther()
        .insert_header((
            header::LOCATION,
            format!("{base}/callbacks/dvcqg/return?{query}"),
        ))
        .finish()
}

/// A PayGov create request whose checksum verifies with the configured keys.
fn paygov_verified(state: &AppState, v: &Value) -> bool {
    let cfg = &state.settings.gateways.paygov;
    let s = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
    v.is_object()
        && s("partnerCode") == cfg.partner_code
        && s("accessKey") == cfg.access_key.expose()
        && paygov::verify_checksum(
            &[
                cfg.secret_key.expose(),
                &s("accessKey"),
                &s("partnerCode"),
                &s("orderId"),
                &s("requestCode"),
                &s("amount"),
            ],
            &s("checksum"),
        )
        .is_ok()
}

/// `POST /sandbox/paygov/create`: checks the checksum as PayGov would; answers `data.url`.
#[utoipa::path(post, path = "/sandbox/paygov/create", tag = "sandbox",
    request_body(content = Object, description = "A PayGov create request"),
    responses((status = 200, description = "`{data: {url}}` or `{message}` (not mounted in production)")))]
pub async fn paygov_create(state: web::Data<AppState>, body: web::Bytes) -> HttpResponse {
    match serde_json::from_slice::<Value>(&body) {
        Ok(v) if paygov_verified(&state, &v) => HttpResponse::Ok().json(json!({
            "data": {"url": format!("{}/sandbox/paygov/pay?m={}", state.settings.base_url(), encode(&v))}
        })),
        _ => HttpResponse::Ok().json(json!({"message": "invalid checksum or request"})),
    }
}

/// `GET /sandbox/paygov/pay?m=`: PayGov's payment page.
pub async fn paygov_page(state: web::Data<AppState>, q: web::Query<PageQuery>) -> HttpResponse {
    let Some(v) = decode::<Value>(&q.m).filter(|v| paygov_verified(&state, v)) else {
        return refused();
    };
    let s = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
    let view = RailPage {
        t: for_lang(Some("vi")),
        title: "PayGov (thử nghiệm) / PayGov (sandbox)",
        note: "landpay — PayGov sandbox",
        merchant: s("partnerCode"),
        amount: money(s("amount").parse().unwrap_or(0)),
        order_info: s("orderInfo"),
        reference: s("orderId"),
        action: "/sandbox/paygov/complete",
        message: q.m.clone(),
    };
    render(StatusCode::OK, &view, "")
}

/// `POST /sandbox/paygov/complete`: returns the browser to `returnUrl` with the result (and its
/// checksum where `return_checksum_fields` is configured).
pub async fn paygov_complete(
    state: web::Data<AppState>,
    form: web::Form<Decision>,
) -> HttpResponse {
    let Some(v) = decode::<Value>(&form.m).filter(|v| paygov_verified(&state, v)) else {
        return refused();
    };
    let s = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
    let paid = form.decision == "pay";
    let no: u32 = rand::thread_rng().gen_range(10_000_000..99_999_999);
    let mut fields: Vec<(String, String)> = vec![
        ("paygate".into(), "SANDBOX".into()),
        ("orderId".into(), s("orderId")),
        ("errorCode".into(), if paid { "00" } else { "24" }.into()),
        ("amount".into(), s("amount")),
        ("orderInfo".into(), s("orderInfo")),
        ("requestCode".into(), s("requestCode")),
        (
            "transactionNo".into(),
            if paid {
                format!("PG{no}")
            } else {
                String::new()
            },
        ),
        ("transactionCode".into(), format!("{no}")),
        ("payDate".into(), wire::format_time(state.clock.now())),
        ("type".into(), "1".into()),
    ];
    let cfg = &state.settings.gateways.paygov;
    if !cfg.return_checksum_fields.is_empty() {
        let mut parts = vec![cfg.secret_key.expose().to_owned()];
        for f in &cfg.return_checksum_fields {
            let value = fields.iter().find(|(k, _)| k == f).map(|(_, v)| v.clone());
            parts.push(value.unwrap_or_default());
        }
        let refs: Vec<&str> = parts.iter().map(String::as_str).collect();
        fields.push(("checksum".into(), paygov::checksum(&refs)));
    }
    let return_url = s("returnUrl");
    let sep = if return_url.contains('?') { '&' } else { '?' };
    let query = serde_urlencoded::to_string(&fields).unwrap_or_default();
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, format!("{return_url}{sep}{query}")))
        .finish()
}
