//! The payer's pages: server-rendered, no script, nothing from another host,
//! Vietnamese by default. Access is by a signed, expiring link token.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpResponse};
use askama::Template;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::clock::vietnam;
use crate::gateways::GatewayId;
use crate::http::texts::{for_lang, Texts};
use crate::money::format_vnd_plain;
use crate::payments::link::{self, LinkError};
use crate::payments::service;
use crate::payments::AttemptInput;
use crate::startup::AppState;
use crate::storage::parse_ts;
use crate::storage::payments::PaymentRecord;

const STYLESHEET: &str = include_str!("../../static/pay.css");

/// `45.000.000 đ`
pub fn money(dong: i64) -> String {
    format!("{} đ", format_vnd_plain(dong))
}

/// `14:05 20/11/2026` in Vietnam time.
pub fn local_time(t: DateTime<Utc>) -> String {
    t.with_timezone(&vietnam())
        .format("%H:%M %d/%m/%Y")
        .to_string()
}

fn local_date(ymd: &str) -> String {
    chrono::NaiveDate::parse_from_str(ymd, "%Y-%m-%d")
        .map(|d| d.format("%d/%m/%Y").to_string())
        .unwrap_or_else(|_| ymd.to_owned())
}

/// Headers every page carries: a strict CSP (no script at all), no framing, no caching of
/// payer data, no referrer (the link token is in the URL).
pub fn page(status: StatusCode, html: String, form_targets: &str) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            format!(
                "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'{form_targets}; \
                 frame-ancestors 'none'; base-uri 'none'"
            ),
        ))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(html)
}

/// Renders a page template; a template that cannot render is a logged 500, never a blank page.
pub fn render(status: StatusCode, template: &impl Template, form_targets: &str) -> HttpResponse {
    match template.render() {
        Ok(html) => page(status, html, form_targets),
        Err(e) => {
            tracing::error!(error = %e, "rendering a page");
            page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "<!DOCTYPE html><p>Đã có lỗi, vui lòng thử lại sau / Something went wrong</p>"
                    .into(),
                "",
            )
        }
    }
}

/// Origins that a payment form may lead to (after our redirect): the configured gateways.
fn form_targets(state: &AppState) -> String {
    let g = &state.settings.gateways;
    let mut out = String::new();
    let mut add = |url: &str| {
        if let Some(origin) = origin(url) {
            out.push(' ');
            out.push_str(&origin);
        }
    };
    if g.vnpay.enabled {
        add(&g.vnpay.payment_url);
    }
    if g.momo.enabled {
        add(&g.momo.endpoint);
        add("https://*.momo.vn");
    }
    if g.zalopay.enabled {
        add(&g.zalopay.endpoint);
        add("https://*.zalopay.vn");
    }
    out
}

fn origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split('/').next().filter(|h| !h.is_empty())?;
    Some(format!("{scheme}://{host}"))
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    t: &'a Texts,
    heading: &'a str,
    message: &'a str,
}

/// A plain error page in the payer's language.
pub fn error_page(
    status: StatusCode,
    lang: &str,
    heading_vi: &str,
    message_en: &str,
) -> HttpResponse {
    let t = for_lang(Some(lang));
    let (heading, message) = if t.lang == "en" {
        (message_en, "")
    } else {
        (heading_vi, message_en)
    };
    let view = ErrorPage {
        t,
        heading,
        message,
    };
    render(status, &view, "")
}

#[derive(Deserialize)]
pub struct LinkQuery {
    t: Option<String>,
    lang: Option<String>,
}

