//! Payment use cases: create an order, start an attempt, apply a gateway's word, cancel,
//! refund, and the janitor's pass. Decisions are made here; the store applies them with
//! compare-and-set inside one transaction each.

use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};

use super::holds::held_conflict;
use super::{AttemptInput, ItemInput, PaymentInput};
use crate::app::Services;
use crate::auth::Caller;
use crate::clock::{vietnam, vietnam_date};
use crate::error::{ApiError, FieldError};
use crate::gateways::adapters::{AttemptRef, QueryOutcome, StartRequest, Started};
use crate::gateways::GatewayId;
use crate::ids::{new_id, IdKind};
use crate::money::Vnd;
use crate::obligations::late_interest;
use crate::obligations::line::LineKind;
use crate::storage::payments::{
    AttemptRow, GatewayResult, NewAttempt, NewPayment, PaymentLineRow, PaymentRecord, PaymentRow,
    PaymentStoreError, ResultApplied,
};
use crate::storage::{parse_ts, ts};

/// Fee lines of an assessment that may be paid from it; tax lines are paid from notices.
const PAYABLE_ASSESSMENT_LINES: [&str; 2] = ["appraisal_fee", "certificate_fee"];
pub const MAX_ITEMS: usize = 50;

impl From<PaymentStoreError> for ApiError {
    fn from(e: PaymentStoreError) -> Self {
        match e {
            PaymentStoreError::ItemHeld => {
                ApiError::Conflict("an item is already paid or held by another live payment".into())
            }
            PaymentStoreError::NotPayable(status) => {
                ApiError::InvalidState(format!("the payment is {status} and cannot take this"))
            }
            PaymentStoreError::NotFound => ApiError::NotFound("payment".into()),
            PaymentStoreError::Db(e) => e.into(),
        }
    }
}

/// A payment visible to `caller`, or 404.
pub async fn visible(
    state: &Services,
    caller: &Caller,
    id: &str,
) -> Result<PaymentRecord, ApiError> {
    state
        .store
        .payment(id)
        .await?
        .filter(|p| caller.can_see(p.payment.agency_code.as_deref()))
        .ok_or_else(|| ApiError::NotFound(format!("payment {id}")))
}

/// The payer link of a payment, with a fresh token valid until the order expires.
pub fn pay_url(state: &Services, record: &PaymentRecord) -> String {
    let expires = parse_ts(&record.payment.expires_at)
        .map(|t| t.timestamp())
        .unwrap_or(0);
    let token = super::link::issue(
        state.settings.auth.link_secret.expose(),
        &record.payment.payment_id,
        expires,
    );
    // The payer's pages speak the order's language from the first click on.
    let lang = if record.payment.locale == "en" {
        "&lang=en"
    } else {
        ""
    };
    format!(
        "{}/pay/{}?t={}{lang}",
        state.settings.base_url(),
        record.payment.payment_id,
        token
    )
}

/// The end of `now`'s day in Vietnam (23:59:59 UTC+7), as UTC.
fn end_of_vietnam_day(now: DateTime<Utc>) -> DateTime<Utc> {
    let date = vietnam_date(now);
    let end = date.and_time(NaiveTime::from_hms_opt(23, 59, 59).unwrap_or(NaiveTime::MIN));
    vietnam()
        .from_local_datetime(&end)
        .single()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or(now)
}

fn validate_input(input: &PaymentInput) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if input.items.is_empty() {
        errors.push(FieldError::new("items", "must list at least one item"));
    }
    if input.items.len() > MAX_ITEMS {
        errors.push(FieldError::new(
            "items",
            format!("at most {MAX_ITEMS} items"),
        ));
    }
    for (i, item) in input.items.iter().enumerate() {
        let kinds = [
            item.notice_id.is_some(),
            item.notice_line_id.is_some(),
            item.assessment_id.is_some(),
        ]
        .iter()
        .filter(|b| **b)
        .count();
        if kinds != 1 {
            errors.push(FieldError::new(
                format!("items[{i}]"),
                "give exactly one of notice_id, notice_line_id, or assessment_id with line",
            ));
        } else if item.assessment_id.is_some() && item.line.is_none() {
            errors.push(FieldError::new(
                format!("items[{i}].line"),
                "is required with assessment_id",
            ));
        } else if item.assessment_id.is_none() && item.line.is_some() {
            errors.push(FieldError::new(
                format!("items[{i}].line"),
                "is only allowed with assessment_id",
            ));
        }
    }
    if input.payer.name.trim().is_empty() {
        errors.push(FieldError::new("payer.name", "must not be empty"));
    }
    if let Some(url) = &input.return_url {
        if !(url.starts_with("https://") || url.starts_with("http://")) || url.len() > 1000 {
            errors.push(FieldError::new("return_url", "must be an http(s) URL"));
        }
    }
    if let Some(locale) = &input.locale {
        if !matches!(locale.as_str(), "vi" | "en") {
            errors.push(FieldError::new(
                "locale",
                crate::wording::one_of(["vi", "en"]),
            ));
        }
    }
    errors
}

