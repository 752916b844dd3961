//! PayGov's browser return. It is browser-borne: without a configured return checksum it only
//! moves the attempt to `unknown` ("received, being confirmed") and a settlement file records
//! the money; with one, a return whose checksum verifies is decided like a callback.

use actix_web::{web, HttpRequest, HttpResponse};

use super::bounded::disabled;
use crate::http::state::AppState;
use crate::payments::callbacks::returns::paygov_return as returned;

/// PayGov browser return.
#[utoipa::path(get, path = "/callbacks/paygov/return", tag = "callbacks",
    params(("orderId" = String, Query, description = "…and `errorCode`, `amount`, `transactionNo`, `checksum` and the other return fields")),
    responses((status = 303, description = "Redirects to the payer's result page; the attempt is `unknown` until a settlement file (or a configured return checksum) confirms it"),
        (status = 400, description = "A return that names no PayGov attempt or whose checksum is wrong")))]
pub async fn paygov_return(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    if !state.settings.gateways.paygov.enabled {
        return disabled();
    }
    let outcome = returned(&state, req.query_string()).await;
    if let Some(verdict) = outcome.verdict {
        state.metrics.operator.callback("paygov", verdict);
    }
    super::returns::render(outcome.page)
}
