//! Spec rules with no case in cases.json: levy by origin, NQ 254 scope and
//! transition, recognition cases (§4), rent variants (§5) and NALT tiers and the
//! ≤ 50,000 đ exemption (§6), through `parse_request` + `quote`.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use landpay::obligations::{parse_request, quote, FieldError, Line, Quote, RuleBook};
use serde_json::{json, Value};

fn run(body: &Value) -> Quote {
    let req = parse_request(body).unwrap_or_else(|e| panic!("{e:?}"));
    quote(&req, &RuleBook::builtin().unwrap()).unwrap_or_else(|e| panic!("{e:?}"))
}

fn first(body: &Value) -> Line {
    let q = run(body);
    q.lines
        .first()
        .cloned()
        .unwrap_or_else(|| panic!("no line: {:?}", q.warnings))
}

fn fields(errs: &[FieldError]) -> Vec<&str> {
    errs.iter().map(|e| e.field.as_str()).collect()
}

fn quote_errors(body: &Value) -> Vec<FieldError> {
    let req = parse_request(body).unwrap_or_else(|e| panic!("{e:?}"));
    quote(&req, &RuleBook::builtin().unwrap()).expect_err("should fail")
}

fn mentions(list: &[String], text: &str) -> bool {
    list.iter().any(|s| s.contains(text))
}

fn conversion(as_of: &str, kind: &str, c: Value) -> Value {
    json!({"procedure": "purpose_conversion", "as_of": as_of, "applicant_kind": kind, "conversion": c})
}

/// C14's garden land: 300 m², Q = 120, 30,000,000 vs 250,000.
fn garden(extra: Value) -> Value {
    let mut c = json!({"area_m2": "300", "new_price_per_m2": "30000000", "old_price_per_m2": "250000",
        "origin": "agricultural_allocated_without_levy", "garden_pond_same_parcel": true,
        "residential_quota_m2": "120"});
    for (k, v) in extra.as_object().unwrap() {
        c[k] = v.clone();
    }
    c
}

#[test]
fn nq254_tiers_are_for_households_and_individuals_only() {
    let ind = first(&conversion("2026-03-01", "individual", garden(json!({}))));
    assert_eq!(ind.amount.dong(), 4_641_000_000);
    let org = first(&conversion("2026-03-01", "organisation", garden(json!({}))));
    assert_eq!(org.amount.dong(), 8_925_000_000);
    assert!(mentions(
        &org.explanation,
        "households and individuals only"
    ));
    // An organisation needs no quota.
    let mut c = garden(json!({}));
    c["residential_quota_m2"] = Value::Null;
    assert_eq!(
        first(&conversion("2026-03-01", "organisation", c.clone()))
            .amount
            .dong(),
        8_925_000_000
    );
    // An eligible household does (reported at quote time).
    let errs = quote_errors(&conversion("2026-03-01", "individual", c));
    assert_eq!(fields(&errs), ["conversion.residential_quota_m2"]);
}

#[test]
fn decisions_of_2024_2025_can_be_recomputed_under_nq254() {
    // Decree 50/2026 Art 12(2): a decision of 01/10/2025 at 100%, or on request the tiers.
    let plain = first(&conversion("2025-10-01", "individual", garden(json!({}))));
    assert_eq!(plain.amount.dong(), 8_925_000_000);
    let redone = first(&conversion(
        "2025-10-01",
        "individual",
        garden(json!({"nq254_recompute": true})),
    ));
    assert_eq!(redone.amount.dong(), 4_641_000_000);
    assert!(mentions(
        &redone.legal_basis,
        "50/2026/NĐ-CP Điều 12 khoản 2"
    ));
    assert!(mentions(&redone.uncertain, "01/01/2027"));
    // Outside the window the flag changes nothing: before 01/08/2024 no levy rule.
    let early = run(&conversion(
        "2024-07-01",
        "individual",
        garden(json!({"nq254_recompute": true})),
    ));
    assert!(early.lines.is_empty() && early.warnings.len() == 1);
}

