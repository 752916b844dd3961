//! A payment's whole story in the finance dashboard (`/finance/payments/{id}`): lines, attempts,
//! callbacks, events, flags and refunds, with a refund form (attempt, amount, reason) and a
//! confirmation step before any money moves.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::accounts::sessions::SignedIn;
use crate::clock::parse_ts;
use crate::error::ApiError;
use crate::exports::labels;
use crate::http::finance::Chrome;
use crate::http::finance_auth::{self, render};
use crate::http::finance_recon::error_page;
use crate::http::pages::{local_time, money};
use crate::http::state::AppState;
use crate::payments::refund::{self, RefundRequest};
use crate::payments::story::{self, Story};

struct PaymentView {
    id: String,
    status: String,
    amount: String,
    refunded: String,
    agency: String,
    dossier: String,
    created_at: String,
}
struct LineView {
    sub_item: String,
    name: String,
    amount: String,
}
struct AttemptView {
    id: String,
    gateway: String,
    status: String,
    received: String,
    refunded: String,
    role: &'static str,
}
struct FlagView {
    label: String,
    status: String,
    detail: Option<String>,
    note: Option<String>,
}
struct RefundView {
    id: String,
    attempt_id: String,
    amount: String,
    reason: String,
    status: String,
    by: String,
}
struct CallbackView {
    at: String,
    gateway: String,
    txn_ref: String,
    verdict: String,
    answer: String,
}
struct EventView {
    at: String,
    kind: String,
    actor: Option<String>,
}

#[derive(Template)]
#[template(path = "finance_payment.html")]
struct PaymentPage {
    c: Chrome,
    p: PaymentView,
    message: Option<String>,
    error: Option<String>,
    lines: Vec<LineView>,
    attempts: Vec<AttemptView>,
    holders: Vec<(String, String)>,
    flags: Vec<FlagView>,
    refunds: Vec<RefundView>,
    callbacks: Vec<CallbackView>,
    events: Vec<EventView>,
}

fn when(stored: &str) -> String {
    parse_ts(stored)
        .map(local_time)
        .unwrap_or_else(|_| stored.to_owned())
}

fn attempts(s: &Story) -> (Vec<AttemptView>, Vec<(String, String)>) {
    let paying = s.record.payment.paid_attempt_id.as_deref();
    let mut holders = Vec::new();
    let views = s
        .record
        .attempts
        .iter()
        .map(|a| {
            let received = a.paid_amount.unwrap_or(0);
            let left = received - a.refunded_amount;
            let role = match (Some(a.attempt_id.as_str()) == paying, received > 0) {
                (true, _) => "Trả cho khoản nộp / Paid the order",
                (false, true) => "Tiền không gắn khoản nộp / Money that did not pay the order",
                _ => "",
            };
            if left > 0 {
                holders.push((
                    a.attempt_id.clone(),
                    format!(
                        "{} · {} · còn {} / {} left",
                        a.attempt_id,
                        a.gateway,
                        money(left),
                        money(left)
                    ),
                ));
            }
            AttemptView {
                id: a.attempt_id.clone(),
                gateway: a.gateway.as_str().into(),
                status: a.status.as_str().into(),
                received: a.paid_amount.map(money).unwrap_or_else(|| "—".into()),
                refunded: money(a.refunded_amount),
                role,
            }
        })
        .collect();
    (views, holders)
}

fn page_of(
    who: &SignedIn,
    s: Story,
    message: Option<String>,
    error: Option<String>,
) -> PaymentPage {
    let p = &s.record.payment;
    let (attempt_views, holders) = attempts(&s);
    PaymentPage {
        c: Chrome::of(who, "flags"),
        p: PaymentView {
            id: p.payment_id.clone(),
            status: p.status.as_str().into(),
            amount: money(p.amount),
            refunded: money(p.refunded_amount),
            agency: p.agency_code.clone().unwrap_or_else(|| "—".into()),
            dossier: p.dossier_code.clone().unwrap_or_else(|| "—".into()),
            created_at: when(&p.created_at),
        },
        message,
        error,
        lines: s
            .record
            .lines
            .iter()
            .map(|l| LineView {
                sub_item: l
                    .sub_item
                    .as_deref()
                    .map_or_else(|| "—".into(), labels::sub_item_vi),
                name: l.name.clone(),
                amount: money(l.amount),
            })
            .collect(),
        attempts: attempt_views,
        holders,
        flags: s
            .record
            .flags
            .iter()
            .map(|f| FlagView {
                label: format!("{} / {}", labels::flag(&f.flag).0, labels::flag(&f.flag).1),
                status: if f.status == crate::payments::order::FlagStatus::Open {
                    "Chưa xử lý / Open".into()
                } else {
                    "Đã xử lý / Resolved".into()
                },
                detail: f.detail.clone(),
                note: f.note.clone(),
            })
            .collect(),
        refunds: refund_views(&s),
        callbacks: callback_views(&s),
        events: event_views(&s),
    }
}

