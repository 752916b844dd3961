//! The payer's pages: server-rendered, one small script of our own (copy buttons, a bounded
//! refresh) that the pages work without, nothing from another host,
//! Vietnamese by default. Access is by a signed, expiring link token.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpResponse};
use askama::Template;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::clock::vietnam;
pub(crate) use crate::http::form_targets::form_targets;
use crate::http::state::AppState;
use crate::http::texts::{for_lang, Texts};
use crate::money::format_vnd_plain;
use crate::payments::link::{self, LinkError};
use crate::payments::service;
use crate::payments::AttemptInput;
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

pub(crate) fn local_date(ymd: &str) -> String {
    chrono::NaiveDate::parse_from_str(ymd, "%Y-%m-%d")
        .map(|d| d.format("%d/%m/%Y").to_string())
        .unwrap_or_else(|_| ymd.to_owned())
}

/// Headers every page carries: a strict CSP (no script but our own, on the pages that load it), no framing, no caching of
/// payer data, no referrer (the link token is in the URL).
pub fn page(status: StatusCode, html: String, form_targets: &str) -> HttpResponse {
    // Only a page that loads our one script may run it (the VietQR copy buttons, the result
    // page's bounded refresh); every other page runs none.
    let scripts = if html.contains(SCRIPT_TAG) {
        "script-src 'self'; "
    } else {
        ""
    };
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            format!(
                "default-src 'none'; {scripts}style-src 'self'; img-src 'self' data:; form-action 'self'{form_targets}; \
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
    pub(crate) t: Option<String>,
    pub(crate) lang: Option<String>,
    /// The result page: when it began refreshing itself (Unix seconds).
    pub(crate) since: Option<String>,
}

/// Loads the payment a link names and checks its token; an error page otherwise.
pub(crate) async fn open(
    state: &AppState,
    id: &str,
    q: &LinkQuery,
) -> Result<PaymentRecord, HttpResponse> {
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

pub(crate) fn link_params(q: &LinkQuery) -> String {
    let mut s = format!("t={}", q.t.as_deref().unwrap_or_default());
    if q.lang.as_deref() == Some("en") {
        s.push_str("&lang=en");
    }
    s
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
        a.gateway.as_str() == form.gateway
            && a.status == crate::payments::order::AttemptStatus::Redirected
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

const SCRIPT: &str = include_str!("../../static/pay.js");
/// How a page loads [`SCRIPT`].
const SCRIPT_TAG: &str = "<script src=\"/static/pay.js\"";

/// `GET /static/pay.js`: the copy buttons and the result page's bounded refresh.
pub async fn script() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(SCRIPT)
}

/// `GET /static/pay.css`
pub async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(STYLESHEET)
}