/// Loads the payment a link names and checks its token; an error page otherwise.
async fn open(state: &AppState, id: &str, q: &LinkQuery) -> Result<PaymentRecord, HttpResponse> {
    let lang = q.lang.as_deref().unwrap_or("vi");
    let not_found = || {
        error_page(
            StatusCode::NOT_FOUND,
            lang,
            "Không tìm thấy yêu cầu thanh toán",
            "This payment request was not found.",
        )
    };
    let record = match state.store.payment(id).await {
        Ok(Some(r)) => r,
        Ok(None) => return Err(not_found()),
        Err(e) => {
            tracing::error!(error = ?e, "loading a payment for its page");
            return Err(error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                lang,
                "Đã có lỗi, vui lòng thử lại sau",
                "Something went wrong; please try again later.",
            ));
        }
    };
    let token = q.t.as_deref().unwrap_or_default();
    match link::verify(
        state.settings.auth.link_secret.expose(),
        id,
        token,
        state.clock.now().timestamp(),
    ) {
        Ok(()) => Ok(record),
        Err(LinkError::Expired) => Err(error_page(
            StatusCode::FORBIDDEN,
            lang,
            "Liên kết thanh toán đã hết hạn",
            "This payment link has expired. Ask the portal for a new one.",
        )),
        Err(LinkError::Forged) => Err(error_page(
            StatusCode::FORBIDDEN,
            lang,
            "Liên kết thanh toán không hợp lệ",
            "This payment link is not valid.",
        )),
    }
}

fn link_params(q: &LinkQuery) -> String {
    let mut s = format!("t={}", q.t.as_deref().unwrap_or_default());
    if q.lang.as_deref() == Some("en") {
        s.push_str("&lang=en");
    }
    s
}

struct LineView {
    name: String,
    sub_item: Option<String>,
    due: Option<String>,
    days: Option<i64>,
    amount: String,
}

struct GatewayChoice {
    id: &'static str,
    label: &'static str,
    primary: bool,
}

struct QrView {
    demo: bool,
    svg: Option<String>,
    reference: String,
    account: String,
}

#[derive(Template)]
#[template(path = "pay.html")]
struct PayPage<'a> {
    t: &'a Texts,
    other_lang_url: String,
    dossier: String,
    payer: String,
    payment_id: String,
    expires: String,
    lines: Vec<LineView>,
    total: String,
    closed: Option<&'a str>,
    return_url: Option<String>,
    gateways: Vec<GatewayChoice>,
    attempt_action: String,
    vietqr: Option<QrView>,
}

/// `GET /pay/{id}?t=…`: what is owed, and the ways to pay it.
#[utoipa::path(get, path = "/pay/{id}", tag = "pages",
    params(("id" = String, Path, description = "pay_…"), ("t" = String, Query, description = "The signed link token of `pay_url`"),
           ("lang" = Option<String>, Query, description = "`en` for English; Vietnamese by default")),
    responses((status = 200, description = "The payer page (HTML)", content_type = "text/html"),
              (status = 403, description = "Forged or expired link"), (status = 404, description = "No such payment")))]
