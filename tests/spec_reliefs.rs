//! Exemptions and reductions with no worked case of their own: the checks on the
//! claimed codes, the levy's in-quota scope and "the reduction removing the most"
//! (Decree 103/2024 Art 17(3)-(4)), NALT combinations (Law 48/2010 Art 11(1)) and
//! the legal basis following `as_of`. Every figure is worked by hand in the test.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use landpay::obligations::{parse_request, quote, FieldError, RuleBook};
use serde_json::{json, Value};

/// The quote as the API renders it, or the field errors.
fn answer(body: &Value) -> Result<Value, Vec<FieldError>> {
    let req = parse_request(body)?;
    let q = quote(&req, &RuleBook::builtin().unwrap())?;
    Ok(serde_json::to_value(q).unwrap())
}

fn ok(body: &Value) -> Value {
    answer(body).unwrap_or_else(|e| panic!("{e:?}"))
}

fn errors(body: &Value) -> Vec<FieldError> {
    answer(body).expect_err("should be refused")
}

fn line<'a>(q: &'a Value, code: &str) -> &'a Value {
    q["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["code"] == code)
        .unwrap_or_else(|| panic!("no {code} in {q}"))
}

fn has(errs: &[FieldError], field: &str, words: &str) -> bool {
    errs.iter()
        .any(|e| e.field == field && e.message.contains(words))
}

fn allocation(area: &str, quota: Option<&str>, reliefs: Value) -> Value {
    let mut body = json!({"procedure": "allocation", "as_of": "2026-08-11", "obligations": ["land_use_levy"],
        "allocation": {"area_m2": area, "price_per_m2": "2000000"}});
    if let Some(q) = quota {
        body["allocation"]["residential_quota_m2"] = json!(q);
    }
    for (k, v) in reliefs.as_object().unwrap() {
        body[k] = v.clone();
    }
    body
}

fn transfer(extra: Value) -> Value {
    let mut body = json!({"procedure": "transfer", "as_of": "2026-10-12", "obligations": ["registration_fee"],
        "parcel": {"area_m2": "80", "land_use": "residential_urban", "table_price_per_m2": "25000000"}});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    body
}

#[test]
fn claimed_codes_are_checked_and_each_error_names_its_path() {
    let errs = errors(&transfer(
        json!({"reductions": ["rf_moon"], "exemptions": ["pit_family"]}),
    ));
    assert!(
        has(&errs, "reductions[0]", "unknown reduction code"),
        "{errs:?}"
    );
    assert!(
        has(&errs, "exemptions[0]", "is decided from the request"),
        "{errs:?}"
    );
    let errs = errors(&transfer(
        json!({"exemptions": ["rf_divorce_court", "rf_divorce_court"]}),
    ));
    assert!(has(&errs, "exemptions[1]", "listed twice"), "{errs:?}");
    // rf_agricultural_exchange needs agricultural land (Decree 10/2022 Art 10 k5).
    let errs = errors(&transfer(
        json!({"exemptions": ["rf_agricultural_exchange"]}),
    ));
    assert!(
        has(&errs, "exemptions[0]", "needs parcel.land_use agricultural"),
        "{errs:?}"
    );
    // A divorce split is a transfer, not a gift.
    let mut gift = transfer(json!({"exemptions": ["rf_divorce_court"]}));
    gift["procedure"] = json!("gift");
    let errs = errors(&gift);
    assert!(
        has(
            &errs,
            "exemptions[0]",
            "applies to registration_fee on transfer"
        ),
        "{errs:?}"
    );
    // PIT is not computed: its code does not apply.
    let errs = errors(&transfer(json!({"exemptions": ["pit_divorce_split"]})));
    assert!(
        has(
            &errs,
            "exemptions[0]",
            "which this request does not compute"
        ),
        "{errs:?}"
    );
}

