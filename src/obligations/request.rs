//! The quote request model. Built by [`crate::obligations::parse`];
//! decimals serialize as strings, money as integers.
#![warn(clippy::float_arithmetic)]

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::money::Vnd;

pub use crate::obligations::request_more::{
    Apartment, CoOwner, ExtensionPayment, LeasePayment, LeaseToAllocation, PriorRegistrationFee,
    SellerKind, TermExtension,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Procedure {
    Transfer,
    Gift,
    Inheritance,
    FirstCertificate,
    PurposeConversion,
    Allocation,
    LeaseAnnual,
    LeaseOneOff,
    LandUseExtension,
    AnnualLandTax,
    CertificateChange,
    TermExtension,
    LeaseToAllocation,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ObligationCode {
    RegistrationFee,
    PitTransfer,
    PitInheritanceGift,
    LandUseLevy,
    LandRentAnnual,
    LandRentOneOff,
    NonAgriculturalLandTax,
    AppraisalFee,
    CertificateFee,
    LatePaymentInterest,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    #[default]
    Online,
    Counter,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApplicantKind {
    #[default]
    Individual,
    Organisation,
}

/// Family relationships between transferor and transferee; every value but `None`
/// and `OtherRelative` is in the exempt set (registration fee on gifts/inheritance;
/// PIT on all three).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Relationship {
    #[default]
    None,
    Spouse,
    ParentChild,
    AdoptiveParentChild,
    ParentInLaw,
    GrandparentGrandchild,
    Siblings,
    /// Uncles, aunts, nephews, nieces, cousins, other in-laws, step-relations: not exempt.
    OtherRelative,
}

impl Relationship {
    pub fn is_family_exempt(self) -> bool {
        !matches!(self, Relationship::None | Relationship::OtherRelative)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LandUse {
    ResidentialUrban,
    ResidentialRural,
    Agricultural,
    Business,
    OtherNonAgricultural,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WardKind {
    #[default]
    Ward,
    Commune,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub enum HouseGrade {
    #[serde(rename = "villa")]
    Villa,
    I,
    II,
    III,
    IV,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConversionOrigin {
    AgriculturalAllocatedWithoutLevy,
    AgriculturalLeasedOneOff,
    LeasedAnnual,
    NonAgriculturalLongTerm,
    NonAgriculturalWithTerm,
}

/// Recognition cases (domain spec §4.4). Rates come from the rule book; a case the
/// loaded data has no rate for gives a warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RecognitionCase {
    ValidPapersWithinQuota,
    /// Used stably before 15/10/1993 with a house, within the recognition quota
    /// (Land Law 2024 Art 138(1)–(2)).
    #[serde(rename = "used_before_1993_within_quota")]
    UsedBefore1993WithinQuota,
    ValidPapersAboveQuota,
    #[serde(rename = "used_1993_to_2004_within_quota")]
    Used1993To2004WithinQuota,
    #[serde(rename = "used_1993_to_2004_above_quota")]
    Used1993To2004AboveQuota,
    #[serde(rename = "used_2004_to_2014_within_quota")]
    Used2004To2014WithinQuota,
    #[serde(rename = "used_2004_to_2014_above_quota")]
    Used2004To2014AboveQuota,
    UnauthorizedAllocationNoProof,
    UnauthorizedAllocationPaidInFull,
    UnauthorizedAllocationPartialPayment,
    #[serde(rename = "art140_3c_remaining")]
    Art1403cRemaining,
}

impl RecognitionCase {
    /// The key used in `land_use_levy.toml`.
    pub fn key(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TaxParcelKind {
    Residential,
    Apartment,
    Business,
    Misused,
    Encroached,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Parcel {
    #[serde(with = "rust_decimal::serde::str")]
    pub area_m2: Decimal,
    pub land_use: Option<LandUse>,
    #[serde(with = "rust_decimal::serde::str")]
    pub table_price_per_m2: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub price_coefficient: Decimal,
    pub ward_kind: WardKind,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct House {
    #[serde(with = "rust_decimal::serde::str")]
    pub floor_area_m2: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub new_build_price_per_m2: Decimal,
    pub grade: HouseGrade,
    pub age_years: u32,
    pub first_registration: bool,
    #[serde(with = "rust_decimal::serde::str_option")]
    pub remaining_quality_pct: Option<Decimal>,
    /// Built by the household/individual itself (registration-fee exemption at a
    /// first certificate, spec §2.4 k11). Absent = assumed at a first certificate.
    #[serde(default)]
    pub self_built: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Contract {
    pub total_price: Option<Vnd>,
    pub land_price: Option<Vnd>,
    pub house_price: Option<Vnd>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransferFacts {
    pub sole_home: bool,
    pub held_since: Option<NaiveDate>,
    pub whole_property: bool,
    pub owns_off_plan_home: bool,
    /// Decimal fractions summing to 1; one PIT line per co-owner.
    #[serde(with = "decimal_list")]
    pub ownership_shares: Vec<Decimal>,
    /// Per-co-owner facts (given, or built from `ownership_shares`); empty = one
    /// owner with the transfer's facts.
    #[serde(default)]
    pub co_owners: Vec<CoOwner>,
}

impl Default for TransferFacts {
    fn default() -> Self {
        TransferFacts {
            sole_home: false,
            held_since: None,
            whole_property: true,
            owns_off_plan_home: false,
            ownership_shares: vec![Decimal::ONE],
            co_owners: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lease {
    #[serde(with = "rust_decimal::serde::str_option")]
    pub rent_rate: Option<Decimal>,
    #[serde(with = "rust_decimal::serde::str_option")]
    pub term_years: Option<Decimal>,
    #[serde(with = "rust_decimal::serde::str_option")]
    pub table_term_years: Option<Decimal>,
    #[serde(with = "rust_decimal::serde::str_option")]
    pub infra_cost_per_m2: Option<Decimal>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conversion {
    #[serde(with = "rust_decimal::serde::str")]
    pub area_m2: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub new_price_per_m2: Decimal,
    #[serde(with = "rust_decimal::serde::str_option")]
    pub old_price_per_m2: Option<Decimal>,
    pub origin: ConversionOrigin,
    pub garden_pond_same_parcel: bool,
    pub preference_used: bool,
    #[serde(with = "rust_decimal::serde::str_option")]
    pub residential_quota_m2: Option<Decimal>,
    pub term_months: Option<u32>,
    pub remaining_term_months: Option<u32>,
    pub prior_registration_fee: Option<PriorRegistrationFee>,
    /// A decision of 01/08/2024–31/12/2025 re-computed under NQ 254 on request
    /// (Decree 50/2026 Art 12(2)).
    #[serde(default)]
    pub nq254_recompute: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recognition {
    #[serde(with = "rust_decimal::serde::str")]
    pub residential_area_m2: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub price_per_m2: Decimal,
    pub case: RecognitionCase,
    pub paid_amount: Option<Vnd>,
    /// For a partial payment: the levy per m² under the policy and price at the
    /// payment date, to convert the amount paid into area completed.
    #[serde(with = "rust_decimal::serde::str_option", default)]
    pub paid_levy_per_m2: Option<Decimal>,
    #[serde(with = "rust_decimal::serde::str_option", default)]
    pub residential_quota_m2: Option<Decimal>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Allocation {
    #[serde(with = "rust_decimal::serde::str")]
    pub area_m2: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub price_per_m2: Decimal,
    #[serde(with = "rust_decimal::serde::str_option")]
    pub infra_cost_per_m2: Option<Decimal>,
    /// `price_per_m2` is the winning bid.
    #[serde(default)]
    pub auction: bool,
    #[serde(with = "rust_decimal::serde::str_option", default)]
    pub residential_quota_m2: Option<Decimal>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Extension {
    #[serde(with = "rust_decimal::serde::str")]
    pub area_m2: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub price_per_m2: Decimal,
    /// Whole months after the 15-day rule (counted from `days` when given).
    pub months: u32,
    pub days: Option<u32>,
    #[serde(with = "rust_decimal::serde::str_option")]
    pub rent_rate: Option<Decimal>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaxParcel {
    #[serde(rename = "ref")]
    pub parcel_ref: String,
    #[serde(with = "rust_decimal::serde::str")]
    pub area_m2: Decimal,
    #[serde(with = "rust_decimal::serde::str_option")]
    pub quota_m2: Option<Decimal>,
    #[serde(with = "rust_decimal::serde::str")]
    pub price_per_m2: Decimal,
    pub kind: TaxParcelKind,
    #[serde(with = "rust_decimal::serde::str_option")]
    pub building_land_m2: Option<Decimal>,
    #[serde(with = "rust_decimal::serde::str_option")]
    pub total_floor_area_m2: Option<Decimal>,
    /// Claimed NALT relief codes.
    #[serde(default)]
    pub exemptions: Vec<String>,
    #[serde(default)]
    pub reductions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Consolidation {
    pub quota_parcel: String,
    pub fill_order: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnnualLandTax {
    pub parcels: Vec<TaxParcel>,
    pub consolidate: Option<Consolidation>,
    /// Default: the year of `as_of`.
    pub tax_year: Option<i32>,
    /// The taxpayer's first year: due 30 days from the notice.
    #[serde(default)]
    pub first_year: bool,
}

/// A validated quote request. Build it with [`crate::obligations::parse_request`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuoteRequest {
    pub procedure: Procedure,
    pub as_of: NaiveDate,
    pub province_code: Option<String>,
    pub agency_code: Option<String>,
    pub dossier_code: Option<String>,
    pub channel: Channel,
    pub applicant_kind: ApplicantKind,
    pub relationship: Relationship,
    pub obligations: Option<Vec<ObligationCode>>,
    pub parcel: Option<Parcel>,
    pub house: Option<House>,
    pub contract: Option<Contract>,
    pub transfer: Option<TransferFacts>,
    pub lease: Option<Lease>,
    pub conversion: Option<Conversion>,
    pub recognition: Option<Recognition>,
    pub allocation: Option<Allocation>,
    pub extension: Option<Extension>,
    pub annual_land_tax: Option<AnnualLandTax>,
    /// Issue date of the tax authority's payment notice: drives due dates.
    pub notice_date: Option<NaiveDate>,
    /// Claimed relief codes (top level).
    pub exemptions: Vec<String>,
    pub reductions: Vec<String>,
    pub seller_kind: SellerKind,
    pub apartment: Option<Apartment>,
    pub term_extension: Option<TermExtension>,
    pub lease_to_allocation: Option<LeaseToAllocation>,
}

mod decimal_list {
    use rust_decimal::Decimal;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(list: &[Decimal], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(list.iter().map(Decimal::to_string))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Decimal>, D::Error> {
        let texts = Vec::<String>::deserialize(d)?;
        texts
            .iter()
            .map(|t| t.parse::<Decimal>().map_err(serde::de::Error::custom))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognition_case_keys_match_the_rule_file() {
        assert_eq!(
            RecognitionCase::Art1403cRemaining.key(),
            "art140_3c_remaining"
        );
        assert_eq!(
            RecognitionCase::Used1993To2004AboveQuota.key(),
            "used_1993_to_2004_above_quota"
        );
        assert_eq!(
            RecognitionCase::UnauthorizedAllocationNoProof.key(),
            "unauthorized_allocation_no_proof"
        );
    }
}