pub async fn pay(
    state: web::Data<AppState>,
    id: web::Path<String>,
    q: web::Query<LinkQuery>,
) -> HttpResponse {
    let record = match open(&state, &id, &q).await {
        Ok(r) => r,
        Err(page) => return page,
    };
    let t = for_lang(q.lang.as_deref());
    let p = &record.payment;
    let closed = match p.status.as_str() {
        "pending" | "processing"
            if parse_ts(&p.expires_at).is_ok_and(|e| e <= state.clock.now()) =>
        {
            Some(t.expired)
        }
        "pending" | "processing" => None,
        "expired" => Some(t.expired),
        "cancelled" => Some(t.cancelled),
        "refunded" => Some(t.refunded),
        _ => Some(t.already_paid),
    };
    let labels = [
        (GatewayId::Vnpay, "VNPay"),
        (GatewayId::Momo, "MoMo"),
        (GatewayId::Zalopay, "ZaloPay"),
    ];
    let gateways = labels
        .iter()
        .filter(|(g, _)| state.gateways.contains_key(g))
        .enumerate()
        .map(|(i, (g, label))| GatewayChoice {
            id: g.as_str(),
            label,
            primary: i == 0,
        })
        .collect();
    let vietqr = state.gateways.contains_key(&GatewayId::Vietqr).then(|| {
        let open_qr = record.attempts.iter().rev().find(|a| {
            a.gateway == "vietqr" && matches!(a.status.as_str(), "redirected" | "unknown")
        });
        let qr: Option<serde_json::Value> = open_qr
            .and_then(|a| a.qr.as_deref())
            .and_then(|q| serde_json::from_str(q).ok());
        let cfg = state
            .settings
            .vietqr_for(record.payment.agency_code.as_deref());
        QrView {
            demo: cfg.account_no.chars().all(|c| c == '0'),
            svg: qr
                .as_ref()
                .and_then(|q| q["svg"].as_str())
                .map(|s| s[s.find("<svg").unwrap_or(0)..].to_owned()),
            reference: qr
                .as_ref()
                .and_then(|q| q["reference"].as_str())
                .unwrap_or_default()
                .to_owned(),
            account: format!(
                "{} — {} ({})",
                cfg.account_no, cfg.account_name, cfg.bank_bin
            ),
        }
    });
    let payer: serde_json::Value = serde_json::from_str(&p.payer).unwrap_or_default();
    let other = if t.lang == "en" {
        String::new()
    } else {
        "&lang=en".into()
    };
    let view = PayPage {
        t,
        other_lang_url: format!(
            "/pay/{}?t={}{}",
            p.payment_id,
            q.t.as_deref().unwrap_or_default(),
            other
        ),
        dossier: p.dossier_code.clone().unwrap_or_else(|| "—".into()),
        payer: payer["name"].as_str().unwrap_or("—").to_owned(),
        payment_id: p.payment_id.clone(),
        expires: parse_ts(&p.expires_at).map(local_time).unwrap_or_default(),
        lines: record
            .lines
            .iter()
            .map(|l| LineView {
                name: l.name.clone(),
                sub_item: l.sub_item.clone(),
                due: l.due_date.as_deref().map(local_date),
                days: l.days,
                amount: money(l.amount),
            })
            .collect(),
        total: money(p.amount),
        closed,
        return_url: p.return_url.clone(),
        gateways,
        attempt_action: format!("/pay/{}/attempts?{}", p.payment_id, link_params(&q)),
        vietqr,
    };
    render(StatusCode::OK, &view, &form_targets(&state))
}

#[derive(Deserialize)]
pub struct ChooseForm {
    gateway: String,
}

/// `POST /pay/{id}/attempts?t=…` (form): starts the chosen gateway and sends the payer there.
#[utoipa::path(post, path = "/pay/{id}/attempts", tag = "pages",
    params(("id" = String, Path), ("t" = String, Query)),
    request_body(content = String, content_type = "application/x-www-form-urlencoded", description = "`gateway=vnpay|momo|zalopay|vietqr`"),
    responses((status = 303, description = "To the gateway, or back to the page with the VietQR code")))]
pub async fn choose(
    state: web::Data<AppState>,
    id: web::Path<String>,
    q: web::Query<LinkQuery>,
    form: web::Form<ChooseForm>,
    req: actix_web::HttpRequest,
) -> HttpResponse {
    let record = match open(&state, &id, &q).await {
        Ok(r) => r,
        Err(page) => return page,
    };
    let lang = q.lang.as_deref().unwrap_or("vi");
    let client_ip = req.connection_info().realip_remote_addr().map(|a| {
        a.rsplit_once(':')
            .filter(|(h, _)| !h.contains(':') || h.starts_with('['))
            .map(|(h, _)| h.trim_matches(['[', ']']).to_owned())
            .unwrap_or_else(|| a.to_owned())
    });
    // At most one live attempt per gateway from this page: asking again returns it.
    let now = state.clock.now();
    let live = record.attempts.iter().find(|a| {
        a.gateway == form.gateway
            && a.status == "redirected"
            && crate::storage::parse_ts(&a.expires_at).is_ok_and(|e| e > now)
    });
    if let Some(a) = live {
        let location = a.redirect_url.clone().unwrap_or_else(|| {
            format!(
                "/pay/{}?{}#qr-h",
                record.payment.payment_id,
                link_params(&q)
            )
        });
        return HttpResponse::SeeOther()
            .insert_header((header::LOCATION, location))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .finish();
    }
    let input = AttemptInput {
        gateway: form.gateway.clone(),
        bank_code: None,
        client_ip,
    };
    match service::start_attempt(&state, &record, &input, "payer").await {
        Ok(view) => {
            let location = view.redirect_url.unwrap_or_else(|| {
                format!(
                    "/pay/{}?{}#qr-h",
                    record.payment.payment_id,
                    link_params(&q)
                )
            });
            HttpResponse::SeeOther()
                .insert_header((header::LOCATION, location))
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .finish()
        }
        Err(crate::error::ApiError::InvalidState(_)) => error_page(
            StatusCode::CONFLICT,
            lang,
            "Yêu cầu này không còn thanh toán được",
            "This payment request can no longer be paid.",
        ),
        Err(crate::error::ApiError::GatewayUnavailable(_)) => error_page(
            StatusCode::BAD_GATEWAY,
            lang,
            "Cổng thanh toán đang không phản hồi, vui lòng thử lại hoặc chọn cách khác",
            "The gateway is not answering; try again or choose another way to pay.",
        ),
        Err(e) => {
            tracing::warn!(error = %e, "starting an attempt from the pay page");
            error_page(
                StatusCode::UNPROCESSABLE_ENTITY,
                lang,
                "Không thể dùng cách thanh toán này",
                "This way of paying cannot be used here.",
            )
        }
    }
}

