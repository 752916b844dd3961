//! The documented transfer example, validation, rule sets by date, and property tests.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use landpay::money::round_half_up;
use landpay::obligations::{parse_request, quote, FieldError, Quote, RuleBook};
use proptest::prelude::*;
use rust_decimal::Decimal;
use serde_json::{json, Value};

fn rules() -> RuleBook {
    RuleBook::builtin().expect("rules")
}

fn run(body: &Value) -> Quote {
    let req = parse_request(body).unwrap_or_else(|e| panic!("{e:?}"));
    quote(&req, &rules()).unwrap_or_else(|e| panic!("{e:?}"))
}

fn errors(body: &Value) -> Vec<FieldError> {
    parse_request(body).expect_err("should be rejected")
}

fn fields(errs: &[FieldError]) -> Vec<&str> {
    errs.iter().map(|e| e.field.as_str()).collect()
}

fn api_example() -> Value {
    json!({
      "procedure": "transfer", "as_of": "2026-11-20", "province_code": "01", "channel": "online",
      "agency_code": "HN-VPDKDD", "dossier_code": "000.00.12.H26-261120-0001",
      "parcel": { "area_m2": "100", "land_use": "residential_urban", "table_price_per_m2": "50000000", "ward_kind": "ward" },
      "house": { "floor_area_m2": "150", "new_build_price_per_m2": "6500000", "grade": "III", "age_years": 15,
                 "first_registration": false, "remaining_quality_pct": "70" },
      "contract": { "total_price": 7000000000_i64 }
    })
}

#[test]
fn api_example_matches_the_contract() {
    let q = run(&api_example());
    let v = serde_json::to_value(&q).unwrap();
    assert_eq!(v["kind"], "estimate");
    assert_eq!(v["rule_set"], "VN-2026-07-01");
    assert_eq!(v["total"], 175_000_000);
    let fee = &v["lines"][0];
    assert_eq!(fee["code"], "registration_fee");
    assert_eq!(fee["payer"], "transferee");
    assert_eq!(fee["amount"], 35_000_000);
    assert_eq!(fee["base"], 7_000_000_000_i64);
    assert_eq!(fee["rate"], "0.005");
    assert_eq!(fee["budget_sub_item"], "2801");
    assert_eq!(
        fee["explanation"],
        json!([
            "land table value = 100 m² × 50.000.000 = 5.000.000.000",
            "house value = 150 m² × 6.500.000 × 70% = 682.500.000",
            "base = max(contract 7.000.000.000; 5.682.500.000) = 7.000.000.000",
            "fee = 0,5% × 7.000.000.000 = 35.000.000"
        ])
    );
    let codes: Vec<&str> = v["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        ["registration_fee", "pit_transfer", "certificate_fee"]
    );
    assert!(v["warnings"][0]
        .as_str()
        .unwrap()
        .starts_with("appraisal_fee"));
    for line in v["lines"].as_array().unwrap() {
        assert!(!line["legal_basis"].as_array().unwrap().is_empty());
        assert!(!line["explanation"].as_array().unwrap().is_empty());
    }
    assert_eq!(
        parse_request(&api_example())
            .unwrap()
            .agency_code
            .as_deref(),
        Some("HN-VPDKDD")
    );
}

#[test]
fn family_exemptions_differ_by_obligation() {
    let mut gift = api_example();
    gift["procedure"] = json!("gift");
    gift["relationship"] = json!("parent_child");
    let q = run(&gift);
    assert!(q
        .lines
        .iter()
        .filter(|l| l.code != landpay::obligations::request::ObligationCode::CertificateFee)
        .all(|l| l.exempt && l.amount.dong() == 0));
    assert!(q.lines[0]
        .exemption
        .as_deref()
        .unwrap()
        .contains("Điều 10 khoản 10"));
    let mut sale = api_example();
    sale["relationship"] = json!("siblings");
    let q = run(&sale);
    assert_eq!(
        q.lines[0].amount.dong(),
        35_000_000,
        "a family sale still pays the fee"
    );
    assert!(q.lines[1].exempt, "but no PIT");
    let mut uncle = gift.clone();
    uncle["relationship"] = json!("none");
    assert!(!run(&uncle).lines[0].exempt);
}

#[test]
fn co_owners_get_one_line_each() {
    let mut body = api_example();
    body["transfer"] = json!({"ownership_shares": ["0.5", "0.3", "0.2"]});
    body["obligations"] = json!(["pit_transfer"]);
    let q = run(&body);
    let amounts: Vec<i64> = q.lines.iter().map(|l| l.amount.dong()).collect();
    assert_eq!(amounts, [70_000_000, 42_000_000, 28_000_000]);
    assert_eq!(q.total.dong(), 140_000_000);
}

