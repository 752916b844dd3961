//! The national rails' simulators paid through in headless Chromium: the DVCQG payment
//! platform (paid, via the signed result the simulator POSTs) and PayGov (the browser return
//! leaves the attempt `unknown`). Skips (saying why) without Chromium, unless
//! LANDPAY_REQUIRE_ALL is set.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::helpers::{browser_available, run_browser_script, spawn_app_with};

#[tokio::test]
async fn the_rail_simulators_are_paid_through_in_headless_chromium() {
    if !browser_available("the national rails browser test") {
        return;
    }
    let app = spawn_app_with(&[
        ("LANDPAY__GATEWAYS__DVCQG__ENABLED", "true"),
        ("LANDPAY__GATEWAYS__PAYGOV__ENABLED", "true"),
    ])
    .await;
    let dvcqg = app.payment(1_750_000).await;
    let paygov = app.payment(640_000).await;
    run_browser_script(
        "rails_flow.mjs",
        vec![
            "--dvcqg".into(),
            dvcqg["pay_url"].as_str().unwrap().into(),
            "--paygov".into(),
            paygov["pay_url"].as_str().unwrap().into(),
        ],
    )
    .await;
    let paid = app.payment_status(dvcqg["id"].as_str().unwrap()).await;
    assert_eq!(paid["status"], "paid", "{paid}");
    assert_eq!(paid["attempts"][0]["gateway"], "dvcqg");
    let waiting = app.payment_status(paygov["id"].as_str().unwrap()).await;
    assert_eq!(waiting["attempts"][0]["gateway"], "paygov");
    assert_eq!(waiting["attempts"][0]["status"], "unknown", "{waiting}");
    assert!(waiting["paid_at"].is_null(), "{waiting}");
}
