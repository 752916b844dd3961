//! Creating a payment order from notice lines and assessment fee lines.

use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};

use super::holds::held_conflict;
use super::items::resolve_items;
use super::PaymentInput;
use crate::app::Services;
use crate::auth::Caller;
use crate::clock::{vietnam, vietnam_date};
use crate::error::{ApiError, FieldError};
use crate::ids::{new_id, IdKind};
use crate::money::Vnd;
use crate::storage::idempotency::KeyAnswer;
use crate::storage::payments::{NewPayment, PaymentRecord, PaymentRow, PaymentStoreError};
use crate::storage::ts;

/// The most items one order may list.
pub const MAX_ITEMS: usize = 50;

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

/// Creates an order from the items. Interest is computed for today (UTC+7); an order with an
/// interest line expires at the end of today, since tomorrow's amount differs.
///
/// `answer` is called once with the order as it will be stored; an answer it returns (the
/// request's idempotency key with the response) is written in the order's own transaction. A
/// key stored meanwhile by a concurrent duplicate is [`ApiError::IdempotencyKeyInUse`], and no
/// order is written.
pub async fn create(
    state: &Services,
    caller: &Caller,
    input: PaymentInput,
    answer: impl FnOnce(&PaymentRecord) -> Result<Option<KeyAnswer>, ApiError>,
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
    let mut expires = now
        + chrono::Duration::from_std(state.settings.payments.order_ttl.0)
            .unwrap_or(Duration::hours(24));
    if lines
        .iter()
        .any(|l| l.kind == crate::obligations::line::LineKind::LatePaymentInterest)
    {
        expires = expires.min(end_of_vietnam_day(now));
    }
    // A payer that cannot be written down is an error, never an order with no payer.
    let payer = serde_json::to_string(&input.payer)
        .map_err(|e| ApiError::Internal(anyhow::Error::new(e).context("writing the payer")))?;
    let id = new_id(IdKind::Payment);
    let new = NewPayment {
        row: PaymentRow {
            payment_id: id.clone(),
            agency_code: agency,
            dossier_code: input.dossier_code.clone(),
            status: super::order::PaymentStatus::Pending,
            amount,
            refunded_amount: 0,
            payer,
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
    let answer = answer(&new.record())?;
    match state
        .store
        .insert_payment_answered(&new, answer.as_ref(), now)
        .await
    {
        Ok(record) => Ok(record),
        // An item is held by another order (the hold's unique key refused it): name the
        // orders that hold the items.
        Err(PaymentStoreError::ItemHeld) => {
            let held = state.store.held_items(&new.holds).await?;
            Err(held_conflict(caller, &held))
        }
        Err(other) => Err(other.into()),
    }
}
