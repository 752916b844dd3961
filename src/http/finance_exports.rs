//! The dashboard's downloads: the same workbooks and CSV files as the API, for the signed-in
//! person's session instead of a bearer token. CSV downloads carry a byte-order mark so that
//! Excel reads them as UTF-8.

use actix_web::{web, HttpRequest, HttpResponse};

use crate::clock::vietnam_date;
use crate::error::ApiError;
use crate::exports;
use crate::http::finance::{Range, RangeQuery};
use crate::http::finance_auth;
use crate::http::finance_recon::error_page;
use crate::http::reconciliation::{csv_answer, xlsx_answer};
use crate::http::state::AppState;
use crate::reconciliation::collections::collections;
use crate::reconciliation::findings;

fn answer(result: Result<HttpResponse, ApiError>) -> HttpResponse {
    result.unwrap_or_else(|e| match e {
        ApiError::Validation { .. } => finance_auth::page(
            actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
            "<!DOCTYPE html><html lang=\"vi\"><head><meta charset=\"utf-8\"><title>Khoảng ngày / Range</title></head><body><main><p>Khoảng ngày không hợp lệ / The range is not valid</p></main></body></html>".into(),
        ),
        other => error_page(&other),
    })
}

async fn collections_file(
    state: &AppState,
    req: &HttpRequest,
    q: &RangeQuery,
    xlsx: bool,
) -> Result<HttpResponse, ApiError> {
    let who = finance_auth::viewer(state, req)
        .await
        .map_err(|_| ApiError::Unauthorized("sign in".into()))?;
    let range = Range::parse(q, vietnam_date(state.clock.now()))
        .map_err(|m| ApiError::invalid_field("from", m))?;
    let rows = collections(
        state,
        range.from,
        range.to,
        range.group,
        who.caller.agency_scope(),
    )
    .await?;
    let name = format!("thu-nop-{}-{}", range.from, range.to);
    if xlsx {
        xlsx_answer(
            exports::collections(range.group, &rows)?,
            &format!("{name}.xlsx"),
        )
    } else {
        Ok(csv_answer(
            exports::csv::collections(range.group, &rows),
            Some("1"),
            Some(&format!("{name}.csv")),
        ))
    }
}

async fn signed_in_or_login(state: &AppState, req: &HttpRequest) -> Option<HttpResponse> {
    finance_auth::viewer(state, req).await.err()
}

/// `GET /finance/reports/collections.xlsx`
pub async fn collections_xlsx(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<RangeQuery>,
) -> HttpResponse {
    if let Some(login) = signed_in_or_login(&state, &req).await {
        return login;
    }
    answer(collections_file(&state, &req, &q, true).await)
}

/// `GET /finance/reports/collections.csv`
pub async fn collections_csv(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<RangeQuery>,
) -> HttpResponse {
    if let Some(login) = signed_in_or_login(&state, &req).await {
        return login;
    }
    answer(collections_file(&state, &req, &q, false).await)
}

async fn findings_file(
    state: &AppState,
    req: &HttpRequest,
    id: &str,
    xlsx: bool,
) -> Result<HttpResponse, ApiError> {
    let who = finance_auth::viewer(state, req)
        .await
        .map_err(|_| ApiError::Unauthorized("sign in".into()))?;
    let run = findings::visible_run(state, &who.caller, id).await?;
    let items = findings::all(state, &run).await?;
    if xlsx {
        return xlsx_answer(
            exports::findings(&run, &items)?,
            &format!("{}.xlsx", run.rec_id),
        );
    }
    let mut body = exports::csv::FINDINGS_HEADER.to_owned();
    for i in &items {
        exports::csv::finding_row(&mut body, i);
    }
    Ok(csv_answer(
        body,
        Some("1"),
        Some(&format!("{}.csv", run.rec_id)),
    ))
}

/// `GET /finance/reconciliations/{id}/findings.xlsx`
pub async fn findings_xlsx(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> HttpResponse {
    if let Some(login) = signed_in_or_login(&state, &req).await {
        return login;
    }
    answer(findings_file(&state, &req, &id, true).await)
}

/// `GET /finance/reconciliations/{id}/findings.csv`
pub async fn findings_csv(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> HttpResponse {
    if let Some(login) = signed_in_or_login(&state, &req).await {
        return login;
    }
    answer(findings_file(&state, &req, &id, false).await)
}

/// `GET /finance/flags.xlsx`
pub async fn flags_xlsx(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let who = match finance_auth::viewer(&state, &req).await {
        Ok(w) => w,
        Err(res) => return res,
    };
    answer(
        async {
            let rows = crate::payments::flags::list(&state, &who.caller, None, 10_000).await?;
            xlsx_answer(exports::flags(&rows)?, "canh-bao.xlsx")
        }
        .await,
    )
}
