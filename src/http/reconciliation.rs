//! `/v1/reconciliations` and `/v1/reports/collections` (finance).

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::{Auth, FinanceAccess};
use crate::clock::vietnam_date;
use crate::error::ApiError;
use crate::gateways::GatewayId;
use crate::http::extract::Query;
use crate::reconciliation::job::{self, vietnam_day};
use crate::reconciliation::report::{split_refund, Collections, GroupBy, Totals};
use crate::startup::AppState;
use crate::storage::parse_ts;
use crate::storage::reconciliation::{ItemRow, MoneyLine};

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

fn wants_csv(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/csv"))
}

/// One CSV field, quoted when it needs to be.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

fn run_view(run: &crate::storage::reconciliation::RunRow, items: &[ItemRow]) -> Value {
    json!({
        "id": run.rec_id, "status": run.status, "superseded_by": run.superseded_by, "gateway": run.gateway,
        "statement_date": run.statement_date, "rows": run.rows_total, "created_at": run.created_at,
        "summary": serde_json::from_str::<Value>(&run.summary).unwrap_or(Value::Null),
        "items": items,
    })
}

/// Reconcile a gateway's settlement file or a bank statement.
#[utoipa::path(post, path = "/v1/reconciliations", tag = "finance", security(("bearer" = [])), params(RunQuery),
    request_body(content = String, content_type = "text/csv", description = "The settlement file: `gateway_txn_no,txn_ref,amount,status,paid_at,bank_code,fee`",
        example = "gateway_txn_no,txn_ref,amount,status,paid_at,bank_code,fee\n14226112,01KBF6B3M0D5N6D2CQ1W3V9HZX,45171500,success,2026-11-20T10:15:00+07:00,NCB,11000\n"),
    responses(
        (status = 201, description = "The run with its summary and the findings that did not match", example = json!({
            "id": "rec_01kbf6c9x2a7q4r8t0v3w5y6z1", "status": "current", "gateway": "vnpay", "statement_date": "2026-11-20",
            "summary": {"matched": 41, "matched_amount": 1250000000, "missing_in_ledger": 1, "missing_in_statement": 0, "amount_mismatch": 1, "status_mismatch": 0},
            "items": [{"kind": "amount_mismatch", "txn_ref": "01KBF6B3M0D5N6D2CQ1W3V9HZX", "gateway_txn_no": "14226112", "ledger_amount": 45171500, "statement_amount": 45000000}]})),
        (status = 422, description = "One entry per problem, `line <n>, column <name>`; nothing stored", body = crate::error::Problem)))]
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
    let result = job::run(&state, &auth.sub, gateway, date, &mut inner).await?;
    let run = state
        .store
        .run(&result.id)
        .await?
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("run vanished")))?;
    let items = state.store.run_items(&result.id).await?;
    Ok(HttpResponse::Created().json(run_view(&run, &items)))
}

/// Read a reconciliation run and its findings.
#[utoipa::path(get, path = "/v1/reconciliations/{id}", tag = "finance", security(("bearer" = [])),
    params(("id" = String, Path, description = "rec_…")),
    responses((status = 200, description = "The run as JSON, or its items as CSV with `Accept: text/csv`"), (status = 404, body = crate::error::Problem)))]
pub async fn get(
    _auth: Auth<FinanceAccess>,
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let run = state
        .store
        .run(&id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("reconciliation {id}")))?;
    let items = state.store.run_items(&id).await?;
    if !wants_csv(&req) {
        return Ok(HttpResponse::Ok().json(run_view(&run, &items)));
    }
    let mut out = String::from("kind,txn_ref,gateway_txn_no,payment_id,ledger_amount,statement_amount,ledger_status,statement_status,line\n");
    let opt = |v: &Option<String>| v.as_deref().map(csv_field).unwrap_or_default();
    let num = |v: Option<i64>| v.map(|n| n.to_string()).unwrap_or_default();
    for i in &items {
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{},{}\n",
            i.kind,
            csv_field(&i.txn_ref),
            opt(&i.gateway_txn_no),
            opt(&i.payment_id),
            num(i.ledger_amount),
            num(i.statement_amount),
            opt(&i.ledger_status),
            opt(&i.statement_status),
            num(i.line)
        ));
    }
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{}.csv\"", run.rec_id),
        ))
        .body(out))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct ReportQuery {
    /// YYYY-MM-DD, inclusive (UTC+7)
    from: Option<String>,
    /// YYYY-MM-DD, inclusive (UTC+7)
    to: Option<String>,
    /// day (default), sub_item, gateway or agency
    group_by: Option<String>,
}

/// Collections between two Vietnam dates, grouped.
pub async fn collections(
    state: &AppState,
    from: NaiveDate,
    to: NaiveDate,
    group: GroupBy,
    agency: Option<&str>,
) -> Result<Vec<(Option<String>, Totals)>, ApiError> {
    let (start, _) = vietnam_day(from);
    let (_, end) = vietnam_day(to);
    let key_of = |line: &MoneyLine, at: &str| -> Option<String> {
        match group {
            GroupBy::Day => parse_ts(at)
                .ok()
                .map(|t| vietnam_date(t).format("%Y-%m-%d").to_string()),
            GroupBy::SubItem => line.sub_item.clone(),
            GroupBy::Gateway => line.gateway.clone(),
            GroupBy::Agency => line.agency_code.clone(),
        }
    };
    let mut acc = Collections::default();
    state
        .store
        .paid_lines(start, end, agency, &mut |line| {
            let key = key_of(&line, &line.at);
            acc.paid(key, &line.payment_id, line.amount);
        })
        .await?;
    for (payment_id, at, amount) in state.store.refunds_between(start, end, agency).await? {
        let lines = state.store.payment_money_lines(&payment_id).await?;
        let parts = split_refund(&lines.iter().map(|l| l.amount).collect::<Vec<_>>(), amount);
        for (line, part) in lines.iter().zip(parts) {
            if part > 0 {
                acc.refunded(key_of(line, &at), part);
            }
        }
    }
    Ok(acc.finish())
}

/// Collections report by day, budget sub-item, gateway or agency.
#[utoipa::path(get, path = "/v1/reports/collections", tag = "finance", security(("bearer" = [])), params(ReportQuery),
    responses((status = 200, description = "JSON, or CSV with `Accept: text/csv`; `amount` = paid − refunded", example = json!({
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
    if wants_csv(&req) {
        let mut out = format!("{},amount,paid,refunded,count\n", group.key_name());
        for (key, t) in &rows {
            out.push_str(&format!(
                "{},{},{},{},{}\n",
                key.as_deref().map(csv_field).unwrap_or_default(),
                t.amount,
                t.paid,
                t.refunded,
                t.count
            ));
        }
        return Ok(HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .body(out));
    }
    let data: Vec<Value> = rows
        .into_iter()
        .map(|(key, t)| {
            let mut v = json!({"amount": t.amount, "paid": t.paid, "refunded": t.refunded, "count": t.count});
            if let Some(map) = v.as_object_mut() {
                map.insert(group.key_name().into(), json!(key));
            }
            v
        })
        .collect();
    Ok(HttpResponse::Ok()
        .json(json!({"group_by": group.as_str(), "from": from, "to": to, "data": data})))
}
