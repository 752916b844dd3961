//! One merchant per agency: each agency's orders go through its own VNPay credentials, and an
//! IPN is verified under the credentials of the agency whose attempt it names.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{expect_json, notice_body, spawn_app_with, vnpay_sign, TestApp};

const HN_SECRET: &str = "hn-vpdkdd-vnpay-secret-0123456789";
const HCM_SECRET: &str = "hcm-cct-vnpay-secret-9876543210";

fn agencies() -> String {
    format!(
        r#"{{"HN-VPDKDD" = {{gateways = {{vnpay = {{tmn_code = "HNVPDK01", hash_secret = "{HN_SECRET}"}}}}}}, "HCM-CCT" = {{gateways = {{vnpay = {{tmn_code = "HCMCCT01", hash_secret = "{HCM_SECRET}"}}}}}}}}"#
    )
}

async fn payment_of(app: &TestApp, agency: &str, amount: i64) -> String {
    let no = format!("N-{}", ulid::Ulid::new());
    let notice = expect_json(
        app.post_json(
            "/v1/notices",
            &app.admin(),
            &notice_body(&no, agency, amount, "2099-12-31"),
        )
        .await,
        201,
    )
    .await;
    let body = json!({
        "agency_code": agency, "dossier_code": "000.00.12.H26-261120-0001",
        "items": [{"notice_id": notice["id"]}], "payer": {"name": "Nguyễn Văn A"},
        "return_url": "https://dichvucong.example.gov.vn/hoso/1", "locale": "vi"
    });
    let key = ulid::Ulid::new().to_string();
    let p = expect_json(
        app.post_idem("/v1/payments", &app.admin(), &key, &body)
            .await,
        201,
    )
    .await;
    p["id"].as_str().unwrap().to_owned()
}

async fn attempt(app: &TestApp, payment_id: &str) -> Value {
    expect_json(
        app.post_json(
            &format!("/v1/payments/{payment_id}/attempts"),
            &app.admin(),
            &json!({"gateway": "vnpay", "client_ip": "203.0.113.10"}),
        )
        .await,
        201,
    )
    .await
}

