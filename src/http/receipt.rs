//! The payer's confirmation: its HTML page and PDF behind the link token, the portal's copy,
//! and the public check page `/verify/{confirmation_no}`.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use crate::agencies::AgencyView;
use crate::auth::{Auth, ReadAccess};
use crate::clock::vietnam;
use crate::confirmation::texts::{for_lang as confirmation_texts, ConfirmationTexts};
use crate::confirmation::{self, Confirmation, ConfirmationError};
use crate::error::ApiError;
use crate::http::pages::{error_page, money, open, render, LinkQuery};
use crate::http::state::AppState;
use crate::http::texts::{for_lang, Texts};
use crate::payments::service;

struct LineRow {
    chapter: String,
    sub_item: String,
    name: String,
    amount: String,
}

struct GroupView {
    heading: String,
    lines: Vec<LineRow>,
}

#[derive(Template)]
#[template(path = "receipt.html")]
struct ReceiptPage<'a> {
    t: &'a Texts,
    c: &'a ConfirmationTexts,
    other_lang_url: String,
    no: String,
    agency: Option<AgencyView>,
    dossier: String,
    payer: String,
    groups: Vec<GroupView>,
    total: String,
    words: String,
    facts: Vec<(&'a str, String)>,
    qr_svg: String,
    verify_url: String,
    pdf_url: String,
}

/// Gateway, transaction number, reference, bank, time paid and refunds, as (label, value).
fn facts<'a>(c: &Confirmation, t: &'a ConfirmationTexts) -> Vec<(&'a str, String)> {
    let mut out = Vec::new();
    out.extend(c.gateway.clone().map(|g| (t.gateway, g)));
    out.extend(c.gateway_txn_no.clone().map(|n| (t.gateway_txn_no, n)));
    out.extend(c.reference.clone().map(|r| (t.reference, r)));
    out.extend(c.bank.clone().map(|b| (t.bank, b)));
    out.extend(c.paid_at.map(|at| {
        let local = at.with_timezone(&vietnam());
        (t.paid_at, local.format("%H:%M:%S %d/%m/%Y").to_string())
    }));
    for r in &c.refunds {
        let on = r.at.with_timezone(&vietnam()).format("%d/%m/%Y");
        out.push((
            t.refunds,
            format!("{} {} {on}", money(r.amount), t.refunded_on),
        ));
    }
    out
}

fn qr_svg(url: &str) -> String {
    use qrcode::render::svg;
    qrcode::QrCode::new(url.as_bytes())
        .map(|code| {
            code.render::<svg::Color<'_>>()
                .min_dimensions(160, 160)
                .quiet_zone(true)
                .build()
        })
        .map(|s| s[s.find("<svg").unwrap_or(0)..].to_owned())
        .unwrap_or_default()
}

/// The confirmation page's HTML (also the portal's `text/html` copy).
fn receipt_html(c: &Confirmation, link: Option<(&str, &str)>) -> HttpResponse {
    let t = for_lang(Some(c.lang));
    let ct = confirmation_texts(c.lang);
    let dash = || "—".to_owned();
    let (other_lang_url, pdf_url) = match link {
        Some((id, token)) => {
            let other = if c.lang == "en" { "" } else { "&lang=en" };
            let this = if c.lang == "en" { "&lang=en" } else { "" };
            (
                format!("/pay/{id}/receipt?t={token}{other}"),
                format!("/pay/{id}/receipt.pdf?t={token}{this}"),
            )
        }
        None => (String::new(), String::new()),
    };
    let view = ReceiptPage {
        t,
        c: ct,
        other_lang_url,
        no: c.confirmation_no.clone(),
        agency: c.agency.clone(),
        dossier: c.dossier.clone().unwrap_or_else(dash),
        payer: c.payer_name.clone().unwrap_or_else(dash),
        groups: c
            .groups
            .iter()
            .map(|g| GroupView {
                heading: match &g.notice_no {
                    Some(no) => format!("{} {no}", ct.notice_no),
                    None => ct.other_items.to_owned(),
                },
                lines: g
                    .lines
                    .iter()
                    .map(|l| LineRow {
                        chapter: l.chapter.clone().unwrap_or_else(dash),
                        sub_item: l.sub_item.clone().unwrap_or_else(dash),
                        name: match l.days {
                            Some(d) => format!("{} ({d} {})", l.name, ct.late_days),
                            None => l.name.clone(),
                        },
                        amount: money(l.amount),
                    })
                    .collect(),
            })
            .collect(),
        total: money(c.total),
        words: c.total_words.clone(),
        facts: facts(c, ct),
        qr_svg: qr_svg(&c.verify_url),
        verify_url: c.verify_url.clone(),
        pdf_url,
    };
    render(StatusCode::OK, &view, "")
}

