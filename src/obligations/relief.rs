//! Reliefs (exemptions and reductions) as reference data: the catalogue in
//! `config/rules/reliefs.toml`, the `reduction` object of a line, and the checks
//! on the codes a request claims.
#![warn(clippy::float_arithmetic)]

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::money::Vnd;
use crate::obligations::request::{ObligationCode, Procedure, TaxParcelKind};
use crate::obligations::rules::{Row, RuleError, Table};
use crate::obligations::rules_check::{invalid, ChangeCheck};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReliefKind {
    Exemption,
    Reduction,
}

/// What a relief removes from a line (the `reduction` object of the response).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reduction {
    pub code: String,
    pub kind: ReliefKind,
    /// The share removed; `None` when a fixed item of the line is removed.
    #[serde(with = "rust_decimal::serde::str_option")]
    pub rate: Option<Decimal>,
    pub amount: Vnd,
    pub legal_basis: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_applied: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub combined: Vec<String>,
}

impl Reduction {
    pub fn new(code: &str, kind: ReliefKind, rate: Option<Decimal>, basis: &str) -> Reduction {
        Reduction {
            code: code.to_string(),
            kind,
            rate: rate.map(|r| r.normalize()),
            amount: Vnd::ZERO,
            legal_basis: basis.to_string(),
            not_applied: Vec::new(),
            combined: Vec::new(),
        }
    }
}

/// Whether a relief removes its rate from the whole amount or from the part
/// within the residential quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    #[default]
    Whole,
    InQuota,
}

/// A condition the engine can check on the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    /// `parcel.land_use` = agricultural.
    AgriculturalParcel,
    /// `applicant_kind` = individual.
    IndividualApplicant,
    /// `seller.kind` = individual.
    IndividualSeller,
    /// `relationship` = spouse.
    Spouse,
    /// Residential land (`parcel.land_use` residential_*) or a house/apartment.
    ResidentialOrHouse,
    /// A `house` is given.
    HousePresent,
    /// Not on an auction (`allocation.auction`).
    NotAuction,
}

/// The validity period of a relief: its legal basis, and an assumption to show.
#[derive(Debug, Clone, Deserialize)]
pub struct ReliefPeriod {
    #[serde(default)]
    pub uncertain: Option<String>,
}

/// One relief of the catalogue.
#[derive(Debug, Clone, Deserialize)]
pub struct ReliefDef {
    pub code: String,
    /// What the relief is, in the words of the text.
    pub name: String,
    pub kind: ReliefKind,
    pub obligation: ObligationCode,
    /// Procedures it applies on (empty: any procedure computing the obligation).
    #[serde(default)]
    pub procedures: Vec<Procedure>,
    #[serde(with = "rust_decimal::serde::str", default = "one")]
    pub rate: Decimal,
    #[serde(default)]
    pub scope: Scope,
    #[serde(default)]
    pub conditions: Vec<Condition>,
    /// NALT: the kinds of parcel it applies to (empty: any).
    #[serde(default)]
    pub parcel_kinds: Vec<TaxParcelKind>,
    /// Decided by the engine from the request's facts; never claimed.
    #[serde(default)]
    pub automatic: bool,
    pub period: Vec<Row<ReliefPeriod>>,
}

fn one() -> Decimal {
    Decimal::ONE
}

/// Two codes whose legal conditions exclude each other.
#[derive(Debug, Clone, Deserialize)]
pub struct Incompatible {
    pub codes: [String; 2],
    pub reason: String,
}

#[derive(Deserialize)]
struct ReliefFile {
    relief: Vec<ReliefDef>,
    #[serde(default)]
    incompatible: Vec<Incompatible>,
}

/// A loaded relief: its definition and its checked validity periods.
#[derive(Debug, Clone)]
pub struct Relief {
    pub def: ReliefDef,
    pub periods: Table<ReliefPeriod>,
}

impl Relief {
    /// The period in force on `date` (its legal basis and assumption).
    pub fn in_force(&self, date: chrono::NaiveDate) -> Option<&Row<ReliefPeriod>> {
        self.periods.pick(date)
    }

    pub fn basis(&self, date: chrono::NaiveDate) -> String {
        self.in_force(date)
            .map(|row| row.legal_basis.join("; "))
            .unwrap_or_default()
    }
}

