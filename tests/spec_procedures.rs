//! Procedures, co-owners, apartments and deadlines with no worked case of their
//! own: term extension, lease → allocation, the conversion fee when the fee was
//! paid before, the auction due rule, per-co-owner defaults, apartment checks, and
//! due dates over holidays, first years and consolidated returns. Figures are worked
//! by hand in each test from the rule it cites.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use landpay::obligations::{parse_request, quote, FieldError, RuleBook};
use serde_json::{json, Value};

fn answer(body: &Value) -> Result<Value, Vec<FieldError>> {
    let req = parse_request(body)?;
    let q = quote(&req, &RuleBook::builtin().unwrap())?;
    Ok(serde_json::to_value(q).unwrap())
}

fn ok(body: &Value) -> Value {
    answer(body).unwrap_or_else(|e| panic!("{e:?}"))
}

fn has(body: &Value, field: &str, words: &str) -> bool {
    let errs = answer(body).expect_err("should be refused");
    let found = errs
        .iter()
        .any(|e| e.field == field && e.message.contains(words));
    assert!(found, "{field} / {words} not in {errs:?}");
    found
}

fn line<'a>(q: &'a Value, code: &str) -> &'a Value {
    q["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["code"] == code)
        .unwrap_or_else(|| panic!("no {code} in {q}"))
}

fn extension(payment: &str, extra: Value) -> Value {
    let mut body = json!({"procedure": "term_extension", "as_of": "2026-09-29", "notice_date": "2026-10-12",
        "term_extension": {"area_m2": "1000", "price_per_m2": "5000000", "extension_years": "20", "payment": payment}});
    for (k, v) in extra.as_object().unwrap() {
        body["term_extension"][k] = v.clone();
    }
    body
}

/// Annual rent (Decree 103/2024 Art 26(1)): 1,000 × 5,000,000 × 1% = 50,000,000,
/// due 30 days from the notice (2026-10-12 + 29 = 2026-11-10), later years by 31 May
/// (or 31 May and 31 October). Levy by analogy: 1,000 × 5,000,000 × 20 / 70 =
/// 1,428,571,428.57… → 1,428,571,429; first half 714,285,714.5 → 714,285,715.
#[test]
fn term_extension_by_payment() {
    let q = ok(&extension("annual", json!({"rent_rate": "0.01"})));
    let rent = line(&q, "land_rent_annual");
    assert_eq!(rent["amount"], 50_000_000);
    assert_eq!(
        rent["due"],
        json!({"rule": "notice_30_days", "legal_basis": rent["due"]["legal_basis"],
        "dates": ["2026-11-10"], "later_years": "31_may_or_half_31_may_31_october"})
    );
    let q = ok(&extension("levy", json!({})));
    let levy = line(&q, "land_use_levy");
    assert_eq!(levy["amount"], 1_428_571_429_i64);
    assert_eq!(levy["instalments"][0]["amount"], 714_285_715);
    assert_eq!(levy["instalments"][1]["amount"], 714_285_714);
    assert!(levy["uncertain"].to_string().contains("not retrieved"));
    assert_eq!(q["lines"].as_array().unwrap().len(), 1);
    has(
        &extension("annual", json!({})),
        "term_extension.rent_rate",
        "is required",
    );
    let mut wrong = extension("annual", json!({"rent_rate": "0.01"}));
    wrong["obligations"] = json!(["land_rent_one_off"]);
    has(&wrong, "obligations[0]", "does not arise");
}

/// Lease → allocation (by analogy with Decree 103 Art 8): 200 m² × 10,000,000 =
/// 2,000,000,000; a one-off lease at 6,000,000 with 300 of 600 months left is worth
/// 200 × 6,000,000 × 300 / 600 = 600,000,000 → levy 1,400,000,000.
#[test]
fn lease_to_allocation_deducts_the_remaining_one_off_lease() {
    let body = |payment: &str| {
        json!({"procedure": "lease_to_allocation", "as_of": "2026-09-01",
            "lease_to_allocation": {"area_m2": "200", "price_per_m2": "10000000", "lease_payment": payment,
                "lease_price_per_m2": "6000000", "term_months": 600, "remaining_term_months": 300}})
    };
    assert_eq!(
        line(&ok(&body("annual")), "land_use_levy")["amount"],
        2_000_000_000_i64
    );
    let levy = ok(&body("one_off"));
    let levy = line(&levy, "land_use_levy");
    assert_eq!(levy["amount"], 1_400_000_000_i64);
    assert_eq!(levy["due"]["rule"], "notice_half_30_rest_90");
    let mut missing = body("one_off");
    missing["lease_to_allocation"]
        .as_object_mut()
        .unwrap()
        .remove("lease_price_per_m2");
    has(
        &missing,
        "lease_to_allocation.lease_price_per_m2",
        "is required",
    );
}

