//! `GET /v1/callbacks`: the callback log for finance — every callback received, newest first,
//! with its verdict and the answer the gateway actually received.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use crate::auth::{Auth, FinanceAccess};
use crate::error::ApiError;
use crate::http::paging::{Page, PageRequest};
use crate::http::state::AppState;
use crate::payments::callbacks;
use crate::payments::callbacks::log::CallbackFilter;

#[derive(Deserialize, utoipa::IntoParams)]
pub struct CallbackLogQuery {
    /// `vnpay`, `momo` or `zalopay`.
    gateway: Option<String>,
    /// The gateway's reference (`vnp_TxnRef`, `orderId`, `app_trans_id`).
    txn_ref: Option<String>,
    payment_id: Option<String>,
    /// e.g. `valid`, `already_settled`, `amount_mismatch`, `unknown_reference`, `bad_signature`.
    verdict: Option<String>,
    cursor: Option<String>,
    limit: Option<i64>,
}

/// The callback log: every callback received, newest first, with the answer sent.
#[utoipa::path(get, path = "/v1/callbacks", tag = "callbacks", security(("bearer" = [])), params(CallbackLogQuery),
    responses((status = 200, description = "`{data: [{id, gateway, received_at, txn_ref, payment_id, verdict, answer, payload_bytes, payload_sha256, payload}], next_cursor}`, newest first")))]
pub async fn list(
    auth: Auth<FinanceAccess>,
    state: web::Data<AppState>,
    q: web::Query<CallbackLogQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let filter = CallbackFilter {
        gateway: q.gateway.as_deref(),
        txn_ref: q.txn_ref.as_deref(),
        payment_id: q.payment_id.as_deref(),
        verdict: q.verdict.as_deref(),
        agency: auth.agency_scope(),
    };
    let rows =
        callbacks::log::list(&state, &filter, page.after.as_deref(), page.fetch_limit()).await?;
    let page = Page::build(rows, &page, |r| r.callback_id.clone());
    Ok(HttpResponse::Ok().json(page))
}
