//! Browser returns from the gateways: verified, never changing state; they lead the payer to
//! the result page, except a stale VNPay return, which shows a neutral page.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};

use super::bounded::disabled;
use crate::gateways::momo;
use crate::gateways::vnpay::wire::parse_callback;
use crate::gateways::zalopay;
use crate::http::state::AppState;
use crate::payments::credentials;
use crate::payments::service::visible_link;
use crate::storage::payments::AttemptRow;

/// VNPay browser return: verify, then show the payer the result.
#[utoipa::path(get, path = "/callbacks/vnpay/return", tag = "callbacks",
    responses((status = 303, description = "Verified, changes nothing; redirects to the payer's result page")))]
pub async fn vnpay_return(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    if !state.settings.gateways.vnpay.enabled {
        return disabled();
    }
    let reference = credentials::vnpay_reference(req.query_string());
    let agency = credentials::agency_of_reference(&state, reference.as_deref())
        .await
        .unwrap_or_default();
    let cfg = state.settings.vnpay_for(agency.as_deref());
    let Ok(callback) = parse_callback(req.query_string(), cfg.hash_secret.expose()) else {
        return crate::http::pages::error_page(
            actix_web::http::StatusCode::BAD_REQUEST,
            "vi",
            "Liên kết trả về không hợp lệ",
            "The return link is not valid.",
        );
    };
    // A return query never expires: once its attempt is settled and older than an attempt's
    // life, it no longer leads to a payer link.
    if let Ok(Some(attempt)) = state.store.attempt_by_ref(&callback.txn_ref).await {
        if is_stale(&state, &attempt) {
            return crate::http::pages::error_page(
                actix_web::http::StatusCode::OK,
                "vi",
                "Liên kết trả về này đã hết hạn. Kết quả thanh toán được gửi về hồ sơ của bạn.",
                "This return link has expired. The payment's outcome is reported to your dossier.",
            );
        }
    }
    result_redirect(&state, &callback.txn_ref).await
}

/// An attempt no longer open whose life (`payments.attempt_ttl`) is over.
fn is_stale(state: &AppState, attempt: &AttemptRow) -> bool {
    let open = attempt.status.is_open();
    let ttl = chrono::Duration::from_std(state.settings.payments.attempt_ttl.0)
        .unwrap_or_else(|_| chrono::Duration::minutes(15));
    let old = crate::storage::parse_ts(&attempt.created_at)
        .map_or(true, |created| created + ttl < state.clock.now());
    !open && old
}

/// Sends the payer to the result page of the payment that `txn_ref` belongs to.
pub(super) async fn result_redirect(state: &AppState, txn_ref: &str) -> HttpResponse {
    match state.store.attempt_by_ref(txn_ref).await {
        Ok(Some(attempt)) => match state.store.payment(&attempt.payment_id).await {
            Ok(Some(record)) => HttpResponse::SeeOther()
                .insert_header((header::LOCATION, visible_link(state, &record, "/result")))
                .finish(),
            _ => crate::http::pages::error_page(
                actix_web::http::StatusCode::NOT_FOUND,
                "vi",
                "Không tìm thấy giao dịch",
                "Payment not found.",
            ),
        },
        _ => crate::http::pages::error_page(
            actix_web::http::StatusCode::NOT_FOUND,
            "vi",
            "Không tìm thấy giao dịch",
            "Payment not found.",
        ),
    }
}

/// MoMo and ZaloPay browser returns: verified by the result page's own lookup; they only
/// redirect to the payer's result page.
pub async fn momo_return(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    if !state.settings.gateways.momo.enabled {
        return disabled();
    }
    let reference = query_value(req.query_string(), "orderId");
    let agency = credentials::agency_of_reference(&state, reference.as_deref())
        .await
        .unwrap_or_default();
    let cfg = &state.settings.momo_for(agency.as_deref());
    match momo::wire::parse_redirect(
        req.query_string(),
        cfg.access_key.expose(),
        cfg.secret_key.expose(),
    ) {
        Ok(r) => result_redirect(&state, &r.order_id).await,
        Err(_) => crate::http::pages::error_page(
            actix_web::http::StatusCode::BAD_REQUEST,
            "vi",
            "Liên kết trả về không hợp lệ",
            "The return link is not valid.",
        ),
    }
}

pub async fn zalopay_return(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    if !state.settings.gateways.zalopay.enabled {
        return disabled();
    }
    let reference = query_value(req.query_string(), "apptransid");
    let agency = credentials::agency_of_reference(&state, reference.as_deref())
        .await
        .unwrap_or_default();
    let cfg = &state.settings.zalopay_for(agency.as_deref());
    match zalopay::wire::parse_redirect(req.query_string(), cfg.key2.expose()) {
        Ok(r) => result_redirect(&state, &r.app_trans_id).await,
        Err(_) => crate::http::pages::error_page(
            actix_web::http::StatusCode::BAD_REQUEST,
            "vi",
            "Liên kết trả về không hợp lệ",
            "The return link is not valid.",
        ),
    }
}

/// One parameter of a return query, unverified (it only chooses the key that verifies it).
fn query_value(query: &str, name: &str) -> Option<String> {
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}