#[test]
fn conversion_fee_paid_before_is_left_out_with_a_warning() {
    let body = json!({"procedure": "purpose_conversion", "as_of": "2026-04-06",
        "conversion": {"area_m2": "150", "new_price_per_m2": "12000000", "old_price_per_m2": "100000",
            "origin": "agricultural_allocated_without_levy", "prior_registration_fee": "paid"},
        "obligations": ["land_use_levy", "registration_fee"]});
    let q = ok(&body);
    assert!(q["lines"]
        .as_array()
        .unwrap()
        .iter()
        .all(|l| l["code"] != "registration_fee"));
    assert!(q["warnings"].to_string().contains("registration_fee"));
}

/// Auction (Decree 252/2026 Art 21(4)(đ)): the levy is due as the decision approving
/// the result says; the registration fee on 60 m² × 50,000,000 = 3,000,000,000 is
/// 0.5% = 15,000,000, due 30 days from the notice.
#[test]
fn an_auction_levy_is_due_by_the_decision() {
    let body = json!({"procedure": "allocation", "as_of": "2026-10-01", "notice_date": "2026-10-09",
        "allocation": {"area_m2": "60", "price_per_m2": "50000000", "auction": true}});
    let q = ok(&body);
    let levy = line(&q, "land_use_levy");
    assert_eq!(levy["due"]["rule"], "auction_decision");
    assert_eq!(levy["due"]["dates"], json!([]));
    assert_eq!(levy["amount"], 3_000_000_000_i64);
    let fee = line(&q, "registration_fee");
    assert_eq!(fee["amount"], 15_000_000);
    assert_eq!(fee["due"]["dates"], json!(["2026-11-09"]));
}

/// Co-owners inherit the transfer's facts: both hold a sole home since 2020 → both
/// exempt (Decree 253/2026 Art 19(2)); 2% × 2,000,000,000 × 0.5 = 20,000,000 each.
#[test]
fn co_owners_default_to_the_transfer_facts_and_shares_are_checked() {
    let body = json!({"procedure": "transfer", "as_of": "2026-10-06", "obligations": ["pit_transfer"],
        "parcel": {"area_m2": "80", "table_price_per_m2": "25000000"},
        "transfer": {"sole_home": true, "held_since": "2020-01-01", "co_owners": [{"share": "0.5"}, {"share": "0.5"}]}});
    let q = ok(&body);
    for (i, l) in q["lines"].as_array().unwrap().iter().enumerate() {
        assert_eq!(l["co_owner_index"], i);
        assert_eq!(
            (l["amount"].as_i64(), l["full_amount"].as_i64()),
            (Some(0), Some(20_000_000))
        );
        assert_eq!(l["reduction"]["code"], "pit_sole_home");
    }
    let mut bad = body.clone();
    bad["transfer"]["co_owners"] = json!([{"share": "0.5"}, {"share": "0.4"}]);
    has(&bad, "transfer.co_owners", "sum to 1");
    let mut both = body.clone();
    both["transfer"]["ownership_shares"] = json!(["0.5", "0.5"]);
    has(&both, "transfer.ownership_shares", "not both");
    let mut org = body;
    org["seller"] = json!({"kind": "organisation"});
    has(&org, "obligations[0]", "the transferor is an organisation");
}

