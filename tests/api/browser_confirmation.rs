#![allow(clippy::unwrap_used, clippy::expect_used)]

//! The payer's confirmation in a real browser (tests/browser/confirmation_flow.mjs): pay on a
//! phone → result → confirmation → verify; VietQR on the phone; then axe-core (WCAG 2.1 A/AA)
//! over every payer page in both languages at 360×780 and 1280×800. Skips like the other browser
//! tests when Chromium, node or the npm packages are missing (fails under LANDPAY_REQUIRE_ALL).

use serde_json::json;

use crate::helpers::{browser_available, expect_json, run_browser_script, spawn_app};

#[tokio::test]
async fn the_confirmation_and_every_payer_page_pass_axe_core_in_headless_chromium() {
    if !browser_available("the confirmation browser test") {
        return;
    }
    let app = spawn_app().await;
    let suffix = ulid::Ulid::new().to_string();
    let notices = [
        format!("LTB-{}/TB-CCT", &suffix[18..]),
        format!("TTN-{}/TB-CCT", &suffix[18..]),
    ];
    let mut ids = Vec::new();
    for (i, no) in notices.iter().enumerate() {
        let mut body = crate::helpers::notice_body(no, "HN-VPDKDD", 45_000_000, "2099-12-31");
        if i == 1 {
            body["lines"][0]["name"] = json!("Thuế thu nhập cá nhân từ chuyển nhượng bất động sản");
            body["lines"][0]["sub_item"] = json!("1006");
            body["lines"][0]["amount"] = json!(12_891_500);
        }
        let n = expect_json(
            app.post_json("/v1/notices", &app.portal(), &body).await,
            201,
        )
        .await;
        ids.push(json!({"notice_id": n["id"]}));
    }
    let paid = app.payment_for(&json!(ids)).await;
    let qr = app.payment(2_345_000).await;
    let fresh = app.payment(1_250_000).await;
    let expect = json!({
        "agency_vi": "Văn phòng Đăng ký đất đai Hà Nội",
        "notices": notices,
        "lines": ["Lệ phí trước bạ nhà đất", "Thuế thu nhập cá nhân từ chuyển nhượng bất động sản"],
        "words_vi": "Năm mươi bảy triệu tám trăm chín mươi mốt nghìn năm trăm đồng",
        "total_text": "57.891.500 đ",
        "payer": "Nguyễn Văn A",
    });
    let url = |p: &serde_json::Value| p["pay_url"].as_str().unwrap().to_owned();
    let args = vec![
        "--base".into(),
        app.address.clone(),
        "--pay".into(),
        url(&paid),
        "--qr".into(),
        url(&qr),
        "--fresh".into(),
        url(&fresh),
        "--expect".into(),
        expect.to_string(),
    ];
    run_browser_script("confirmation_flow.mjs", args).await;
    let after = app.payment_status(paid["id"].as_str().unwrap()).await;
    assert_eq!(after["status"], "paid", "{after}");
    assert!(after["confirmation_no"].is_string(), "{after}");
}
