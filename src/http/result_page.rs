//! `GET /pay/{id}/result`: the outcome, from what the store recorded (never from the browser's
//! return parameters). While it is not final the page refreshes itself every 2 s (a script),
//! for two minutes at most; then it offers a link to check again.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;

use crate::clock::parse_ts;
use crate::http::pages::{link_params, local_time, money, open, render, LinkQuery};
use crate::http::state::AppState;
use crate::http::texts::{for_lang, Texts};
use crate::payments::order::AttemptStatus;
use crate::storage::payments::AttemptRow;

/// How long the page keeps refreshing itself.
const REFRESH_FOR_SECS: i64 = 120;

#[derive(Template)]
#[template(path = "result.html")]
struct ResultPage<'a> {
    t: &'a Texts,
    /// Where the script reloads to in 2 s, while the page still refreshes.
    refresh_url: Option<String>,
    /// A link to check again, once the page stopped refreshing.
    check_again_url: Option<String>,
    tone: &'a str,
    heading: &'a str,
    message: &'a str,
    dossier: String,
    total: String,
    paid_at: Option<String>,
    reference: Option<String>,
    receipt_url: Option<String>,
    retry_url: Option<String>,
    return_url: Option<String>,
}

/// While the page is not final: the address to reload to (carrying when refreshing began), or,
/// after [`REFRESH_FOR_SECS`], a link to check again. `since` is trusted only within a day.
fn refresh_links(
    refresh: bool,
    result_url: &str,
    since: Option<&str>,
    now: i64,
) -> (Option<String>, Option<String>) {
    let since = since
        .and_then(|s| s.parse::<i64>().ok())
        .filter(|s| *s <= now && now - *s <= 24 * 3600)
        .unwrap_or(now);
    match (refresh, now - since < REFRESH_FOR_SECS) {
        (true, true) => (Some(format!("{result_url}&since={since}")), None),
        (true, false) => (None, Some(result_url.to_owned())),
        _ => (None, None),
    }
}

#[utoipa::path(get, path = "/pay/{id}/result", tag = "pages",
    params(("id" = String, Path), ("t" = String, Query), ("lang" = Option<String>, Query),
           ("since" = Option<String>, Query, description = "When the page began refreshing itself (Unix seconds)")),
    responses((status = 200, description = "The outcome (HTML); refreshes every 2 s for two minutes while not final", content_type = "text/html")))]
/// `GET /pay/{id}/result?t=…`: the outcome, from what the store recorded.
pub async fn result(
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
    let link = link_params(&q);
    let pay_link = format!("/pay/{}?{link}", p.payment_id);
    let latest = record.attempts.last();
    let paid_attempt = record
        .attempts
        .iter()
        .find(|a| Some(&a.attempt_id) == p.paid_attempt_id.as_ref());
    let (tone, heading, message, refresh, retry) = outcome(t, p.status.as_str(), latest);
    let result_url = format!("/pay/{}/result?{link}", p.payment_id);
    let (refresh_url, check_again_url) = refresh_links(
        refresh,
        &result_url,
        q.since.as_deref(),
        state.clock.now().timestamp(),
    );
    let receipt_url = (p.confirmation_no.is_some()
        && matches!(
            p.status.as_str(),
            "paid" | "partially_refunded" | "refunded"
        ))
    .then(|| format!("/pay/{}/receipt?{link}", p.payment_id));
    let view = ResultPage {
        t,
        refresh_url,
        check_again_url,
        tone,
        heading,
        message,
        dossier: p.dossier_code.clone().unwrap_or_else(|| "—".into()),
        total: money(p.amount),
        paid_at: p
            .paid_at
            .as_deref()
            .and_then(|s| parse_ts(s).ok())
            .map(local_time),
        reference: paid_attempt.map(|a| match &a.gateway_txn_no {
            Some(no) => format!(
                "{} ({} {})",
                a.txn_ref,
                a.gateway.as_str().to_uppercase(),
                no
            ),
            None => a.txn_ref.clone(),
        }),
        receipt_url,
        retry_url: retry.then_some(pay_link),
        return_url: p.return_url.clone(),
    };
    render(StatusCode::OK, &view, "")
}

/// The page's tone, heading and message, and whether it refreshes itself or offers a retry, from
/// the order's status and its latest attempt.
fn outcome(
    t: &'static Texts,
    order_status: &str,
    latest: Option<&AttemptRow>,
) -> (&'static str, &'static str, &'static str, bool, bool) {
    let bank_transfer = latest.is_some_and(|a| a.gateway == crate::gateways::GatewayId::Vietqr);
    match order_status {
        "paid" | "partially_refunded" => ("ok", t.paid_heading, t.paid_message, false, false),
        "refunded" => ("warn", t.refunded, "", false, false),
        "expired" => ("warn", t.expired, "", false, false),
        "cancelled" => ("warn", t.cancelled, "", false, false),
        _ => match latest.map(|a| a.status) {
            Some(s) if s.is_open() && bank_transfer => (
                "",
                t.bank_pending_heading,
                t.bank_pending_message,
                true,
                false,
            ),
            Some(s) if s.is_open() => ("", t.processing_heading, t.processing_message, true, false),
            Some(AttemptStatus::Failed | AttemptStatus::Expired) => {
                ("bad", t.failed_heading, t.failed_message, false, true)
            }
            _ => ("warn", t.waiting_heading, t.waiting_message, false, true),
        },
    }
}
