//! When each line is due: the due-date rule, its dates given the notice's issue
//! date, and the levy/one-off-rent instalments. Periods and the non-working-day
//! calendar are reference data (`config/rules/deadlines.toml`), chosen by the
//! notice date (or, without one, by `as_of`).
#![warn(clippy::float_arithmetic)]

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, Days, NaiveDate, Weekday};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::money::{round_half_up, Vnd};
use crate::obligations::fields::FieldError;
use crate::obligations::line::Line;
use crate::obligations::request::{ObligationCode, Procedure, QuoteRequest};
use crate::obligations::rules::{Row, RuleError, Table};
use crate::obligations::rules_check::{invalid, ChangeCheck};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DueRule {
    #[serde(rename = "notice_30_days")]
    Notice30Days,
    #[serde(rename = "notice_half_30_rest_90")]
    NoticeHalf30Rest90,
    AuctionDecision,
    #[serde(rename = "annual_31_october")]
    Annual31October,
    #[serde(rename = "consolidated_31_march")]
    Consolidated31March,
    #[default]
    AtFiling,
}

/// A line's due-date rule and dates.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Due {
    pub rule: DueRule,
    pub legal_basis: String,
    pub dates: Vec<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub later_years: Option<&'static str>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Instalment {
    pub due_date: Option<NaiveDate>,
    pub amount: Vnd,
}

/// The periods of one procedural regime.
#[derive(Debug, Clone, Deserialize)]
pub struct DeadlineRule {
    pub first_days: u32,
    pub second_days: u32,
    #[serde(with = "rust_decimal::serde::str")]
    pub first_share: Decimal,
    /// Legal basis per kind of line (see [`basis_key`]).
    pub basis: BTreeMap<String, String>,
    #[serde(default)]
    pub uncertain: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CalendarYear {
    pub year: i32,
    pub legal_basis: Vec<String>,
    pub days: Vec<NaiveDate>,
}

#[derive(Deserialize)]
struct DeadlineFile {
    row: Vec<Row<DeadlineRule>>,
    #[serde(default)]
    calendar: Vec<CalendarYear>,
}

const BASIS_KEYS: [&str; 11] = [
    "registration_fee",
    "pit",
    "land_rent_annual",
    "land_rent_extension_surcharge",
    "land_rent_one_off",
    "land_use_levy",
    "land_use_levy_auction",
    "nalt",
    "nalt_first_year",
    "nalt_consolidated",
    "procedure_fees",
];

/// The deadline tables and the non-working days by year.
#[derive(Debug, Clone)]
pub struct Deadlines {
    pub rules: Table<DeadlineRule>,
    pub non_working: BTreeMap<i32, BTreeSet<NaiveDate>>,
}

impl Deadlines {
    pub fn load(text: &str, check: &ChangeCheck) -> Result<Deadlines, RuleError> {
        let file: DeadlineFile = toml::from_str(text).map_err(|e| RuleError::Parse {
            file: "deadlines.toml".to_string(),
            message: e.to_string(),
        })?;
        let rules = check.table("deadlines.row", file.row)?;
        for row in &rules.rows {
            if let Some(key) = BASIS_KEYS
                .iter()
                .find(|k| !row.values.basis.contains_key(**k))
            {
                return Err(invalid("deadlines.row", &format!("no basis for {key}")));
            }
        }
        let mut non_working = BTreeMap::new();
        for year in file.calendar {
            if year.legal_basis.is_empty() || year.days.iter().any(|d| d.year() != year.year) {
                return Err(invalid(
                    "deadlines.calendar",
                    "a year needs a legal basis and its own days",
                ));
            }
            non_working.insert(year.year, year.days.into_iter().collect());
        }
        Ok(Deadlines { rules, non_working })
    }

