//! `/v1/reconciliations` and `/v1/reports/collections` (finance).

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use actix_web::web::Bytes;
use futures_util::StreamExt;

use crate::auth::{Auth, FinanceAccess};
use crate::error::ApiError;
use crate::exports::{self, Format};
use crate::gateways::GatewayId;
use crate::http::extract::Query;
use crate::http::paging::{Page, PageRequest};
use crate::http::state::AppState;
use crate::reconciliation::collections::collections;
use crate::reconciliation::findings::{self, visible_run};
use crate::reconciliation::job;
use crate::reconciliation::report::{GroupBy, Totals};
use crate::storage::reconciliation::{ItemRow, PositionedItem, RunRow};

#[derive(Deserialize, utoipa::IntoParams)]
pub struct RunQuery {
    /// vnpay, momo, zalopay or vietqr
    gateway: Option<String>,
    /// YYYY-MM-DD (UTC+7)
    statement_date: Option<String>,
}

fn date_param(field: &str, value: Option<&str>) -> Result<NaiveDate, ApiError> {
    let v = value.ok_or_else(|| ApiError::invalid_field(field, "is required (YYYY-MM-DD)"))?;
    NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .map_err(|_| ApiError::invalid_field(field, "must be a date YYYY-MM-DD"))
}

/// JSON, CSV or XLSX, from `?format=` or `Accept`.
pub fn export_format(req: &HttpRequest, format: Option<&str>) -> Result<Format, ApiError> {
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok());
    Format::choose(format, accept).map_err(|m| ApiError::invalid_field("format", m))
}

fn bom_of(bom: Option<&str>) -> &'static str {
    if matches!(bom, Some("1" | "true")) {
        exports::BOM
    } else {
        ""
    }
}

/// A CSV answer, with a byte-order mark when `bom` asks for one.
pub fn csv_answer(body: String, bom: Option<&str>, filename: Option<&str>) -> HttpResponse {
    let mut res = HttpResponse::Ok();
    res.content_type("text/csv; charset=utf-8");
    if let Some(name) = filename {
        res.insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        ));
    }
    res.body(format!("{}{body}", bom_of(bom)))
}

/// An XLSX answer, as a download named `filename`.
pub fn xlsx_answer(body: Vec<u8>, filename: &str) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok()
        .content_type(exports::XLSX)
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{filename}\""),
        ))
        .body(body))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct ExportQuery {
    /// json (default), csv or xlsx; overrides `Accept`
    format: Option<String>,
    /// `1`: a CSV answer starts with a UTF-8 byte-order mark (for Excel)
    bom: Option<String>,
}

/// Findings shown with a run; the rest are paged through `/items`.
const RUN_ITEMS: i64 = 1000;
/// Findings read per query while a CSV streams.
const CSV_PAGE: i64 = 1000;
pub(crate) use crate::reconciliation::findings::KINDS;

/// The run's first findings, with the cursor of the next ones.
async fn first_items(state: &AppState, run: &RunRow) -> Result<Page<PositionedItem>, ApiError> {
    let page = PageRequest {
        limit: RUN_ITEMS,
        after: None,
    };
    let items = findings::items(state, &run.rec_id, None, None, page.fetch_limit()).await?;
    Ok(Page::build(items, &page, |i| i.position.to_string()))
}

async fn run_view(state: &AppState, run: &RunRow) -> Result<Value, ApiError> {
    let items = first_items(state, run).await?;
    let data: Vec<&ItemRow> = items.data.iter().map(|i| &i.item).collect();
    Ok(json!({
        "id": run.rec_id, "status": run.status, "superseded_by": run.superseded_by, "gateway": run.gateway,
        "statement_date": run.statement_date, "agency_code": run.agency_code, "rows": run.rows_total,
        "created_at": run.created_at,
        "summary": serde_json::from_str::<Value>(&run.summary).unwrap_or(Value::Null),
        "items": data,
        "next_cursor": items.next_cursor,
    }))
}

/// Reconcile a gateway's settlement file or a bank statement.
#[utoipa::path(post, path = "/v1/reconciliations", tag = "finance", security(("bearer" = [])), params(RunQuery),
    request_body(content = String, content_type = "text/csv", description = "The settlement file: `gateway_txn_no,txn_ref,amount,status,paid_at,bank_code,fee`. Each row is judged against the whole ledger by `txn_ref`; the ledger day runs from the previous day's `gateways.<g>.settlement_cutoff` to this day's. A run posted with an agency-bound token covers that agency only.",
        example = "gateway_txn_no,txn_ref,amount,status,paid_at,bank_code,fee\n14226112,01KBF6B3M0D5N6D2CQ1W3V9HZX,45171500,success,2026-11-20T10:15:00+07:00,NCB,11000\n"),
    responses(
        (status = 201, description = "The run with its summary and the first 1,000 findings that did not match (`next_cursor` pages the rest through `/items`)", example = json!({
            "id": "rec_01KBF6B3M0D5N6D2CQ1W3V9HZX", "status": "current", "gateway": "vnpay", "statement_date": "2026-11-20", "agency_code": null,
            "summary": {"matched": 41, "matched_amount": 1250000000, "missing_in_ledger": 1, "missing_in_statement": 0, "amount_mismatch": 1, "status_mismatch": 0, "matched_other_day": 2, "other_agency": 0},
            "items": [{"kind": "amount_mismatch", "txn_ref": "01KBF6B3M0D5N6D2CQ1W3V9HZX", "gateway_txn_no": "14226112", "payment_id": "pay_01KBF6B3M0D5N6D2CQ1W3V9HZX", "ledger_amount": 45171500, "statement_amount": 45000000, "status": "open", "resolved_by": null}],
            "next_cursor": null})),
        (status = 422, description = "One entry per problem, `line <n>, column <name>`; nothing stored", body = crate::http::errors::Problem)))]