/// The relief catalogue.
#[derive(Debug, Clone, Default)]
pub struct ReliefBook {
    pub reliefs: Vec<Relief>,
    pub incompatible: Vec<Incompatible>,
}

impl ReliefBook {
    pub fn load(text: &str, check: &ChangeCheck) -> Result<ReliefBook, RuleError> {
        let file: ReliefFile = toml::from_str(text).map_err(|e| RuleError::Parse {
            file: "reliefs.toml".to_string(),
            message: e.to_string(),
        })?;
        let mut reliefs = Vec::with_capacity(file.relief.len());
        for mut def in file.relief {
            let name = format!("reliefs.relief[{}]", def.code);
            if reliefs.iter().any(|r: &Relief| r.def.code == def.code) {
                return Err(invalid(&name, "code listed twice"));
            }
            let rows = std::mem::take(&mut def.period);
            if rows.is_empty() {
                return Err(invalid(&name, "no period"));
            }
            if def.rate <= Decimal::ZERO || def.rate > Decimal::ONE {
                return Err(invalid(&name, "rate must be > 0 and <= 1"));
            }
            let periods = check.table(&name, rows)?;
            reliefs.push(Relief { def, periods });
        }
        let book = ReliefBook {
            reliefs,
            incompatible: file.incompatible,
        };
        for pair in &book.incompatible {
            if pair.codes.iter().any(|c| book.get(c).is_none()) {
                return Err(invalid("reliefs.incompatible", "names an unknown code"));
            }
        }
        Ok(book)
    }

    pub fn get(&self, code: &str) -> Option<&Relief> {
        self.reliefs.iter().find(|r| r.def.code == code)
    }

    /// The reason two codes cannot be combined, if they cannot.
    pub fn conflict(&self, a: &str, b: &str) -> Option<&str> {
        self.incompatible
            .iter()
            .find(|p| (p.codes[0] == a && p.codes[1] == b) || (p.codes[0] == b && p.codes[1] == a))
            .map(|p| p.reason.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::obligations::rule_types::Change;
    use chrono::NaiveDate;

    fn check() -> ChangeCheck {
        let changes = [Change {
            id: "VN-2022-03-01".to_string(),
            valid_from: NaiveDate::from_ymd_opt(2022, 3, 1).expect("date"),
            instrument: "x".to_string(),
        }];
        ChangeCheck::new(&changes).expect("check")
    }

    const ONE: &str = r#"
[[relief]]
code = "a"
kind = "exemption"
obligation = "registration_fee"
name = "A"
[[relief.period]]
valid_from = "2022-03-01"
legal_basis = ["basis A"]
"#;

    #[test]
    fn the_builtin_catalogue_loads_with_bases_by_date() {
        let book = crate::obligations::RuleBook::builtin().expect("rules");
        let r = book.reliefs.get("pit_divorce_split").expect("code");
        assert!(r
            .basis(NaiveDate::from_ymd_opt(2026, 7, 1).expect("d"))
            .contains("253/2026"));
        assert!(r
            .basis(NaiveDate::from_ymd_opt(2026, 6, 30).expect("d"))
            .contains("111/2013"));
        assert!(book
            .reliefs
            .conflict("nalt_force_majeure_50", "nalt_force_majeure_exempt")
            .is_some());
    }

    #[test]
    fn a_bad_catalogue_is_refused_naming_the_code() {
        assert!(ReliefBook::load(ONE, &check()).is_ok());
        let twice = format!("{ONE}{ONE}");
        let err = ReliefBook::load(&twice, &check()).expect_err("twice");
        assert!(err.to_string().contains("reliefs.relief[a]"), "{err}");
        let rate = ONE.replace("name = \"A\"", "name = \"A\"\nrate = \"1.5\"");
        assert!(ReliefBook::load(&rate, &check()).is_err());
        let no_basis = ONE.replace("[\"basis A\"]", "[]");
        assert!(ReliefBook::load(&no_basis, &check()).is_err());
        let pair = format!("{ONE}\n[[incompatible]]\ncodes = [\"a\", \"zz\"]\nreason = \"r\"\n");
        assert!(ReliefBook::load(&pair, &check()).is_err());
    }
}
