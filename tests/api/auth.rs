#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::Engine;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use landpay::auth::Role;
use reqwest::Method;
use serde_json::json;

use crate::helpers::{expect_problem, spawn_app, TestApp};

fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

fn sign(app: &TestApp, alg: Algorithm, secret: &str, claims: serde_json::Value) -> String {
    let _ = app;
    encode(
        &Header::new(alg),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

fn claims(iss: &str, aud: &str, exp: u64) -> serde_json::Value {
    json!({"sub": "portal-hn", "roles": ["admin"], "iss": iss, "aud": aud, "exp": exp, "iat": now()})
}

async fn expect_401(app: &TestApp, token: Option<&str>) {
    let mut req = app.request(
        Method::GET,
        "/v1/assessments/asm_01jxxxxxxxxxxxxxxxxxxxxxxx",
    );
    if let Some(t) = token {
        req = req.header("Authorization", format!("Bearer {t}"));
    }
    expect_problem(req.send().await.unwrap(), 401, "unauthorized").await;
}

#[tokio::test]
async fn every_malformed_token_is_401() {
    let app = spawn_app().await;
    let secret = app.state.settings.auth.jwt_secret.expose().to_owned();
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let alg_none = format!(
        "{}.{}.",
        b64.encode(r#"{"alg":"none","typ":"JWT"}"#),
        b64.encode(claims("landpay", "landpay", now() + 600).to_string())
    );
    let cases: Vec<(&str, Option<String>)> = vec![
        ("no token", None),
        ("alg none", Some(alg_none)),
        (
            "wrong algorithm",
            Some(sign(
                &app,
                Algorithm::HS512,
                &secret,
                claims("landpay", "landpay", now() + 600),
            )),
        ),
        (
            "wrong key",
            Some(sign(
                &app,
                Algorithm::HS256,
                "some-other-secret-key",
                claims("landpay", "landpay", now() + 600),
            )),
        ),
        (
            "expired",
            Some(sign(
                &app,
                Algorithm::HS256,
                &secret,
                claims("landpay", "landpay", now() - 120),
            )),
        ),
        (
            "wrong issuer",
            Some(sign(
                &app,
                Algorithm::HS256,
                &secret,
                claims("someone", "landpay", now() + 600),
            )),
        ),
        (
            "wrong audience",
            Some(sign(
                &app,
                Algorithm::HS256,
                &secret,
                claims("landpay", "someone", now() + 600),
            )),
        ),
        (
            "no exp",
            Some(sign(
                &app,
                Algorithm::HS256,
                &secret,
                json!({"sub": "x", "roles": ["admin"], "iss": "landpay", "aud": "landpay"}),
            )),
        ),
        ("malformed", Some("not.a.jwt".to_owned())),
        ("garbage", Some("garbage".to_owned())),
    ];
    for (name, token) in cases {
        println!("case: {name}");
        expect_401(&app, token.as_deref()).await;
    }
    // Not a Bearer scheme.
    let res = app
        .request(
            Method::GET,
            "/v1/assessments/asm_01jxxxxxxxxxxxxxxxxxxxxxxx",
        )
        .header("Authorization", "Basic dXNlcjpwYXNz")
        .send()
        .await
        .unwrap();
    expect_problem(res, 401, "unauthorized").await;
}

#[tokio::test]
async fn a_token_within_the_leeway_is_accepted_and_a_missing_role_is_403() {
    let app = spawn_app().await;
    let secret = app.state.settings.auth.jwt_secret.expose().to_owned();
    // Expired 10 s ago: inside the 30 s leeway.
    let token = sign(
        &app,
        Algorithm::HS256,
        &secret,
        claims("landpay", "landpay", now() - 10),
    );
    let res = app
        .get("/v1/assessments/asm_01jxxxxxxxxxxxxxxxxxxxxxxx", &token)
        .await;
    expect_problem(res, 404, "not_found").await;
    // No roles at all.
    let token = app.token(&[], None);
    let res = app
        .get("/v1/assessments/asm_01jxxxxxxxxxxxxxxxxxxxxxxx", &token)
        .await;
    expect_problem(res, 403, "forbidden").await;
    // Finance may not create assessments (portal work); 403 comes before the body is read.
    let token = app.token(&[Role::Finance], None);
    let res = app
        .request(Method::POST, "/v1/assessments")
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    expect_problem(res, 403, "forbidden").await;
}