#[test]
fn levy_codes_check_kind_period_quota_auction_and_pairs() {
    let errs = errors(&allocation(
        "150",
        Some("200"),
        json!({"exemptions": ["levy_poor_or_ethnic_minority_50"]}),
    ));
    assert!(
        has(
            &errs,
            "exemptions[0]",
            "is a reduction; list it under reductions"
        ),
        "{errs:?}"
    );
    // Decree 103/2024 is in force from 01/08/2024.
    let mut early = allocation(
        "150",
        Some("200"),
        json!({"reductions": ["levy_revolutionary_merit_70"]}),
    );
    early["as_of"] = json!("2024-05-01");
    let errs = errors(&early);
    assert!(
        has(&errs, "reductions[0]", "not in force on 2024-05-01"),
        "{errs:?}"
    );
    // An in-quota relief without the quota names the missing input.
    let errs = errors(&allocation(
        "150",
        None,
        json!({"reductions": ["levy_revolutionary_merit_70"]}),
    ));
    assert!(
        has(
            &errs,
            "allocation.residential_quota_m2",
            "is required by levy_revolutionary_merit_70"
        ),
        "{errs:?}"
    );
    let mut auction = allocation(
        "150",
        Some("200"),
        json!({"reductions": ["levy_revolutionary_merit_70"]}),
    );
    auction["allocation"]["auction"] = json!(true);
    let errs = errors(&auction);
    assert!(
        has(
            &errs,
            "reductions[0]",
            "not on auctions (allocation.auction)"
        ),
        "{errs:?}"
    );
}

/// Decree 103 Art 19(2) and 19(3): especially difficult or difficult, not both;
/// every levy relief is for households and individuals (Art 17).
#[test]
fn levy_codes_that_exclude_each_other_are_refused_naming_both() {
    let errs = errors(&allocation(
        "150",
        Some("200"),
        json!({"reductions":
        ["levy_border_staff_especially_difficult_50", "levy_border_staff_difficult_30"]}),
    ));
    assert!(
        has(
            &errs,
            "reductions[0]",
            "cannot be combined with levy_border_staff_difficult_30 (reductions[1])"
        ),
        "{errs:?}"
    );
    assert!(
        has(
            &errs,
            "reductions[1]",
            "cannot be combined with levy_border_staff_especially_difficult_50 (reductions[0])"
        ),
        "{errs:?}"
    );
    let mut org = allocation(
        "150",
        Some("200"),
        json!({"reductions": ["levy_revolutionary_merit_70"]}),
    );
    org["applicant_kind"] = json!("organisation");
    assert!(has(
        &errors(&org),
        "reductions[0]",
        "households and individuals only"
    ));
}

/// Decree 103/2024 Art 19(4) (in quota) against Art 19(1) (whole levy), Art 17(3):
/// 300 m² × 2,000,000 = 600,000,000; quota 200 m².
/// 70% in quota: 0.7 × 600,000,000 × 200/300 = 280,000,000.
/// 50% whole:    0.5 × 600,000,000          = 300,000,000 → the larger applies.
#[test]
fn the_levy_reduction_removing_the_most_applies_and_in_quota_is_prorated() {
    let alone = ok(&allocation(
        "300",
        Some("200"),
        json!({"reductions": ["levy_revolutionary_merit_70"]}),
    ));
    let levy = line(&alone, "land_use_levy");
    assert_eq!(levy["full_amount"], 600_000_000);
    assert_eq!(levy["amount"], 320_000_000);
    assert_eq!(levy["reduction"]["amount"], 280_000_000);
    assert_eq!(levy["exempt"], false);
    let both = ok(&allocation(
        "300",
        Some("200"),
        json!({"reductions":
        ["levy_revolutionary_merit_70", "levy_poor_or_ethnic_minority_50"]}),
    ));
    let levy = line(&both, "land_use_levy");
    assert_eq!(levy["amount"], 300_000_000);
    assert_eq!(levy["reduction"]["code"], "levy_poor_or_ethnic_minority_50");
    assert_eq!(
        levy["reduction"]["not_applied"],
        json!(["levy_revolutionary_merit_70"])
    );
    // Instalments: 50% in 30 days, the rest in 90 (Decree 252/2026 Art 21(4)).
    assert_eq!(
        levy["instalments"],
        json!([{"due_date": null, "amount": 150_000_000}, {"due_date": null, "amount": 150_000_000}])
    );
}

