//! `/v1/payments`, attempts, refunds, flags and a payment's audit trail.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use crate::auth::{Auth, FinanceAccess, PortalAccess, ReadAccess};
use crate::error::ApiError;
use crate::http::extract::{path_id, JsonBody, Query};
use crate::http::paging::{Page, PageRequest};
use crate::http::state::AppState;
use crate::idempotency::{self, IdempotencyKey, JsonReply, Sent};
use crate::ids::PaymentId;
use crate::payments::orders::{self, ListFilter};
use crate::payments::refund::{self, RefundRequest};
use crate::payments::service;
use crate::payments::{AttemptInput, Payment, PaymentInput};
use crate::storage::refunds::RefundRow;

/// The resource with a fresh payer link (the pages say plainly when an order is closed).
fn with_link(state: &AppState, record: &crate::storage::payments::PaymentRecord) -> Payment {
    record.to_resource(Some(service::pay_url(state, record)))
}

/// The payment a path names (404 for an id of another shape, as for an unknown one).
fn payment_id(raw: &str) -> Result<PaymentId, ApiError> {
    path_id(raw, PaymentId::parse, "payment")
}

/// Create a payment order from notices, notice lines or assessment fee lines.
#[utoipa::path(post, path = "/v1/payments", tag = "payments", security(("bearer" = [])),
    params(("Idempotency-Key" = String, Header, description = "Required")),
    request_body(content = PaymentInput, example = json!({
        "agency_code": "HN-VPDKDD", "dossier_code": "000.00.12.H26-261120-0001",
        "items": [{"notice_id": "ntc_01jd0000000000000000000000"}, {"assessment_id": "asm_01jd0000000000000000000000", "line": "certificate_fee"}],
        "payer": {"name": "Nguyễn Văn A", "email": null, "phone": null},
        "return_url": "https://dichvucong.example.gov.vn/hoso/000.00.12.H26-261120-0001", "locale": "vi"})),
    responses(
        (status = 201, body = Payment, description = "The order, with its lines (late interest as its own line) and the payer link"),
        (status = 400, description = "Missing Idempotency-Key", body = crate::http::errors::Problem),
        (status = 409, description = "An item is already paid or held by another live payment", body = crate::http::errors::Problem),
        (status = 422, body = crate::http::errors::Problem)))]
pub async fn create(
    auth: Auth<PortalAccess>,
    req: HttpRequest,
    state: web::Data<AppState>,
    body: JsonBody<PaymentInput>,
) -> Result<HttpResponse, ApiError> {
    let key = IdempotencyKey::from_request(&req, true)?;
    let fingerprint = idempotency::fingerprint(&req, &body.raw);
    let caller = auth.caller.clone();
    // The key and its answer are written with the order, in its one transaction.
    let (state, caller) = (&state, &caller);
    idempotency::run_answered(state, caller, key, fingerprint, |pending| async move {
        let mut sent = None;
        service::create(state, caller, body.value.clone(), |record| {
            let reply = Sent::json(JsonReply::created(with_link(state, record))?);
            let answer = pending.as_ref().map(|p| p.answer(&reply));
            sent = Some(reply);
            Ok(answer)
        })
        .await?;
        sent.ok_or_else(|| ApiError::Internal(anyhow::anyhow!("an order was stored unanswered")))
    })
    .await
}

/// Read a payment order with its lines, attempts and flags.
#[utoipa::path(get, path = "/v1/payments/{id}", tag = "payments", security(("bearer" = [])),
    params(("id" = String, Path, description = "pay_…")),
    responses((status = 200, body = Payment), (status = 404, body = crate::http::errors::Problem)))]
pub async fn get(
    auth: Auth<ReadAccess>,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let record = service::visible(&state, &auth, &payment_id(&id)?).await?;
    Ok(HttpResponse::Ok().json(with_link(&state, &record)))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct ListQuery {
    dossier_code: Option<String>,
    status: Option<String>,
    agency_code: Option<String>,
    /// RFC 3339, inclusive.
    created_from: Option<String>,
    /// RFC 3339, exclusive.
    created_to: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

/// List payment orders, newest first.
#[utoipa::path(get, path = "/v1/payments", tag = "payments", security(("bearer" = [])), params(ListQuery),
    responses((status = 200, description = "`{data: [Payment], next_cursor}`")))]
pub async fn list(
    auth: Auth<ReadAccess>,
    state: web::Data<AppState>,
    q: Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let filter = ListFilter {
        agency_code: q.agency_code.as_deref(),
        dossier_code: q.dossier_code.as_deref(),
        status: q.status.as_deref(),
        created_from: q.created_from.as_deref(),
        created_to: q.created_to.as_deref(),
    };
    let records = orders::list(
        &state,
        &auth,
        &filter,
        page.after.as_deref(),
        page.fetch_limit(),
    )
    .await?;
    let items: Vec<Payment> = records.iter().map(|r| with_link(&state, r)).collect();
    Ok(HttpResponse::Ok().json(Page::build(items, &page, |p| p.id.clone())))
}

