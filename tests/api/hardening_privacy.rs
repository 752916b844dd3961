//! Personal data: lists mask taxpayer numbers but their last 4; a single read by the owning
//! agency shows them whole; orders closed longer than `retention.personal_data` are anonymised.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::helpers::{expect_json, spawn_app};

#[tokio::test]
async fn lists_mask_taxpayer_numbers_and_single_reads_show_them() {
    let app = spawn_app().await;
    let notice = app.notice("TB-PRIV-1", 1_000_000, "2099-12-31").await;
    let listed = expect_json(app.get("/v1/notices", &app.portal()).await, 200).await;
    let taxpayer = &listed["data"][0]["taxpayer"];
    assert_eq!(taxpayer["id_no"], "••••••••0001");
    assert_eq!(taxpayer["tax_code"], "••••••0001");
    let text = listed.to_string();
    assert!(
        !text.contains("001080000001") && !text.contains("8000000001"),
        "{text}"
    );
    let one = expect_json(
        app.get(
            &format!("/v1/notices/{}", notice["id"].as_str().unwrap()),
            &app.portal(),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(one["taxpayer"]["id_no"], "001080000001");
}

#[tokio::test]
async fn orders_closed_longer_than_retention_are_anonymised() {
    let app = spawn_app().await;
    let old = app.paid_payment(150_000).await;
    app.state.clock.advance(chrono::Duration::days(3651));
    let young = app.payment(200_000).await;
    landpay::workers::retention_sweep(&app.state).await.unwrap();
    let admin = app.admin();
    let old_view = expect_json(app.get(&format!("/v1/payments/{old}"), &admin).await, 200).await;
    assert_eq!(old_view["payer"]["name"], "[anonymised]", "{old_view}");
    assert_eq!(old_view["status"], "paid");
    assert_eq!(old_view["amount"], 150_000);
    let young_id = young["id"].as_str().unwrap();
    let young_view = expect_json(
        app.get(&format!("/v1/payments/{young_id}"), &admin).await,
        200,
    )
    .await;
    assert_eq!(young_view["payer"]["name"], "Nguyễn Văn A");
    let notices = expect_json(app.get("/v1/notices?limit=10", &admin).await, 200).await;
    let names: Vec<&str> = notices["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["taxpayer"]["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"[anonymised]"), "{names:?}");
    assert!(names.contains(&"Nguyễn Văn A"), "{names:?}");
}
