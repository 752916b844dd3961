//! Spec rules with no case in cases.json: registration-fee floors and exemptions
//! (§2), PIT (§3), Hanoi/HCMC procedure fees (§7), through `parse_request` + `quote`.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use landpay::obligations::request::ObligationCode;
use landpay::obligations::{parse_request, quote, FieldError, Line, Quote, RuleBook};
use serde_json::{json, Value};

fn run(body: &Value) -> Quote {
    let req = parse_request(body).unwrap_or_else(|e| panic!("{e:?}"));
    quote(&req, &RuleBook::builtin().unwrap()).unwrap_or_else(|e| panic!("{e:?}"))
}

fn quote_errors(body: &Value) -> Vec<FieldError> {
    let req = parse_request(body).unwrap_or_else(|e| panic!("{e:?}"));
    quote(&req, &RuleBook::builtin().unwrap()).expect_err("should fail")
}

fn line(q: &Quote, code: ObligationCode) -> &Line {
    q.lines
        .iter()
        .find(|l| l.code == code)
        .unwrap_or_else(|| panic!("no {code:?} line in {q:?}"))
}

fn amount(q: &Quote, code: ObligationCode) -> i64 {
    line(q, code).amount.dong()
}

fn mentions(list: &[String], text: &str) -> bool {
    list.iter().any(|s| s.contains(text))
}

/// The documented transfer example: land 5,000,000,000; house 682,500,000.
fn transfer(contract: Value) -> Value {
    json!({
      "procedure": "transfer", "as_of": "2026-11-20", "province_code": "01",
      "parcel": { "area_m2": "100", "land_use": "residential_urban", "table_price_per_m2": "50000000" },
      "house": { "floor_area_m2": "150", "new_build_price_per_m2": "6500000", "grade": "III", "age_years": 15,
                 "first_registration": false, "remaining_quality_pct": "70" },
      "contract": contract
    })
}

#[test]
fn a_contract_pricing_one_part_is_floored_part_by_part() {
    // §2.1/§2.2: land part max(6.0 bn; 5.0 bn), house part at its floor 682.5 m.
    let q = run(&transfer(json!({"land_price": 6_000_000_000_i64})));
    let fee = line(&q, ObligationCode::RegistrationFee);
    assert_eq!(fee.base.unwrap().dong(), 6_682_500_000);
    assert_eq!(fee.amount.dong(), 33_412_500);
    assert!(
        !mentions(&fee.uncertain, "§3.1"),
        "LPTB floors are rule text"
    );
    let pit = line(&q, ObligationCode::PitTransfer);
    assert_eq!(pit.amount.dong(), 133_650_000);
    assert!(
        mentions(&pit.uncertain, "§3.1"),
        "PIT split floors are UNCERTAIN"
    );
    // A total with a land part prices the house as the remainder (0.5 bn < floor).
    let q = run(&transfer(
        json!({"land_price": 6_000_000_000_i64, "total_price": 6_500_000_000_i64}),
    ));
    assert_eq!(amount(&q, ObligationCode::RegistrationFee), 33_412_500);
    // Both parts priced below their floors: the floors.
    let q = run(&transfer(
        json!({"land_price": 4_000_000_000_i64, "house_price": 1_000_000_000_i64}),
    ));
    assert_eq!(amount(&q, ObligationCode::RegistrationFee), 30_000_000);
}

#[test]
fn registration_fee_lines_name_the_uncertain_cap_and_rounding() {
    let q = run(&transfer(json!({"total_price": 7_000_000_000_i64})));
    let fee = line(&q, ObligationCode::RegistrationFee);
    assert!(
        mentions(&fee.uncertain, "§10.7"),
        "base above 500 m: no cap"
    );
    assert!(
        !mentions(&fee.uncertain, "§1.1"),
        "35,000,000 is exact: no rounding"
    );
    let leased = json!({"procedure": "first_certificate", "as_of": "2026-03-01", "obligations": ["registration_fee"],
        "parcel": {"area_m2": "1000", "table_price_per_m2": "10000000", "land_use": "business"},
        "lease": {"term_years": "50"}});
    let fee = run(&leased).lines.remove(0);
    assert_eq!(fee.amount.dong(), 35_714_286);
    assert!(mentions(&fee.uncertain, "§1.1") && mentions(&fee.uncertain, "Decree 140/2016"));
}

fn first_certificate(kind: &str, land_use: &str, house: Value) -> Value {
    json!({"procedure": "first_certificate", "as_of": "2026-03-01", "province_code": "01", "channel": "counter",
        "applicant_kind": kind,
        "parcel": {"area_m2": "100", "table_price_per_m2": "20000000", "land_use": land_use},
        "house": house})
}

