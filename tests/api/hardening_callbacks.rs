//! Callbacks cannot fill the disk: disabled gateways answer 404 and store nothing, unverified
//! callbacks are kept bounded and limited per address, swept after retention; a verified one is
//! never refused for rate; NUL is recorded and answered as malformed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use reqwest::Method;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::helpers::{expect_problem, spawn_app, spawn_app_with, vnpay_sign, TestApp};

/// Every stored callback: (verdict, payload length, payload_bytes, payload_sha256, payload).
pub async fn stored_callbacks(
    app: &TestApp,
) -> Vec<(String, i64, Option<i64>, Option<String>, String)> {
    let sql =
        "select verdict, payload_bytes, payload_sha256, payload from callback order by received_at";
    type Row = (String, Option<i64>, Option<String>, String);
    let rows: Vec<Row> = app.db.rows(sql).await;
    rows.into_iter()
        .map(|(v, b, h, p)| (v, i64::try_from(p.len()).unwrap(), b, h, p))
        .collect()
}

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

const WITH_WALLETS: &[(&str, &str)] = &[
    ("LANDPAY__GATEWAYS__MOMO__ENABLED", "true"),
    ("LANDPAY__GATEWAYS__ZALOPAY__ENABLED", "true"),
];

#[tokio::test]
async fn a_disabled_gateways_callback_routes_answer_404_and_store_nothing() {
    let app = spawn_app().await;
    let big = "x".repeat(262_144);
    for path in ["/callbacks/momo/ipn", "/callbacks/zalopay"] {
        let res = app
            .request(Method::POST, path)
            .header("content-type", "application/json")
            .body(big.clone())
            .send()
            .await
            .unwrap();
        expect_problem(res, 404, "not_found").await;
    }
    for path in [
        "/callbacks/momo/return?x=1",
        "/callbacks/zalopay/return?x=1",
    ] {
        let res = app.request(Method::GET, path).send().await.unwrap();
        assert_eq!(res.status().as_u16(), 404, "{path}");
    }
    assert!(stored_callbacks(&app).await.is_empty());
}

#[tokio::test]
async fn unverified_callbacks_are_kept_as_their_first_2048_bytes_with_size_and_hash() {
    let app = spawn_app_with(WITH_WALLETS).await;
    let query = format!("vnp_TxnRef=X&vnp_SecureHash=00&pad={}", "a".repeat(60_000));
    let res = app
        .request(Method::GET, &format!("/callbacks/vnpay/ipn?{query}"))
        .send()
        .await
        .unwrap();
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["RspCode"], "97");
    let body = format!(
        r#"{{"partnerCode":"MOMO","pad":"{}"}}"#,
        "b".repeat(200_000)
    );
    let res = app
        .request(Method::POST, "/callbacks/momo/ipn")
        .header("content-type", "application/json")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 400);
    let rows = stored_callbacks(&app).await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    let expected = [query.as_bytes(), body.as_bytes()];
    for ((_, kept, bytes, hash, payload), whole) in rows.iter().zip(expected) {
        assert_eq!(*kept, 2048);
        assert_eq!(*bytes, Some(i64::try_from(whole.len()).unwrap()));
        assert_eq!(hash.as_deref(), Some(sha(whole).as_str()));
        assert!(whole.starts_with(payload.as_bytes()));
    }
}

#[tokio::test]
async fn a_nul_in_a_momo_or_zalopay_callback_is_recorded_and_answered_as_malformed() {
    let app = spawn_app_with(WITH_WALLETS).await;
    let momo =
        r#"{"partnerCode":"MOMOLANDPAY","orderId":"A\u0000B","amount":1000,"signature":"00"}"#;
    let res = app
        .request(Method::POST, "/callbacks/momo/ipn")
        .header("content-type", "application/json")
        .body(momo)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 400);
    let raw_nul =
        b"{\"data\":\"{\\\"app_trans_id\\\":\\\"a\x00\\\"}\",\"mac\":\"00\",\"type\":1}".to_vec();
    let res = app
        .request(Method::POST, "/callbacks/zalopay")
        .header("content-type", "application/json")
        .body(raw_nul)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let answer: Value = res.json().await.unwrap();
    assert_eq!(answer["return_code"], -1);
    let res = app
        .request(
            Method::GET,
            "/callbacks/vnpay/ipn?vnp_TxnRef=a%00b&vnp_SecureHash=00",
        )
        .send()
        .await
        .unwrap();
    let answer: Value = res.json().await.unwrap();
    assert_eq!(answer["RspCode"], "99");
    let rows = stored_callbacks(&app).await;
    let verdicts: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(verdicts, ["malformed", "malformed", "malformed"]);
    assert!(rows.iter().all(|r| !r.4.contains('\0')));
}

#[tokio::test]
async fn unverified_callbacks_are_limited_per_address_but_a_verified_one_never_is() {
    let app =
        spawn_app_with(&[("LANDPAY__RATE_LIMITS__UNVERIFIED_CALLBACKS_PER_IP", "3/min")]).await;
    let payment = app.payment(150_000).await;
    let attempt = app.attempt(payment["id"].as_str().unwrap(), "vnpay").await;
    let txn_ref = attempt["reference"].as_str().unwrap().to_owned();
    let bad = app.ipn_params(&txn_ref, 150_000, "00");
    for i in 0..5 {
        let query = vnpay_sign(&bad, "not-the-secret-at-all");
        let res = app
            .request(Method::GET, &format!("/callbacks/vnpay/ipn?{query}"))
            .send()
            .await
            .unwrap();
        if i < 3 {
            assert_eq!(res.status().as_u16(), 200, "try {i}");
        } else {
            let retry: u64 = res.headers()["retry-after"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!((1..=60).contains(&retry));
            expect_problem(res, 429, "rate_limited").await;
        }
    }
    assert_eq!(stored_callbacks(&app).await.len(), 3);
    let answer = app.ipn(&bad, &app.vnpay_secret()).await;
    assert_eq!(
        answer["RspCode"], "00",
        "a verified callback is never refused for rate"
    );
    assert_eq!(
        app.payment_status(payment["id"].as_str().unwrap()).await["status"],
        "paid"
    );
}

#[tokio::test]
async fn the_retention_sweep_removes_old_unverified_callbacks_and_keeps_verified_ones() {
    let app = spawn_app().await;
    let payment = app.payment(150_000).await;
    let attempt = app.attempt(payment["id"].as_str().unwrap(), "vnpay").await;
    let params = app.ipn_params(attempt["reference"].as_str().unwrap(), 150_000, "00");
    app.ipn(&params, "wrong-secret-for-this").await;
    app.ipn(&params, &app.vnpay_secret()).await;
    assert_eq!(stored_callbacks(&app).await.len(), 2);
    landpay::workers::retention_sweep(&app.state).await.unwrap();
    assert_eq!(stored_callbacks(&app).await.len(), 2, "young records stay");
    app.state.clock.advance(chrono::Duration::days(31));
    landpay::workers::retention_sweep(&app.state).await.unwrap();
    let rows = stored_callbacks(&app).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].0, "valid");
}
