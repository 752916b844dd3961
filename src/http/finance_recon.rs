//! Reconciliation in the finance dashboard: the runs and an upload form
//! (`/finance/reconciliations`), a run's findings in pages with Vietnamese labels and what each
//! means, filtered by kind, resolved with a note (`/finance/reconciliations/{id}`).

use actix_multipart::Multipart;
use actix_web::dev::Payload;
use actix_web::error::PayloadError;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::NaiveDate;
use futures_util::{StreamExt, TryStreamExt};
use serde::Deserialize;

use crate::accounts::sessions::SignedIn;
use crate::clock::vietnam_date;
use crate::error::ApiError;
use crate::exports::labels;
use crate::gateways::GatewayId;
use crate::http::finance::Chrome;
use crate::http::finance_auth::{self, render};
use crate::http::pages::money;
use crate::http::state::AppState;
use crate::reconciliation::findings::{self, KINDS};
use crate::reconciliation::job;
use crate::storage::reconciliation::RunRow;

struct RunView {
    id: String,
    date: String,
    gateway: String,
    status: &'static str,
    rows: i64,
    matched: i64,
    findings: i64,
}

fn run_view(r: &RunRow) -> RunView {
    let summary: serde_json::Value = serde_json::from_str(&r.summary).unwrap_or_default();
    let count = |k: &str| summary[k].as_i64().unwrap_or(0);
    RunView {
        id: r.rec_id.clone(),
        date: NaiveDate::parse_from_str(&r.statement_date, "%Y-%m-%d").map_or_else(
            |_| r.statement_date.clone(),
            |d| d.format("%d/%m/%Y").to_string(),
        ),
        gateway: r.gateway.clone(),
        status: if r.status == "current" {
            "Hiện hành / Current"
        } else {
            "Đã thay thế / Superseded"
        },
        rows: r.rows_total,
        matched: count("matched"),
        findings: KINDS.iter().map(|k| count(k)).sum(),
    }
}

#[derive(Template)]
#[template(path = "finance_runs.html")]
struct Runs {
    c: Chrome,
    runs: Vec<RunView>,
    gateways: Vec<&'static str>,
    today: NaiveDate,
    error: Option<String>,
    problems: Vec<String>,
}

async fn runs_page(
    state: &AppState,
    who: &SignedIn,
    status: StatusCode,
    error: Option<String>,
    problems: Vec<String>,
) -> HttpResponse {
    match findings::runs(state, &who.caller).await {
        Ok(runs) => render(
            status,
            &Runs {
                c: Chrome::of(who, "reconciliations"),
                runs: runs.iter().map(run_view).collect(),
                gateways: GatewayId::ALL.iter().map(|g| g.as_str()).collect(),
                today: vietnam_date(state.clock.now()),
                error,
                problems,
            },
        ),
        Err(e) => {
            tracing::error!(error = %e, "listing reconciliation runs");
            finance_auth::failed()
        }
    }
}

/// `GET /finance/reconciliations`
#[utoipa::path(get, path = "/finance/reconciliations", tag = "pages",
    responses((status = 200, description = "Reconciliation runs and the statement upload form (HTML)", content_type = "text/html"), (status = 303, description = "Without a live session: to `/finance/login`")))]
pub async fn runs(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    match finance_auth::viewer(&state, &req).await {
        Ok(who) => runs_page(&state, &who, StatusCode::OK, None, Vec::new()).await,
        Err(res) => res,
    }
}

/// Reads a small text field of the upload form.
async fn text_field(field: &mut actix_multipart::Field) -> Result<String, ApiError> {
    let mut out = Vec::new();
    while let Some(chunk) = field.next().await {
        let chunk = chunk.map_err(|e| ApiError::bad_request("file", e.to_string()))?;
        out.extend_from_slice(&chunk);
        if out.len() > 1024 {
            return Err(ApiError::bad_request(
                field.name().unwrap_or("form"),
                "is too long",
            ));
        }
    }
    String::from_utf8(out)
        .map_err(|_| ApiError::bad_request(field.name().unwrap_or("form"), "must be UTF-8 text"))
}

/// Why an upload did not run: refused before reading the file (origin, session, CSRF), or the
/// file or its fields were not valid.
enum UploadError {
    Refused(Box<HttpResponse>),
    Invalid(ApiError),
}

