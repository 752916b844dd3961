//! `GET /pay/{id}`: what is owed, to whom, and the ways to pay it.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;

use crate::agencies::{self, AgencyView};
use crate::clock::parse_ts;
use crate::gateways::GatewayId;
use crate::http::pages::{
    form_targets, link_params, local_date, local_time, money, open, render, LinkQuery,
};
use crate::http::state::AppState;
use crate::http::texts::{for_lang, Texts};
use crate::payments::vietqr_view::{self, QrView};
use crate::storage::payments::{PaymentLineRow, PaymentRecord};

struct LineView {
    name: String,
    /// Sub-item, legal due date, days late: joined with " · " under the name.
    details: String,
    amount: String,
}

struct GatewayChoice {
    id: &'static str,
    label: &'static str,
    primary: bool,
}

#[derive(Template)]
#[template(path = "pay.html")]
struct PayPage<'a> {
    t: &'a Texts,
    other_lang_url: String,
    agency: Option<AgencyView>,
    notices: Vec<String>,
    receiving_account: Option<String>,
    dossier: String,
    payer: String,
    payment_id: String,
    expires: String,
    lines: Vec<LineView>,
    total: String,
    closed: Option<&'a str>,
    return_url: Option<String>,
    gateways: Vec<GatewayChoice>,
    attempt_action: String,
    vietqr: Option<QrView>,
    qr_png_url: String,
    result_url: String,
}

fn line_view(t: &Texts, l: &PaymentLineRow) -> LineView {
    let mut details = Vec::new();
    if let Some(s) = &l.sub_item {
        details.push(format!("{} {s}", t.sub_item));
    }
    let due = l.due_date.as_deref().map(local_date);
    match (l.days, due) {
        (Some(days), Some(due)) => details.push(format!("{days} {} {due}", t.days_late_since)),
        (Some(days), None) => details.push(format!("{days} {}", t.days_late)),
        (None, Some(due)) => details.push(format!("{}: {due}", t.due)),
        (None, None) => {}
    }
    LineView {
        name: l.name.clone(),
        details: details.join(" · "),
        amount: money(l.amount),
    }
}

fn closed_notice(
    state: &AppState,
    t: &'static Texts,
    record: &PaymentRecord,
) -> Option<&'static str> {
    let p = &record.payment;
    match p.status.as_str() {
        "pending" | "processing"
            if parse_ts(&p.expires_at).is_ok_and(|e| e <= state.clock.now()) =>
        {
            Some(t.expired)
        }
        "pending" | "processing" => None,
        "expired" => Some(t.expired),
        "cancelled" => Some(t.cancelled),
        "refunded" => Some(t.refunded),
        _ => Some(t.already_paid),
    }
}

fn gateway_choices(state: &AppState) -> Vec<GatewayChoice> {
    let labels = [
        (GatewayId::Vnpay, "VNPay"),
        (GatewayId::Momo, "MoMo"),
        (GatewayId::Zalopay, "ZaloPay"),
        (GatewayId::Dvcqg, "Cổng DVCQG"),
        (GatewayId::Paygov, "PayGov"),
    ];
    labels
        .iter()
        .filter(|(g, _)| state.gateways.contains_key(g))
        .enumerate()
        .map(|(i, (g, label))| GatewayChoice {
            id: g.as_str(),
            label,
            primary: i == 0,
        })
        .collect()
}

/// `GET /pay/{id}?t=…`: what is owed, and the ways to pay it.
#[utoipa::path(get, path = "/pay/{id}", tag = "pages",
    params(("id" = String, Path, description = "pay_…"), ("t" = String, Query, description = "The signed link token of `pay_url`"),
           ("lang" = Option<String>, Query, description = "`en` for English; Vietnamese by default")),
    responses((status = 200, description = "The payer page (HTML)", content_type = "text/html"),
              (status = 403, description = "Forged or expired link"), (status = 404, description = "No such payment")))]
pub async fn pay(
    state: web::Data<AppState>,
    id: web::Path<String>,
    q: web::Query<LinkQuery>,
) -> HttpResponse {
    let record = match open(&state, &id, &q).await {
        Ok(r) => r,
        Err(page) => return page,
    };
    let t = for_lang(q.lang.as_deref());
    let p = &record.payment;
    let mut notices: Vec<String> = crate::confirmation::notice_numbers(&state, &record)
        .await
        .unwrap_or_else(|e| {
            tracing::warn!(error = ?e, "reading the notice numbers of an order");
            Vec::new()
        })
        .into_iter()
        .flatten()
        .collect();
    notices.dedup();
    let payer: serde_json::Value = serde_json::from_str(&p.payer).unwrap_or_default();
    let other = if t.lang == "en" { "" } else { "&lang=en" };
    let token = q.t.as_deref().unwrap_or_default();
    let view = PayPage {
        t,
        other_lang_url: format!("/pay/{}?t={token}{other}", p.payment_id),
        agency: agencies::view(&state.settings, p.agency_code.as_deref(), t.lang),
        notices,
        receiving_account: vietqr_view::receiving_account(
            &state,
            record.payment.agency_code.as_deref(),
        ),
        dossier: p.dossier_code.clone().unwrap_or_else(|| "—".into()),
        payer: payer["name"].as_str().unwrap_or("—").to_owned(),
        payment_id: p.payment_id.clone(),
        expires: parse_ts(&p.expires_at).map(local_time).unwrap_or_default(),
        lines: record.lines.iter().map(|l| line_view(t, l)).collect(),
        total: money(p.amount),
        closed: closed_notice(&state, t, &record),
        return_url: p.return_url.clone(),
        gateways: gateway_choices(&state),
        attempt_action: format!("/pay/{}/attempts?{}", p.payment_id, link_params(&q)),
        vietqr: vietqr_view::view(&state, &record),
        qr_png_url: format!("/pay/{}/qr.png?{}", p.payment_id, link_params(&q)),
        result_url: format!("/pay/{}/result?{}", p.payment_id, link_params(&q)),
    };
    render(StatusCode::OK, &view, &form_targets(&state))
}