fn refund_views(s: &Story) -> Vec<RefundView> {
    s.refunds
        .iter()
        .map(|r| RefundView {
            id: r.refund_id.clone(),
            attempt_id: r.attempt_id.clone(),
            amount: money(r.amount),
            reason: r.reason.clone(),
            status: r.status.as_str().into(),
            by: r.created_by.clone(),
        })
        .collect()
}

fn callback_views(s: &Story) -> Vec<CallbackView> {
    s.callbacks
        .iter()
        .map(|c| CallbackView {
            at: when(&c.received_at),
            gateway: c.gateway.clone(),
            txn_ref: c.txn_ref.clone().unwrap_or_default(),
            verdict: c.verdict.clone(),
            answer: c.answer.clone(),
        })
        .collect()
}

fn event_views(s: &Story) -> Vec<EventView> {
    s.history
        .iter()
        .map(|e| EventView {
            at: e["created_at"].as_str().map(when).unwrap_or_default(),
            kind: e["type"].as_str().unwrap_or_default().to_owned(),
            actor: e["actor"].as_str().map(str::to_owned),
        })
        .collect()
}

/// The payment a path names (404 for an id of another shape, as for an unknown one).
fn payment_id(raw: &str) -> Result<crate::ids::PaymentId, ApiError> {
    crate::http::extract::path_id(raw, crate::ids::PaymentId::parse, "payment")
}

async fn show(
    state: &AppState,
    who: &SignedIn,
    id: &str,
    status: StatusCode,
    message: Option<String>,
    error: Option<String>,
) -> HttpResponse {
    let story = match payment_id(id) {
        Ok(id) => story::story(state, &who.caller, &id).await,
        Err(e) => Err(e),
    };
    match story {
        Ok(s) => render(status, &page_of(who, s, message, error)),
        Err(e) => error_page(&e),
    }
}

#[derive(Deserialize)]
pub struct ShowQuery {
    refunded: Option<String>,
}

/// `GET /finance/payments/{id}`
#[utoipa::path(get, path = "/finance/payments/{id}", tag = "pages", params(("id" = String, Path, description = "pay_…")),
    responses((status = 200, description = "A payment's attempts, callbacks, events, flags and refunds, with a refund form (HTML)", content_type = "text/html"), (status = 303, description = "Without a live session: to `/finance/login`")))]
pub async fn payment(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    q: web::Query<ShowQuery>,
) -> HttpResponse {
    let who = match finance_auth::viewer(&state, &req).await {
        Ok(w) => w,
        Err(res) => return res,
    };
    let message = q
        .refunded
        .as_deref()
        .filter(|r| refund::is_refund_id(r))
        .map(|r| format!("Đã ghi nhận hoàn tiền {r} / Refund {r} recorded"));
    show(&state, &who, &id, StatusCode::OK, message, None).await
}

#[derive(Deserialize)]
pub struct RefundForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    attempt_id: String,
    #[serde(default)]
    amount: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    refund_id: String,
}

impl RefundForm {
    fn checked(&self) -> Result<i64, String> {
        let amount = self.amount.trim().parse::<i64>().ok().filter(|a| *a > 0);
        let Some(amount) = amount else {
            return Err("Số tiền phải là số đồng nguyên dương / The amount must be a positive whole number of đồng".into());
        };
        let reason = self.reason.trim();
        if reason.is_empty()
            || reason.chars().count() > 500
            || reason.chars().any(crate::http::guard::is_forbidden_char)
        {
            return Err("Lý do phải có nội dung (tối đa 500 ký tự) / The reason must be 1 to 500 characters".into());
        }
        Ok(amount)
    }
}

