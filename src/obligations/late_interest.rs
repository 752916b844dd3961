//! Tiền chậm nộp (late-payment interest). Domain spec §8.1.
#![warn(clippy::float_arithmetic)]

use chrono::{Days, NaiveDate};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::Value;

use crate::money::{round_half_up, Vnd};
use crate::obligations::fields::{FieldError, Reader};
use crate::obligations::rules::RuleBook;

/// The interest on an amount paid late (`POST /v1/late-interest`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LateInterest {
    pub days: i64,
    #[serde(with = "rust_decimal::serde::str")]
    pub rate_per_day: Decimal,
    pub interest: Vnd,
    pub legal_basis: Vec<String>,
}

/// Days run from the day after `due_date` through the day before `paid_on`; each
/// day at the rate in force that day; `amount × Σ rate` rounded half-up once.
/// No interest when days ≤ 0, nor for days no loaded rule covers.
pub fn late_interest(
    amount: Vnd,
    due_date: NaiveDate,
    paid_on: NaiveDate,
    rules: &RuleBook,
) -> LateInterest {
    let days = (paid_on - due_date).num_days() - 1;
    let mut rate_days = Decimal::ZERO;
    let mut legal_basis: Vec<String> = Vec::new();
    let mut rate_per_day = rules
        .late_interest
        .pick(paid_on.pred_opt().unwrap_or(paid_on))
        .map_or(Decimal::ZERO, |r| r.values.rate_per_day);
    let mut day = due_date.checked_add_days(Days::new(1));
    while let Some(d) = day.filter(|d| *d < paid_on) {
        if let Some(row) = rules.late_interest.pick(d) {
            rate_days += row.values.rate_per_day;
            rate_per_day = row.values.rate_per_day;
            for basis in &row.legal_basis {
                if !legal_basis.contains(basis) {
                    legal_basis.push(basis.clone());
                }
            }
        }
        day = d.succ_opt();
    }
    if legal_basis.is_empty() {
        if let Some(row) = rules.late_interest.pick(due_date) {
            legal_basis.clone_from(&row.legal_basis);
        }
    }
    let interest = round_half_up(amount.to_decimal() * rate_days).unwrap_or(Vnd::ZERO);
    LateInterest {
        days: days.max(0),
        rate_per_day,
        interest,
        legal_basis,
    }
}

/// Validates `{ "amount": 40000000, "due_date": "2026-04-01", "paid_on": "2026-04-21" }`.
pub fn parse_late_interest_request(
    body: &Value,
) -> Result<(Vnd, NaiveDate, NaiveDate), Vec<FieldError>> {
    let Some(obj) = body.as_object() else {
        return Err(vec![FieldError::new("body", "must be a JSON object")]);
    };
    let mut r = Reader::default();
    let amount = r.money(obj, "", "amount");
    let amount = r.required(amount, obj.contains_key("amount"), "amount".into());
    let due = r.date(obj, "", "due_date");
    let due = r.required(due, obj.contains_key("due_date"), "due_date".into());
    let paid = r.date(obj, "", "paid_on");
    let paid = r.required(paid, obj.contains_key("paid_on"), "paid_on".into());
    match (amount, due, paid) {
        (Some(a), Some(d), Some(p)) if r.errors.is_empty() => Ok((a, d, p)),
        _ => Err(r.errors),
    }
}
