//! `/v1/notices`: the tax authority's payment notices.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use crate::auth::{Auth, PortalAccess, ReadAccess};
use crate::error::ApiError;
use crate::http::extract::{JsonBody, Query};
use crate::http::paging::{Page, PageRequest};
use crate::http::state::AppState;
use crate::notices::{self, Notice, NoticeInput};
use crate::storage::notices::NoticeInsert;

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
    let agency = auth.agency_for_new(body.value.agency_code.as_deref(), "agency_code")?;
    let notice = notices::validate(body.value).map_err(ApiError::invalid)?;
    let outcome = state
        .store
        .insert_notice(&notice, agency.as_deref(), &auth.sub, state.clock.now())
        .await?;
    let (id, created) = match outcome {
        NoticeInsert::Created(id) => (id, true),
        NoticeInsert::Existing { id, same: true } => (id, false),
        NoticeInsert::Existing { same: false, .. } => {
            return Err(ApiError::Conflict(
                "a notice with this notice_no is registered with different content".into(),
            ))
        }
    };
    let stored = visible(&state, &auth, &id).await?;
    Ok(if created {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    }
    .json(stored))
}

async fn visible(
    state: &AppState,
    caller: &crate::auth::Caller,
    id: &str,
) -> Result<Notice, ApiError> {
    state
        .store
        .notice(id)
        .await?
        .filter(|n| caller.can_see(n.agency_code.as_deref()))
        .ok_or_else(|| ApiError::NotFound(format!("notice {id}")))
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
    Ok(HttpResponse::Ok().json(visible(&state, &auth, &id).await?))
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
    let items = state
        .store
        .notices(
            query.dossier_code.as_deref(),
            auth.agency_scope(),
            page.after.as_deref(),
            page.fetch_limit(),
        )
        .await?;
    // Lists show personal numbers masked; a single read shows them whole.
    let items = items
        .into_iter()
        .map(|mut n| {
            n.taxpayer = n.taxpayer.masked();
            n
        })
        .collect();
    Ok(HttpResponse::Ok().json(Page::build(items, &page, |n| n.id.clone())))
}
