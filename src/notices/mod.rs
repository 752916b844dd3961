//! Official payment notices of the tax authority: what is actually paid.

pub mod service;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::clock::vietnam_date;
use crate::error::FieldError;

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Taxpayer {
    pub name: String,
    #[serde(default)]
    pub tax_code: Option<String>,
    #[serde(default)]
    pub id_no: Option<String>,
}

impl Taxpayer {
    /// As list endpoints and exports show it: `tax_code` and `id_no` masked but their last 4.
    pub fn masked(&self) -> Self {
        Self {
            name: self.name.clone(),
            tax_code: self.tax_code.as_deref().map(mask_number),
            id_no: self.id_no.as_deref().map(mask_number),
        }
    }
}

/// Every character but the last 4 as `•`: `001080000001` → `••••••••0001`.
pub fn mask_number(value: &str) -> String {
    let count = value.chars().count();
    value
        .chars()
        .enumerate()
        .map(|(i, c)| if i + 4 < count { '•' } else { c })
        .collect()
}

/// Where the money goes: the State Treasury (KBNN) account and the collecting tax office.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Treasury {
    pub shkb: String,
    pub account: String,
    pub tax_office_code: String,
    #[serde(default)]
    pub admin_unit_code: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoticeLineInput {
    #[serde(default)]
    pub chapter: Option<String>,
    pub sub_item: String,
    pub name: String,
    /// Whole đồng.
    #[serde(deserialize_with = "crate::wording::whole_dong")]
    pub amount: i64,
    /// `YYYY-MM-DD`.
    pub due_date: String,
    #[serde(default)]
    pub interest_sub_item: Option<String>,
}

/// `POST /v1/notices` body.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoticeInput {
    pub notice_no: String,
    /// RFC 3339 with offset.
    pub issued_at: String,
    #[serde(default)]
    pub agency_code: Option<String>,
    #[serde(default)]
    pub dossier_code: Option<String>,
    pub taxpayer: Taxpayer,
    pub treasury: Treasury,
    pub lines: Vec<NoticeLineInput>,
}

/// A validated notice, ready to store.
#[derive(Debug, Clone)]
pub struct NewNotice {
    pub input: NoticeInput,
    pub issued_at: DateTime<Utc>,
    pub due_dates: Vec<NaiveDate>,
    pub content_hash: String,
}

/// Checks every field, naming each problem; on success the notice's content fingerprint is
/// what makes a repeated registration idempotent.
pub fn validate(input: NoticeInput) -> Result<NewNotice, Vec<FieldError>> {
    let mut errors = Vec::new();
    let notice_no = input.notice_no.trim().to_owned();
    let issued_at = check_header(&input, &notice_no, &mut errors);
    if input.lines.is_empty() {
        errors.push(FieldError::new("lines", "must list at least one line"));
    }
    let mut due_dates = Vec::new();
    for (i, line) in input.lines.iter().enumerate() {
        if let Some(d) = check_line(i, line, issued_at, &mut errors) {
            due_dates.push(d);
        }
    }
    if input
        .lines
        .iter()
        .try_fold(0i64, |sum, l| sum.checked_add(l.amount.max(0)))
        .is_none()
    {
        errors.push(FieldError::new(
            "lines",
            "the lines add up to more than 9,223,372,036,854,775,807 đ",
        ));
    }
    match (errors.is_empty(), issued_at) {
        (true, Some(issued_at)) => {
            let mut input = input;
            input.notice_no = notice_no;
            let content_hash = fingerprint(&input);
            Ok(NewNotice {
                input,
                issued_at,
                due_dates,
                content_hash,
            })
        }
        _ => Err(errors),
    }
}

/// The notice's own fields (its number, time, taxpayer and treasury); the issue time when it parses.
fn check_header(
    input: &NoticeInput,
    notice_no: &str,
    errors: &mut Vec<FieldError>,
) -> Option<DateTime<Utc>> {
    if notice_no.is_empty() || notice_no.len() > 100 {
        errors.push(FieldError::new("notice_no", "must be 1 to 100 characters"));
    }
    let issued_at = match DateTime::parse_from_rfc3339(&input.issued_at) {
        Ok(t) => Some(t.with_timezone(&Utc)),
        Err(_) => {
            errors.push(FieldError::new(
                "issued_at",
                "must be an RFC 3339 time with offset",
            ));
            None
        }
    };
    if input.taxpayer.name.trim().is_empty() {
        errors.push(FieldError::new("taxpayer.name", "must not be empty"));
    }
    for (field, value) in [
        ("treasury.shkb", &input.treasury.shkb),
        ("treasury.account", &input.treasury.account),
        ("treasury.tax_office_code", &input.treasury.tax_office_code),
    ] {
        if value.trim().is_empty() {
            errors.push(FieldError::new(field, "must not be empty"));
        }
    }
    issued_at
}