/// Turns the items into order lines (with late interest for overdue notice lines) and hold keys.
async fn resolve_items(
    state: &Services,
    caller: &Caller,
    agency: Option<&str>,
    items: &[ItemInput],
    now: DateTime<Utc>,
) -> Result<(Vec<PaymentLineRow>, Vec<String>), ApiError> {
    let today = vietnam_date(now);
    let mut lines = Vec::new();
    let mut holds: Vec<String> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        if let Some(asm_id) = &item.assessment_id {
            let field = format!("items[{i}].assessment_id");
            let code = item.line.clone().unwrap_or_default();
            let asm = state
                .store
                .assessment(asm_id)
                .await?
                .filter(|a| caller.can_see(a.agency_code.as_deref()))
                .ok_or_else(|| ApiError::NotFound(format!("{field}: assessment {asm_id}")))?;
            if !PAYABLE_ASSESSMENT_LINES.contains(&code.as_str()) {
                return Err(ApiError::invalid_field(
                    format!("items[{i}].line"),
                    "only procedure fee lines (appraisal_fee, certificate_fee) are paid from an assessment; taxes are paid from notices",
                ));
            }
            let line = asm.response["lines"]
                .as_array()
                .and_then(|ls| ls.iter().find(|l| l["code"] == code.as_str()))
                .ok_or_else(|| {
                    ApiError::invalid_field(
                        format!("items[{i}].line"),
                        "the assessment has no such line",
                    )
                })?;
            let amount = line["amount"].as_i64().unwrap_or(0);
            if amount <= 0 {
                return Err(ApiError::invalid_field(
                    format!("items[{i}].line"),
                    "this line is exempt: nothing to pay",
                ));
            }
            let key = format!("{asm_id}:{code}");
            if holds.contains(&key) {
                return Err(ApiError::invalid_field(
                    "items",
                    "the same item is listed twice",
                ));
            }
            holds.push(key);
            lines.push(PaymentLineRow {
                kind: LineKind::Fee,
                source: asm_id.clone(),
                notice_line_id: None,
                assessment_line: Some(code.clone()),
                sub_item: line["budget_sub_item"].as_str().map(str::to_owned),
                name: line["name"].as_str().unwrap_or(&code).to_owned(),
                amount,
                days: None,
                due_date: None,
            });
            continue;
        }
        let (notice, only_line) = match (&item.notice_id, &item.notice_line_id) {
            (Some(id), _) => (state.store.notice(id).await?, None),
            (None, Some(line_id)) => (
                state.store.notice_of_line(line_id).await?,
                Some(line_id.clone()),
            ),
            (None, None) => (None, None),
        };
        let notice = notice
            .filter(|n| caller.can_see(n.agency_code.as_deref()))
            .ok_or_else(|| ApiError::NotFound(format!("items[{i}]: notice not found")))?;
        if let (Some(mine), Some(theirs)) = (agency, notice.agency_code.as_deref()) {
            if mine != theirs {
                return Err(ApiError::invalid_field(
                    format!("items[{i}]"),
                    "belongs to another agency than the payment",
                ));
            }
        }
        for line in notice
            .lines
            .iter()
            .filter(|l| only_line.as_ref().is_none_or(|id| *id == l.id))
        {
            if line.status == "paid" {
                let held = state
                    .store
                    .held_items(std::slice::from_ref(&line.id))
                    .await?;
                if !held.is_empty() {
                    return Err(held_conflict(caller, &held));
                }
                return Err(ApiError::Conflict(format!(
                    "notice line {} is already paid",
                    line.id
                )));
            }
            if holds.contains(&line.id) {
                return Err(ApiError::invalid_field(
                    "items",
                    "the same notice line is listed twice",
                ));
            }
            holds.push(line.id.clone());
            lines.push(PaymentLineRow {
                kind: LineKind::NoticeLine,
                source: notice.id.clone(),
                notice_line_id: Some(line.id.clone()),
                assessment_line: None,
                sub_item: Some(line.sub_item.clone()),
                name: line.name.clone(),
                amount: line.amount,
                days: None,
                due_date: Some(line.due_date.clone()),
            });
            let due = chrono::NaiveDate::parse_from_str(&line.due_date, "%Y-%m-%d")
                .map_err(|e| ApiError::Internal(e.into()))?;
            let interest = late_interest(Vnd::new(line.amount), due, today, &state.rules);
            if interest.interest.dong() > 0 {
                lines.push(PaymentLineRow {
                    kind: LineKind::LatePaymentInterest,
                    source: notice.id.clone(),
                    notice_line_id: None,
                    assessment_line: None,
                    sub_item: line.interest_sub_item.clone(),
                    name: format!("Tiền chậm nộp — {}", line.name),
                    amount: interest.interest.dong(),
                    days: Some(interest.days),
                    due_date: Some(line.due_date.clone()),
                });
            }
        }
    }
    Ok((lines, holds))
}

