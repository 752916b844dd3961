#![allow(clippy::unwrap_used, clippy::expect_used)]

//! The payer's journey in a real browser: Debian's headless Chromium, driven by playwright-core
//! (tests/browser/pay_flow.mjs), against a spawned application. Pay page → VNPay → sandbox Pay →
//! "Thanh toán thành công"; the Decline path; English; a forged token. Screenshots of every step
//! on a 360 px phone viewport land in tests/browser/screenshots/.
//!
//! Skips (with the reason) when /usr/bin/chromium, node or tests/browser/node_modules is missing,
//! unless LANDPAY_REQUIRE_ALL is set (CI), where it fails instead.

use chrono::{Days, Utc};
use serde_json::{json, Value};

use crate::helpers::{browser_available, expect_json, run_browser_script, spawn_app, TestApp};

/// A notice with two lines: one 30 days overdue (so the order carries late interest) and one
/// due in the future.
async fn overdue_notice(app: &TestApp) -> Value {
    let today = Utc::now()
        .with_timezone(&landpay::clock::vietnam())
        .date_naive();
    let issued = today.checked_sub_days(Days::new(60)).unwrap();
    let overdue = today.checked_sub_days(Days::new(30)).unwrap();
    let body = json!({
        "notice_no": format!("LTB-BROWSER-{}", ulid::Ulid::new()),
        "issued_at": format!("{issued}T09:00:00+07:00"),
        "agency_code": "HN-VPDKDD",
        "dossier_code": "000.00.12.H26-261120-0001",
        "taxpayer": {"name": "Nguyễn Văn A", "tax_code": "8000000001", "id_no": "001080000001"},
        "treasury": {"shkb": "0012", "account": "7111", "tax_office_code": "1054634", "admin_unit_code": "00001"},
        "lines": [
            {"chapter": "757", "sub_item": "2801", "name": "Lệ phí trước bạ nhà đất", "amount": 45_000_000,
             "due_date": overdue.to_string(), "interest_sub_item": "4944"},
            {"chapter": "757", "sub_item": "1006", "name": "Thuế thu nhập cá nhân từ chuyển nhượng bất động sản",
             "amount": 12_500_000, "due_date": "2099-12-31", "interest_sub_item": null}
        ]
    });
    expect_json(
        app.post_json("/v1/notices", &app.portal(), &body).await,
        201,
    )
    .await
}

/// A payment created by a portal for an English-speaking payer (`locale: "en"`).
async fn english_payment(app: &TestApp, amount: i64) -> Value {
    let notice = app
        .notice(&format!("N-EN-{}", ulid::Ulid::new()), amount, "2099-12-31")
        .await;
    let body = json!({
        "agency_code": "HN-VPDKDD", "dossier_code": "000.00.12.H26-261120-0002",
        "items": [{"notice_id": notice["id"]}],
        "payer": {"name": "John Smith"}, "return_url": "https://dichvucong.example.gov.vn/hoso/2",
        "locale": "en"
    });
    let key = ulid::Ulid::new().to_string();
    expect_json(
        app.post_idem("/v1/payments", &app.portal(), &key, &body)
            .await,
        201,
    )
    .await
}

/// What the page must show for `payment`: its lines (name, amount, days late) and total.
fn expectation(payment: &Value) -> Value {
    let lines: Vec<Value> = payment["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| json!({"name": l["name"], "amount": l["amount"], "days": l["days"]}))
        .collect();
    json!({"lines": lines, "total": payment["amount"]})
}

fn id(payment: &Value) -> String {
    payment["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_payer_pays_and_declines_in_headless_chromium_on_a_phone() {
    if !browser_available("the browser test") {
        return;
    }
    let app = spawn_app().await;

    // Paid in Vietnamese: two notice lines and the late interest on the overdue one.
    let notice = overdue_notice(&app).await;
    let main = app.payment_for(&json!([{"notice_id": notice["id"]}])).await;
    let lines = main["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 3, "{main}");
    let interest = lines
        .iter()
        .find(|l| l["kind"] == "late_payment_interest")
        .unwrap_or_else(|| panic!("an interest line: {main}"));
    // 29 days (the day after the due date through the day before today) × 0.03% × 45.000.000.
    assert_eq!(interest["days"], 29, "{interest}");
    assert_eq!(interest["amount"], 391_500, "{interest}");
    assert_eq!(main["amount"], 45_000_000 + 12_500_000 + 391_500);
    // Declined on the sandbox; paid in English.
    let declined = app.payment(1_250_000).await;
    let english = english_payment(&app, 2_345_000).await;

    let expect = json!({
        id(&main): expectation(&main),
        id(&declined): expectation(&declined),
        id(&english): expectation(&english),
    });
    let args: Vec<String> = vec![
        "--base".into(),
        app.address.clone(),
        "--pay".into(),
        main["pay_url"].as_str().unwrap().into(),
        "--decline".into(),
        declined["pay_url"].as_str().unwrap().into(),
        "--english".into(),
        english["pay_url"].as_str().unwrap().into(),
        "--expect".into(),
        expect.to_string(),
    ];
    run_browser_script("pay_flow.mjs", args).await;

    // What the browser did is what the API records.
    let paid = app.payment_status(&id(&main)).await;
    assert_eq!(paid["status"], "paid", "{paid}");
    assert!(paid["paid_at"].is_string(), "{paid}");
    let attempts = paid["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 1, "{paid}");
    assert_eq!(attempts[0]["gateway"], "vnpay");
    assert_eq!(attempts[0]["status"], "succeeded", "{paid}");
    let notice_now = expect_json(
        app.get(
            &format!("/v1/notices/{}", notice["id"].as_str().unwrap()),
            &app.admin(),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(notice_now["status"], "paid", "{notice_now}");

    let back = app.payment_status(&id(&declined)).await;
    assert_eq!(back["status"], "pending", "{back}");
    assert!(back["paid_at"].is_null(), "{back}");
    let attempts = back["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 1, "{back}");
    assert_eq!(attempts[0]["status"], "failed", "{back}");

    let paid_en = app.payment_status(&id(&english)).await;
    assert_eq!(paid_en["status"], "paid", "{paid_en}");
}