/// Line `i`'s fields; its due date when it parses.
fn check_line(
    i: usize,
    line: &NoticeLineInput,
    issued_at: Option<DateTime<Utc>>,
    errors: &mut Vec<FieldError>,
) -> Option<NaiveDate> {
    let at = |f: &str| format!("lines[{i}].{f}");
    if !is_budget_code(&line.sub_item) {
        errors.push(FieldError::new(
            at("sub_item"),
            "must be a 4-digit budget sub-item (tiểu mục)",
        ));
    }
    if let Some(s) = &line.interest_sub_item {
        if !is_budget_code(s) {
            errors.push(FieldError::new(
                at("interest_sub_item"),
                "must be a 4-digit budget sub-item",
            ));
        }
    }
    if let Some(c) = &line.chapter {
        if c.len() != 3 || !c.bytes().all(|b| b.is_ascii_digit()) {
            errors.push(FieldError::new(
                at("chapter"),
                "must be a 3-digit budget chapter",
            ));
        }
    }
    if line.name.trim().is_empty() {
        errors.push(FieldError::new(at("name"), "must not be empty"));
    }
    if line.amount <= 0 {
        errors.push(FieldError::new(at("amount"), "must be > 0 (whole đồng)"));
    }
    match NaiveDate::parse_from_str(&line.due_date, "%Y-%m-%d") {
        Ok(d) => {
            if issued_at.is_some_and(|t| vietnam_date(t) > d) {
                errors.push(FieldError::new(
                    at("due_date"),
                    "must not be before issued_at",
                ));
            }
            Some(d)
        }
        Err(_) => {
            errors.push(FieldError::new(at("due_date"), "must be a date YYYY-MM-DD"));
            None
        }
    }
}

fn is_budget_code(s: &str) -> bool {
    s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit())
}

/// A stable fingerprint of a notice's content (agency aside, which the caller's token decides).
fn fingerprint(input: &NoticeInput) -> String {
    let mut canonical = input.clone();
    canonical.agency_code = None;
    let text = serde_json::to_string(&canonical).unwrap_or_default();
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// A stored notice as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Notice {
    pub id: String,
    pub notice_no: String,
    pub issued_at: String,
    pub agency_code: Option<String>,
    pub dossier_code: Option<String>,
    pub taxpayer: Taxpayer,
    pub treasury: Treasury,
    pub status: String,
    /// Sum of the lines, whole đồng.
    pub total: i64,
    pub lines: Vec<NoticeLine>,
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NoticeLine {
    pub id: String,
    pub chapter: Option<String>,
    pub sub_item: String,
    pub name: String,
    pub amount: i64,
    pub due_date: String,
    pub interest_sub_item: Option<String>,
    pub status: String,
    pub paid_at: Option<String>,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn input() -> NoticeInput {
        serde_json::from_value(serde_json::json!({
            "notice_no": "LTB2171317-TK0029952/TB-CCT",
            "issued_at": "2026-11-20T09:00:00+07:00",
            "agency_code": "HN-VPDKDD",
            "dossier_code": "000.00.12.H26-261120-0001",
            "taxpayer": { "name": "Nguyễn Văn A", "tax_code": "8000000001", "id_no": "001080000001" },
            "treasury": { "shkb": "0012", "account": "7111", "tax_office_code": "1054634", "admin_unit_code": "00001" },
            "lines": [{ "chapter": "757", "sub_item": "2801", "name": "Lệ phí trước bạ nhà đất", "amount": 45000000,
                        "due_date": "2026-12-19", "interest_sub_item": null }]
        }))
        .unwrap()
    }

    #[test]
    fn a_good_notice_validates_with_a_stable_fingerprint() {
        let a = validate(input()).unwrap();
        let b = validate(input()).unwrap();
        assert_eq!(a.content_hash, b.content_hash);
        let mut other = input();
        other.lines[0].amount = 45_000_001;
        assert_ne!(validate(other).unwrap().content_hash, a.content_hash);
    }

    #[test]
    fn each_problem_names_its_field() {
        let mut bad = input();
        bad.lines[0].amount = 0;
        bad.lines[0].due_date = "2026-11-19".into();
        bad.lines[0].sub_item = "28".into();
        let errors = validate(bad).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            vec!["lines[0].sub_item", "lines[0].amount", "lines[0].due_date"]
        );
    }
}