pub async fn create(
    auth: Auth<FinanceAccess>,
    req: HttpRequest,
    state: web::Data<AppState>,
    q: Query<RunQuery>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let gateway: GatewayId = q
        .gateway
        .as_deref()
        .ok_or_else(|| ApiError::invalid_field("gateway", "is required"))?
        .parse()
        .map_err(|_| {
            ApiError::invalid_field(
                "gateway",
                crate::wording::one_of(GatewayId::ALL.iter().map(|g| g.as_str())),
            )
        })?;
    let date = date_param("statement_date", q.statement_date.as_deref())?;
    let ct = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !ct.starts_with("text/csv") {
        return Err(ApiError::UnsupportedMediaType(
            "send the settlement file as text/csv".into(),
        ));
    }
    let mut inner: Payload = payload.into_inner();
    let result = job::run(&state, &auth.caller, gateway, date, &mut inner).await?;
    let run = visible_run(&state, &auth.caller, &result.id).await?;
    Ok(HttpResponse::Created().json(run_view(&state, &run).await?))
}

/// Read a reconciliation run and its findings.
#[utoipa::path(get, path = "/v1/reconciliations/{id}", tag = "finance", security(("bearer" = [])),
    params(("id" = String, Path, description = "rec_…"), ExportQuery),
    responses((status = 200, description = "The run with its summary and its first 1,000 findings (`next_cursor`); with `Accept: text/csv` (or `?format=csv`), every finding streamed as CSV; with `Accept: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet` (or `?format=xlsx`), every finding in a workbook with Vietnamese headers, money as numbers (`#,##0`)"),
        (status = 404, body = crate::http::errors::Problem), (status = 422, description = "`format` is not json, csv or xlsx", body = crate::http::errors::Problem)))]
pub async fn get(
    auth: Auth<FinanceAccess>,
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    q: Query<ExportQuery>,
) -> Result<HttpResponse, ApiError> {
    let run = visible_run(&state, &auth.caller, &id).await?;
    match export_format(&req, q.format.as_deref())? {
        Format::Json => return Ok(HttpResponse::Ok().json(run_view(&state, &run).await?)),
        Format::Xlsx => {
            let items = findings::all(&state, &run).await?;
            return xlsx_answer(
                exports::findings(&run, &items)?,
                &format!("{}.xlsx", run.rec_id),
            );
        }
        Format::Csv => {}
    }
    let rec_id = run.rec_id.clone();
    let state = state.into_inner();
    let header = Bytes::from(format!(
        "{}{}",
        bom_of(q.bom.as_deref()),
        exports::csv::FINDINGS_HEADER
    ));
    let pages = futures_util::stream::unfold(Some(-1i64), move |after| {
        let state = state.clone();
        let rec_id = rec_id.clone();
        async move {
            let after = after?;
            match findings::items(&state, &rec_id, None, Some(after), CSV_PAGE).await {
                Err(e) => {
                    tracing::error!(error = %e, %rec_id, "reading findings for CSV");
                    Some((
                        Err(actix_web::error::ErrorInternalServerError("read failed")),
                        None,
                    ))
                }
                Ok(items) if items.is_empty() => None,
                Ok(items) => {
                    let next = (items.len() == usize::try_from(CSV_PAGE).unwrap_or(usize::MAX))
                        .then(|| items.last().map(|i| i.position))
                        .flatten();
                    let mut out = String::new();
                    for i in &items {
                        crate::exports::csv::finding_row(&mut out, &i.item);
                    }
                    Some((Ok(Bytes::from(out)), Some(next.unwrap_or(i64::MAX))))
                }
            }
        }
    });
    let body =
        futures_util::stream::once(async move { Ok::<_, actix_web::Error>(header) }).chain(pages);
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{}.csv\"", run.rec_id),
        ))
        .streaming(body))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct ItemsQuery {
    /// missing_in_ledger, missing_in_statement, amount_mismatch, status_mismatch or other_agency
    kind: Option<String>,
    cursor: Option<String>,
    /// 1 to 500, default 50
    limit: Option<i64>,
}

