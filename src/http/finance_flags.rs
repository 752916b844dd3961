//! Flagged payments in the finance dashboard (`/finance/flags`), resolved with a note.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::clock::parse_ts;
use crate::exports::labels;
use crate::http::finance::Chrome;
use crate::http::finance_auth::{self, render};
use crate::http::finance_recon::error_page;
use crate::http::pages::local_time;
use crate::http::state::AppState;
use crate::payments::flags;

struct FlagView {
    payment_id: String,
    flag: String,
    label_vi: &'static str,
    label_en: &'static str,
    detail: Option<String>,
    created_at: String,
}

#[derive(Template)]
#[template(path = "finance_flags.html")]
struct Flags {
    c: Chrome,
    flags: Vec<FlagView>,
}

/// `GET /finance/flags`
#[utoipa::path(get, path = "/finance/flags", tag = "pages",
    responses((status = 200, description = "Open flags with their resolve forms (HTML)", content_type = "text/html"), (status = 303, description = "Without a live session: to `/finance/login`")))]
pub async fn page(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let who = match finance_auth::viewer(&state, &req).await {
        Ok(w) => w,
        Err(res) => return res,
    };
    let rows = match flags::list(&state, &who.caller, Some("open"), 500).await {
        Ok(rows) => rows,
        Err(e) => return error_page(&e),
    };
    let flags = rows
        .into_iter()
        .map(|(payment_id, f)| {
            let (label_vi, label_en) = labels::flag(&f.flag);
            FlagView {
                payment_id,
                label_vi,
                label_en,
                detail: f.detail,
                created_at: parse_ts(&f.created_at)
                    .map(local_time)
                    .unwrap_or(f.created_at),
                flag: f.flag,
            }
        })
        .collect();
    render(
        StatusCode::OK,
        &Flags {
            c: Chrome::of(&who, "flags"),
            flags,
        },
    )
}

#[derive(Deserialize)]
pub struct ResolveForm {
    #[serde(default)]
    csrf: String,
    payment_id: String,
    flag: String,
    #[serde(default)]
    note: String,
}

/// `POST /finance/flags/resolve` (form), audited with the signed-in person.
pub async fn resolve(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<ResolveForm>,
) -> HttpResponse {
    let who = match finance_auth::poster(&state, &req, &form.csrf).await {
        Ok(w) => w,
        Err(res) => return res,
    };
    // The note is judged before the order is looked for, whatever the form names.
    let resolved = match flags::checked_note(&form.note).and_then(|_| {
        crate::http::extract::path_id(&form.payment_id, crate::ids::PaymentId::parse, "payment")
    }) {
        Ok(id) => flags::resolve(&state, &who.caller, &id, &form.flag, &form.note).await,
        Err(e) => Err(e),
    };
    match resolved {
        Ok(_) => HttpResponse::SeeOther()
            .insert_header((header::LOCATION, "/finance/flags"))
            .finish(),
        Err(crate::error::ApiError::Validation { .. }) => finance_auth::page(StatusCode::UNPROCESSABLE_ENTITY, "<!DOCTYPE html><html lang=\"vi\"><head><meta charset=\"utf-8\"><title>Ghi chú / Note</title></head><body><main><p>Ghi chú xử lý phải có nội dung (tối đa 2.000 ký tự) / The note must be 1 to 2,000 characters</p></main></body></html>".into()),
        Err(e) => error_page(&e),
    }
}
