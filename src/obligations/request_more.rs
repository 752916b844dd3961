//! Request parts for co-owners, sellers, apartments, conversions' earlier
//! registration, term extensions and lease → allocation conversions.
#![warn(clippy::float_arithmetic)]

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::money::Vnd;
use crate::obligations::request::{Relationship, WardKind};

/// The transferor's kind: PIT taxpayers are individuals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SellerKind {
    #[default]
    Individual,
    Organisation,
}

/// Whether the certificate being converted was registered with the registration fee.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PriorRegistrationFee {
    Exempt,
    Paid,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExtensionPayment {
    OneOff,
    Annual,
    Levy,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LeasePayment {
    Annual,
    OneOff,
}

/// One co-owner's PIT facts; absent facts default to the transfer's and the
/// request's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoOwner {
    #[serde(with = "rust_decimal::serde::str")]
    pub share: Decimal,
    pub sole_home: bool,
    pub held_since: Option<NaiveDate>,
    pub owns_off_plan_home: bool,
    pub relationship: Relationship,
}

/// An apartment (căn hộ chung cư) instead of a parcel and a house.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Apartment {
    #[serde(with = "rust_decimal::serde::str")]
    pub floor_area_m2: Decimal,
    /// The province's price per m² of floor area, including the allocated land.
    #[serde(with = "rust_decimal::serde::str")]
    pub price_per_m2: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub remaining_quality_pct: Decimal,
    /// The part of the contract price that is the maintenance fund.
    pub maintenance_fund: Option<Vnd>,
    pub ward_kind: WardKind,
}

/// Gia hạn thời hạn sử dụng đất.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TermExtension {
    #[serde(with = "rust_decimal::serde::str")]
    pub area_m2: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub price_per_m2: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub table_term_years: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub extension_years: Decimal,
    pub payment: ExtensionPayment,
    #[serde(with = "rust_decimal::serde::str_option")]
    pub rent_rate: Option<Decimal>,
}

/// Chuyển từ thuê đất sang giao đất có thu tiền sử dụng đất.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeaseToAllocation {
    #[serde(with = "rust_decimal::serde::str")]
    pub area_m2: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub price_per_m2: Decimal,
    pub lease_payment: LeasePayment,
    #[serde(with = "rust_decimal::serde::str_option")]
    pub lease_price_per_m2: Option<Decimal>,
    pub term_months: Option<u32>,
    pub remaining_term_months: Option<u32>,
}
