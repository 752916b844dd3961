//! The request schema of `/v1/quotes` and `/v1/assessments`: one branch per procedure with the
//! sections its default obligations need, every field typed as the parser reads it, the enums
//! from the engine's own types and the relief codes from the loaded rule book.

use serde_json::{json, Map, Value};
use utoipa::PartialSchema;

use crate::obligations::relief::ReliefKind;
use crate::obligations::request::{
    ApplicantKind, Channel, ConversionOrigin, ExtensionPayment, HouseGrade, LandUse, LeasePayment,
    ObligationCode, PriorRegistrationFee, Procedure, RecognitionCase, Relationship, SellerKind,
    TaxParcelKind, WardKind,
};
use crate::obligations::RuleBook;

/// The values of a unit enum, as its serde names.
pub fn enum_of<T: PartialSchema>() -> Value {
    let schema = serde_json::to_value(T::schema()).unwrap_or(Value::Null);
    json!({"type": "string", "enum": schema["enum"].clone()})
}

/// A decimal string > 0 (areas, prices, years).
pub fn positive() -> Value {
    json!({"type": "string", "pattern": r"^(?:[1-9][0-9]{0,11}(?:\.[0-9]{1,4})?|0\.[0-9]{0,3}[1-9])$",
           "description": "Decimal string > 0, such as \"100.5\""})
}

fn non_negative() -> Value {
    json!({"type": "string", "pattern": r"^[0-9]{1,12}(?:\.[0-9]{1,4})?$", "description": "Decimal string >= 0"})
}

fn fraction() -> Value {
    json!({"type": "string", "pattern": r"^(?:1(?:\.0{1,4})?|0\.[0-9]{0,3}[1-9])$",
           "description": "Decimal string > 0 and <= 1"})
}

fn percent() -> Value {
    json!({"type": "string", "pattern": r"^(?:100(?:\.0{1,2})?|[1-9]?[0-9](?:\.[0-9]{1,2})?)$",
           "description": "Decimal string from 0 to 100"})
}

/// Whole đồng, > 0.
pub fn money() -> Value {
    json!({"type": "integer", "minimum": 1, "maximum": 1_000_000_000_000_000i64, "description": "Whole đồng"})
}

/// A calendar date `YYYY-MM-DD` (days 01–28 are enough for generated data to be real dates).
pub fn date() -> Value {
    json!({"type": "string", "format": "date", "pattern": r"^20[2-3][0-9]-(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])$"})
}