#[test]
fn rule_set_and_threshold_follow_the_date() {
    let body = |as_of: &str| {
        json!({"procedure": "inheritance", "as_of": as_of, "obligations": ["pit_inheritance_gift"],
        "parcel": {"area_m2": "100", "table_price_per_m2": "20000000"}})
    };
    let before = run(&body("2026-06-30"));
    let after = run(&body("2026-07-01"));
    assert_eq!(before.rule_set, "VN-2026-01-31");
    assert_eq!(after.rule_set, "VN-2026-07-01");
    assert_eq!(before.total.dong(), 199_000_000);
    assert_eq!(after.total.dong(), 198_000_000);
    let too_early = parse_request(&body("2022-02-28")).unwrap();
    assert_eq!(fields(&quote(&too_early, &rules()).unwrap_err()), ["as_of"]);
}

#[test]
fn missing_reference_data_warns_and_leaves_the_line_out() {
    let mut body = api_example();
    body["province_code"] = json!("79");
    let q = run(&body);
    assert!(q
        .lines
        .iter()
        .all(|l| l.code != landpay::obligations::request::ObligationCode::CertificateFee));
    assert!(q.warnings.iter().any(|w| w.contains("79")));
    let levy_2023 = json!({"procedure": "allocation", "as_of": "2023-05-01", "obligations": ["land_use_levy"],
        "allocation": {"area_m2": "100", "price_per_m2": "1000000"}});
    let q = run(&levy_2023);
    assert!(q.lines.is_empty() && q.total.dong() == 0 && q.warnings.len() == 1);
    let unknown_case = json!({"procedure": "first_certificate", "as_of": "2026-03-01", "obligations": ["land_use_levy"],
        "recognition": {"residential_area_m2": "100", "price_per_m2": "1000000", "case": "used_1993_to_2004_above_quota"}});
    assert!(run(&unknown_case).warnings[0].contains("used_1993_to_2004_above_quota"));
}

#[test]
fn house_without_quality_needs_a_province_table() {
    let mut body = api_example();
    body["house"]["remaining_quality_pct"] = Value::Null;
    let req = parse_request(&body).unwrap();
    assert_eq!(
        fields(&quote(&req, &rules()).unwrap_err()),
        ["house.remaining_quality_pct"],
        "reported once though two lines need it"
    );
    body["province_code"] = json!("75");
    let q = run(&body);
    assert_eq!(q.lines[0].base.unwrap().dong(), 7_000_000_000);
}

#[test]
fn validation_collects_every_error_with_paths() {
    let body = json!({
        "procedure": "transfer", "as_of": "2026-13-01", "channel": "fax", "province_code": "1",
        "parcel": {"area_m2": "0", "table_price_per_m2": 5.5, "land_use": "moon"},
        "contract": {"total_price": -1},
        "transfer": {"ownership_shares": ["0.5", "0.4"]}
    });
    let errs = errors(&body);
    let f = fields(&errs);
    for expected in [
        "as_of",
        "channel",
        "province_code",
        "parcel.area_m2",
        "parcel.table_price_per_m2",
        "parcel.land_use",
        "contract.total_price",
        "transfer.ownership_shares",
    ] {
        assert!(f.contains(&expected), "{expected} missing from {f:?}");
    }
    assert!(
        !f.contains(&"parcel"),
        "an invalid section is not also reported missing: {f:?}"
    );
}

#[test]
fn missing_sections_and_list_items_are_named() {
    let errs = errors(&json!({"procedure": "lease_annual", "as_of": "2026-03-01"}));
    assert_eq!(fields(&errs), ["lease", "parcel"]);
    let errs = errors(
        &json!({"procedure": "lease_annual", "as_of": "2026-03-01", "lease": {},
        "parcel": {"area_m2": "10", "table_price_per_m2": "10"}}),
    );
    assert_eq!(fields(&errs), ["lease.rent_rate"]);
    let errs = errors(
        &json!({"procedure": "annual_land_tax", "as_of": "2026-03-01",
        "annual_land_tax": {"parcels": [
            {"ref": "A", "area_m2": "100", "quota_m2": "100", "price_per_m2": "1000000", "kind": "residential"},
            {"ref": "B", "area_m2": "100", "price_per_m2": "1000000", "kind": "residential"},
            {"ref": "C", "area_m2": "-3", "price_per_m2": "1000000", "kind": "business"}]}}),
    );
    assert_eq!(
        fields(&errs),
        [
            "annual_land_tax.parcels[1].quota_m2",
            "annual_land_tax.parcels[2].area_m2"
        ]
    );
    let errs = errors(
        &json!({"procedure": "allocation", "as_of": "2026-03-01", "obligations": ["pit_transfer"]}),
    );
    assert_eq!(fields(&errs), ["obligations[0]"]);
    let errs = errors(&json!({"procedure": "nope", "as_of": "2026-03-01"}));
    assert_eq!(fields(&errs), ["procedure"]);
}