#[test]
fn conversion_value_before_follows_the_origin() {
    // §4.2: leased with annual rent → 0 before.
    let c = json!({"area_m2": "100", "new_price_per_m2": "20000000", "origin": "leased_annual"});
    assert_eq!(
        first(&conversion("2026-03-01", "individual", c))
            .amount
            .dong(),
        2_000_000_000
    );
    // Agricultural one-off lease: 100 × 300,000 × 300/600 = 15,000,000 before.
    let c = json!({"area_m2": "100", "new_price_per_m2": "20000000", "old_price_per_m2": "300000",
        "origin": "agricultural_leased_one_off", "term_months": 600, "remaining_term_months": 300});
    assert_eq!(
        first(&conversion("2026-03-01", "individual", c))
            .amount
            .dong(),
        1_985_000_000
    );
    // Non-agricultural land with a term: 200 × 8,000,000 × 420/840 = 800,000,000 before.
    let c = json!({"area_m2": "200", "new_price_per_m2": "15000000", "old_price_per_m2": "8000000",
        "origin": "non_agricultural_with_term", "term_months": 840, "remaining_term_months": 420});
    assert_eq!(
        first(&conversion("2026-03-01", "organisation", c))
            .amount
            .dong(),
        2_200_000_000
    );
    // The adjustment coefficient applies to both prices (§1.3): C15 × 1.5.
    let mut body = conversion(
        "2026-03-01",
        "individual",
        json!({"area_m2": "100", "new_price_per_m2": "20000000", "old_price_per_m2": "200000",
            "origin": "agricultural_allocated_without_levy"}),
    );
    body["parcel"] =
        json!({"area_m2": "100", "table_price_per_m2": "20000000", "price_coefficient": "1.5"});
    assert_eq!(first(&body).amount.dong(), 2_970_000_000);
    // Zero prices are rejected.
    let zero = conversion(
        "2026-03-01",
        "individual",
        json!({"area_m2": "100", "new_price_per_m2": "20000000", "old_price_per_m2": "0",
            "origin": "agricultural_allocated_without_levy"}),
    );
    let errs = parse_request(&zero).unwrap_err();
    assert_eq!(fields(&errs), ["conversion.old_price_per_m2"]);
}

fn recognition(as_of: &str, r: Value) -> Value {
    json!({"procedure": "first_certificate", "as_of": as_of, "obligations": ["land_use_levy"], "recognition": r})
}

#[test]
fn recognition_rates_follow_decree_291_from_06_11_2025() {
    let r = |case: &str| json!({"residential_area_m2": "150", "price_per_m2": "25000000", "case": case});
    // Art 140(3)(c) remaining area: 100% from Decree 291/2025.
    let c3c = first(&recognition("2025-12-01", r("art140_3c_remaining")));
    assert_eq!(c3c.amount.dong(), 3_750_000_000);
    assert_eq!(
        first(&recognition(
            "2026-03-01",
            r("unauthorized_allocation_no_proof")
        ))
        .amount
        .dong(),
        2_625_000_000
    );
    // Before Decree 291 the 70% formula is not the law: no rate loaded → warning.
    let before = run(&recognition(
        "2025-11-05",
        r("unauthorized_allocation_no_proof"),
    ));
    assert!(before.lines.is_empty() && before.warnings.len() == 1);
    // Pre-1993 use within the quota and full payment: no levy.
    assert_eq!(
        first(&recognition(
            "2025-01-01",
            r("used_before_1993_within_quota")
        ))
        .amount
        .dong(),
        0
    );
    assert_eq!(
        first(&recognition(
            "2026-03-01",
            r("unauthorized_allocation_paid_in_full")
        ))
        .amount
        .dong(),
        0
    );
}

#[test]
fn partial_payment_completes_part_of_the_area() {
    // 500,000,000 paid at 10,000,000 per m² then = 50 m² done; 100 m² × 25 m × 70%.
    let mut r = json!({"residential_area_m2": "150", "price_per_m2": "25000000",
        "case": "unauthorized_allocation_partial_payment", "paid_amount": 500_000_000});
    let errs = quote_errors(&recognition("2026-03-01", r.clone()));
    assert_eq!(fields(&errs), ["recognition.paid_levy_per_m2"]);
    r["paid_levy_per_m2"] = json!("10000000");
    let line = first(&recognition("2026-03-01", r));
    assert_eq!(line.amount.dong(), 1_750_000_000);
    assert!(mentions(&line.explanation, "remaining"));
}

fn lease(procedure: &str, parcel: Value, lease: Value) -> Value {
    json!({"procedure": procedure, "as_of": "2026-03-01", "parcel": parcel, "lease": lease})
}