/// Free text: any string without control characters (TAB, LF and CR aside).
pub fn text() -> Value {
    json!({"type": "string", "pattern": r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"})
}

fn count() -> Value {
    json!({"type": "integer", "minimum": 0, "maximum": 100_000})
}

fn boolean() -> Value {
    json!({"type": "boolean"})
}

fn object(properties: Value, required: &[&str]) -> Value {
    json!({"type": "object", "properties": properties, "required": required})
}

fn codes(list: Vec<String>) -> Value {
    json!({"type": "array", "uniqueItems": true, "maxItems": 10, "items": {"type": "string", "enum": list}})
}

/// The claimable relief codes of `kind`: top-level ones, or the per-parcel NALT ones.
fn relief_codes(rules: &RuleBook, kind: ReliefKind, nalt: bool) -> Value {
    let list = rules
        .reliefs
        .reliefs
        .iter()
        .filter(|r| !r.def.automatic && r.def.kind == kind)
        .filter(|r| (r.def.obligation == ObligationCode::NonAgriculturalLandTax) == nalt)
        .map(|r| r.def.code.clone())
        .collect();
    codes(list)
}

/// The sections describing the property: the parcel, the house or apartment, the contract, the seller.
fn asset_sections() -> Vec<(&'static str, Value)> {
    let p = positive;
    let parcel = object(
        json!({"area_m2": p(), "table_price_per_m2": p(), "price_coefficient": p(),
               "land_use": enum_of::<LandUse>(), "ward_kind": enum_of::<WardKind>()}),
        &["area_m2", "table_price_per_m2"],
    );
    let house = object(
        json!({"floor_area_m2": p(), "new_build_price_per_m2": p(), "grade": enum_of::<HouseGrade>(),
               "age_years": count(), "first_registration": boolean(), "remaining_quality_pct": percent(),
               "self_built": boolean()}),
        &[
            "floor_area_m2",
            "new_build_price_per_m2",
            "grade",
            "age_years",
        ],
    );
    let contract = object(
        json!({"total_price": money(), "land_price": money(), "house_price": money()}),
        &[],
    );
    let co_owner = object(
        json!({"share": fraction(), "sole_home": boolean(), "held_since": date(),
               "owns_off_plan_home": boolean(), "relationship": enum_of::<Relationship>()}),
        &["share"],
    );
    let transfer = object(
        json!({"sole_home": boolean(), "held_since": date(), "whole_property": boolean(),
               "owns_off_plan_home": boolean(),
               "ownership_shares": {"type": "array", "minItems": 1, "maxItems": 20, "items": fraction(),
                                    "description": "Shares summing to exactly 1 (or give co_owners)"},
               "co_owners": {"type": "array", "minItems": 1, "maxItems": 20, "items": co_owner,
                             "description": "1–20 co-owners whose shares sum to exactly 1"}}),
        &[],
    );
    let apartment = object(
        json!({"floor_area_m2": p(), "price_per_m2": p(), "remaining_quality_pct": percent(),
               "maintenance_fund": money(), "ward_kind": enum_of::<WardKind>()}),
        &["floor_area_m2", "price_per_m2", "remaining_quality_pct"],
    );
    let seller = object(json!({"kind": enum_of::<SellerKind>()}), &[]);
    vec![
        ("parcel", parcel),
        ("house", house),
        ("contract", contract),
        ("transfer", transfer),
        ("apartment", apartment),
        ("seller", seller),
    ]
}

/// The sections of the procedures that are not a change of owner.
fn procedure_sections(rules: &RuleBook) -> Vec<(&'static str, Value)> {
    let p = positive;
    let lease = object(
        json!({"rent_rate": fraction(), "term_years": p(), "table_term_years": p(), "infra_cost_per_m2": non_negative()}),
        &[],
    );
    let conversion = object(
        json!({"area_m2": p(), "new_price_per_m2": p(), "old_price_per_m2": p(),
               "origin": enum_of::<ConversionOrigin>(), "garden_pond_same_parcel": boolean(),
               "preference_used": boolean(), "residential_quota_m2": p(),
               "term_months": {"type": "integer", "minimum": 1, "maximum": 100_000},
               "remaining_term_months": count(), "nq254_recompute": boolean(),
               "prior_registration_fee": enum_of::<PriorRegistrationFee>()}),
        &["area_m2", "new_price_per_m2", "origin"],
    );
    let recognition = object(
        json!({"residential_area_m2": p(), "price_per_m2": p(), "case": enum_of::<RecognitionCase>(),
               "paid_amount": money(), "paid_levy_per_m2": p(), "residential_quota_m2": p()}),
        &["residential_area_m2", "price_per_m2", "case"],
    );
    let allocation = object(
        json!({"area_m2": p(), "price_per_m2": p(), "infra_cost_per_m2": non_negative(),
               "auction": boolean(), "residential_quota_m2": p()}),
        &["area_m2", "price_per_m2"],
    );
    let extension = json!({"type": "object",
        "properties": {"area_m2": p(), "price_per_m2": p(), "months": count(), "days": count(), "rent_rate": fraction()},
        "required": ["area_m2", "price_per_m2"],
        "oneOf": [{"required": ["months"], "not": {"required": ["days"]}},
                  {"required": ["days"], "not": {"required": ["months"]}}],
        "description": "Give months or days, not both"});
    let tax_parcel = object(
        json!({"ref": text(), "area_m2": p(), "price_per_m2": p(),
               "quota_m2": p(), "kind": enum_of::<TaxParcelKind>(), "building_land_m2": p(),
               "total_floor_area_m2": p(),
               "exemptions": relief_codes(rules, ReliefKind::Exemption, true),
               "reductions": relief_codes(rules, ReliefKind::Reduction, true)}),
        &["ref", "area_m2", "price_per_m2", "kind"],
    );
    let annual_land_tax = object(
        json!({"parcels": {"type": "array", "minItems": 1, "maxItems": 50, "items": tax_parcel,
                           "description": "Refs unique; residential parcels need quota_m2, apartments building_land_m2 and total_floor_area_m2"},
               "consolidate": object(json!({"quota_parcel": text(),
                                            "fill_order": {"type": "array", "items": text()}}),
                                     &["quota_parcel", "fill_order"]),
               "tax_year": {"type": "integer", "minimum": 2000, "maximum": 2100}, "first_year": boolean()}),
        &["parcels"],
    );
    let term_extension = object(
        json!({"area_m2": p(), "price_per_m2": p(), "table_term_years": p(), "extension_years": p(),
               "payment": enum_of::<ExtensionPayment>(), "rent_rate": fraction()}),
        &["area_m2", "price_per_m2", "extension_years", "payment"],
    );
    let lease_to_allocation = object(
        json!({"area_m2": p(), "price_per_m2": p(), "lease_payment": enum_of::<LeasePayment>(),
               "lease_price_per_m2": p(), "term_months": {"type": "integer", "minimum": 1, "maximum": 100_000},
               "remaining_term_months": count()}),
        &["area_m2", "price_per_m2", "lease_payment"],
    );
    vec![
        ("lease", lease),
        ("conversion", conversion),
        ("recognition", recognition),
        ("allocation", allocation),
        ("extension", extension),
        ("annual_land_tax", annual_land_tax),
        ("term_extension", term_extension),
        ("lease_to_allocation", lease_to_allocation),
    ]
}

fn sections(rules: &RuleBook) -> Map<String, Value> {
    asset_sections()
        .into_iter()
        .chain(procedure_sections(rules))
        .map(|(name, schema)| (name.to_owned(), schema))
        .collect()
}

/// The sections a procedure's default obligations cannot do without, by procedure.
fn needed(procedure: &str) -> &'static [&'static str] {
    match procedure {
        "transfer" | "gift" | "inheritance" | "first_certificate" => &["parcel"],
        "purpose_conversion" => &["conversion"],
        "allocation" => &["allocation"],
        "lease_annual" | "lease_one_off" => &["parcel", "lease"],
        "land_use_extension" => &["extension"],
        "annual_land_tax" => &["annual_land_tax"],
        "term_extension" => &["term_extension"],
        "lease_to_allocation" => &["lease_to_allocation"],
        _ => &[],
    }
}

/// The `QuoteRequest` component: `oneOf` a branch per procedure, each naming its sections.
pub fn quote_request(rules: &RuleBook) -> Value {
    let mut properties = Map::new();
    properties.insert("as_of".into(), date());
    properties.insert(
        "province_code".into(),
        json!({"type": "string", "pattern": "^[0-9]{2}$"}),
    );
    properties.insert("agency_code".into(), text());
    properties.insert("dossier_code".into(), text());
    properties.insert("channel".into(), enum_of::<Channel>());
    properties.insert("applicant_kind".into(), enum_of::<ApplicantKind>());
    properties.insert("relationship".into(), enum_of::<Relationship>());
    properties.insert(
        "obligations".into(),
        json!({"type": "array", "uniqueItems": true, "items": enum_of::<ObligationCode>(),
               "description": "Only obligations this procedure can give rise to; absent = the procedure's defaults"}),
    );
    properties.insert("notice_date".into(), date());
    properties.insert(
        "exemptions".into(),
        relief_codes(rules, ReliefKind::Exemption, false),
    );
    properties.insert(
        "reductions".into(),
        relief_codes(rules, ReliefKind::Reduction, false),
    );
    properties.extend(sections(rules));
    let procedures = enum_of::<Procedure>();
    let branches: Vec<Value> = procedures["enum"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|name| {
            let mut props = properties.clone();
            props.insert("procedure".into(), json!({"type": "string", "const": name}));
            let mut branch = json!({"type": "object", "title": name, "properties": props,
                                    "required": ["procedure", "as_of"]});
            // The default obligations need these sections; a chosen `obligations` list may not.
            if !needed(name).is_empty() {
                branch["anyOf"] =
                    json!([{"required": needed(name)}, {"required": ["obligations"]}]);
            }
            branch
        })
        .collect();
    json!({"oneOf": branches,
           "description": "The facts of one land procedure; sections beyond those required are read when the \
                           requested obligations need them. Unknown fields are ignored."})
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn every_procedure_has_a_branch_and_relief_codes_come_from_the_rule_book() {
        let rules = RuleBook::builtin().unwrap();
        let schema = quote_request(&rules);
        let branches = schema["oneOf"].as_array().unwrap();
        assert_eq!(branches.len(), 13);
        let transfer = branches.iter().find(|b| b["title"] == "transfer").unwrap();
        assert_eq!(transfer["required"], json!(["procedure", "as_of"]));
        assert_eq!(transfer["anyOf"][0]["required"], json!(["parcel"]));
        let reductions = transfer["properties"]["reductions"]["items"]["enum"].to_string();
        assert!(reductions.contains("levy_poor_or_ethnic_minority_50"));
        assert!(
            !reductions.contains("nalt_"),
            "NALT codes go on the parcels"
        );
        assert!(
            !reductions.contains("pit_sole_home"),
            "automatic codes are never claimed"
        );
        let grades = enum_of::<HouseGrade>();
        assert_eq!(grades["enum"], json!(["villa", "I", "II", "III", "IV"]));
    }
}