/// Page through a run's findings, optionally of one kind.
#[utoipa::path(get, path = "/v1/reconciliations/{id}/items", tag = "finance", security(("bearer" = [])),
    params(("id" = String, Path, description = "rec_…"), ItemsQuery),
    responses((status = 200, description = "`{data: [findings], next_cursor}` in the run's order; the run's own `next_cursor` continues here"),
        (status = 404, body = crate::http::errors::Problem), (status = 422, body = crate::http::errors::Problem)))]
pub async fn items(
    auth: Auth<FinanceAccess>,
    state: web::Data<AppState>,
    id: web::Path<String>,
    q: Query<ItemsQuery>,
) -> Result<HttpResponse, ApiError> {
    // An unknown run answers 404, and a bad kind 422, before a bad page request.
    let (wanted, page) = PageRequest::parse_deferred(q.limit, q.cursor.as_deref());
    let items = findings::run_items(&state, &auth.caller, &id, q.kind.as_deref(), wanted).await?;
    let items = Page::build(items, &page, |i| i.position.to_string());
    let data: Vec<&ItemRow> = items.data.iter().map(|i| &i.item).collect();
    Ok(HttpResponse::Ok().json(json!({"data": data, "next_cursor": items.next_cursor})))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct ReportQuery {
    /// YYYY-MM-DD, inclusive (UTC+7)
    from: Option<String>,
    /// YYYY-MM-DD, inclusive (UTC+7)
    to: Option<String>,
    /// day (default), sub_item, gateway or agency
    group_by: Option<String>,
    /// json (default), csv or xlsx; overrides `Accept`
    format: Option<String>,
    /// `1`: a CSV answer starts with a UTF-8 byte-order mark (for Excel)
    bom: Option<String>,
}

#[derive(Serialize)]
struct Report<'a> {
    group_by: &'static str,
    from: NaiveDate,
    to: NaiveDate,
    data: Vec<ReportRow<'a>>,
}

/// One row of the collections report: its key under the group's name, then the sums (128-bit
/// sums are written as plain JSON integers).
struct ReportRow<'a> {
    key_name: &'static str,
    key: Option<&'a str>,
    totals: &'a Totals,
    with_unapplied: bool,
}

impl Serialize for ReportRow<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(None)?;
        map.serialize_entry(self.key_name, &self.key)?;
        map.serialize_entry("amount", &self.totals.amount)?;
        map.serialize_entry("paid", &self.totals.paid)?;
        map.serialize_entry("refunded", &self.totals.refunded)?;
        map.serialize_entry("count", &self.totals.count)?;
        if self.with_unapplied {
            map.serialize_entry("unapplied", &self.totals.unapplied)?;
        }
        map.end()
    }
}

/// Collections report by day, budget sub-item, gateway or agency.
#[utoipa::path(get, path = "/v1/reports/collections", tag = "finance", security(("bearer" = [])), params(ReportQuery),
    responses((status = 422, description = "A date, `group_by` or `format` is not valid", body = crate::http::errors::Problem),
        (status = 200, description = "JSON; CSV with `Accept: text/csv` or `?format=csv` (`?bom=1` for Excel); XLSX with `Accept: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet` or `?format=xlsx` (Vietnamese headers, money as numbers `#,##0`, days as dates); `amount` = paid − refunded", example = json!({
        "group_by": "sub_item", "from": "2026-11-01", "to": "2026-11-30",
        "data": [{"sub_item": "2801", "amount": 8000000, "paid": 8000000, "refunded": 0, "count": 2}]}))))]
pub async fn report(
    auth: Auth<FinanceAccess>,
    req: HttpRequest,
    state: web::Data<AppState>,
    q: Query<ReportQuery>,
) -> Result<HttpResponse, ApiError> {
    let from = date_param("from", q.from.as_deref())?;
    let to = date_param("to", q.to.as_deref())?;
    if to < from {
        return Err(ApiError::invalid_field("to", "must not be before from"));
    }
    let group = match q.group_by.as_deref() {
        None => GroupBy::Day,
        Some(g) => GroupBy::parse(g).ok_or_else(|| {
            ApiError::invalid_field(
                "group_by",
                crate::wording::one_of(["day", "sub_item", "gateway", "agency"]),
            )
        })?,
    };
    let rows = collections(&state, from, to, group, auth.agency_scope()).await?;
    match export_format(&req, q.format.as_deref())? {
        Format::Csv => {
            return Ok(csv_answer(
                exports::csv::collections(group, &rows),
                q.bom.as_deref(),
                None,
            ))
        }
        Format::Xlsx => {
            return xlsx_answer(
                exports::collections(group, &rows)?,
                &format!("thu-nop-{from}-{to}.xlsx"),
            )
        }
        Format::Json => {}
    }
    let data: Vec<ReportRow> = rows
        .iter()
        .map(|(key, t)| ReportRow {
            key_name: group.key_name(),
            key: key.as_deref(),
            totals: t,
            with_unapplied: group == GroupBy::Gateway,
        })
        .collect();
    Ok(HttpResponse::Ok().json(Report {
        group_by: group.as_str(),
        from,
        to,
        data,
    }))
}
