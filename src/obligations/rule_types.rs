//! The shapes of the reference-data rows in `config/rules/*.toml`.
//! Decimals are written as strings in TOML (`rate = "0.005"`); money as integers.
#![warn(clippy::float_arithmetic)]

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Deserialize;

use crate::money::Vnd;

/// A rule-set change; its id names the rule set in quotes.
#[derive(Debug, Clone, Deserialize)]
pub struct Change {
    pub id: String,
    pub valid_from: NaiveDate,
    pub instrument: String,
}

/// One tier of a tiered rate; `quota_multiple` is the upper bound in multiples of
/// the quota (none for the last, open tier).
#[derive(Debug, Clone, Deserialize)]
pub struct TierRule {
    #[serde(default, with = "rust_decimal::serde::str_option")]
    pub quota_multiple: Option<Decimal>,
    #[serde(with = "rust_decimal::serde::str")]
    pub rate: Decimal,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RegistrationFeeRule {
    #[serde(with = "rust_decimal::serde::str")]
    pub rate: Decimal,
    #[serde(default)]
    pub cap: Option<Vnd>,
    pub budget_sub_item: Option<String>,
    #[serde(with = "rust_decimal::serde::str")]
    pub table_term_years: Decimal,
    pub family_exemption: String,
    pub family_exemption_basis: String,
    pub agricultural_exemption: String,
    pub agricultural_exemption_basis: String,
    #[serde(default)]
    pub self_built_house_exemption: Option<String>,
    #[serde(default)]
    pub self_built_house_exemption_basis: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PitTransferRule {
    #[serde(with = "rust_decimal::serde::str")]
    pub rate: Decimal,
    pub budget_sub_item: Option<String>,
    pub family_exemption: String,
    pub family_exemption_basis: String,
    pub sole_home_exemption: String,
    pub sole_home_exemption_basis: String,
    pub sole_home_min_days: i64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PitInheritanceRule {
    #[serde(with = "rust_decimal::serde::str")]
    pub rate: Decimal,
    pub threshold: Vnd,
    pub budget_sub_item: Option<String>,
    pub family_exemption: String,
    pub family_exemption_basis: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LevyGeneralRule {
    #[serde(with = "rust_decimal::serde::str")]
    pub collection_rate: Decimal,
    pub allocation_budget_sub_item: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct GardenPondRule {
    pub tiers: Vec<TierRule>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RecognitionCaseRule {
    pub case: String,
    #[serde(with = "rust_decimal::serde::str")]
    pub rate: Decimal,
    pub basis: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RecognitionRule {
    pub cases: Vec<RecognitionCaseRule>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ExtensionRule {
    #[serde(with = "rust_decimal::serde::str")]
    pub rate_per_year: Decimal,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LandRentRule {
    #[serde(with = "rust_decimal::serde::str")]
    pub min_rate: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub max_rate: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub default_table_term_years: Decimal,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LandTaxRule {
    pub residential_tiers: Vec<TierRule>,
    #[serde(with = "rust_decimal::serde::str")]
    pub apartment_rate: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub business_rate: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub misused_rate: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub encroached_rate: Decimal,
    pub exemption_threshold: Vnd,
    pub exemption: String,
    pub exemption_basis: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LateInterestRule {
    #[serde(with = "rust_decimal::serde::str")]
    pub rate_per_day: Decimal,
}

/// Amounts of one fee item by column.
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct FeeColumns {
    pub ward: Vnd,
    pub commune: Vnd,
    pub organisation: Vnd,
}

/// Certificate-charge items (lệ phí cấp GCN).
#[derive(Debug, Clone, Deserialize)]
pub struct CertificateItems {
    pub new_land_only: FeeColumns,
    pub new_with_house: FeeColumns,
    pub reissue_land_only: FeeColumns,
    pub reissue_with_house: FeeColumns,
    pub change_registration: FeeColumns,
    pub cadastral_extract: FeeColumns,
}

/// Appraisal-fee items (phí thẩm định hồ sơ); absent where not established.
#[derive(Debug, Clone, Deserialize)]
pub struct AppraisalItems {
    pub land_only: FeeColumns,
    pub with_house: FeeColumns,
}

#[derive(Debug, Clone, Deserialize)]
pub struct FeeSchedule {
    pub province_code: String,
    pub province_name: String,
    pub online_free: bool,
    #[serde(default)]
    pub online_free_basis: Option<String>,
    #[serde(default)]
    pub certificate: Option<CertificateItems>,
    #[serde(default)]
    pub appraisal: Option<AppraisalItems>,
}

/// One age band of a remaining-quality table, percentages by grade.
#[derive(Debug, Clone, Deserialize)]
pub struct QualityBand {
    #[serde(default)]
    pub max_age: Option<u32>,
    pub villa: u32,
    #[serde(rename = "I")]
    pub grade_1: u32,
    #[serde(rename = "II")]
    pub grade_2: u32,
    #[serde(rename = "III")]
    pub grade_3: u32,
    #[serde(rename = "IV")]
    pub grade_4: u32,
}

#[derive(Debug, Clone, Deserialize)]
pub struct HouseQualityTable {
    pub province_code: String,
    pub province_name: String,
    pub bands: Vec<QualityBand>,
}