fn new_house() -> Value {
    json!({"floor_area_m2": "100", "new_build_price_per_m2": "5000000", "grade": "IV", "age_years": 2, "first_registration": true})
}

#[test]
fn a_self_built_house_is_exempt_at_first_certificate() {
    // §2.4 k11: the land (2,000,000,000) pays; the house (500,000,000 at 100%) does not.
    let q = run(&first_certificate(
        "individual",
        "residential_urban",
        new_house(),
    ));
    let fee = line(&q, ObligationCode::RegistrationFee);
    assert_eq!((fee.amount.dong(), fee.exempt), (10_000_000, false));
    assert!(mentions(&fee.explanation, "house exempt"));
    assert!(mentions(&fee.legal_basis, "Điều 10 khoản 11"));
    assert!(mentions(&fee.uncertain, "k11"));
    // §7.1 counter, ward, land + house: 100,000; appraisal not established.
    assert_eq!(amount(&q, ObligationCode::CertificateFee), 100_000);
    assert!(mentions(&q.warnings, "appraisal_fee"));
    // Not self-built, or an organisation: the house is in the base.
    let mut bought = first_certificate("individual", "residential_urban", new_house());
    bought["house"]["self_built"] = json!(false);
    assert_eq!(
        amount(&run(&bought), ObligationCode::RegistrationFee),
        12_500_000
    );
    let org = run(&first_certificate(
        "organisation",
        "residential_urban",
        new_house(),
    ));
    assert_eq!(amount(&org, ObligationCode::RegistrationFee), 12_500_000);
    assert_eq!(amount(&org, ObligationCode::CertificateFee), 500_000);
    // Agricultural land and a self-built house: the whole line is exempt.
    let q = run(&first_certificate(
        "individual",
        "agricultural",
        new_house(),
    ));
    let fee = line(&q, ObligationCode::RegistrationFee);
    assert!(fee.exempt && fee.amount.dong() == 0);
    assert!(fee.exemption.as_deref().unwrap().contains("khoản 11"));
    // Agricultural land under a non-self-built house: only the house pays.
    let mut body = first_certificate("individual", "agricultural", new_house());
    body["house"]["self_built"] = json!(false);
    let q = run(&body);
    assert_eq!(amount(&q, ObligationCode::RegistrationFee), 2_500_000);
    assert!(!line(&q, ObligationCode::RegistrationFee).exempt);
}

#[test]
fn remaining_quality_follows_the_dak_lak_table() {
    // §2.2: Đắk Lắk grade III column 95/85/70/35/30/20; a first registration under
    // 5 years is 100%. Land 1 đ + house 100 m² × 10,000 × pct.
    let base = |age: u32, first: bool| {
        let q = run(
            &json!({"procedure": "gift", "as_of": "2026-03-01", "province_code": "66",
            "obligations": ["registration_fee"],
            "parcel": {"area_m2": "1", "table_price_per_m2": "1"},
            "house": {"floor_area_m2": "100", "new_build_price_per_m2": "10000", "grade": "III",
                      "age_years": age, "first_registration": first}}),
        );
        (q.lines[0].base.unwrap().dong() - 1) / 10_000
    };
    let got: Vec<i64> = [4, 5, 10, 11, 20, 21, 50, 51, 100, 101]
        .iter()
        .map(|a| base(*a, false))
        .collect();
    assert_eq!(got, [95, 85, 85, 70, 70, 35, 35, 30, 30, 20]);
    assert_eq!(base(4, true), 100);
    assert_eq!(base(5, true), 85);
}

#[test]
fn pit_sole_home_needs_183_days_whole_property_and_no_off_plan_home() {
    let body = |held: &str, whole: bool, off_plan: bool| {
        json!({"procedure": "transfer", "as_of": "2026-08-01", "obligations": ["pit_transfer"],
            "parcel": {"area_m2": "100", "table_price_per_m2": "20000000"},
            "contract": {"total_price": 3_500_000_000_i64},
            "transfer": {"sole_home": true, "held_since": held, "whole_property": whole, "owns_off_plan_home": off_plan}})
    };
    let pit = |b: Value| run(&b).lines.remove(0);
    let held = pit(body("2026-01-30", true, false));
    assert!(held.exempt && held.amount.dong() == 0);
    assert!(held.exemption.unwrap().contains("Điều 19"));
    assert_eq!(
        pit(body("2026-01-31", true, false)).amount.dong(),
        70_000_000
    );
    assert_eq!(
        pit(body("2024-06-01", false, false)).amount.dong(),
        70_000_000
    );
    assert_eq!(
        pit(body("2024-06-01", true, true)).amount.dong(),
        70_000_000
    );
}