/// Creates an order from the items. Interest is computed for today (UTC+7); an order with an
/// interest line expires at the end of today, since tomorrow's amount differs.
pub async fn create(
    state: &Services,
    caller: &Caller,
    input: PaymentInput,
) -> Result<PaymentRecord, ApiError> {
    let errors = validate_input(&input);
    if !errors.is_empty() {
        return Err(ApiError::invalid(errors));
    }
    let agency = caller.agency_for_new(input.agency_code.as_deref(), "agency_code")?;
    let now = state.clock.now();
    let (lines, holds) = resolve_items(state, caller, agency.as_deref(), &input.items, now).await?;
    let amount = lines
        .iter()
        .try_fold(Vnd::ZERO, |sum, l| sum.checked_add(Vnd::new(l.amount)))
        .ok_or_else(|| ApiError::invalid_field("items", "the total is too large"))?
        .dong();
    let held = state.store.held_items(&holds).await?;
    if !held.is_empty() {
        return Err(held_conflict(caller, &held));
    }
    let mut expires = now
        + chrono::Duration::from_std(state.settings.payments.order_ttl.0)
            .unwrap_or(Duration::hours(24));
    if lines
        .iter()
        .any(|l| l.kind == LineKind::LatePaymentInterest)
    {
        expires = expires.min(end_of_vietnam_day(now));
    }
    let id = new_id(IdKind::Payment);
    let new = NewPayment {
        row: PaymentRow {
            payment_id: id.clone(),
            agency_code: agency,
            dossier_code: input.dossier_code.clone(),
            status: super::order::PaymentStatus::Pending,
            amount,
            refunded_amount: 0,
            payer: serde_json::to_string(&input.payer).unwrap_or_default(),
            return_url: input.return_url.clone(),
            locale: input.locale.clone().unwrap_or_else(|| "vi".into()),
            created_by: caller.sub.clone(),
            expires_at: ts(expires),
            paid_at: None,
            paid_attempt_id: None,
            confirmation_no: None,
            created_at: ts(now),
        },
        lines,
        holds,
    };
    match state.store.insert_payment(&new, now).await {
        // Another order took an item between the check and the insert: name it as well.
        Err(PaymentStoreError::ItemHeld) => {
            let held = state.store.held_items(&new.holds).await?;
            Err(held_conflict(caller, &held))
        }
        other => Ok(other?),
    }
}

/// The view of a new attempt.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct AttemptView {
    pub id: String,
    pub gateway: String,
    pub status: String,
    pub redirect_url: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub qr: Option<serde_json::Value>,
    pub reference: String,
    pub amount: i64,
    pub expires_at: String,
}