#[derive(Template)]
#[template(path = "result.html")]
struct ResultPage<'a> {
    t: &'a Texts,
    refresh: bool,
    tone: &'a str,
    heading: &'a str,
    message: &'a str,
    dossier: String,
    total: String,
    paid_at: Option<String>,
    reference: Option<String>,
    retry_url: Option<String>,
    return_url: Option<String>,
}

#[utoipa::path(get, path = "/pay/{id}/result", tag = "pages",
    params(("id" = String, Path), ("t" = String, Query), ("lang" = Option<String>, Query)),
    responses((status = 200, description = "The outcome (HTML); refreshes every 2 s while not final", content_type = "text/html")))]
/// `GET /pay/{id}/result?t=…`: the outcome, from what the store recorded (never from the
/// browser's return parameters); refreshes itself while not final.
pub async fn result(
    state: web::Data<AppState>,
    id: web::Path<String>,
    q: web::Query<LinkQuery>,
) -> HttpResponse {
    let record = match open(&state, &id, &q).await {
        Ok(r) => r,
        Err(page) => return page,
    };
    let t = for_lang(q.lang.as_deref());
    let p = &record.payment;
    let pay_link = format!("/pay/{}?{}", p.payment_id, link_params(&q));
    let latest = record.attempts.last();
    let paid_attempt = record
        .attempts
        .iter()
        .find(|a| Some(&a.attempt_id) == p.paid_attempt_id.as_ref());
    let (tone, heading, message, refresh, retry) = match p.status.as_str() {
        "paid" | "partially_refunded" => ("ok", t.paid_heading, t.paid_message, false, false),
        "refunded" => ("warn", t.refunded, "", false, false),
        "expired" => ("warn", t.expired, "", false, false),
        "cancelled" => ("warn", t.cancelled, "", false, false),
        _ => match latest.map(|a| a.status.as_str()) {
            Some("redirected" | "unknown") => {
                ("", t.processing_heading, t.processing_message, true, false)
            }
            Some("failed" | "expired") => ("bad", t.failed_heading, t.failed_message, false, true),
            _ => ("warn", t.waiting_heading, t.waiting_message, false, true),
        },
    };
    let view = ResultPage {
        t,
        refresh,
        tone,
        heading,
        message,
        dossier: p.dossier_code.clone().unwrap_or_else(|| "—".into()),
        total: money(p.amount),
        paid_at: p
            .paid_at
            .as_deref()
            .and_then(|s| parse_ts(s).ok())
            .map(local_time),
        reference: paid_attempt.map(|a| match &a.gateway_txn_no {
            Some(no) => format!("{} ({} {})", a.txn_ref, a.gateway.to_uppercase(), no),
            None => a.txn_ref.clone(),
        }),
        retry_url: retry.then_some(pay_link),
        return_url: p.return_url.clone(),
    };
    render(StatusCode::OK, &view, "")
}

/// `GET /static/pay.css`
pub async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(STYLESHEET)
}