    /// `d`, moved forward over weekends and non-working days; the flag says the
    /// calendar did not cover a year it had to look at.
    pub fn roll(&self, mut d: NaiveDate) -> (NaiveDate, bool) {
        let mut uncovered = false;
        loop {
            let off = self.non_working.get(&d.year());
            uncovered |= off.is_none();
            let weekend = matches!(d.weekday(), Weekday::Sat | Weekday::Sun);
            if !weekend && !off.is_some_and(|o| o.contains(&d)) {
                return (d, uncovered);
            }
            d = d + Days::new(1);
        }
    }

    /// Day `k` counted from the notice's issue date as day 1, rolled forward.
    fn day(&self, notice: NaiveDate, k: u32) -> (NaiveDate, bool) {
        self.roll(notice + Days::new(u64::from(k.saturating_sub(1))))
    }
}

/// The rule of a line and the key of its legal basis.
fn rule_of(req: &QuoteRequest, line: &Line) -> (DueRule, &'static str) {
    use ObligationCode as O;
    let first_year = req.annual_land_tax.as_ref().is_some_and(|t| t.first_year);
    let auction = req.allocation.as_ref().is_some_and(|a| a.auction);
    match line.code {
        O::RegistrationFee => (DueRule::Notice30Days, "registration_fee"),
        O::PitTransfer | O::PitInheritanceGift => (DueRule::Notice30Days, "pit"),
        O::LandRentAnnual if req.procedure == Procedure::LandUseExtension => {
            (DueRule::NoticeHalf30Rest90, "land_rent_extension_surcharge")
        }
        O::LandRentAnnual => (DueRule::Notice30Days, "land_rent_annual"),
        O::LandRentOneOff => (DueRule::NoticeHalf30Rest90, "land_rent_one_off"),
        O::LandUseLevy if auction => (DueRule::AuctionDecision, "land_use_levy_auction"),
        O::LandUseLevy => (DueRule::NoticeHalf30Rest90, "land_use_levy"),
        O::NonAgriculturalLandTax if line.parcel_ref.is_none() => {
            (DueRule::Consolidated31March, "nalt_consolidated")
        }
        O::NonAgriculturalLandTax if first_year => (DueRule::Notice30Days, "nalt_first_year"),
        O::NonAgriculturalLandTax => (DueRule::Annual31October, "nalt"),
        O::AppraisalFee | O::CertificateFee | O::LatePaymentInterest => {
            (DueRule::AtFiling, "procedure_fees")
        }
    }
}

const DAY_COUNT_DOUBT: &str = "due dates count the notice's issue date as day 1 (an estimate; the notice's payment deadline governs)";

/// Sets `due` (and `instalments`) on every line.
pub fn assign(req: &QuoteRequest, book: &Deadlines, lines: &mut [Line]) -> Result<(), FieldError> {
    let date = req.notice_date.unwrap_or(req.as_of);
    let Some(row) = book.rules.pick(date) else {
        return Ok(());
    };
    let year = req
        .annual_land_tax
        .as_ref()
        .and_then(|t| t.tax_year)
        .unwrap_or_else(|| req.as_of.year());
    for line in lines.iter_mut() {
        let (rule, key) = rule_of(req, line);
        let mut due = Due {
            rule,
            legal_basis: row.values.basis.get(key).cloned().unwrap_or_default(),
            dates: Vec::new(),
            later_years: (key == "land_rent_annual").then_some("31_may_or_half_31_may_31_october"),
        };
        let payable = line.amount.dong() > 0;
        let mut uncovered = false;
        let mut push = |(d, u): (NaiveDate, bool), dates: &mut Vec<NaiveDate>| {
            uncovered |= u;
            dates.push(d);
        };
        let r = &row.values;
        match (rule, req.notice_date) {
            _ if !payable => {}
            (DueRule::Notice30Days, Some(n)) => push(book.day(n, r.first_days), &mut due.dates),
            (DueRule::NoticeHalf30Rest90, Some(n)) => {
                push(book.day(n, r.first_days), &mut due.dates);
                push(book.day(n, r.second_days), &mut due.dates);
            }
            (DueRule::Annual31October, _) => {
                let d = NaiveDate::from_ymd_opt(year, 10, 31);
                if let Some(d) = d {
                    push(book.roll(d), &mut due.dates);
                }
            }
            (DueRule::Consolidated31March, _) => {
                if let Some(d) = NaiveDate::from_ymd_opt(year + 1, 3, 31) {
                    push(book.roll(d), &mut due.dates);
                }
            }
            _ => {}
        }
        if rule == DueRule::NoticeHalf30Rest90 {
            line.instalments = Some(instalments(line.amount, r.first_share, &due.dates)?);
        }
        if uncovered {
            line.doubt("the non-working-day calendar does not cover the year of a due date: rolled over weekends only");
        }
        if req.notice_date.is_some()
            && payable
            && matches!(rule, DueRule::Notice30Days | DueRule::NoticeHalf30Rest90)
        {
            line.doubt(DAY_COUNT_DOUBT);
        }
        for u in &r.uncertain {
            line.doubt(u);
        }
        line.due = due;
    }
    Ok(())
}

/// First share rounded half-up, the remainder in the last; no dates without a notice.
fn instalments(
    amount: Vnd,
    share: Decimal,
    dates: &[NaiveDate],
) -> Result<Vec<Instalment>, FieldError> {
    if amount.dong() == 0 {
        return Ok(Vec::new());
    }
    let first = round_half_up(amount.to_decimal() * share)
        .map_err(|_| FieldError::new("body", "the amount is too large"))?;
    let rest = amount.checked_sub(first).unwrap_or(Vnd::ZERO);
    Ok(vec![
        Instalment {
            due_date: dates.first().copied(),
            amount: first,
        },
        Instalment {
            due_date: dates.get(1).copied(),
            amount: rest,
        },
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn book() -> Deadlines {
        crate::obligations::RuleBook::builtin()
            .expect("rules")
            .deadlines
            .clone()
    }

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    #[test]
    fn the_first_half_is_rounded_up_and_the_rest_goes_last() {
        // 40,740,711 × 50% = 20,370,355.5 → 20,370,356; 40,740,711 − 20,370,356 = 20,370,355.
        let parts = instalments(Vnd::new(40_740_711), Decimal::new(5, 1), &[]).expect("parts");
        let amounts: Vec<i64> = parts.iter().map(|p| p.amount.dong()).collect();
        assert_eq!(amounts, [20_370_356, 20_370_355]);
        assert!(parts.iter().all(|p| p.due_date.is_none()));
        assert!(instalments(Vnd::ZERO, Decimal::new(5, 1), &[])
            .expect("none")
            .is_empty());
    }

    #[test]
    fn dates_roll_over_weekends_and_listed_days() {
        let b = book();
        // 2026-10-17 is a Saturday; 2026-09-02 National Day (Wednesday); 2026-02-16..20 Tết.
        assert_eq!(b.roll(date("2026-10-17")), (date("2026-10-19"), false));
        assert_eq!(b.roll(date("2026-09-02")), (date("2026-09-03"), false));
        assert_eq!(b.roll(date("2026-02-14")), (date("2026-02-23"), false));
        assert_eq!(b.roll(date("2026-10-20")), (date("2026-10-20"), false));
        // 2027 is not listed: weekends only, flagged.
        assert_eq!(b.roll(date("2027-01-09")), (date("2027-01-11"), true));
        // Day 30 counting the issue date as day 1.
        assert_eq!(b.day(date("2026-09-18"), 30).0, date("2026-10-19"));
    }

    proptest! {
        #[test]
        fn instalments_add_up_to_the_amount(amount in 1i64..1_000_000_000_000) {
            let parts = instalments(Vnd::new(amount), Decimal::new(5, 1), &[]).expect("parts");
            let sum: i64 = parts.iter().map(|p| p.amount.dong()).sum();
            prop_assert_eq!(sum, amount);
            prop_assert!(parts[0].amount.dong() >= parts[1].amount.dong());
            prop_assert!(parts[0].amount.dong() - parts[1].amount.dong() <= 1);
        }
    }
}