/// Starts an attempt at a gateway for a payable order.
pub async fn start_attempt(
    state: &Services,
    record: &PaymentRecord,
    input: &AttemptInput,
    actor: &str,
) -> Result<AttemptView, ApiError> {
    let gateway_id: GatewayId = input.gateway.parse().map_err(|_| {
        ApiError::invalid_field(
            "gateway",
            crate::wording::one_of(GatewayId::ALL.iter().map(|g| g.as_str())),
        )
    })?;
    let p = &record.payment;
    let gateway = state
        .gateways
        .of(p.agency_code.as_deref(), gateway_id)
        .ok_or_else(|| {
            ApiError::invalid_field("gateway", format!("{gateway_id} is not enabled here"))
        })?;
    let now = state.clock.now();
    let order_expires = parse_ts(&p.expires_at)?;
    let payable = p.status.is_payable();
    if !payable || order_expires <= now {
        return Err(ApiError::InvalidState(format!(
            "the payment is {} and cannot be paid",
            p.status
        )));
    }
    let attempt_id = new_id(IdKind::Attempt);
    let base_ref = attempt_id.trim_start_matches("att_").to_ascii_uppercase();
    let txn_ref = gateway.reference(&base_ref, now);
    let has_interest = record
        .lines
        .iter()
        .any(|l| l.kind == LineKind::LatePaymentInterest);
    let (expires, extend_order_to) = if gateway_id == GatewayId::Vietqr && !has_interest {
        let until = now
            + chrono::Duration::from_std(state.settings.gateways.vietqr.order_ttl.0)
                .unwrap_or(Duration::hours(72));
        (until.max(order_expires), Some(until))
    } else {
        let attempt_ttl = chrono::Duration::from_std(state.settings.payments.attempt_ttl.0)
            .unwrap_or(Duration::minutes(15));
        ((now + attempt_ttl).min(order_expires), None)
    };
    let order_info = format!(
        "Thanh toan ho so {} ma {}",
        p.dossier_code.as_deref().unwrap_or("-"),
        base_ref
    );
    let started = gateway
        .start(&StartRequest {
            txn_ref: txn_ref.clone(),
            amount_vnd: p.amount,
            order_info,
            client_ip: input
                .client_ip
                .clone()
                .unwrap_or_else(|| "127.0.0.1".into()),
            bank_code: input.bank_code.clone(),
            locale: p.locale.clone(),
            created: now,
            expires,
            facts: super::facts::of(record),
        })
        .await
        .map_err(|e| match e {
            crate::gateways::adapters::GatewayFailure::Refused(why) => {
                ApiError::invalid_field("gateway", why)
            }
            crate::gateways::adapters::GatewayFailure::Unavailable(why) => {
                ApiError::GatewayUnavailable(why)
            }
        })?;
    let (redirect_url, qr) = match started {
        Started::Redirect(url) => (Some(url), None),
        Started::Qr {
            payload,
            svg,
            reference,
        } => (
            None,
            Some(serde_json::json!({"payload": payload, "svg": svg, "reference": reference})),
        ),
    };
    let new = NewAttempt {
        attempt_id: attempt_id.clone(),
        gateway: gateway_id.as_str().to_owned(),
        txn_ref: txn_ref.clone(),
        amount: p.amount,
        redirect_url: redirect_url.clone(),
        qr: qr.as_ref().map(|q| q.to_string()),
        client_ip: input.client_ip.clone(),
        bank_code: input.bank_code.clone(),
        expires_at: expires,
        extend_order_to,
    };
    state
        .store
        .insert_attempt(&p.payment_id, &new, actor, now)
        .await?;
    Ok(AttemptView {
        id: attempt_id,
        gateway: gateway_id.as_str().to_owned(),
        status: "redirected".into(),
        redirect_url,
        qr,
        reference: txn_ref,
        amount: p.amount,
        expires_at: ts(expires),
    })
}

/// Applies a gateway's verified word on an attempt; the caller has checked amount and merchant.
pub async fn settle(
    state: &Services,
    result: &GatewayResult,
) -> Result<ResultApplied, PaymentStoreError> {
    let applied = state
        .store
        .apply_gateway_result(result, state.clock.now())
        .await?;
    if applied == ResultApplied::Paid {
        state.delivery_kick.notify_one();
    }
    Ok(applied)
}