fn pdf_response(c: &Confirmation) -> HttpResponse {
    match confirmation::pdf::render(c) {
        Ok(bytes) => HttpResponse::Ok()
            .content_type("application/pdf")
            .insert_header((
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{}.pdf\"", c.confirmation_no),
            ))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .body(bytes),
        Err(e) => {
            tracing::error!(error = %e, "rendering a confirmation PDF");
            HttpResponse::InternalServerError().finish()
        }
    }
}

/// The confirmation behind a payer link, or the error page to show instead.
async fn payer_confirmation(
    state: &AppState,
    id: &str,
    q: &LinkQuery,
) -> Result<Confirmation, HttpResponse> {
    let record = open(state, id, q).await?;
    let lang = q.lang.as_deref().unwrap_or("vi");
    match confirmation::load(state, &record, lang).await {
        Ok(c) => Ok(c),
        Err(ConfirmationError::NotPaid) => Err(error_page(
            StatusCode::CONFLICT,
            lang,
            "Khoản này chưa được thanh toán nên chưa có xác nhận nộp tiền",
            "This has not been paid, so there is no payment confirmation yet.",
        )),
        Err(ConfirmationError::Store(e)) => {
            tracing::error!(error = ?e, "loading a confirmation");
            Err(error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                lang,
                "Đã có lỗi, vui lòng thử lại sau",
                "Something went wrong; please try again later.",
            ))
        }
    }
}

/// `GET /pay/{id}/receipt?t=…`: the confirmation, print friendly.
#[utoipa::path(get, path = "/pay/{id}/receipt", tag = "pages",
    params(("id" = String, Path, description = "pay_…"), ("t" = String, Query, description = "The signed link token of `pay_url`"),
           ("lang" = Option<String>, Query, description = "`en` for English; Vietnamese by default")),
    responses((status = 200, description = "The payment confirmation (HTML)", content_type = "text/html"),
              (status = 403, description = "Forged or expired link"), (status = 404, description = "No such payment"),
              (status = 409, description = "The order is not paid")))]
pub async fn page(
    state: web::Data<AppState>,
    id: web::Path<String>,
    q: web::Query<LinkQuery>,
) -> HttpResponse {
    match payer_confirmation(&state, &id, &q).await {
        Ok(c) => receipt_html(&c, Some((&id, q.t.as_deref().unwrap_or_default()))),
        Err(page) => page,
    }
}

/// `GET /pay/{id}/receipt.pdf?t=…`: the confirmation as a PDF.
#[utoipa::path(get, path = "/pay/{id}/receipt.pdf", tag = "pages",
    params(("id" = String, Path, description = "pay_…"), ("t" = String, Query, description = "The signed link token of `pay_url`"),
           ("lang" = Option<String>, Query, description = "`en` for English; Vietnamese by default")),
    responses((status = 200, description = "The payment confirmation (PDF)", content_type = "application/pdf"),
              (status = 403, description = "Forged or expired link"), (status = 404, description = "No such payment"),
              (status = 409, description = "The order is not paid")))]
pub async fn pdf(
    state: web::Data<AppState>,
    id: web::Path<String>,
    q: web::Query<LinkQuery>,
) -> HttpResponse {
    match payer_confirmation(&state, &id, &q).await {
        Ok(c) => pdf_response(&c),
        Err(page) => page,
    }
}

/// `GET /v1/payments/{id}/receipt`: the confirmation for the portal, as PDF (`Accept:
/// application/pdf`) or HTML (otherwise), in the order's language.
#[utoipa::path(get, path = "/v1/payments/{id}/receipt", tag = "payments", security(("bearer" = [])),
    params(("id" = String, Path, description = "pay_…")),
    responses((status = 200, description = "The payment confirmation: `application/pdf` when the Accept header asks for it, else `text/html`",
               content(("application/pdf"), ("text/html"))),
              (status = 404, body = crate::http::errors::Problem), (status = 409, body = crate::http::errors::Problem, description = "The order is not paid")))]
pub async fn for_portal(
    auth: Auth<ReadAccess>,
    state: web::Data<AppState>,
    id: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let id = crate::http::extract::path_id(&id, crate::ids::PaymentId::parse, "payment")?;
    let record = service::visible(&state, &auth, &id).await?;
    let lang = if record.payment.locale == "en" {
        "en"
    } else {
        "vi"
    };
    let c = match confirmation::load(&state, &record, lang).await {
        Ok(c) => c,
        Err(ConfirmationError::NotPaid) => {
            return Err(ApiError::InvalidState(format!(
                "payment {} is {}: a confirmation exists once it is paid",
                record.payment.payment_id, record.payment.status
            )))
        }
        Err(ConfirmationError::Store(e)) => return Err(e.into()),
    };
    let wants_pdf = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/pdf"));
    Ok(if wants_pdf {
        pdf_response(&c)
    } else {
        receipt_html(&c, None)
    })
}