impl From<ApiError> for UploadError {
    fn from(e: ApiError) -> Self {
        Self::Invalid(e)
    }
}

type BodyStream =
    std::pin::Pin<Box<dyn futures_util::Stream<Item = Result<web::Bytes, PayloadError>>>>;

/// Reads the form's fields in order (`csrf`, `gateway`, `statement_date`, then `file`) and runs
/// the reconciliation on the file as it streams.
async fn upload_run(
    state: &AppState,
    req: &HttpRequest,
    mut form: Multipart,
) -> Result<String, UploadError> {
    let (mut csrf, mut gateway, mut date) = (String::new(), String::new(), String::new());
    while let Some(mut field) = form
        .try_next()
        .await
        .map_err(|e| ApiError::bad_request("form", e.to_string()))?
    {
        match field.name().unwrap_or_default() {
            "csrf" => csrf = text_field(&mut field).await?,
            "gateway" => gateway = text_field(&mut field).await?,
            "statement_date" => date = text_field(&mut field).await?,
            "file" => {
                let who = finance_auth::poster(state, req, &csrf)
                    .await
                    .map_err(|r| UploadError::Refused(Box::new(r)))?;
                let gateway: GatewayId = gateway.parse().map_err(|_| {
                    ApiError::invalid_field(
                        "gateway",
                        crate::wording::one_of(GatewayId::ALL.iter().map(|g| g.as_str())),
                    )
                })?;
                let date = NaiveDate::parse_from_str(&date, "%Y-%m-%d").map_err(|_| {
                    ApiError::invalid_field("statement_date", "must be a date YYYY-MM-DD")
                })?;
                let stream: BodyStream = Box::pin(field.map(|r| {
                    r.map_err(|e| PayloadError::Io(std::io::Error::other(e.to_string())))
                }));
                let mut payload = Payload::from(stream);
                return Ok(job::run(state, &who.caller, gateway, date, &mut payload)
                    .await?
                    .id);
            }
            _ => while field.next().await.is_some() {},
        }
    }
    Err(ApiError::invalid_field("file", "is required").into())
}

/// `POST /finance/reconciliations` (multipart form): runs a statement, then shows its findings.
pub async fn upload(state: web::Data<AppState>, req: HttpRequest, form: Multipart) -> HttpResponse {
    let e = match upload_run(&state, &req, form).await {
        Ok(id) => {
            return HttpResponse::SeeOther()
                .insert_header((header::LOCATION, format!("/finance/reconciliations/{id}")))
                .finish()
        }
        Err(UploadError::Refused(res)) => return *res,
        Err(UploadError::Invalid(e)) => e,
    };
    let who = match finance_auth::viewer(&state, &req).await {
        Ok(w) => w,
        Err(to_sign_in) => return to_sign_in,
    };
    let (message, problems) = match &e {
        ApiError::Validation { errors, .. } => (
            "Tệp không đối soát được; không có gì thay đổi / The file was not reconciled; nothing changed".to_owned(),
            errors.iter().map(|f| format!("{}: {}", f.field, f.message)).collect(),
        ),
        ApiError::Internal(err) => {
            tracing::error!(error = ?err, "reconciling an uploaded statement");
            return finance_auth::failed();
        }
        other => (other.to_string(), Vec::new()),
    };
    runs_page(
        &state,
        &who,
        StatusCode::UNPROCESSABLE_ENTITY,
        Some(message),
        problems,
    )
    .await
}

struct FindingView {
    position: i64,
    kind: String,
    label_vi: &'static str,
    label_en: &'static str,
    why: &'static str,
    txn_ref: String,
    payment_id: Option<String>,
    ledger: String,
    statement: String,
    status: String,
    open: bool,
    note: Option<String>,
}

#[derive(Template)]
#[template(path = "finance_run.html")]
struct Run {
    c: Chrome,
    run: RunView,
    kinds: Vec<(&'static str, &'static str)>,
    kind: String,
    findings: Vec<FindingView>,
    first_link: bool,
    next: Option<i64>,
}

#[derive(Deserialize)]
pub struct RunQuery {
    kind: Option<String>,
    cursor: Option<String>,
}

