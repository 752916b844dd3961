//! The payer's side: a stale VNPay return mints no payer link, and the payer page keeps at most
//! one live attempt per gateway.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use reqwest::Method;

use crate::helpers::{expect_json, spawn_app, vnpay_sign};

#[tokio::test]
async fn a_stale_vnpay_return_shows_a_neutral_page_and_no_payer_link() {
    let app = spawn_app().await;
    let payment = app.payment(150_000).await;
    let id = payment["id"].as_str().unwrap();
    let attempt = app.attempt(id, "vnpay").await;
    let params = app.ipn_params(attempt["reference"].as_str().unwrap(), 150_000, "00");
    assert_eq!(app.ipn(&params, &app.vnpay_secret()).await["RspCode"], "00");
    let path = format!(
        "/callbacks/vnpay/return?{}",
        vnpay_sign(&params, &app.vnpay_secret())
    );
    let fresh = app.request(Method::GET, &path).send().await.unwrap();
    assert_eq!(
        fresh.status().as_u16(),
        303,
        "a fresh return leads to the result page"
    );
    app.state.clock.advance(chrono::Duration::minutes(16));
    let stale = app.request(Method::GET, &path).send().await.unwrap();
    assert_eq!(stale.status().as_u16(), 200);
    assert!(stale.headers().get("location").is_none());
    let page = stale.text().await.unwrap();
    assert!(!page.contains("/pay/") && !page.contains("?t="), "{page}");
}

#[tokio::test]
async fn the_payer_page_keeps_one_live_attempt_per_gateway() {
    let app = spawn_app().await;
    let payment = app.payment(150_000).await;
    let id = payment["id"].as_str().unwrap();
    let pay_url = payment["pay_url"].as_str().unwrap();
    let query = pay_url.split_once('?').unwrap().1;
    let mut locations = Vec::new();
    for _ in 0..3 {
        let res = app
            .request(Method::POST, &format!("/pay/{id}/attempts?{query}"))
            .form(&[("gateway", "vnpay")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 303);
        locations.push(res.headers()["location"].to_str().unwrap().to_owned());
    }
    assert!(locations.windows(2).all(|w| w[0] == w[1]), "{locations:?}");
    let stored = expect_json(
        app.get(&format!("/v1/payments/{id}"), &app.admin()).await,
        200,
    )
    .await;
    assert_eq!(stored["attempts"].as_array().unwrap().len(), 1, "{stored}");
    // Once that attempt's life is over, asking again starts a new one.
    app.state.clock.advance(chrono::Duration::minutes(16));
    let res = app
        .request(Method::POST, &format!("/pay/{id}/attempts?{query}"))
        .form(&[("gateway", "vnpay")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 303);
    assert_ne!(res.headers()["location"].to_str().unwrap(), locations[0]);
}