#[test]
fn inheritance_pit_threshold_and_organisation_recipients() {
    // §3.2: 15,000,000 of property: below the 20 m allowance from 01/07/2026 → 0
    // (not an exemption); 10% × 5,000,000 before.
    let body = |as_of: &str, kind: &str| {
        json!({"procedure": "inheritance", "as_of": as_of, "applicant_kind": kind,
            "obligations": ["registration_fee", "pit_inheritance_gift"],
            "parcel": {"area_m2": "100", "table_price_per_m2": "150000"}})
    };
    let after = run(&body("2026-07-01", "individual"));
    let pit = line(&after, ObligationCode::PitInheritanceGift);
    assert_eq!((pit.amount.dong(), pit.exempt), (0, false));
    let before = run(&body("2026-06-30", "individual"));
    assert_eq!(amount(&before, ObligationCode::PitInheritanceGift), 500_000);
    // PIT is personal: an organisation recipient gets no PIT line, only a warning.
    let org = run(&body("2026-07-01", "organisation"));
    assert_eq!(org.lines.len(), 1);
    assert_eq!(amount(&org, ObligationCode::RegistrationFee), 75_000);
    assert!(mentions(&org.warnings, "organisation"));
}

fn fee(procedure: &str, as_of: &str, channel: &str, kind: &str, ward: &str, house: bool) -> Quote {
    let mut body = json!({"procedure": procedure, "as_of": as_of, "province_code": "01", "channel": channel,
        "applicant_kind": kind, "obligations": ["certificate_fee"],
        "parcel": {"area_m2": "100", "table_price_per_m2": "1000000", "ward_kind": ward}});
    if house {
        body["house"] = new_house();
    }
    run(&body)
}

#[test]
fn hanoi_certificate_fees_by_item_column_channel_and_date() {
    let amt = |q: Quote| q.lines[0].amount.dong();
    // §7.1 change registration: 28,000 / 14,000 / 30,000; counter amounts online in 2025.
    let tr = |date, channel, kind, ward| amt(fee("transfer", date, channel, kind, ward, false));
    assert_eq!(tr("2025-06-01", "online", "individual", "ward"), 28_000);
    assert_eq!(tr("2025-06-01", "counter", "individual", "commune"), 14_000);
    assert_eq!(tr("2025-12-31", "online", "organisation", "ward"), 30_000);
    assert_eq!(
        tr("2026-01-01", "counter", "organisation", "commune"),
        30_000
    );
    let online = fee(
        "transfer",
        "2026-01-01",
        "online",
        "organisation",
        "ward",
        false,
    );
    assert!(online.lines[0].exempt && online.lines[0].amount.dong() == 0);
    assert!(online.lines[0]
        .exemption
        .as_deref()
        .unwrap()
        .contains("77/2025"));
    // New certificate, land only: 25,000 / 10,000 / 100,000.
    let first = |kind, ward| {
        amt(fee(
            "first_certificate",
            "2026-03-01",
            "counter",
            kind,
            ward,
            false,
        ))
    };
    assert_eq!(first("individual", "ward"), 25_000);
    assert_eq!(first("individual", "commune"), 10_000);
    assert_eq!(first("organisation", "commune"), 100_000);
    assert_eq!(
        amt(fee(
            "first_certificate",
            "2026-03-01",
            "counter",
            "individual",
            "commune",
            true
        )),
        50_000
    );
    // Exchange/re-issue: land only 20,000 / 10,000 / 100,000; with house 50,000 / 25,000 / 200,000.
    let change = |kind, ward, house| {
        amt(fee(
            "certificate_change",
            "2026-03-01",
            "counter",
            kind,
            ward,
            house,
        ))
    };
    assert_eq!(change("individual", "ward", false), 20_000);
    assert_eq!(change("individual", "commune", false), 10_000);
    assert_eq!(change("organisation", "ward", false), 100_000);
    assert_eq!(change("individual", "ward", true), 50_000);
    assert_eq!(change("individual", "commune", true), 25_000);
    assert_eq!(change("organisation", "commune", true), 200_000);
}

#[test]
fn hcmc_fees_are_not_established_so_they_warn() {
    let q = run(
        &json!({"procedure": "certificate_change", "as_of": "2026-03-01", "province_code": "79"}),
    );
    assert!(q.lines.is_empty());
    assert_eq!(q.warnings.len(), 2);
    assert!(q.warnings.iter().all(|w| w.contains("79")));
}

#[test]
fn missing_house_quality_is_one_error() {
    let mut body = transfer(json!({"total_price": 7_000_000_000_i64}));
    body["house"]["remaining_quality_pct"] = Value::Null;
    body["province_code"] = json!("79");
    let errs = quote_errors(&body);
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].field, "house.remaining_quality_pct");
}
