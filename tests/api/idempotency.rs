#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{json, Value};

use crate::helpers::{expect_json, expect_problem, spawn_app};

fn assessment_body(total: i64) -> Value {
    json!({
        "procedure": "transfer", "as_of": "2026-11-20", "province_code": "01", "channel": "online",
        "agency_code": "HN-VPDKDD", "dossier_code": "000.00.12.H26-261120-0001",
        "parcel": { "area_m2": "100", "land_use": "residential_urban", "table_price_per_m2": "50000000", "ward_kind": "ward" },
        "contract": { "total_price": total }
    })
}

#[tokio::test]
async fn same_key_same_body_replays() {
    let app = spawn_app().await;
    let token = app.portal();
    let first = app
        .post_idem(
            "/v1/assessments",
            &token,
            "key-1",
            &assessment_body(7_000_000_000),
        )
        .await;
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first = expect_json(first, 201).await;
    let second = app
        .post_idem(
            "/v1/assessments",
            &token,
            "key-1",
            &assessment_body(7_000_000_000),
        )
        .await;
    assert_eq!(second.headers()["idempotent-replayed"], "true");
    let second = expect_json(second, 201).await;
    assert_eq!(first, second);
    // Another caller's identical key is its own.
    let other = app.token_for("another-portal", &[landpay::auth::Role::Portal], None);
    let third = expect_json(
        app.post_idem(
            "/v1/assessments",
            &other,
            "key-1",
            &assessment_body(7_000_000_000),
        )
        .await,
        201,
    )
    .await;
    assert_ne!(third["id"], first["id"]);
}

#[tokio::test]
async fn same_key_other_body_is_422() {
    let app = spawn_app().await;
    let token = app.portal();
    expect_json(
        app.post_idem(
            "/v1/assessments",
            &token,
            "key-2",
            &assessment_body(7_000_000_000),
        )
        .await,
        201,
    )
    .await;
    let res = app
        .post_idem(
            "/v1/assessments",
            &token,
            "key-2",
            &assessment_body(8_000_000_000),
        )
        .await;
    expect_problem(res, 422, "idempotency_key_reused").await;
}

#[tokio::test]
async fn concurrent_duplicates_execute_once() {
    let app = spawn_app().await;
    let token = app.portal();
    let body = assessment_body(7_000_000_000);
    let requests: Vec<_> = (0..12)
        .map(|_| {
            let req = app
                .request(reqwest::Method::POST, "/v1/assessments")
                .bearer_auth(&token)
                .header("Idempotency-Key", "key-3")
                .json(&body);
            tokio::spawn(async move { req.send().await.unwrap() })
        })
        .collect();
    let mut ids = std::collections::BTreeSet::new();
    let mut in_use = 0;
    for r in requests {
        let res = r.await.unwrap();
        match res.status().as_u16() {
            201 => {
                let v: Value = res.json().await.unwrap();
                ids.insert(v["id"].as_str().unwrap().to_owned());
            }
            409 => {
                let v: Value = res.json().await.unwrap();
                assert_eq!(v["code"], "idempotency_key_in_use");
                in_use += 1;
            }
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!(
        ids.len(),
        1,
        "one execution, replayed to the others: {ids:?} ({in_use} in use)"
    );
    assert_eq!(app.store().count_assessments().await.unwrap(), 1);
}

#[tokio::test]
async fn a_malformed_key_is_400_naming_the_header() {
    let app = spawn_app().await;
    let res = app
        .post_idem("/v1/assessments", &app.portal(), "", &assessment_body(1))
        .await;
    let body = expect_problem(res, 400, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "Idempotency-Key");
}