/// Cancel a pending payment order.
#[utoipa::path(post, path = "/v1/payments/{id}/cancel", tag = "payments", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Payment), (status = 409, description = "Not pending (a processing order may have money in flight)", body = crate::http::errors::Problem)))]
pub async fn cancel(
    auth: Auth<PortalAccess>,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let record = orders::cancel(&state, &auth, &payment_id(&id)?).await?;
    Ok(HttpResponse::Ok().json(record.to_resource(None)))
}

/// Issue a fresh payer link for a payment order.
#[utoipa::path(post, path = "/v1/payments/{id}/pay-link", tag = "payments", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, description = "`{pay_url, expires_at}` with a fresh token", example = json!({"pay_url": "http://localhost:8080/pay/pay_…?t=…", "expires_at": "2026-11-21T09:00:00.000000Z"}))))]
pub async fn pay_link(
    auth: Auth<PortalAccess>,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let record = service::visible(&state, &auth, &payment_id(&id)?).await?;
    Ok(HttpResponse::Ok().json(json!({"pay_url": service::pay_url(&state, &record), "expires_at": record.payment.expires_at})))
}

/// Start a payment attempt at a gateway.
#[utoipa::path(post, path = "/v1/payments/{id}/attempts", tag = "payments", security(("bearer" = [])),
    params(("id" = String, Path)),
    request_body(content = AttemptInput, example = json!({"gateway": "vnpay", "bank_code": null, "client_ip": "203.0.113.10"})),
    responses(
        (status = 201, body = service::AttemptView, description = "`redirect_url` for redirect gateways; `qr` for VietQR"),
        (status = 409, description = "The order is not payable", body = crate::http::errors::Problem),
        (status = 422, description = "Gateway not enabled", body = crate::http::errors::Problem),
        (status = 502, description = "The gateway did not answer", body = crate::http::errors::Problem)))]
pub async fn create_attempt(
    auth: Auth<PortalAccess>,
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: JsonBody<AttemptInput>,
) -> Result<HttpResponse, ApiError> {
    let key = IdempotencyKey::from_request(&req, false)?;
    let fingerprint = idempotency::fingerprint(&req, &body.raw);
    let caller = auth.caller.clone();
    idempotency::run(&state, &caller, key, fingerprint, || async {
        let record = service::visible(&state, &caller, &payment_id(&id)?).await?;
        let view = service::start_attempt(&state, &record, &body.value, &caller.sub).await?;
        state.delivery_kick.notify_one();
        JsonReply::created(view)
    })
    .await
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct EventsQuery {
    limit: Option<i64>,
    cursor: Option<String>,
}

/// Read a payment's events and audit trail, oldest first.
#[utoipa::path(get, path = "/v1/payments/{id}/events", tag = "payments", security(("bearer" = [])),
    params(("id" = String, Path), EventsQuery),
    responses((status = 200, description = "The payment's events and audit records, oldest first: `{data, next_cursor}`")))]
pub async fn events(
    auth: Auth<ReadAccess>,
    state: web::Data<AppState>,
    id: web::Path<String>,
    q: Query<EventsQuery>,
) -> Result<HttpResponse, ApiError> {
    let all = orders::history(&state, &auth, &payment_id(&id)?).await?;
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let start = page
        .after
        .as_deref()
        .and_then(|a| a.parse::<usize>().ok())
        .unwrap_or(0);
    let items: Vec<(usize, serde_json::Value)> = all
        .into_iter()
        .enumerate()
        .skip(start)
        .take(usize::try_from(page.fetch_limit()).unwrap_or(usize::MAX))
        .collect();
    let page_out = Page::build(items, &page, |(i, _)| (i + 1).to_string());
    Ok(HttpResponse::Ok().json(json!({
        "data": page_out.data.into_iter().map(|(_, v)| v).collect::<Vec<_>>(),
        "next_cursor": page_out.next_cursor,
    })))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundInput {
    /// Whole đồng.
    #[serde(deserialize_with = "crate::wording::whole_dong")]
    amount: i64,
    reason: String,
    /// The attempt whose money is refunded (`att_…`). Required when more than one attempt of
    /// the order holds money; otherwise the attempt that paid the order.
    #[serde(default)]
    attempt_id: Option<String>,
}

/// Refund all or part of a paid order.
#[utoipa::path(post, path = "/v1/payments/{id}/refunds", tag = "payments", security(("bearer" = [])),
    params(("id" = String, Path), ("Idempotency-Key" = String, Header, description = "Required")),
    request_body(content = RefundInput, example = json!({"amount": 45171500, "reason": "Hồ sơ bị từ chối", "attempt_id": "att_01kbf6b3m0d5n6d2cq1w3v9hzx"})),
    responses(
        (status = 201, body = RefundRow, description = "`succeeded` when the gateway refunded; `pending` when finance pays it back by hand (bank transfer, MoMo, ZaloPay)"),
        (status = 409, description = "Not paid", body = crate::http::errors::Problem),
        (status = 422, description = "More than what is left to refund on that attempt, or `attempt_id` missing while more than one attempt holds money", body = crate::http::errors::Problem)))]
