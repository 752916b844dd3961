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

fn order_body(notice: &Value, dossier: &str) -> Value {
    json!({"agency_code": "HN-VPDKDD", "dossier_code": dossier,
           "items": [{"notice_id": notice["id"]}], "payer": {"name": "A"}})
}

async fn orders_of(app: &crate::helpers::TestApp, dossier: &str) -> Vec<Value> {
    let page = expect_json(
        app.get(
            &format!("/v1/payments?dossier_code={dossier}"),
            &app.portal(),
        )
        .await,
        200,
    )
    .await;
    page["data"].as_array().unwrap().clone()
}

/// A payment order stores its key's answer in its own transaction: twelve concurrent copies
/// make one order; each other copy is told the key is in use (or, arriving after the first
/// committed, gets its answer replayed), never a conflict over the items the first copy holds.
#[tokio::test]
async fn concurrent_copies_of_an_order_make_one_order() {
    let app = spawn_app().await;
    let token = app.portal();
    let notice = app.notice("N-IDEM-1", 45_000_000, "2099-01-01").await;
    let body = order_body(&notice, "D-IDEM-1");
    let requests: Vec<_> = (0..12)
        .map(|_| {
            let req = app
                .request(reqwest::Method::POST, "/v1/payments")
                .bearer_auth(&token)
                .header("Idempotency-Key", "order-1")
                .json(&body);
            tokio::spawn(async move { req.send().await.unwrap() })
        })
        .collect();
    let (mut ids, mut fresh, mut in_use) = (std::collections::BTreeSet::new(), 0, 0);
    for r in requests {
        let res = r.await.unwrap();
        let replayed = res.headers().get("idempotent-replayed").is_some();
        match res.status().as_u16() {
            201 => {
                fresh += usize::from(!replayed);
                let v: Value = res.json().await.unwrap();
                ids.insert(v["id"].as_str().unwrap().to_owned());
            }
            409 => {
                let v: Value = res.json().await.unwrap();
                assert_eq!(v["code"], "idempotency_key_in_use", "{v}");
                in_use += 1;
            }
            other => panic!("unexpected status {other}: {}", res.text().await.unwrap()),
        }
    }
    assert_eq!(ids.len(), 1, "{ids:?} ({in_use} in use)");
    assert_eq!(
        fresh, 1,
        "one copy made the order; the others were refused or replayed it"
    );
    let orders = orders_of(&app, "D-IDEM-1").await;
    assert_eq!(orders.len(), 1, "{orders:?}");

    // Later: the stored answer, byte for byte; another body under the key is refused.
    let first = app
        .post_idem("/v1/payments", &token, "order-1", &body)
        .await;
    assert_eq!(first.headers()["idempotent-replayed"], "true");
    let replayed = expect_json(first, 201).await;
    assert_eq!(
        replayed["id"].as_str(),
        ids.iter().next().map(String::as_str)
    );
    let other = order_body(&notice, "D-IDEM-2");
    expect_problem(
        app.post_idem("/v1/payments", &token, "order-1", &other)
            .await,
        422,
        "idempotency_key_reused",
    )
    .await;
    assert!(orders_of(&app, "D-IDEM-2").await.is_empty());
}

/// A refused order stores no key: the client corrects the request and retries with the same
/// key. A held item refuses the order (409) until its holder is cancelled.
#[tokio::test]
async fn a_refused_order_leaves_its_key_free() {
    let app = spawn_app().await;
    let token = app.portal();
    let notice = app.notice("N-IDEM-3", 45_000_000, "2099-01-01").await;
    let holder = expect_json(
        app.post_idem(
            "/v1/payments",
            &token,
            "holder",
            &order_body(&notice, "D-IDEM-3"),
        )
        .await,
        201,
    )
    .await;
    let body = order_body(&notice, "D-IDEM-4");
    expect_problem(
        app.post_idem("/v1/payments", &token, "retry", &body).await,
        409,
        "conflict",
    )
    .await;
    let unknown = json!({"agency_code": "HN-VPDKDD", "dossier_code": "D-IDEM-4",
                         "items": [{"notice_id": "ntc_01jd0000000000000000000000"}], "payer": {"name": "A"}});
    let res = app
        .post_idem("/v1/payments", &token, "retry", &unknown)
        .await;
    assert!(res.status().is_client_error(), "{}", res.status());
    assert!(orders_of(&app, "D-IDEM-4").await.is_empty());

    let id = holder["id"].as_str().unwrap();
    expect_json(
        app.post_json(&format!("/v1/payments/{id}/cancel"), &token, &json!({}))
            .await,
        200,
    )
    .await;
    let made = app.post_idem("/v1/payments", &token, "retry", &body).await;
    assert!(made.headers().get("idempotent-replayed").is_none());
    let made = expect_json(made, 201).await;
    assert_eq!(made["dossier_code"], "D-IDEM-4");
    assert_eq!(orders_of(&app, "D-IDEM-4").await.len(), 1);
}

/// A key claimed by a request that died (its claim's lock ran out) is taken over by an order;
/// a live claim refuses it with `idempotency_key_in_use`.
#[tokio::test]
async fn an_abandoned_claim_is_taken_over_and_a_live_one_refused() {
    use sha2::{Digest, Sha256};
    let app = spawn_app().await;
    let token = app.portal();
    let notice = app.notice("N-IDEM-5", 45_000_000, "2099-01-01").await;
    let body = order_body(&notice, "D-IDEM-5");
    // The request's fingerprint, as the service computes it: method, path and the body sent.
    let mut h = Sha256::new();
    h.update(b"POST /v1/payments\n");
    h.update(serde_json::to_vec(&body).unwrap());
    let hash = hex::encode(h.finalize());
    let client = json!(["test-client", null]).to_string();
    let now = chrono::Utc::now();
    let store = app.store();

    let live = store
        .claim_idempotency_key(
            &client,
            "live",
            &hash,
            now,
            now + chrono::Duration::minutes(1),
        )
        .await
        .unwrap();
    assert_eq!(live, landpay::storage::idempotency::Claim::Acquired);
    expect_problem(
        app.post_idem("/v1/payments", &token, "live", &body).await,
        409,
        "idempotency_key_in_use",
    )
    .await;
    assert!(orders_of(&app, "D-IDEM-5").await.is_empty());

    let dead = store
        .claim_idempotency_key(
            &client,
            "dead",
            &hash,
            now - chrono::Duration::minutes(2),
            now - chrono::Duration::minutes(1),
        )
        .await
        .unwrap();
    assert_eq!(dead, landpay::storage::idempotency::Claim::Acquired);
    expect_json(
        app.post_idem("/v1/payments", &token, "dead", &body).await,
        201,
    )
    .await;
    assert_eq!(orders_of(&app, "D-IDEM-5").await.len(), 1);
}
