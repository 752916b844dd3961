//! Parsing of the `annual_land_tax` section (parcels and consolidation).
#![warn(clippy::float_arithmetic)]

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use crate::obligations::fields::{join, Bound, Reader};
use crate::obligations::parse_more::codes;
use crate::obligations::request::{AnnualLandTax, Consolidation, TaxParcel, TaxParcelKind};

pub fn annual_land_tax(r: &mut Reader, m: &Map<String, Value>) -> Option<AnnualLandTax> {
    let p = "annual_land_tax.parcels";
    let Some(list) = m
        .get("parcels")
        .and_then(Value::as_array)
        .filter(|l| !l.is_empty())
    else {
        r.fail(p, "must be a non-empty list of parcels");
        return None;
    };
    let before = r.errors.len();
    let parcels: Vec<TaxParcel> = list
        .iter()
        .enumerate()
        .filter_map(|(i, v)| tax_parcel(r, v, &format!("{p}[{i}]")))
        .collect();
    let refs: BTreeSet<&str> = parcels.iter().map(|t| t.parcel_ref.as_str()).collect();
    if refs.len() != parcels.len() && r.errors.len() == before {
        r.fail(p, "parcel refs must be unique");
    }
    let consolidate = r
        .object(m, "annual_land_tax", "consolidate")
        .and_then(|c| consolidation(r, c, &parcels));
    let tax_year = r
        .count(m, "annual_land_tax", "tax_year")
        .and_then(|y| i32::try_from(y).ok());
    let first_year = r
        .boolean(m, "annual_land_tax", "first_year")
        .unwrap_or(false);
    (r.errors.len() == before).then_some(AnnualLandTax {
        parcels,
        consolidate,
        tax_year,
        first_year,
    })
}

fn tax_parcel(r: &mut Reader, v: &Value, p: &str) -> Option<TaxParcel> {
    let Some(m) = v.as_object() else {
        r.fail(p, "must be an object");
        return None;
    };
    let parcel_ref = r.string(m, p, "ref");
    let parcel_ref = r.required(parcel_ref, m.contains_key("ref"), join(p, "ref"));
    let area = r.req_decimal(m, p, "area_m2", Bound::Positive);
    let price = r.req_decimal(m, p, "price_per_m2", Bound::Positive);
    let quota = r.decimal(m, p, "quota_m2", Bound::Positive);
    let kind: Option<TaxParcelKind> = r.choice(m, p, "kind");
    let kind = r.required(kind, m.contains_key("kind"), join(p, "kind"))?;
    let building = r.decimal(m, p, "building_land_m2", Bound::Positive);
    let floor = r.decimal(m, p, "total_floor_area_m2", Bound::Positive);
    if kind == TaxParcelKind::Residential && quota.is_none() && !m.contains_key("quota_m2") {
        r.fail(join(p, "quota_m2"), "is required for residential parcels");
    }
    if kind == TaxParcelKind::Apartment {
        if building.is_none() && !m.contains_key("building_land_m2") {
            r.fail(join(p, "building_land_m2"), "is required for apartments");
        }
        if floor.is_none() && !m.contains_key("total_floor_area_m2") {
            r.fail(join(p, "total_floor_area_m2"), "is required for apartments");
        }
    }
    let exemptions = codes(r, m, p, "exemptions");
    let reductions = codes(r, m, p, "reductions");
    Some(TaxParcel {
        exemptions,
        reductions,
        parcel_ref: parcel_ref?,
        area_m2: area?,
        quota_m2: quota,
        price_per_m2: price?,
        kind,
        building_land_m2: building,
        total_floor_area_m2: floor,
    })
}

fn consolidation(
    r: &mut Reader,
    m: &Map<String, Value>,
    parcels: &[TaxParcel],
) -> Option<Consolidation> {
    let p = "annual_land_tax.consolidate";
    let residential: BTreeSet<&str> = parcels
        .iter()
        .filter(|t| t.kind == TaxParcelKind::Residential)
        .map(|t| t.parcel_ref.as_str())
        .collect();
    let quota_parcel = r.string(m, p, "quota_parcel");
    let quota_parcel = r.required(
        quota_parcel,
        m.contains_key("quota_parcel"),
        join(p, "quota_parcel"),
    )?;
    if !residential.contains(quota_parcel.as_str()) {
        r.fail(
            join(p, "quota_parcel"),
            "must be the ref of a residential parcel",
        );
    }
    let field = join(p, "fill_order");
    let order: Vec<String> = match m.get("fill_order").and_then(Value::as_array) {
        Some(list) => list
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        None => {
            r.fail(&field, "is required");
            return None;
        }
    };
    let given: BTreeSet<&str> = order.iter().map(String::as_str).collect();
    if given != residential || order.len() != residential.len() {
        r.fail(field, "must list every residential parcel ref exactly once");
        return None;
    }
    Some(Consolidation {
        quota_parcel,
        fill_order: order,
    })
}
