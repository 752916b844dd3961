//! The DVCQG payment platform's result message and browser return. The result is received like
//! every callback; the reply echoes the partner account that signed it and the reference.

use actix_web::{web, HttpRequest, HttpResponse};

use super::bounded::{disabled, failed};
use super::received;
use crate::gateways::dvcqg::wire::{self, ResultReply};
use crate::gateways::GatewayId;
use crate::http::state::AppState;
use crate::payments::callbacks::returns::browser_return;

fn reply(state: &AppState, code: &str, partner: &str, reference: &str) -> ResultReply {
    let message = if code == wire::OK {
        "Thành công"
    } else {
        "Không xử lý được bản tin"
    };
    ResultReply {
        code: code.to_owned(),
        message: message.to_owned(),
        partner_code: partner.to_owned(),
        reference: reference.to_owned(),
        time: wire::format_time(state.clock.now()),
    }
}

/// DVCQG payment platform: the signed result of a payment.
#[utoipa::path(post, path = "/callbacks/dvcqg", tag = "callbacks",
    request_body(content = Object, description = "The platform's result message; `MaXacThuc` = SHA-256 of LoaiBanTin|MaLoi|MaDoiTac|MaThamChieu|SoTien|MaTienTe|MaGiaoDich|MaNganHang|ThoiGianGD|ThongTinGiaoDich|key"),
    responses((status = 200, description = "`MaLoi` 00 recorded (duplicates included), 99 bad signature, unknown reference or malformed body",
        example = json!({"MaLoi": "00", "MoTaLoi": "Thành công", "MaDoiTac": "LANDPAY", "MaThamChieu": "B3M0D5N6D2CQ1W3V9HZX", "ThoiGianGD": "20261202093000"}))))]
pub async fn dvcqg_result(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    if !state.settings.gateways.dvcqg.enabled {
        return disabled();
    }
    let own = &state.settings.gateways.dvcqg.partner_code;
    match received(&state, &req, GatewayId::Dvcqg, &body).await {
        Ok(outcome) => {
            let partner = outcome.signed_by.as_deref().unwrap_or(own);
            let reference = outcome.reference.as_deref().unwrap_or_default();
            HttpResponse::Ok().json(reply(&state, &outcome.answer, partner, reference))
        }
        Err(e) => {
            let fallback = HttpResponse::Ok().json(reply(&state, wire::REFUSED, own, ""));
            failed(&e, "DVCQG result", fallback)
        }
    }
}

/// DVCQG browser return: the signed result again, as query parameters; verified, it changes
/// nothing and leads the payer to the result page.
#[utoipa::path(get, path = "/callbacks/dvcqg/return", tag = "callbacks",
    params(("MaThamChieu" = String, Query, description = "…and every other field of the signed result")),
    responses((status = 303, description = "Verified, changes nothing; redirects to the payer's result page")))]
pub async fn dvcqg_return(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    if !state.settings.gateways.dvcqg.enabled {
        return disabled();
    }
    let page = browser_return(&state, GatewayId::Dvcqg, req.query_string()).await;
    super::returns::render(page)
}