/// Decree 103/2024 Art 17(3): an exemption beats reductions. 150 m² ≤ quota 200,
/// so the in-quota exemption covers the whole 300,000,000.
#[test]
fn an_exemption_beats_reductions_on_the_levy() {
    let q = ok(&allocation(
        "150",
        Some("200"),
        json!({"exemptions": ["levy_revolutionary_merit_exempt"],
        "reductions": ["levy_revolutionary_merit_90"]}),
    ));
    let levy = line(&q, "land_use_levy");
    assert_eq!(
        (levy["amount"].as_i64(), levy["full_amount"].as_i64()),
        (Some(0), Some(300_000_000))
    );
    assert_eq!(levy["exempt"], true);
    assert_eq!(levy["reduction"]["kind"], "exemption");
    assert_eq!(
        levy["reduction"]["not_applied"],
        json!(["levy_revolutionary_merit_90"])
    );
    assert_eq!(levy["instalments"], json!([]));
    assert_eq!(levy["due"]["dates"], json!([]));
}

/// NQ 254 tiers (C14's rule): 300 m², Q = 200, 10,000,000 − 1,000,000 = 9,000,000/m².
/// 30% × 200 × 9,000,000 = 540,000,000; 50% × 100 × 9,000,000 = 450,000,000 → 990,000,000.
/// An in-quota 70% acts on the 30% tier: 0.7 × 540,000,000 = 378,000,000 → 612,000,000.
#[test]
fn an_in_quota_levy_reduction_on_the_nq254_tiers_acts_on_the_first_tier() {
    let body = json!({"procedure": "purpose_conversion", "as_of": "2026-03-01", "obligations": ["land_use_levy"],
        "reductions": ["levy_revolutionary_merit_70"],
        "conversion": {"area_m2": "300", "new_price_per_m2": "10000000", "old_price_per_m2": "1000000",
            "origin": "agricultural_allocated_without_levy", "garden_pond_same_parcel": true, "residential_quota_m2": "200"}});
    let levy = line(&ok(&body), "land_use_levy").clone();
    assert_eq!(levy["full_amount"], 990_000_000);
    assert_eq!(levy["amount"], 612_000_000);
    assert_eq!(levy["reduction"]["amount"], 378_000_000);
}

/// Law 48/2010 Art 9, 10, 11(1), per parcel, first tier 0.03%:
/// A (business, 100 m² × 10,000,000 × 0.03% = 300,000): force majeure exempt + 50% → exempt.
/// B (residential 200 m², quota 100, 10,000,000): 100 × 0.03% × 10m = 300,000 +
///   100 × 0.07% × 10m = 700,000 → 1,000,000; 50% in quota removes 150,000 → 850,000.
#[test]
fn nalt_reliefs_combine_per_parcel() {
    let body = json!({"procedure": "annual_land_tax", "as_of": "2026-05-20", "annual_land_tax": {"parcels": [
        {"ref": "A", "area_m2": "100", "price_per_m2": "10000000", "kind": "business",
         "exemptions": ["nalt_force_majeure_exempt"], "reductions": ["nalt_force_majeure_50"]},
        {"ref": "B", "area_m2": "200", "quota_m2": "100", "price_per_m2": "10000000", "kind": "residential",
         "reductions": ["nalt_war_invalid_50"]}]}});
    let errs = errors(&body);
    assert!(
        has(
            &errs,
            "annual_land_tax.parcels[0].reductions[0]",
            "cannot be combined with nalt_force_majeure_exempt"
        ),
        "{errs:?}"
    );
    let mut body = body;
    body["annual_land_tax"]["parcels"][0]["reductions"] = json!([]);
    let q = ok(&body);
    let lines = q["lines"].as_array().unwrap();
    assert_eq!(
        (
            lines[0]["amount"].as_i64(),
            lines[0]["full_amount"].as_i64()
        ),
        (Some(0), Some(300_000))
    );
    assert_eq!(lines[0]["reduction"]["code"], "nalt_force_majeure_exempt");
    assert_eq!(
        (
            lines[1]["amount"].as_i64(),
            lines[1]["full_amount"].as_i64()
        ),
        (Some(850_000), Some(1_000_000))
    );
    // A residential-only relief on a business parcel is refused.
    body["annual_land_tax"]["parcels"][0]["exemptions"] = json!(["nalt_poor_household"]);
    let errs = errors(&body);
    assert!(
        has(
            &errs,
            "annual_land_tax.parcels[0].exemptions[0]",
            "kind residential or apartment"
        ),
        "{errs:?}"
    );
    // NALT codes go on the parcels, not at the top level.
    body["annual_land_tax"]["parcels"][0]["exemptions"] = json!([]);
    body["exemptions"] = json!(["nalt_force_majeure_exempt"]);
    assert!(has(
        &errors(&body),
        "exemptions[0]",
        "claimed on an annual_land_tax parcel"
    ));
}

