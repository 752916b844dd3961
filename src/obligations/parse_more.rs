//! Parsing of the relief selectors, co-owners, the seller, apartments, term
//! extensions and lease → allocation conversions.
#![warn(clippy::float_arithmetic)]

use rust_decimal::Decimal;
use serde_json::{Map, Value};

use crate::obligations::fields::{join, Bound, Reader};
use crate::obligations::request::{
    Apartment, CoOwner, LeasePayment, LeaseToAllocation, Relationship, SellerKind, TermExtension,
    TransferFacts,
};

/// A list of relief codes (`exemptions` / `reductions`). A value that is not a
/// string is an unknown code; known-ness is checked against the rule book later.
pub fn codes(r: &mut Reader, m: &Map<String, Value>, prefix: &str, key: &str) -> Vec<String> {
    let field = join(prefix, key);
    let Some(value) = m.get(key).filter(|v| !v.is_null()) else {
        return Vec::new();
    };
    let Some(list) = value.as_array() else {
        r.fail(field, "must be a list of relief codes");
        return Vec::new();
    };
    let word = if key == "exemptions" {
        "exemption"
    } else {
        "reduction"
    };
    let mut out = Vec::with_capacity(list.len());
    for (i, v) in list.iter().enumerate() {
        match v.as_str() {
            Some(code) => out.push(code.to_string()),
            None => {
                r.fail(format!("{field}[{i}]"), format!("unknown {word} code"));
                out.push(String::new());
            }
        }
    }
    out
}

/// `seller.kind`, default individual.
pub fn seller(r: &mut Reader, obj: &Map<String, Value>) -> SellerKind {
    r.object(obj, "", "seller")
        .and_then(|m| r.choice(m, "seller", "kind"))
        .unwrap_or_default()
}

/// `transfer.co_owners`: each co-owner's facts, absent ones taken from the
/// transfer and the request. Shares are required and sum to exactly 1.
pub fn co_owners(
    r: &mut Reader,
    m: &Map<String, Value>,
    facts: &TransferFacts,
    relationship: Relationship,
) -> Option<Vec<CoOwner>> {
    let field = "transfer.co_owners";
    let value = m.get("co_owners").filter(|v| !v.is_null())?;
    if m.get("ownership_shares").is_some_and(|v| !v.is_null()) {
        r.fail(
            "transfer.ownership_shares",
            "give co_owners or ownership_shares, not both",
        );
        return None;
    }
    let Some(list) = value.as_array().filter(|l| !l.is_empty() && l.len() <= 20) else {
        r.fail(field, "must be a list of 1 to 20 co-owners");
        return None;
    };
    let before = r.errors.len();
    let mut owners = Vec::with_capacity(list.len());
    for (i, v) in list.iter().enumerate() {
        let p = format!("{field}[{i}]");
        let Some(o) = v.as_object() else {
            r.fail(p, "must be an object");
            continue;
        };
        let share = r.req_decimal(o, &p, "share", Bound::Fraction);
        let owner = CoOwner {
            share: share.unwrap_or_default(),
            sole_home: r.boolean(o, &p, "sole_home").unwrap_or(facts.sole_home),
            held_since: r.date(o, &p, "held_since").or(facts.held_since),
            owns_off_plan_home: r
                .boolean(o, &p, "owns_off_plan_home")
                .unwrap_or(facts.owns_off_plan_home),
            relationship: r.choice(o, &p, "relationship").unwrap_or(relationship),
        };
        owners.push(owner);
    }
    if r.errors.len() > before {
        return None;
    }
    if owners.iter().map(|o| o.share).sum::<Decimal>() != Decimal::ONE {
        r.fail(field, "shares must sum to 1");
        return None;
    }
    Some(owners)
}

pub fn apartment(r: &mut Reader, m: &Map<String, Value>) -> Option<Apartment> {
    let p = "apartment";
    let floor = r.req_decimal(m, p, "floor_area_m2", Bound::Positive);
    let price = r.req_decimal(m, p, "price_per_m2", Bound::Positive);
    let quality = r.req_decimal(m, p, "remaining_quality_pct", Bound::Percent);
    let fund = r.money(m, p, "maintenance_fund");
    let ward_kind = r.choice(m, p, "ward_kind").unwrap_or_default();
    Some(Apartment {
        floor_area_m2: floor?,
        price_per_m2: price?,
        remaining_quality_pct: quality?,
        maintenance_fund: fund,
        ward_kind,
    })
}

pub fn term_extension(r: &mut Reader, m: &Map<String, Value>) -> Option<TermExtension> {
    let p = "term_extension";
    let area = r.req_decimal(m, p, "area_m2", Bound::Positive);
    let price = r.req_decimal(m, p, "price_per_m2", Bound::Positive);
    let table_term = r.decimal(m, p, "table_term_years", Bound::Positive);
    let years = r.req_decimal(m, p, "extension_years", Bound::Positive);
    let payment = r.choice(m, p, "payment");
    let payment = r.required(payment, m.contains_key("payment"), join(p, "payment"));
    let rent_rate = r.decimal(m, p, "rent_rate", Bound::Fraction);
    if payment == Some(crate::obligations::request::ExtensionPayment::Annual)
        && rent_rate.is_none()
        && !m.contains_key("rent_rate")
    {
        r.fail(join(p, "rent_rate"), "is required for payment annual");
    }
    Some(TermExtension {
        area_m2: area?,
        price_per_m2: price?,
        table_term_years: table_term.unwrap_or(Decimal::from(70)),
        extension_years: years?,
        payment: payment?,
        rent_rate,
    })
}

pub fn lease_to_allocation(r: &mut Reader, m: &Map<String, Value>) -> Option<LeaseToAllocation> {
    let p = "lease_to_allocation";
    let area = r.req_decimal(m, p, "area_m2", Bound::Positive);
    let price = r.req_decimal(m, p, "price_per_m2", Bound::Positive);
    let payment = r.choice(m, p, "lease_payment");
    let payment = r.required(
        payment,
        m.contains_key("lease_payment"),
        join(p, "lease_payment"),
    );
    let lease_price = r.decimal(m, p, "lease_price_per_m2", Bound::Positive);
    let term = r.count(m, p, "term_months").filter(|t| *t > 0);
    let remaining = r.count(m, p, "remaining_term_months");
    if payment == Some(LeasePayment::OneOff) {
        if lease_price.is_none() && !m.contains_key("lease_price_per_m2") {
            r.fail(
                join(p, "lease_price_per_m2"),
                "is required for a one-off lease",
            );
        }
        match (term, remaining) {
            (Some(t), Some(rem)) if rem > t => {
                r.fail(
                    join(p, "remaining_term_months"),
                    "must not exceed term_months",
                );
            }
            (Some(_), Some(_)) => {}
            (None, _) => r.fail(
                join(p, "term_months"),
                "is required (> 0) for a one-off lease",
            ),
            (_, None) => r.fail(
                join(p, "remaining_term_months"),
                "is required for a one-off lease",
            ),
        }
    }
    Some(LeaseToAllocation {
        area_m2: area?,
        price_per_m2: price?,
        lease_payment: payment?,
        lease_price_per_m2: lease_price,
        term_months: term,
        remaining_term_months: remaining,
    })
}