#[test]
fn rent_variants() {
    let parcel = json!({"area_m2": "1000", "table_price_per_m2": "5000000"});
    // §5.1 with infrastructure cost: 1,000 × 1.5% × (5,000,000 − 1,000,000).
    let infra = first(&lease(
        "lease_annual",
        parcel.clone(),
        json!({"rent_rate": "0.015", "infra_cost_per_m2": "1000000"}),
    ));
    assert_eq!(infra.amount.dong(), 60_000_000);
    assert!(mentions(&infra.uncertain, "layout"));
    // With the adjustment coefficient 1.2.
    let k = json!({"area_m2": "1000", "table_price_per_m2": "5000000", "price_coefficient": "1.2"});
    assert_eq!(
        first(&lease("lease_annual", k, json!({"rent_rate": "0.015"})))
            .amount
            .dong(),
        90_000_000
    );
    // A rate outside 0.25%–3% is refused, naming the field.
    let req = parse_request(&lease(
        "lease_annual",
        parcel.clone(),
        json!({"rent_rate": "0.05"}),
    ))
    .unwrap();
    let errs = quote(&req, &RuleBook::builtin().unwrap()).unwrap_err();
    assert_eq!(fields(&errs), ["lease.rent_rate"]);
    // §5.2 one-off (C22) less infrastructure, then with a coefficient.
    let big = json!({"area_m2": "2000", "table_price_per_m2": "6000000"});
    let one_off = first(&lease(
        "lease_one_off",
        big,
        json!({"term_years": "50", "infra_cost_per_m2": "100000"}),
    ));
    assert_eq!(one_off.amount.dong(), 8_371_428_571);
    let k = json!({"area_m2": "2000", "table_price_per_m2": "6000000", "price_coefficient": "1.1"});
    assert_eq!(
        first(&lease("lease_one_off", k, json!({"term_years": "50"})))
            .amount
            .dong(),
        9_428_571_429
    );
}

fn extension(e: Value) -> Value {
    json!({"procedure": "land_use_extension", "as_of": "2026-03-01", "extension": e})
}

#[test]
fn extension_days_count_by_the_15_day_rule() {
    // §5.3: 195 days = 6 months + 15 days → 7 months; 194 days → 6.
    let rent = |days: u32| {
        first(&extension(json!({"area_m2": "1000", "price_per_m2": "5000000", "rent_rate": "0.015", "days": days})))
            .amount
            .dong()
    };
    assert_eq!(rent(195), 43_750_000);
    assert_eq!(rent(194), 37_500_000);
    // §4.6 on levy land: 45 days → 2 months: 5,000 × 12,000,000 × 2% × 2/12.
    let levy = first(&extension(
        json!({"area_m2": "5000", "price_per_m2": "12000000", "days": 45}),
    ));
    assert_eq!(levy.amount.dong(), 200_000_000);
}

fn land_tax(kind: &str, parcels: Value) -> Value {
    json!({"procedure": "annual_land_tax", "as_of": "2026-11-20", "applicant_kind": kind,
        "annual_land_tax": {"parcels": parcels}})
}

#[test]
fn residential_tiers_run_to_four_times_the_quota() {
    // §6: Q = 100: 100 at 0.03%, 300 at 0.07%, the rest at 0.15%.
    let tax = |area: &str| {
        run(&land_tax(
            "individual",
            json!([{"ref": "A", "area_m2": area, "quota_m2": "100", "price_per_m2": "1000000", "kind": "residential"}]),
        ))
        .total
        .dong()
    };
    assert_eq!(tax("400"), 240_000);
    assert_eq!(tax("500"), 390_000);
}

#[test]
fn the_50000_exemption_is_judged_on_the_total() {
    let parcel = |r: &str, area: &str, kind: &str| json!({"ref": r, "area_m2": area, "quota_m2": "200", "price_per_m2": "1000000", "kind": kind});
    // Two parcels of 30,000 each: 60,000 > 50,000, so neither is exempt.
    let q = run(&land_tax(
        "individual",
        json!([
            parcel("A", "100", "residential"),
            parcel("B", "100", "residential")
        ]),
    ));
    assert_eq!(q.total.dong(), 60_000);
    assert!(q
        .lines
        .iter()
        .all(|l| !l.exempt && l.amount.dong() == 30_000));
    // Exactly 50,000 (encroached 25 m² × 1,000,000 × 0.2%) is exempt; 50,001 is not.
    let q = run(&land_tax(
        "individual",
        json!([parcel("E", "25", "encroached")]),
    ));
    assert!(q.lines[0].exempt && q.total.dong() == 0);
    assert!(q.lines[0]
        .exemption
        .as_deref()
        .unwrap()
        .contains("252/2026"));
    assert!(mentions(&q.lines[0].uncertain, "from memory"));
    let q = run(&land_tax(
        "individual",
        json!([parcel("E", "25.0005", "encroached")]),
    ));
    assert_eq!(q.total.dong(), 50_001);
    // Before 01/07/2026 the basis is Law 38/2019.
    let mut body = land_tax("individual", json!([parcel("E", "25", "encroached")]));
    body["as_of"] = json!("2026-06-30");
    assert!(run(&body).lines[0]
        .exemption
        .as_deref()
        .unwrap()
        .contains("38/2019"));
}