/// The ≤ 50,000 đ exemption is judged after reliefs: 100 m² × 3,000,000 × 0.03% =
/// 90,000; 50% → 45,000 ≤ 50,000 → 0 (Decree 252/2026 Art 32(2)(c)).
#[test]
fn the_small_amount_exemption_is_judged_after_reliefs() {
    let body = json!({"procedure": "annual_land_tax", "as_of": "2026-05-20", "annual_land_tax": {"parcels": [
        {"ref": "A", "area_m2": "100", "quota_m2": "200", "price_per_m2": "3000000", "kind": "residential",
         "reductions": ["nalt_difficult_area_50"]}]}});
    let q = ok(&body);
    let a = line(&q, "non_agricultural_land_tax");
    assert_eq!(
        (a["amount"].as_i64(), a["full_amount"].as_i64()),
        (Some(0), Some(90_000))
    );
    assert_eq!(a["reduction"]["code"], "nalt_small_amount");
    assert_eq!(
        a["reduction"]["not_applied"],
        json!(["nalt_difficult_area_50"])
    );
    let mut consolidated = body.clone();
    consolidated["annual_land_tax"]["consolidate"] =
        json!({"quota_parcel": "A", "fill_order": ["A"]});
    assert!(has(
        &errors(&consolidated),
        "annual_land_tax.consolidate",
        "not supported"
    ));
}

/// The relief's legal basis follows `as_of`: Decree 253/2026 Art 18(2) from
/// 01/07/2026; before, an uncertain basis shown on the line.
#[test]
fn relief_bases_follow_as_of() {
    let body = |as_of: &str| {
        json!({"procedure": "transfer", "as_of": as_of, "obligations": ["pit_transfer", "registration_fee"],
            "exemptions": ["pit_divorce_split", "rf_divorce_court"],
            "parcel": {"area_m2": "80", "table_price_per_m2": "25000000"}})
    };
    let after = ok(&body("2026-10-12"));
    let pit = line(&after, "pit_transfer");
    assert!(
        pit["reduction"]["legal_basis"]
            .as_str()
            .unwrap()
            .contains("253/2026"),
        "{pit}"
    );
    assert!(line(&after, "registration_fee")["reduction"]["legal_basis"]
        .as_str()
        .unwrap()
        .contains("175/2025"));
    let before = ok(&body("2025-03-01"));
    let pit = line(&before, "pit_transfer");
    assert!(
        pit["reduction"]["legal_basis"]
            .as_str()
            .unwrap()
            .contains("111/2013"),
        "{pit}"
    );
    assert!(
        pit["uncertain"].to_string().contains("not confirmed"),
        "{pit}"
    );
    assert!(
        !line(&before, "registration_fee")["reduction"]["legal_basis"]
            .as_str()
            .unwrap()
            .contains("175/2025")
    );
    assert_eq!(before["rule_set"], "VN-2024-08-01");
}

