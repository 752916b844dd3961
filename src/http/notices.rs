//! `/v1/notices`: the tax authority's payment notices.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use crate::auth::{Auth, PortalAccess, ReadAccess};
use crate::error::ApiError;
use crate::http::extract::{JsonBody, Query};
use crate::http::paging::{Page, PageRequest};
use crate::http::state::AppState;
use crate::notices::service;
use crate::notices::{Notice, NoticeInput};

/// Register an official payment notice of the tax authority.
#[utoipa::path(post, path = "/v1/notices", tag = "notices", security(("bearer" = [])),
    request_body(content = NoticeInput, example = json!({
        "notice_no": "LTB2171317-TK0029952/TB-CCT", "issued_at": "2026-11-20T09:00:00+07:00",
        "agency_code": "HN-VPDKDD", "dossier_code": "000.00.12.H26-261120-0001",
        "taxpayer": {"name": "Nguyễn Văn A", "tax_code": "8000000001", "id_no": "001080000001"},
        "treasury": {"shkb": "0012", "account": "7111", "tax_office_code": "1054634", "admin_unit_code": "00001"},
        "lines": [{"chapter": "757", "sub_item": "2801", "name": "Lệ phí trước bạ nhà đất", "amount": 45000000,
                   "due_date": "2026-12-19", "interest_sub_item": null}]})),
    responses(
        (status = 201, description = "Registered", body = Notice),
        (status = 200, description = "The same notice was already registered", body = Notice),
        (status = 409, description = "The same number with other content", body = crate::http::errors::Problem),
        (status = 422, description = "Invalid notice", body = crate::http::errors::Problem)))]
pub async fn create(
    auth: Auth<PortalAccess>,
    state: web::Data<AppState>,
    body: JsonBody<NoticeInput>,
) -> Result<HttpResponse, ApiError> {
    let registered = service::register(&state, &auth, body.value).await?;
    Ok(if registered.created {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    }
    .json(registered.notice))
}

/// Read a payment notice with its lines and their status.
#[utoipa::path(get, path = "/v1/notices/{id}", tag = "notices", security(("bearer" = [])),
    params(("id" = String, Path, description = "ntc_…")),
    responses((status = 200, body = Notice), (status = 404, body = crate::http::errors::Problem)))]
pub async fn get(
    auth: Auth<ReadAccess>,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = crate::http::extract::path_id(&id, crate::ids::NoticeId::parse, "notice")?;
    Ok(HttpResponse::Ok().json(service::visible(&state, &auth, &id).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct ListQuery {
    dossier_code: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

/// List payment notices, newest first.
#[utoipa::path(get, path = "/v1/notices", tag = "notices", security(("bearer" = [])), params(ListQuery),
    responses((status = 200, description = "`{data: [Notice], next_cursor}`")))]
pub async fn list(
    auth: Auth<ReadAccess>,
    state: web::Data<AppState>,
    query: Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = PageRequest::parse(query.limit, query.cursor.as_deref())?;
    let items = service::list(
        &state,
        &auth,
        query.dossier_code.as_deref(),
        page.after.as_deref(),
        page.fetch_limit(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(Page::build(items, &page, |n| n.id.clone())))
}