/// A gift of an apartment between siblings: value 50 m² × 20,000,000 × 80% =
/// 800,000,000; fee 0.5% = 4,000,000, exempt (Decree 10/2022 Art 10 k10).
#[test]
fn apartments_are_checked_and_valued() {
    let apartment =
        json!({"floor_area_m2": "50", "price_per_m2": "20000000", "remaining_quality_pct": "80"});
    let body = json!({"procedure": "gift", "as_of": "2026-10-06", "relationship": "siblings",
        "obligations": ["registration_fee"], "apartment": apartment});
    let fee = ok(&body);
    let fee = line(&fee, "registration_fee");
    assert_eq!(
        (fee["amount"].as_i64(), fee["full_amount"].as_i64()),
        (Some(0), Some(4_000_000))
    );
    // PIT on the gift to a non-relative (Decree 253/2026, rule in force from
    // 01/07/2026): 10% × (800,000,000 − 20,000,000) = 78,000,000.
    let mut stranger = body.clone();
    stranger["relationship"] = json!("other_relative");
    stranger["obligations"] = json!(["pit_inheritance_gift"]);
    let pit = ok(&stranger);
    assert_eq!(line(&pit, "pit_inheritance_gift")["amount"], 78_000_000);
    let mut house = body.clone();
    house["house"] = json!({"floor_area_m2": "50", "new_build_price_per_m2": "1", "grade": "III", "age_years": 1});
    has(&house, "apartment", "give one of them");
    let mut fund = body;
    fund["procedure"] = json!("transfer");
    fund["contract"] = json!({"total_price": 1_000_000_000});
    fund["apartment"]["maintenance_fund"] = json!(1_000_000_000);
    has(
        &fund,
        "apartment.maintenance_fund",
        "less than contract.total_price",
    );
}

/// Due dates (issue date = day 1, rolled over weekends and non-working days):
/// 2026-08-04 + 29 = 2026-09-02 (National Day) → 2026-09-03; + 89 = 2026-11-01 (Sun)
/// → 2026-11-02. A notice before as_of is refused.
#[test]
fn due_dates_roll_over_holidays_and_follow_the_notice() {
    let body = |notice: &str| {
        json!({"procedure": "allocation", "as_of": "2026-08-01", "notice_date": notice, "obligations": ["land_use_levy"],
            "allocation": {"area_m2": "10", "price_per_m2": "1000000"}})
    };
    let q = ok(&body("2026-08-04"));
    let levy = line(&q, "land_use_levy");
    assert_eq!(levy["due"]["dates"], json!(["2026-09-03", "2026-11-02"]));
    assert!(levy["due"]["legal_basis"]
        .as_str()
        .unwrap()
        .contains("252/2026"));
    has(
        &body("2026-07-31"),
        "notice_date",
        "must not be before as_of",
    );
    // A due date in 2027, a year the calendar does not list: weekends only, said so.
    let q = ok(&body("2026-12-01"));
    assert!(line(&q, "land_use_levy")["uncertain"]
        .to_string()
        .contains("does not cover"));
}

/// NALT: a first year is due 30 days from the notice (Decree 252/2026 Art 21(1)(a));
/// a consolidated return by 31 March of the next year (Art 21(1)(b)).
#[test]
fn nalt_first_year_and_consolidated_deadlines() {
    let body = json!({"procedure": "annual_land_tax", "as_of": "2026-05-20", "notice_date": "2026-06-01",
        "annual_land_tax": {"first_year": true, "parcels": [
            {"ref": "A", "area_m2": "200", "quota_m2": "100", "price_per_m2": "10000000", "kind": "residential"},
            {"ref": "B", "area_m2": "100", "quota_m2": "100", "price_per_m2": "10000000", "kind": "residential"}],
            "consolidate": {"quota_parcel": "A", "fill_order": ["A", "B"]}}});
    let q = ok(&body);
    let lines = q["lines"].as_array().unwrap();
    // 2026-06-01 + 29 = 2026-06-30 (Tue); the row in force on the notice date is Decree 126/2020.
    assert_eq!(lines[0]["due"]["rule"], "notice_30_days");
    assert_eq!(lines[0]["due"]["dates"], json!(["2026-06-30"]));
    assert!(lines[0]["due"]["legal_basis"]
        .as_str()
        .unwrap()
        .contains("126/2020"));
    let consolidated = lines.iter().find(|l| l["parcel_ref"].is_null()).unwrap();
    assert_eq!(consolidated["due"]["rule"], "consolidated_31_march");
    assert_eq!(consolidated["due"]["dates"], json!(["2027-03-31"]));
}