/// Registration fee: an automatic relief first, a claimed one listed as not applied
/// (gift between siblings, Decree 10/2022 Art 10 k10; k16(c) claimed as well).
#[test]
fn an_automatic_relief_comes_before_a_claimed_one() {
    let mut body =
        transfer(json!({"relationship": "siblings", "exemptions": ["rf_household_division"]}));
    body["procedure"] = json!("gift");
    let q = ok(&body);
    let fee = line(&q, "registration_fee");
    assert_eq!(fee["reduction"]["code"], "rf_family");
    assert_eq!(
        fee["reduction"]["not_applied"],
        json!(["rf_household_division"])
    );
    assert_eq!(fee["full_amount"], 10_000_000); // 0.5% × 80 × 25,000,000
}

/// A re-issued certificate asked for with its registration fee: 0.5% × 80 ×
/// 25,000,000 = 10,000,000, exempt by Decree 10/2022 Art 10 k16(a), (d); not by
/// default. A spouse merger needs `relationship: spouse` (k16(c)); the poor-household
/// exemption needs residential land or a house; a charity house needs a house.
#[test]
fn certificate_change_and_conditions_of_registration_fee_exemptions() {
    let mut body = transfer(json!({"exemptions": ["rf_certificate_reissue"]}));
    body["procedure"] = json!("certificate_change");
    let fee = ok(&body);
    let fee = line(&fee, "registration_fee");
    assert_eq!(
        (fee["amount"].as_i64(), fee["full_amount"].as_i64()),
        (Some(0), Some(10_000_000))
    );
    assert!(fee["reduction"]["legal_basis"]
        .as_str()
        .unwrap()
        .contains("khoản 16 điểm a, d"));
    body.as_object_mut().unwrap().remove("obligations");
    body.as_object_mut().unwrap().remove("exemptions");
    body["province_code"] = json!("01");
    assert!(ok(&body)["lines"]
        .as_array()
        .unwrap()
        .iter()
        .all(|l| l["code"] != "registration_fee"));
    let errs = errors(&transfer(json!({"exemptions": ["rf_spouse_merger"]})));
    assert!(
        has(&errs, "exemptions[0]", "needs relationship spouse"),
        "{errs:?}"
    );
    let spouse = ok(&transfer(
        json!({"relationship": "spouse", "exemptions": ["rf_spouse_merger"]}),
    ));
    assert_eq!(
        line(&spouse, "registration_fee")["reduction"]["code"],
        "rf_spouse_merger"
    );
    let mut farm = transfer(json!({"exemptions": ["rf_poor_household"]}));
    farm["parcel"]["land_use"] = json!("agricultural");
    let errs = errors(&farm);
    assert!(
        has(&errs, "exemptions[0]", "needs residential land"),
        "{errs:?}"
    );
    let mut gift = transfer(json!({"exemptions": ["rf_charity_house"]}));
    gift["procedure"] = json!("gift");
    let errs = errors(&gift);
    assert!(has(&errs, "exemptions[0]", "needs a house"), "{errs:?}");
}

/// NALT on an apartment: 70 m² × (500 / 10,000) = 3.5 m² × 60,000,000 × 0.03% =
/// 63,000; the poor-household exemption covers an apartment's whole tax (Law 48/2010
/// Art 9).
#[test]
fn an_in_quota_nalt_exemption_covers_an_apartments_whole_tax() {
    let body = json!({"procedure": "annual_land_tax", "as_of": "2026-05-20", "annual_land_tax": {"parcels": [
        {"ref": "C", "area_m2": "70", "price_per_m2": "60000000", "kind": "apartment", "building_land_m2": "500",
         "total_floor_area_m2": "10000", "exemptions": ["nalt_poor_household"]}]}});
    let q = ok(&body);
    let c = line(&q, "non_agricultural_land_tax");
    assert_eq!(
        (c["amount"].as_i64(), c["full_amount"].as_i64()),
        (Some(0), Some(63_000))
    );
    assert_eq!(c["reduction"]["code"], "nalt_poor_household");
}
