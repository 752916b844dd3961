//! Agency scope: idempotency keys by (sub, agency), notice numbers per agency, blank agency and
//! future `nbf` tokens refused, `landpay token --agency ""` refused.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use landpay::auth::Role;
use serde_json::{json, Value};

use crate::helpers::{config_dir, expect_json, expect_problem, notice_body, spawn_app, TestApp};

async fn notice_as(app: &TestApp, token: &str, no: &str, agency: &str, amount: i64) -> Value {
    let res = app
        .post_json(
            "/v1/notices",
            token,
            &notice_body(no, agency, amount, "2099-12-31"),
        )
        .await;
    expect_json(res, 201).await
}

fn payment_body(agency: &str, notice_id: &Value) -> Value {
    json!({"agency_code": agency, "dossier_code": "000.00.12.H26-1", "items": [{"notice_id": notice_id}],
           "payer": {"name": "Nguyễn Văn A"}, "return_url": "https://dvc.example.gov.vn/1", "locale": "vi"})
}

#[tokio::test]
async fn idempotency_keys_do_not_cross_agencies_with_the_same_sub() {
    let app = spawn_app().await;
    let a = app.token_for("shared-portal", &[Role::Portal], Some("AG-A"));
    let b = app.token_for("shared-portal", &[Role::Portal], Some("AG-B"));
    let na = notice_as(&app, &a, "SAME-1", "AG-A", 1_000_000).await;
    let nb = notice_as(&app, &b, "SAME-1", "AG-B", 1_000_000).await;
    let body_a = payment_body("AG-A", &na["id"]);
    let pa = expect_json(app.post_idem("/v1/payments", &a, "k-1", &body_a).await, 201).await;
    // Agency B, same sub, same key and the same body: its own request, never A's payment.
    let res = app.post_idem("/v1/payments", &b, "k-1", &body_a).await;
    assert!(res.headers().get("idempotent-replayed").is_none());
    let text = res.text().await.unwrap();
    assert!(!text.contains(pa["id"].as_str().unwrap()), "{text}");
    assert!(!text.contains("pay_url\""), "{text}");
    // With its own notice B gets its own payment under the same key.
    let body_b = payment_body("AG-B", &nb["id"]);
    let pb = expect_json(app.post_idem("/v1/payments", &b, "k-2", &body_b).await, 201).await;
    assert_ne!(pa["id"], pb["id"]);
    let again = app.post_idem("/v1/payments", &a, "k-1", &body_a).await;
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(expect_json(again, 201).await["id"], pa["id"]);
}

#[tokio::test]
async fn two_agencies_may_register_the_same_notice_number() {
    let app = spawn_app().await;
    let a = app.token(&[Role::Portal], Some("AG-A"));
    let b = app.token(&[Role::Portal], Some("AG-B"));
    let na = notice_as(&app, &a, "TB-0001", "AG-A", 2_000_000).await;
    // Other content, same number, other agency: a new notice, and nothing of A's shows.
    let nb = notice_as(&app, &b, "TB-0001", "AG-B", 3_000_000).await;
    assert_ne!(na["id"], nb["id"]);
    assert_eq!(nb["total"], 3_000_000);
    assert_eq!(nb["agency_code"], "AG-B");
    // Within one agency the number is still unique: same content replays, other content is 409.
    let res = app
        .post_json(
            "/v1/notices",
            &a,
            &notice_body("TB-0001", "AG-A", 2_000_000, "2099-12-31"),
        )
        .await;
    assert_eq!(expect_json(res, 200).await["id"], na["id"]);
    let res = app
        .post_json(
            "/v1/notices",
            &a,
            &notice_body("TB-0001", "AG-A", 9_000_000, "2099-12-31"),
        )
        .await;
    expect_problem(res, 409, "conflict").await;
    let listed = expect_json(app.get("/v1/notices", &b).await, 200).await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);
    assert_eq!(listed["data"][0]["id"], nb["id"]);
}

fn forged(app: &TestApp, extra: Value) -> String {
    use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
    let now = jsonwebtoken::get_current_timestamp();
    let mut claims = json!({"sub": "p", "roles": ["portal", "finance"], "iss": "landpay",
        "aud": "landpay", "exp": now + 600, "iat": now});
    for (k, v) in extra.as_object().unwrap() {
        claims[k] = v.clone();
    }
    let secret = app.state.settings.auth.jwt_secret.expose().as_bytes();
    encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret),
    )
    .unwrap()
}

#[tokio::test]
async fn a_blank_agency_claim_or_a_future_nbf_is_401() {
    let app = spawn_app().await;
    let now = jsonwebtoken::get_current_timestamp();
    for extra in [
        json!({"agency": ""}),
        json!({"agency": "  "}),
        json!({"nbf": now + 3600}),
    ] {
        let res = app.get("/v1/payments", &forged(&app, extra.clone())).await;
        expect_problem(res, 401, "unauthorized").await;
    }
    let res = app
        .get("/v1/payments", &forged(&app, json!({"nbf": now - 10})))
        .await;
    expect_json(res, 200).await;
}

#[test]
fn the_token_command_refuses_a_blank_agency() {
    for blank in ["", " "] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_landpay"))
            .env("LANDPAY_CONFIG_DIR", config_dir())
            .env("LANDPAY_ENV", "test")
            .args(["token", "--sub", "x", "--role", "admin", "--agency", blank])
            .output()
            .unwrap();
        assert!(!out.status.success(), "{blank:?}");
        assert!(out.stdout.is_empty(), "no token printed");
        assert!(String::from_utf8_lossy(&out.stderr).contains("--agency"));
    }
}