#[test]
fn late_interest_request_is_validated() {
    use landpay::obligations::parse_late_interest_request;
    let ok = parse_late_interest_request(
        &json!({"amount": 40000000, "due_date": "2026-04-01", "paid_on": "2026-04-21"}),
    );
    assert!(ok.is_ok());
    let errs =
        parse_late_interest_request(&json!({"amount": "40000000", "due_date": "x"})).unwrap_err();
    assert_eq!(fields(&errs), ["amount", "due_date", "paid_on"]);
    let rules = rules();
    let (a, d, _) = ok.unwrap();
    let none = landpay::obligations::late_interest(a, d, d.succ_opt().unwrap(), &rules);
    assert_eq!((none.days, none.interest.dong()), (0, 0));
}

#[test]
fn consolidated_land_tax_fills_tiers_in_order() {
    // Quota 100 m²: A (100 m² at 1,000,000) fills tier 1; B (400 m² at 2,000,000)
    // fills 300 m² at 0.07% and 100 m² at 0.15%.
    let q = run(
        &json!({"procedure": "annual_land_tax", "as_of": "2026-03-01",
        "annual_land_tax": {"parcels": [
            {"ref": "A", "area_m2": "100", "quota_m2": "100", "price_per_m2": "1000000", "kind": "residential"},
            {"ref": "B", "area_m2": "400", "quota_m2": "200", "price_per_m2": "2000000", "kind": "residential"}],
          "consolidate": {"quota_parcel": "A", "fill_order": ["A", "B"]}}}),
    );
    let amounts: Vec<i64> = q.lines.iter().map(|l| l.amount.dong()).collect();
    // A: 30,000. B alone (Q 200): 200×2m×0.03% + 200×2m×0.07% = 120,000 + 280,000 = 400,000.
    // Consolidated: 30,000 + 300×2m×0.07% + 100×2m×0.15% = 30,000 + 420,000 + 300,000 = 750,000.
    assert_eq!(amounts, [30_000, 400_000, 320_000]);
    assert_eq!(q.lines[2].base.unwrap().dong(), 750_000);
    assert_eq!(q.total.dong(), 750_000);
}

#[test]
fn apartment_tax_uses_the_allocation_coefficient() {
    let q = run(
        &json!({"procedure": "annual_land_tax", "as_of": "2026-03-01", "applicant_kind": "organisation",
        "annual_land_tax": {"parcels": [{"ref": "APT", "area_m2": "100", "price_per_m2": "10000000", "kind": "apartment",
            "building_land_m2": "1000", "total_floor_area_m2": "10000"}]}}),
    );
    // 100 × 0.1 × 10,000,000 × 0.03% = 30,000; organisations are not exempt.
    assert_eq!(q.total.dong(), 30_000);
}