async fn run_page(
    state: &AppState,
    who: &SignedIn,
    id: &str,
    q: &RunQuery,
) -> Result<Run, ApiError> {
    let run = findings::visible_run(state, &who.caller, id).await?;
    let kind = q.kind.as_deref().filter(|k| KINDS.contains(k));
    let after = q.cursor.as_deref().and_then(|c| c.parse::<i64>().ok());
    let (items, next) = findings::page(state, &run, kind, after).await?;
    let amount = |a: Option<i64>| a.map(money).unwrap_or_else(|| "—".into());
    let views = items
        .into_iter()
        .map(|p| {
            let (label_vi, label_en, why) = labels::finding(&p.item.kind);
            let i = p.item;
            FindingView {
                position: p.position,
                label_vi,
                label_en,
                why,
                ledger: amount(i.ledger_amount),
                statement: amount(i.statement_amount),
                open: i.status == "open",
                status: match (i.status.as_str(), &i.resolved_by) {
                    ("open", _) => "Chưa xử lý / Open".to_owned(),
                    (_, Some(by)) => format!("Đã xử lý bởi {by} / Resolved by {by}"),
                    _ => "Đã xử lý / Resolved".to_owned(),
                },
                kind: i.kind,
                txn_ref: i.txn_ref,
                payment_id: i.payment_id,
                note: i.note,
            }
        })
        .collect();
    Ok(Run {
        c: Chrome::of(who, "reconciliations"),
        run: run_view(&run),
        kinds: KINDS.iter().map(|k| (*k, labels::finding(k).0)).collect(),
        kind: kind.unwrap_or_default().to_owned(),
        findings: views,
        first_link: after.is_some(),
        next,
    })
}

/// Shows a dashboard failure: 404 as a page, anything else logged.
pub fn error_page(e: &ApiError) -> HttpResponse {
    match e {
        ApiError::NotFound(_) => finance_auth::page(StatusCode::NOT_FOUND, "<!DOCTYPE html><html lang=\"vi\"><head><meta charset=\"utf-8\"><title>Không tìm thấy / Not found</title></head><body><main><h1>Không tìm thấy / Not found</h1><p><a href=\"/finance\">Về trang tài chính / Back to finance</a></p></main></body></html>".into()),
        other => {
            tracing::error!(error = ?other, "a finance page");
            finance_auth::failed()
        }
    }
}

/// `GET /finance/reconciliations/{id}`
#[utoipa::path(get, path = "/finance/reconciliations/{id}", tag = "pages", params(("id" = String, Path, description = "rec_…")),
    responses((status = 200, description = "A run's findings in pages, with Vietnamese labels, filter by `kind`, resolve forms (HTML)", content_type = "text/html"), (status = 303, description = "Without a live session: to `/finance/login`")))]
pub async fn run(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    q: web::Query<RunQuery>,
) -> HttpResponse {
    let who = match finance_auth::viewer(&state, &req).await {
        Ok(w) => w,
        Err(res) => return res,
    };
    match run_page(&state, &who, &id, &q).await {
        Ok(page) => render(StatusCode::OK, &page),
        Err(e) => error_page(&e),
    }
}

#[derive(Deserialize)]
pub struct ResolveForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    note: String,
}

/// `POST /finance/reconciliations/{id}/findings/{position}/resolve`
pub async fn resolve(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, i64)>,
    form: web::Form<ResolveForm>,
) -> HttpResponse {
    let who = match finance_auth::poster(&state, &req, &form.csrf).await {
        Ok(w) => w,
        Err(res) => return res,
    };
    let (id, position) = path.into_inner();
    match findings::resolve(&state, &who.caller, &id, position, &form.note).await {
        Ok(_) => HttpResponse::SeeOther()
            .insert_header((header::LOCATION, format!("/finance/reconciliations/{id}")))
            .finish(),
        Err(ApiError::Validation { .. }) => finance_auth::page(StatusCode::UNPROCESSABLE_ENTITY, "<!DOCTYPE html><html lang=\"vi\"><head><meta charset=\"utf-8\"><title>Ghi chú / Note</title></head><body><main><p>Ghi chú xử lý phải có nội dung (tối đa 2.000 ký tự) / The note must be 1 to 2,000 characters</p></main></body></html>".into()),
        Err(e) => error_page(&e),
    }
}