/// One janitor pass: ask the gateways about attempts past their expiry, then expire orders
/// past theirs. Safe on several instances: every move is a compare-and-set.
pub async fn janitor_pass(state: &Services) -> anyhow::Result<()> {
    let now = state.clock.now();
    for attempt in state.store.stale_attempts(now, 100).await? {
        resolve_attempt(state, &attempt).await?;
    }
    for payment_id in state.store.overdue_payments(now, 100).await? {
        match state
            .store
            .expire_payment(&payment_id, state.clock.now())
            .await
        {
            Ok(()) => tracing::info!(%payment_id, "payment expired"),
            Err(PaymentStoreError::NotPayable(_)) => {} // moved meanwhile, or an attempt is still open
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Asks the gateway what became of one open attempt and records the answer.
pub async fn resolve_attempt(state: &Services, attempt: &AttemptRow) -> anyhow::Result<()> {
    let Some(gateway) = super::credentials::gateway_of_attempt(state, attempt).await? else {
        return Ok(());
    };
    let reference = AttemptRef {
        txn_ref: attempt.txn_ref.clone(),
        created: parse_ts(&attempt.created_at)?,
        gateway_txn_no: attempt.gateway_txn_no.clone(),
        amount_vnd: attempt.amount,
        agency_code: super::facts::agency_of(state, attempt).await?,
    };
    let now = state.clock.now();
    match gateway.query(&reference).await {
        Ok(QueryOutcome::Paid {
            amount_vnd,
            gateway_txn_no,
            bank_code,
            paid_at,
        }) => {
            if amount_vnd != attempt.amount {
                state
                    .store
                    .flag_payment(
                        &attempt.payment_id,
                        "amount_mismatch",
                        &format!(
                            "the gateway reports {} đ for {}, not the attempt's {} đ",
                            crate::money::format_vnd_plain(amount_vnd),
                            attempt.txn_ref,
                            crate::money::format_vnd_plain(attempt.amount)
                        ),
                        now,
                    )
                    .await?;
                return Ok(());
            }
            settle(
                state,
                &GatewayResult {
                    txn_ref: attempt.txn_ref.clone(),
                    success: true,
                    amount: amount_vnd,
                    gateway_txn_no,
                    bank_code,
                    paid_at,
                    source: format!("janitor.{}.query", attempt.gateway),
                    failure: None,
                },
            )
            .await?;
        }
        Ok(QueryOutcome::Failed) => {
            settle(
                state,
                &GatewayResult {
                    txn_ref: attempt.txn_ref.clone(),
                    success: false,
                    amount: attempt.amount,
                    gateway_txn_no: None,
                    bank_code: None,
                    paid_at: None,
                    source: format!("janitor.{}.query", attempt.gateway),
                    failure: None,
                },
            )
            .await?;
        }
        Ok(QueryOutcome::NotFound) => {
            state
                .store
                .settle_attempt_without_money(
                    &attempt.attempt_id,
                    super::order::AttemptStatus::Expired,
                    now,
                )
                .await?;
        }
        Ok(QueryOutcome::Pending) => {
            // A bank transfer past its expiry is closed (money that still arrives by statement is
            // recorded and flagged); other gateways are asked again on the next pass.
            let to = if attempt.gateway == GatewayId::Vietqr {
                super::order::AttemptStatus::Expired
            } else {
                super::order::AttemptStatus::Unknown
            };
            state
                .store
                .settle_attempt_without_money(&attempt.attempt_id, to, now)
                .await?;
        }
        Err(e) => {
            tracing::warn!(attempt = %attempt.attempt_id, error = %e, "gateway query failed; will ask again");
            state
                .store
                .settle_attempt_without_money(
                    &attempt.attempt_id,
                    super::order::AttemptStatus::Unknown,
                    now,
                )
                .await?;
        }
    }
    Ok(())
}

/// A full link to one of the payment's pages (`""` = the pay page, `/result`), with a fresh token.
pub fn visible_link(state: &Services, record: &PaymentRecord, suffix: &str) -> String {
    let url = pay_url(state, record);
    let id = &record.payment.payment_id;
    url.replacen(&format!("/pay/{id}?"), &format!("/pay/{id}{suffix}?"), 1)
}