proptest! {
    #[test]
    fn transfer_amounts_are_non_negative_monotone_and_rounded_once(
        area in 1u32..5_000, price in 1u64..200_000_000, contract in 1u64..50_000_000_000, extra in 1u32..1_000
    ) {
        let body = |area: u32, price: u64| json!({"procedure": "transfer", "as_of": "2026-11-20", "province_code": "01",
            "parcel": {"area_m2": area.to_string(), "table_price_per_m2": price.to_string()},
            "contract": {"total_price": contract}});
        let q = run(&body(area, price));
        let sum: i64 = q.lines.iter().map(|l| l.amount.dong()).sum();
        prop_assert_eq!(q.total.dong(), sum);
        prop_assert!(q.lines.iter().all(|l| l.amount.dong() >= 0));
        let exact = Decimal::from(area) * Decimal::from(price);
        let base = exact.max(Decimal::from(contract));
        prop_assert_eq!(q.lines[0].amount, round_half_up(base * Decimal::new(5, 3)).unwrap());
        prop_assert_eq!(q.lines[1].amount, round_half_up(base * Decimal::new(2, 2)).unwrap());
        let bigger = run(&body(area + extra, price));
        prop_assert!(bigger.total >= q.total);
        let dearer = run(&body(area, price + u64::from(extra)));
        prop_assert!(dearer.total >= q.total);
    }

    #[test]
    fn one_off_rent_is_rounded_once(area in 1u32..100_000, price in 1u64..100_000_000, term in 1u32..70) {
        let q = run(&json!({"procedure": "lease_one_off", "as_of": "2026-03-01",
            "parcel": {"area_m2": area.to_string(), "table_price_per_m2": price.to_string()},
            "lease": {"term_years": term.to_string()}}));
        let exact = Decimal::from(area) * Decimal::from(price) * Decimal::from(term) / Decimal::from(70);
        prop_assert_eq!(q.total, round_half_up(exact).unwrap());
    }

    #[test]
    fn garden_pond_levy_is_monotone_in_area(area in 1u32..2_000, extra in 1u32..500, quota in 50u32..400) {
        let body = |area: u32| json!({"procedure": "purpose_conversion", "as_of": "2026-03-01",
            "conversion": {"area_m2": area.to_string(), "new_price_per_m2": "30000000", "old_price_per_m2": "250000",
                "origin": "agricultural_allocated_without_levy", "garden_pond_same_parcel": true,
                "residential_quota_m2": quota.to_string()}});
        let small = run(&body(area)).total;
        let large = run(&body(area + extra)).total;
        prop_assert!(small.dong() >= 0 && large >= small);
    }

    #[test]
    fn land_tax_is_monotone_in_area(area in 1u32..5_000, extra in 1u32..1_000, quota in 50u32..400) {
        let body = |area: u32| json!({"procedure": "annual_land_tax", "as_of": "2026-03-01", "applicant_kind": "organisation",
            "annual_land_tax": {"parcels": [{"ref": "A", "area_m2": area.to_string(), "quota_m2": quota.to_string(),
                "price_per_m2": "5000000", "kind": "residential"}]}});
        prop_assert!(run(&body(area + extra)).total >= run(&body(area)).total);
    }
}

/// Every line has a legal basis and an explanation; exempt lines are
/// 0 and name their exemption; `total` is the sum of the lines.
#[test]
fn every_line_honours_the_response_contract() {
    let bodies = [
        api_example(),
        json!({"procedure": "gift", "as_of": "2026-03-01", "province_code": "01", "relationship": "spouse",
            "parcel": {"area_m2": "100", "table_price_per_m2": "1000000"}}),
        json!({"procedure": "first_certificate", "as_of": "2026-03-01", "province_code": "01",
            "parcel": {"area_m2": "100", "table_price_per_m2": "1000000", "land_use": "agricultural"},
            "recognition": {"residential_area_m2": "50", "price_per_m2": "1000000", "case": "art140_3c_remaining"}}),
        json!({"procedure": "purpose_conversion", "as_of": "2026-03-01",
            "conversion": {"area_m2": "300", "new_price_per_m2": "30000000", "old_price_per_m2": "250000",
              "origin": "agricultural_allocated_without_levy", "garden_pond_same_parcel": true, "residential_quota_m2": "120"}}),
        json!({"procedure": "allocation", "as_of": "2026-03-01",
            "allocation": {"area_m2": "100", "price_per_m2": "40000000", "infra_cost_per_m2": "2000000"}}),
        json!({"procedure": "lease_one_off", "as_of": "2026-03-01",
            "parcel": {"area_m2": "2000", "table_price_per_m2": "6000000"}, "lease": {"term_years": "50"}}),
        json!({"procedure": "land_use_extension", "as_of": "2026-03-01",
            "extension": {"area_m2": "1000", "price_per_m2": "5000000", "rent_rate": "0.015", "months": 6}}),
        json!({"procedure": "annual_land_tax", "as_of": "2026-11-20", "annual_land_tax": {"parcels": [
            {"ref": "A", "area_m2": "50", "quota_m2": "100", "price_per_m2": "300000", "kind": "residential"},
            {"ref": "B", "area_m2": "60", "quota_m2": "100", "price_per_m2": "300000", "kind": "residential"}],
            "consolidate": {"quota_parcel": "A", "fill_order": ["A", "B"]}}}),
    ];
    for body in &bodies {
        let q = run(body);
        assert!(!q.lines.is_empty(), "{body}");
        let sum: i64 = q.lines.iter().map(|l| l.amount.dong()).sum();
        assert_eq!(q.total.dong(), sum);
        for l in &q.lines {
            assert!(
                !l.legal_basis.is_empty() && !l.explanation.is_empty(),
                "{l:?}"
            );
            assert!(l.amount.dong() >= 0);
            if l.exempt {
                assert_eq!(l.amount.dong(), 0);
                let named = l.exemption.as_deref().unwrap_or_default();
                assert!(
                    l.legal_basis.iter().any(|b| named.contains(b.as_str())),
                    "{l:?}"
                );
            }
        }
    }
}