pub async fn refund(
    auth: Auth<FinanceAccess>,
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: JsonBody<RefundInput>,
) -> Result<HttpResponse, ApiError> {
    let key = IdempotencyKey::from_request(&req, true)?;
    let fingerprint = idempotency::fingerprint(&req, &body.raw);
    let caller = auth.caller.clone();
    idempotency::run(&state, &caller, key, fingerprint, || async {
        let input = &body.value;
        let request = RefundRequest {
            amount: input.amount,
            reason: &input.reason,
            attempt_id: input.attempt_id.as_deref(),
            refund_id: None,
        };
        // The request is judged before the order is looked for, whatever the path names.
        refund::check(&request)?;
        let row = refund::refund(&state, &caller, &payment_id(&id)?, &request).await?;
        JsonReply::created(row)
    })
    .await
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct FlagsQuery {
    /// `open` (default) or `resolved` or `all`.
    status: Option<String>,
    limit: Option<i64>,
    /// json (default) or xlsx; overrides `Accept`
    format: Option<String>,
}

/// List flagged payment orders for finance.
#[utoipa::path(get, path = "/v1/flags", tag = "payments", security(("bearer" = [])), params(FlagsQuery),
    responses((status = 200, description = "Flagged payments: `{data: [{payment_id, flag, status, detail, …}], next_cursor}`; with `Accept: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet` (or `?format=xlsx`) a workbook with Vietnamese headers and dates as dates"),
        (status = 422, description = "`status` or `format` is not valid", body = crate::http::errors::Problem)))]
pub async fn flags(
    auth: Auth<FinanceAccess>,
    req: HttpRequest,
    state: web::Data<AppState>,
    q: Query<FlagsQuery>,
) -> Result<HttpResponse, ApiError> {
    let status = match q.status.as_deref().unwrap_or("open") {
        "all" => None,
        s @ ("open" | "resolved") => Some(s),
        _ => {
            return Err(ApiError::invalid_field(
                "status",
                crate::wording::one_of(["open", "resolved", "all"]),
            ))
        }
    };
    let page = PageRequest::parse(q.limit, None)?;
    let format = crate::http::reconciliation::export_format(&req, q.format.as_deref())?;
    if q.format.as_deref() == Some("csv") {
        return Err(ApiError::invalid_field(
            "format",
            "must be one of: json, xlsx",
        ));
    }
    let rows = crate::payments::flags::list(&state, &auth, status, page.limit).await?;
    if format == crate::exports::Format::Xlsx {
        return crate::http::reconciliation::xlsx_answer(
            crate::exports::flags(&rows)?,
            "canh-bao.xlsx",
        );
    }
    let data: Vec<_> = rows
        .into_iter()
        .map(|(payment_id, f)| json!({"payment_id": payment_id, "flag": f.flag, "status": f.status, "detail": f.detail, "note": f.note, "created_at": f.created_at, "resolved_at": f.resolved_at}))
        .collect();
    Ok(HttpResponse::Ok().json(json!({"data": data, "next_cursor": null})))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveInput {
    note: String,
}

/// Resolve a flag on a payment order, with a note.
#[utoipa::path(post, path = "/v1/payments/{id}/flags/{flag}/resolve", tag = "payments", security(("bearer" = [])),
    params(("id" = String, Path), ("flag" = String, Path, description = "amount_mismatch, paid_after_expiry or duplicate_payment")),
    request_body(content = ResolveInput, example = json!({"note": "Đã hoàn tiền cho người nộp ngày 21/11"})),
    responses((status = 200, body = Payment), (status = 404, description = "No open flag of that name", body = crate::http::errors::Problem)))]
pub async fn resolve_flag(
    auth: Auth<FinanceAccess>,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    body: JsonBody<ResolveInput>,
) -> Result<HttpResponse, ApiError> {
    let (id, flag) = path.into_inner();
    let note = &body.value.note;
    crate::payments::flags::check_api_note(note)?;
    let id = payment_id(&id)?;
    let record = crate::payments::flags::resolve_open(&state, &auth, &id, &flag, note).await?;
    Ok(HttpResponse::Ok().json(record.to_resource(None)))
}
