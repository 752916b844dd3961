//! The public check of a confirmation number, and the PNG of a VietQR code for a payer who
//! pays from the phone that shows it.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::clock::vietnam;
use crate::confirmation::texts::{for_lang as confirmation_texts, ConfirmationTexts};
use crate::confirmation::{self, mask_name};
use crate::http::pages::{error_page, money, open, render, LinkQuery};
use crate::http::state::AppState;
use crate::http::texts::{for_lang, Texts};

#[derive(Template)]
#[template(path = "verify.html")]
struct VerifyPage<'a> {
    t: &'a Texts,
    c: &'a ConfirmationTexts,
    found: bool,
    tone: &'a str,
    outcome: &'a str,
    no: String,
    facts: Vec<(&'a str, String)>,
}

#[derive(Deserialize)]
pub struct LangQuery {
    lang: Option<String>,
}

/// `GET /verify/{confirmation_no}`: agency, dossier, total, time paid and the payer's name
/// masked; 404 for a number the service never gave.
#[utoipa::path(get, path = "/verify/{confirmation_no}", tag = "pages",
    params(("confirmation_no" = String, Path, description = "XN-…, as printed on the confirmation"),
           ("lang" = Option<String>, Query, description = "`en` for English; Vietnamese by default")),
    responses((status = 200, description = "The confirmation holds (HTML)", content_type = "text/html"),
              (status = 404, description = "No confirmation has this number (HTML)", content_type = "text/html")))]
pub async fn verify(
    state: web::Data<AppState>,
    no: web::Path<String>,
    q: web::Query<LangQuery>,
) -> HttpResponse {
    let lang = if q.lang.as_deref() == Some("en") {
        "en"
    } else {
        "vi"
    };
    let (t, c) = (for_lang(Some(lang)), confirmation_texts(lang));
    let found = match confirmation::number::normalise(&no) {
        Some(no) => match confirmation::find(&state, &no, lang).await {
            Ok(found) => found,
            Err(e) => {
                tracing::error!(error = %e, "checking a confirmation number");
                return error_page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    lang,
                    "Đã có lỗi, vui lòng thử lại sau",
                    "Something went wrong; please try again later.",
                );
            }
        },
        None => None,
    };
    let Some(found) = found else {
        let view = VerifyPage {
            t,
            c,
            found: false,
            tone: "bad",
            outcome: "",
            no: String::new(),
            facts: vec![],
        };
        return render(StatusCode::NOT_FOUND, &view, "");
    };
    let dash = || "—".to_owned();
    let mut facts = Vec::new();
    facts.extend(found.agency.as_ref().map(|a| (c.agency, a.name.clone())));
    facts.push((c.dossier, found.dossier.clone().unwrap_or_else(dash)));
    facts.push((
        c.payer,
        found
            .payer_name
            .as_deref()
            .map(mask_name)
            .unwrap_or_else(dash),
    ));
    facts.push((c.total, money(found.total)));
    facts.extend(found.paid_at.map(|at| {
        (
            c.paid_at,
            at.with_timezone(&vietnam())
                .format("%H:%M %d/%m/%Y")
                .to_string(),
        )
    }));
    let refunded = !found.refunds.is_empty();
    let view = VerifyPage {
        t,
        c,
        found: true,
        tone: if refunded { "warn" } else { "ok" },
        outcome: if refunded {
            c.verify_refunded
        } else {
            c.verify_ok
        },
        no: found.confirmation_no,
        facts,
    };
    render(StatusCode::OK, &view, "")
}

/// `GET /pay/{id}/qr.png?t=…`: the open VietQR code of the order as a PNG to save and open in
/// a banking app.
#[utoipa::path(get, path = "/pay/{id}/qr.png", tag = "pages",
    params(("id" = String, Path, description = "pay_…"), ("t" = String, Query, description = "The signed link token of `pay_url`")),
    responses((status = 200, description = "The VietQR code", content_type = "image/png"),
              (status = 403, description = "Forged or expired link"), (status = 404, description = "No open VietQR code")))]
pub async fn qr_png(
    state: web::Data<AppState>,
    id: web::Path<String>,
    q: web::Query<LinkQuery>,
) -> HttpResponse {
    let record = match open(&state, &id, &q).await {
        Ok(r) => r,
        Err(page) => return page,
    };
    let lang = q.lang.as_deref().unwrap_or("vi");
    let png = crate::payments::vietqr_view::open_payload(&record)
        .and_then(|payload| crate::payments::vietqr_view::png(&payload).ok());
    match png {
        Some(bytes) => HttpResponse::Ok()
            .content_type("image/png")
            .insert_header((
                header::CONTENT_DISPOSITION,
                format!(
                    "inline; filename=\"vietqr-{}.png\"",
                    record.payment.payment_id
                ),
            ))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .body(bytes),
        None => error_page(
            StatusCode::NOT_FOUND,
            lang,
            "Chưa có mã VietQR cho khoản này",
            "There is no open VietQR code for this payment.",
        ),
    }
}
