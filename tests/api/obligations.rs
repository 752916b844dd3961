#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{json, Value};

use crate::helpers::{expect_json, expect_problem, spawn_app};

#[path = "../support/w2_cases.rs"]
mod w2_cases;

fn transfer() -> Value {
    json!({
        "procedure": "transfer", "as_of": "2026-11-20", "province_code": "01", "channel": "online",
        "agency_code": "HN-VPDKDD", "dossier_code": "000.00.12.H26-261120-0001",
        "parcel": { "area_m2": "100", "land_use": "residential_urban", "table_price_per_m2": "50000000", "ward_kind": "ward" },
        "house": { "floor_area_m2": "150", "new_build_price_per_m2": "6500000", "grade": "III", "age_years": 15,
                   "first_registration": false, "remaining_quality_pct": "70" },
        "contract": { "total_price": 7000000000i64 }
    })
}

#[tokio::test]
async fn the_api_example_quotes_as_documented() {
    let app = spawn_app().await;
    let q = expect_json(
        app.post_json("/v1/quotes", &app.finance(), &transfer())
            .await,
        200,
    )
    .await;
    assert_eq!(q["kind"], "estimate");
    let fee = q["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["code"] == "registration_fee")
        .unwrap();
    assert_eq!(fee["amount"], 35_000_000);
    assert_eq!(fee["base"], 7_000_000_000i64);
    assert_eq!(fee["rate"], "0.005");
    assert_eq!(fee["budget_sub_item"], "2801");
    let total: i64 = q["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["amount"].as_i64().unwrap())
        .sum();
    assert_eq!(q["total"], total);
    for line in q["lines"].as_array().unwrap() {
        assert!(
            !line["legal_basis"].as_array().unwrap().is_empty(),
            "{line}"
        );
        assert!(
            !line["explanation"].as_array().unwrap().is_empty(),
            "{line}"
        );
    }
}

#[tokio::test]
async fn bad_input_names_the_field_and_no_token_is_401() {
    let app = spawn_app().await;
    expect_problem(
        app.request(reqwest::Method::POST, "/v1/quotes")
            .json(&transfer())
            .send()
            .await
            .unwrap(),
        401,
        "unauthorized",
    )
    .await;
    let mut body = transfer();
    body["parcel"]["area_m2"] = json!("0");
    let p = expect_problem(
        app.post_json("/v1/quotes", &app.portal(), &body).await,
        422,
        "validation_failed",
    )
    .await;
    assert!(
        p["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["field"] == "parcel.area_m2"),
        "{p}"
    );
    let mut body = transfer();
    body["procedure"] = json!("theft");
    let p = expect_problem(
        app.post_json("/v1/quotes", &app.portal(), &body).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "procedure");
    let mut body = transfer();
    body.as_object_mut().unwrap().remove("parcel");
    let p = expect_problem(
        app.post_json("/v1/quotes", &app.portal(), &body).await,
        422,
        "validation_failed",
    )
    .await;
    assert!(
        p["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["field"].as_str().unwrap().starts_with("parcel")),
        "{p}"
    );
    let mut body = transfer();
    body["transfer"] = json!({"ownership_shares": ["0.5", "0.4"]});
    let p = expect_problem(
        app.post_json("/v1/quotes", &app.portal(), &body).await,
        422,
        "validation_failed",
    )
    .await;
    assert!(
        p["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["field"] == "transfer.ownership_shares"),
        "{p}"
    );
    // Malformed JSON.
    let res = app
        .request(reqwest::Method::POST, "/v1/quotes")
        .bearer_auth(app.portal())
        .header("content-type", "application/json")
        .body("{\"procedure\":")
        .send()
        .await
        .unwrap();
    expect_problem(res, 400, "validation_failed").await;
}

#[tokio::test]
async fn the_rule_set_follows_the_date() {
    let app = spawn_app().await;
    let gift = |as_of: &str| {
        json!({
            "procedure": "gift", "as_of": as_of, "province_code": "01", "channel": "online",
            "parcel": {"area_m2": "100", "land_use": "residential_urban", "table_price_per_m2": "50000000"}
        })
    };
    let before = expect_json(
        app.post_json("/v1/quotes", &app.portal(), &gift("2026-06-30"))
            .await,
        200,
    )
    .await;
    let after = expect_json(
        app.post_json("/v1/quotes", &app.portal(), &gift("2026-07-01"))
            .await,
        200,
    )
    .await;
    assert_ne!(before["rule_set"], after["rule_set"]);
    assert_eq!(after["rule_set"], "VN-2026-07-01");
    let late = expect_json(
        app.post_json(
            "/v1/late-interest",
            &app.portal(),
            &json!({"amount": 40000000, "due_date": "2026-04-01", "paid_on": "2026-04-21"}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(late["days"], 19);
    assert_eq!(late["interest"], 228_000);
    assert_eq!(late["rate_per_day"], "0.0003");
}

#[tokio::test]
async fn assessments_are_stored_and_agency_scoped() {
    let app = spawn_app().await;
    let hn = app.token(&[landpay::auth::Role::Portal], Some("HN-VPDKDD"));
    let created = expect_json(
        app.post_json("/v1/assessments", &hn, &transfer()).await,
        201,
    )
    .await;
    let id = created["id"].as_str().unwrap();
    assert!(id.starts_with("asm_"));
    let got = expect_json(app.get(&format!("/v1/assessments/{id}"), &hn).await, 200).await;
    assert_eq!(got, created);
    let hcm = app.token(&[landpay::auth::Role::Portal], Some("HCM-VPDKDD"));
    expect_problem(
        app.get(&format!("/v1/assessments/{id}"), &hcm).await,
        404,
        "not_found",
    )
    .await;
    let mut other = transfer();
    other["agency_code"] = json!("HCM-VPDKDD");
    expect_problem(
        app.post_json("/v1/assessments", &hn, &other).await,
        403,
        "forbidden",
    )
    .await;
}

#[tokio::test]
async fn notices_are_idempotent_on_their_number() {
    let app = spawn_app().await;
    let body = crate::helpers::notice_body("LTB-1", "HN-VPDKDD", 45_000_000, "2026-12-19");
    let first = expect_json(
        app.post_json("/v1/notices", &app.portal(), &body).await,
        201,
    )
    .await;
    assert_eq!(first["status"], "unpaid");
    assert!(first["lines"][0]["id"]
        .as_str()
        .unwrap()
        .starts_with("ntl_"));
    let again = expect_json(
        app.post_json("/v1/notices", &app.portal(), &body).await,
        200,
    )
    .await;
    assert_eq!(again["id"], first["id"]);
    let mut changed = body.clone();
    changed["lines"][0]["amount"] = json!(45_000_001);
    expect_problem(
        app.post_json("/v1/notices", &app.portal(), &changed).await,
        409,
        "conflict",
    )
    .await;
    let mut bad = body.clone();
    bad["notice_no"] = json!("LTB-2");
    bad["lines"][0]["due_date"] = json!("2025-01-01");
    let p = expect_problem(
        app.post_json("/v1/notices", &app.portal(), &bad).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "lines[0].due_date");
    let list = expect_json(
        app.get(
            "/v1/notices?dossier_code=000.00.12.H26-LTB-1",
            &app.portal(),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    assert!(list["next_cursor"].is_null());
    // Paying it marks it paid and emits notice.paid.
    let p = app.payment_for(&json!([{"notice_id": first["id"]}])).await;
    let a = app.attempt(p["id"].as_str().unwrap(), "vnpay").await;
    app.ipn(
        &app.ipn_params(a["reference"].as_str().unwrap(), 45_000_000, "00"),
        &app.vnpay_secret(),
    )
    .await;
    let paid = expect_json(
        app.get(
            &format!("/v1/notices/{}", first["id"].as_str().unwrap()),
            &app.portal(),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(paid["status"], "paid");
    assert_eq!(paid["lines"][0]["status"], "paid");
    let feed = expect_json(
        app.get("/v1/events?type=notice.paid", &app.portal()).await,
        200,
    )
    .await;
    assert_eq!(feed["data"].as_array().unwrap().len(), 1);
    // A paid line cannot be paid again.
    expect_problem(
        app.post_idem(
            "/v1/payments",
            &app.portal(),
            "again",
            &json!({"items": [{"notice_id": first["id"]}], "payer": {"name": "A"}}),
        )
        .await,
        409,
        "conflict",
    )
    .await;
}

/// Every worked case given as a request body (W01–W18: exemptions, reductions,
/// co-owners, apartments, conversions, deadlines, instalments) through
/// `POST /v1/quotes`, line by line.
#[tokio::test]
async fn w2_cases_through_the_api() {
    let app = spawn_app().await;
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/cases.json");
    let all: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let cases = w2_cases::request_cases(&all);
    let ids: Vec<&str> = cases.iter().filter_map(|c| c["id"].as_str()).collect();
    for n in 1..=18 {
        assert!(
            ids.contains(&format!("W{n:02}").as_str()),
            "W{n:02} in {ids:?}"
        );
    }
    let mut failures = Vec::new();
    for case in &cases {
        let res = app
            .post_json("/v1/quotes", &app.finance(), &case["inputs"]["request"])
            .await;
        let status = res.status().as_u16();
        let problem = res.headers().get("content-type").is_some_and(|v| {
            v.to_str()
                .unwrap_or("")
                .starts_with("application/problem+json")
        });
        let body: Value = res.json().await.unwrap_or(Value::Null);
        if status == 422 && (!problem || body["code"] != "validation_failed") {
            failures.push(format!("{}: not a validation problem: {body}", case["id"]));
        }
        if let Err(e) = w2_cases::check(case, status, &body) {
            failures.push(e);
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
