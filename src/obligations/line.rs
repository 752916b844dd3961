//! Quote lines and the quote response, plus small helpers the
//! obligation calculators share.
#![warn(clippy::float_arithmetic)]

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::money::{format_decimal, format_decimal_approx, round_half_up, Vnd};
use crate::obligations::due::{Due, Instalment};
use crate::obligations::fields::FieldError;
use crate::obligations::relief::{Reduction, ReliefKind};
use crate::obligations::request::{ObligationCode, Parcel, Procedure};

/// Who pays a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Payer {
    Transferee,
    Transferor,
    Recipient,
    Applicant,
    LandUser,
    Lessee,
    Taxpayer,
}

/// What a line of a payment order pays. Stored as text; the same text in the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, sqlx::Type)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum LineKind {
    /// A line of an official payment notice.
    NoticeLine,
    /// Late-payment interest on a notice line past its due date.
    LatePaymentInterest,
    /// A fee computed from an assessment.
    Fee,
}

impl LineKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NoticeLine => "notice_line",
            Self::LatePaymentInterest => "late_payment_interest",
            Self::Fee => "fee",
        }
    }
}

/// One obligation line of a quote.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Line {
    pub code: ObligationCode,
    pub name: String,
    pub payer: Payer,
    pub amount: Vnd,
    /// The base in whole đồng, rounded for display; `None` for fixed fees.
    pub base: Option<Vnd>,
    #[serde(with = "rust_decimal::serde::str_option")]
    pub rate: Option<Decimal>,
    pub exempt: bool,
    pub exemption: Option<String>,
    pub parcel_ref: Option<String>,
    pub budget_sub_item: Option<String>,
    pub legal_basis: Vec<String>,
    pub explanation: Vec<String>,
    pub uncertain: Vec<String>,
    /// The amount before any exemption or reduction.
    pub full_amount: Vnd,
    pub reduction: Option<Reduction>,
    pub due: Due,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instalments: Option<Vec<Instalment>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub co_owner_index: Option<usize>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        with = "rust_decimal::serde::str_option"
    )]
    pub share: Option<Decimal>,
    /// The exact amount before reliefs (set by [`Line::round`]).
    #[serde(skip)]
    pub exact: Decimal,
    /// The exact part of `exact` that falls within the residential quota, when the
    /// calculator knows it (NQ 254 tiers: the first tier).
    #[serde(skip)]
    pub in_quota_exact: Option<Decimal>,
}

impl Line {
    pub fn new(code: ObligationCode, name: &str, payer: Payer, legal_basis: &[String]) -> Line {
        Line {
            code,
            name: name.to_string(),
            payer,
            amount: Vnd::ZERO,
            base: None,
            rate: None,
            exempt: false,
            exemption: None,
            parcel_ref: None,
            budget_sub_item: None,
            legal_basis: legal_basis.to_vec(),
            explanation: Vec::new(),
            uncertain: Vec::new(),
            full_amount: Vnd::ZERO,
            reduction: None,
            due: Due::default(),
            instalments: None,
            co_owner_index: None,
            share: None,
            exact: Decimal::ZERO,
            in_quota_exact: None,
        }
    }

    /// Marks the line exempt by relief `code`: amount 0, `full_amount` and the
    /// reduction keep what would have been due; any relief already applied is
    /// listed as not applied.
    pub fn exempt_by(&mut self, code: &str, exemption: &str, basis: &str) {
        let previous = self.reduction.take();
        if previous.is_none() {
            self.full_amount = self.amount;
        }
        let mut reduction = Reduction::new(code, ReliefKind::Exemption, Some(Decimal::ONE), basis);
        reduction.amount = self.full_amount;
        if let Some(p) = previous {
            reduction.not_applied.push(p.code);
        }
        self.reduction = Some(reduction);
        self.exempt = true;
        self.amount = Vnd::ZERO;
        self.uncertain.retain(|u| u != ROUNDING_DOUBT);
        self.exemption = Some([exemption, " (", basis, ")"].concat());
        if !self.legal_basis.iter().any(|b| b == basis) {
            self.legal_basis.push(basis.to_string());
        }
        self.explanation
            .push(["exempt: ", exemption, " (", basis, ") → 0"].concat());
    }

    pub fn explain(&mut self, step: impl Into<String>) {
        self.explanation.push(step.into());
    }

    /// Sets the amount from the exact value: the one rounding of this line. When
    /// rounding changed the value, the line relied on the half-up assumption.
    pub fn round(&mut self, exact: Decimal, field: &str) -> Result<(), FieldError> {
        self.amount = to_vnd(exact, field)?;
        self.full_amount = self.amount;
        self.exact = exact;
        if self.amount.to_decimal() != exact {
            self.doubt(ROUNDING_DOUBT);
        }
        Ok(())
    }

    pub fn doubt(&mut self, assumption: &str) {
        if !self.uncertain.iter().any(|u| u == assumption) {
            self.uncertain.push(assumption.to_string());
        }
    }
}

/// Spec §1.1: no provision fixes a rounding mode.
pub const ROUNDING_DOUBT: &str =
    "rounded half-up to whole đồng once, on the final amount (no provision fixes a rounding mode, spec §1.1)";

/// Spec §1.3, §10.3: the adjustment coefficient defaults to 1.
pub const COEFFICIENT_DOUBT: &str =
    "land-price adjustment coefficient taken as 1: whether the province issued one for this case is not checked (spec §1.3)";

/// An estimate ("dự kiến"); the tax authority's notice is authoritative.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Quote {
    pub kind: &'static str,
    pub rule_set: String,
    pub procedure: Procedure,
    pub as_of: NaiveDate,
    pub total: Vnd,
    pub lines: Vec<Line>,
    pub warnings: Vec<String>,
}

/// Rounds a line's exact amount (the one rounding per line), reporting overflow
/// against `field`.
pub fn to_vnd(exact: Decimal, field: &str) -> Result<Vnd, FieldError> {
    round_half_up(exact).map_err(|_| FieldError::new(field, "the amount is too large"))
}

/// An exact value for explanations: up to 4 decimals, `…` when cut.
pub fn show(value: Decimal) -> String {
    format_decimal_approx(value, 4)
}

/// "land table value = area m² × price [× coefficient c] = value", the step every parcel's
/// floor starts from.
pub fn land_table_step(parcel: &Parcel, coefficient: Option<Decimal>, value: Decimal) -> String {
    let coefficient = coefficient.map(|c| [" × coefficient ", &format_decimal(c)].concat());
    [
        "land table value = ",
        &show(parcel.area_m2),
        " m² × ",
        &show(parcel.table_price_per_m2),
        coefficient.as_deref().unwrap_or(""),
        " = ",
        &show(value),
    ]
    .concat()
}

/// A required fact; its absence is reported as a field error.
pub fn need<'a, T>(value: Option<&'a T>, field: &str) -> Result<&'a T, FieldError> {
    value.ok_or_else(|| FieldError::new(field, "is required"))
}
