//! Browser returns from the gateways: verified, never changing state; they lead the payer to
//! the result page, except a stale VNPay return, which shows a neutral page.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};

use super::bounded::disabled;
use crate::gateways::GatewayId;
use crate::http::pages::error_page;
use crate::http::state::AppState;
use crate::payments::callbacks::returns::{browser_return, ReturnPage};

/// The page a return leads to.
pub(super) fn render(page: ReturnPage) -> HttpResponse {
    match page {
        ReturnPage::Result(link) => HttpResponse::SeeOther()
            .insert_header((header::LOCATION, link))
            .finish(),
        ReturnPage::BadLink => error_page(
            StatusCode::BAD_REQUEST,
            "vi",
            "Liên kết trả về không hợp lệ",
            "The return link is not valid.",
        ),
        ReturnPage::NotFound => error_page(
            StatusCode::NOT_FOUND,
            "vi",
            "Không tìm thấy giao dịch",
            "Payment not found.",
        ),
        ReturnPage::Expired => error_page(
            StatusCode::OK,
            "vi",
            "Liên kết trả về này đã hết hạn. Kết quả thanh toán được gửi về hồ sơ của bạn.",
            "This return link has expired. The payment's outcome is reported to your dossier.",
        ),
    }
}

/// VNPay browser return: verify, then show the payer the result.
#[utoipa::path(get, path = "/callbacks/vnpay/return", tag = "callbacks",
    responses((status = 303, description = "Verified, changes nothing; redirects to the payer's result page")))]
pub async fn vnpay_return(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    if !state.settings.gateways.vnpay.enabled {
        return disabled();
    }
    render(browser_return(&state, GatewayId::Vnpay, req.query_string()).await)
}

/// MoMo and ZaloPay browser returns: verified by the result page's own lookup; they only
/// redirect to the payer's result page.
pub async fn momo_return(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    if !state.settings.gateways.momo.enabled {
        return disabled();
    }
    render(browser_return(&state, GatewayId::Momo, req.query_string()).await)
}

pub async fn zalopay_return(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    if !state.settings.gateways.zalopay.enabled {
        return disabled();
    }
    render(browser_return(&state, GatewayId::Zalopay, req.query_string()).await)
}