fn query_value(url: &str, name: &str) -> String {
    let q = url.split_once('?').unwrap().1;
    form_urlencoded::parse(q.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .unwrap()
}

/// The IPN parameters of a paid attempt as merchant `tmn_code` would receive them.
fn paid_params(txn_ref: &str, amount: i64, tmn_code: &str) -> Vec<(&'static str, String)> {
    vec![
        ("vnp_Amount", (amount * 100).to_string()),
        ("vnp_BankCode", "NCB".into()),
        ("vnp_OrderInfo", "Thanh toan ho so".into()),
        ("vnp_PayDate", "20261120101500".into()),
        ("vnp_ResponseCode", "00".into()),
        ("vnp_TmnCode", tmn_code.into()),
        ("vnp_TransactionNo", "14226112".into()),
        ("vnp_TransactionStatus", "00".into()),
        ("vnp_TxnRef", txn_ref.into()),
    ]
}

async fn ipn(app: &TestApp, params: &[(&str, String)], secret: &str) -> String {
    let query = vnpay_sign(params, secret);
    let res = app
        .request(Method::GET, &format!("/callbacks/vnpay/ipn?{query}"))
        .send()
        .await
        .unwrap();
    let body: Value = res.json().await.unwrap();
    body["RspCode"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn two_agencies_pay_through_their_own_merchants_and_a_cross_signed_ipn_is_97() {
    let app = spawn_app_with(&[("LANDPAY__AGENCIES", &agencies())]).await;

    // Each agency's order goes to VNPay as that agency's merchant and is paid through the sandbox.
    for (agency, tmn) in [("HN-VPDKDD", "HNVPDK01"), ("HCM-CCT", "HCMCCT01")] {
        let id = payment_of(&app, agency, 1_250_000).await;
        let a = attempt(&app, &id).await;
        let url = a["redirect_url"].as_str().unwrap();
        assert_eq!(query_value(url, "vnp_TmnCode"), tmn, "{agency}");
        let q = url.split_once('?').unwrap().1;
        let res = app
            .client
            .post(format!("{}/sandbox/vnpay/paymentv2/complete", app.address))
            .form(&[("q", q), ("decision", "pay")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 303, "{agency}");
        assert_eq!(app.payment_status(&id).await["status"], "paid", "{agency}");
    }

    // An order of HCM-CCT: HN-VPDKDD's secret (with either merchant code) and the default
    // secret are refused with 97 and move nothing; HCM-CCT's own secret pays it.
    let id = payment_of(&app, "HCM-CCT", 800_000).await;
    let a = attempt(&app, &id).await;
    let txn_ref = a["reference"].as_str().unwrap();
    let default_secret = app.vnpay_secret();
    let before = app.payment_status(&id).await["status"].clone();
    for (tmn, secret) in [
        ("HNVPDK01", HN_SECRET),
        ("HCMCCT01", HN_SECRET),
        ("LANDPAY1", default_secret.as_str()),
        ("HCMCCT01", default_secret.as_str()),
    ] {
        let code = ipn(&app, &paid_params(txn_ref, 800_000, tmn), secret).await;
        assert_eq!(code, "97", "signed by {tmn}'s key accepted for HCM-CCT");
        assert_eq!(app.payment_status(&id).await["status"], before);
    }
    // HCM-CCT's secret but another merchant code: not this agency's merchant.
    let code = ipn(&app, &paid_params(txn_ref, 800_000, "HNVPDK01"), HCM_SECRET).await;
    assert_eq!(code, "97");
    assert_eq!(app.payment_status(&id).await["status"], before);
    let code = ipn(&app, &paid_params(txn_ref, 800_000, "HCMCCT01"), HCM_SECRET).await;
    assert_eq!(code, "00");
    assert_eq!(app.payment_status(&id).await["status"], "paid");

    // An agency without credentials of its own keeps the defaults.
    let id = payment_of(&app, "DN-VPDKDD", 500_000).await;
    let a = attempt(&app, &id).await;
    assert_eq!(
        query_value(a["redirect_url"].as_str().unwrap(), "vnp_TmnCode"),
        "LANDPAY1"
    );
    let txn_ref = a["reference"].as_str().unwrap();
    assert_eq!(
        ipn(&app, &paid_params(txn_ref, 500_000, "HNVPDK01"), HN_SECRET).await,
        "97"
    );
    assert_eq!(
        ipn(
            &app,
            &paid_params(txn_ref, 500_000, "LANDPAY1"),
            &default_secret
        )
        .await,
        "00"
    );

    // The refused IPNs are in the callback log as bad signatures / wrong merchant.
    let log = expect_json(
        app.get("/v1/callbacks?gateway=vnpay&limit=100", &app.admin())
            .await,
        200,
    )
    .await;
    let verdicts: Vec<&str> = log["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["verdict"].as_str().unwrap())
        .collect();
    assert_eq!(
        verdicts.iter().filter(|v| **v == "bad_signature").count(),
        5,
        "{verdicts:?}"
    );
    assert_eq!(
        verdicts.iter().filter(|v| **v == "wrong_merchant").count(),
        1,
        "{verdicts:?}"
    );
}

#[test]
fn one_merchant_code_with_two_secrets_is_refused() {
    let db_free = landpay::config::ConfigSources {
        dir: crate::helpers::config_dir(),
        environment: "test".into(),
        extra_file: None,
    };
    let clash = r#"{"A" = {gateways = {vnpay = {tmn_code = "LANDPAY1", hash_secret = "another-secret-0123456789"}}}}"#;
    let env = vec![("LANDPAY__AGENCIES".to_owned(), clash.to_owned())];
    let err = landpay::config::Settings::load_with_env(&db_free, &env)
        .unwrap_err()
        .to_string();
    assert!(err.contains("agencies.A.gateways.vnpay.tmn_code"), "{err}");
    assert!(!err.contains("another-secret"), "{err}");
}
