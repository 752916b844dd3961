//! The built-in DVCQG simulator with an order of many lines: the create message carries one fee
//! entry per line, and the simulator's page and its Pay button must still work. Driven over
//! HTTP as a browser would (the page's form read from its HTML and posted).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};

use crate::helpers::{expect_json, notice_body, spawn_app_with, TestApp};

const LINES: i64 = 5_000;

/// A notice of `LINES` lines of 1,000 đồng each.
async fn notice_of_many_lines(app: &TestApp) -> Value {
    let no = format!("N-{}", ulid::Ulid::new());
    let mut body = notice_body(&no, "HN-VPDKDD", 1_000, "2099-12-31");
    let line = body["lines"][0].clone();
    body["lines"] = Value::Array((0..LINES).map(|_| line.clone()).collect());
    expect_json(
        app.post_json("/v1/notices", &app.portal(), &body).await,
        201,
    )
    .await
}

/// The value of the first hidden field `name` of a page's form.
fn hidden(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in the page"))
        + marker.len();
    let len = page[start..].find('"').unwrap();
    page[start..start + len].to_owned()
}

#[tokio::test]
async fn the_dvcqg_simulator_takes_an_order_of_five_thousand_lines_to_paid() {
    let app = spawn_app_with(&[("LANDPAY__GATEWAYS__DVCQG__ENABLED", "true")]).await;
    let notice = notice_of_many_lines(&app).await;
    let payment = app.payment_for(&json!([{"notice_id": notice["id"]}])).await;
    let pid = payment["id"].as_str().unwrap();
    assert_eq!(payment["amount"], LINES * 1_000);
    let attempt = app.attempt(pid, "dvcqg").await;
    let page_url = attempt["redirect_url"].as_str().unwrap();
    assert!(
        page_url.len() < 4_096,
        "the simulator's page address is {} bytes long",
        page_url.len()
    );

    let page = app.client.get(page_url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains("5.000.000"), "the page shows the amount");
    let done = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(format!("{}/sandbox/dvcqg/complete", app.address))
        .form(&[("m", hidden(&page, "m")), ("decision", "pay".to_owned())])
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 303, "{}", done.text().await.unwrap());
    let paid = app.payment_status(pid).await;
    assert_eq!(paid["status"], "paid", "{paid}");
}

#[tokio::test]
async fn the_dvcqg_simulator_refuses_a_page_whose_message_was_altered() {
    let app = spawn_app_with(&[("LANDPAY__GATEWAYS__DVCQG__ENABLED", "true")]).await;
    let payment = app.payment(1_750_000).await;
    let pid = payment["id"].as_str().unwrap();
    let attempt = app.attempt(pid, "dvcqg").await;
    let page_url = attempt["redirect_url"].as_str().unwrap();
    let page = app.client.get(page_url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let m = hidden(&page.text().await.unwrap(), "m");
    // The ticket's amount lowered, its tag kept: the page and the Pay button both refuse it.
    let (payload, tag) = m.split_once('.').unwrap();
    let mut ticket: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    assert_eq!(ticket["amount"], "1750000");
    ticket["amount"] = json!("1000");
    let altered = format!(
        "{}.{tag}",
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&ticket).unwrap())
    );
    // The same, untouched, is accepted: the refusals below are the tag's doing.
    let accepted = app
        .client
        .get(format!("{}/sandbox/dvcqg/pay?m={m}", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), 200);
    let refused = app
        .client
        .get(format!("{}/sandbox/dvcqg/pay?m={altered}", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    let refused = app
        .client
        .post(format!("{}/sandbox/dvcqg/complete", app.address))
        .form(&[("m", altered.as_str()), ("decision", "pay")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    let untouched = app.payment_status(pid).await;
    assert_eq!(
        untouched["attempts"][0]["status"], "redirected",
        "{untouched}"
    );
    assert!(untouched["paid_at"].is_null(), "{untouched}");
}