#[derive(Template)]
#[template(path = "finance_refund_confirm.html")]
struct Confirm {
    c: Chrome,
    payment_id: String,
    attempt_id: String,
    amount: i64,
    amount_text: String,
    reason: String,
    effect: &'static str,
    refund_id: String,
}

/// `POST /finance/payments/{id}/refund`: checks the form and asks for confirmation; no money moves.
pub async fn refund_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    form: web::Form<RefundForm>,
) -> HttpResponse {
    let who = match finance_auth::poster(&state, &req, &form.csrf).await {
        Ok(w) => w,
        Err(res) => return res,
    };
    let amount = match form.checked() {
        Ok(a) => a,
        Err(e) => {
            return show(
                &state,
                &who,
                &id,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                Some(e),
            )
            .await
        }
    };
    let story = match payment_id(&id) {
        Ok(id) => story::story(&state, &who.caller, &id).await,
        Err(e) => Err(e),
    };
    let s = match story {
        Ok(s) => s,
        Err(e) => return error_page(&e),
    };
    let Some(attempt) = s
        .record
        .attempts
        .iter()
        .find(|a| a.attempt_id == form.attempt_id)
    else {
        return show(
            &state,
            &who,
            &id,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            Some(
                "Chọn một lượt thanh toán của khoản nộp này / Choose an attempt of this payment"
                    .into(),
            ),
        )
        .await;
    };
    let effect = if s.record.payment.paid_attempt_id.as_deref() == Some(attempt.attempt_id.as_str())
    {
        "Hoàn tiền của lượt đã trả cho khoản nộp: khoản nộp chuyển sang đã hoàn (một phần). / This refunds the money that paid the order: the order becomes (partially) refunded."
    } else {
        "Tiền của lượt này không trả cho khoản nộp: khoản nộp giữ nguyên tình trạng, cảnh báo của lượt được đóng. / This attempt's money did not pay the order: the order stays as it is and the attempt's flag is resolved."
    };
    render(
        StatusCode::OK,
        &Confirm {
            c: Chrome::of(&who, "flags"),
            payment_id: s.record.payment.payment_id.clone(),
            attempt_id: attempt.attempt_id.clone(),
            amount,
            amount_text: money(amount),
            reason: form.reason.trim().to_owned(),
            effect,
            refund_id: refund::new_refund_id(),
        },
    )
}

/// `POST /finance/payments/{id}/refund/confirm`: refunds, audited with the signed-in person.
pub async fn refund_confirm(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    form: web::Form<RefundForm>,
) -> HttpResponse {
    let who = match finance_auth::poster(&state, &req, &form.csrf).await {
        Ok(w) => w,
        Err(res) => return res,
    };
    let amount = match form.checked() {
        Ok(a) => a,
        Err(e) => {
            return show(
                &state,
                &who,
                &id,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                Some(e),
            )
            .await
        }
    };
    let request = RefundRequest {
        amount,
        reason: form.reason.trim(),
        attempt_id: Some(form.attempt_id.as_str()),
        refund_id: Some(form.refund_id.as_str()),
    };
    // The request is judged before the order is looked for, whatever the path names.
    let refunded = match refund::check(&request).and_then(|()| payment_id(&id)) {
        Ok(pid) => refund::refund(&state, &who.caller, &pid, &request).await,
        Err(e) => Err(e),
    };
    match refunded {
        Ok(r) => HttpResponse::SeeOther()
            .insert_header((
                header::LOCATION,
                format!(
                    "/finance/payments/{}?refunded={}",
                    r.payment_id, r.refund_id
                ),
            ))
            .finish(),
        Err(ApiError::Validation { errors, .. }) => {
            let why = errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("; ");
            show(
                &state,
                &who,
                &id,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                Some(format!("Không hoàn được / Not refunded: {why}")),
            )
            .await
        }
        Err(ApiError::InvalidState(why) | ApiError::Conflict(why)) => {
            show(
                &state,
                &who,
                &id,
                StatusCode::CONFLICT,
                None,
                Some(format!("Không hoàn được / Not refunded: {why}")),
            )
            .await
        }
        Err(e) => error_page(&e),
    }
}
