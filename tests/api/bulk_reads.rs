//! Reads and writes of the money path that take one statement where they used to take one per
//! row: a page of payments, the holds check of several items, and a new order's lines and holds.
//! The results must be the same as reading each payment on its own.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{json, Value};

use crate::helpers::{expect_json, expect_problem, spawn_app, TestApp};

async fn page(app: &TestApp, query: &str) -> Value {
    expect_json(
        app.get(&format!("/v1/payments?{query}"), &app.admin())
            .await,
        200,
    )
    .await
}

#[tokio::test]
async fn a_page_of_payments_is_each_payment_as_read_alone() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for amount in [1_000_000, 2_000_000, 3_000_000] {
        ids.push(app.payment(amount).await["id"].as_str().unwrap().to_owned());
    }
    // One with an attempt and one cancelled, so the page carries attempts and other statuses.
    app.attempt(&ids[1], "vnpay").await;
    let cancelled = app
        .post_json(
            &format!("/v1/payments/{}/cancel", ids[2]),
            &app.portal(),
            &json!({}),
        )
        .await;
    assert_eq!(cancelled.status().as_u16(), 200);

    let all = page(&app, "limit=100").await;
    let listed = all["data"].as_array().unwrap();
    assert_eq!(listed.len(), 3, "{all}");
    for (item, id) in listed.iter().zip(&ids) {
        assert_eq!(item["id"], id.as_str(), "oldest first");
        let alone = app.payment_status(id).await;
        for field in [
            "status",
            "amount",
            "lines",
            "attempts",
            "flags",
            "created_at",
            "expires_at",
        ] {
            assert_eq!(item[field], alone[field], "{field} of {id}");
        }
    }
    assert_eq!(listed[1]["attempts"].as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["lines"].as_array().unwrap().len(), 1);

    // Filters and paging still apply to the one query.
    let cancelled = page(&app, "status=cancelled").await;
    let only: Vec<&str> = cancelled["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(only, [ids[2].as_str()]);
    let first = page(&app, "limit=2").await;
    assert_eq!(first["data"].as_array().unwrap().len(), 2);
    let cursor = first["next_cursor"].as_str().expect("a next page");
    let second = page(&app, &format!("limit=2&cursor={cursor}")).await;
    let rest: Vec<&str> = second["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(rest, [ids[2].as_str()]);
    assert!(second["next_cursor"].is_null());
    assert_eq!(page(&app, "agency_code=OTHER").await["data"], json!([]));
}

#[tokio::test]
async fn a_new_order_answers_what_is_stored_and_names_every_held_item() {
    let app = spawn_app().await;
    let a = app.notice("N-BULK-A", 4_000_000, "2099-12-31").await;
    let b = app.notice("N-BULK-B", 5_000_000, "2099-12-31").await;
    let c = app.notice("N-BULK-C", 6_000_000, "2099-12-31").await;
    let items = json!([{"notice_id": a["id"]}, {"notice_id": b["id"]}, {"notice_id": c["id"]}]);
    let created = app.payment_for(&items).await;
    let id = created["id"].as_str().unwrap();
    assert_eq!(created["amount"], 15_000_000);
    assert_eq!(created["lines"].as_array().unwrap().len(), 3);
    let stored = app.payment_status(id).await;
    for field in [
        "status",
        "amount",
        "lines",
        "attempts",
        "flags",
        "created_at",
        "expires_at",
    ] {
        assert_eq!(created[field], stored[field], "{field}");
    }
    // The event carries the same snapshot as the answer.
    let events = expect_json(
        app.get(&format!("/v1/payments/{id}/events"), &app.admin())
            .await,
        200,
    )
    .await;
    let first = &events["data"][0];
    assert_eq!(first["type"], "payment.created");
    assert_eq!(first["data"]["payment"]["lines"], stored["lines"]);
    assert_eq!(first["data"]["payment"]["amount"], stored["amount"]);

    // Two of its items asked for again: both are named, in the order asked, with the holder.
    let body = json!({"agency_code": "HN-VPDKDD", "items": [{"notice_id": c["id"]}, {"notice_id": a["id"]}],
                      "payer": {"name": "Nguyễn Văn B"}});
    let res = app
        .post_idem("/v1/payments", &app.portal(), "bulk-again", &body)
        .await;
    let problem = expect_problem(res, 409, "conflict").await;
    let detail = problem["detail"].as_str().unwrap();
    let line = |n: &Value| n["lines"][0]["id"].as_str().unwrap().to_owned();
    let (at_c, at_a) = (
        detail.find(&line(&c)).expect("c named"),
        detail.find(&line(&a)).expect("a named"),
    );
    assert!(at_c < at_a, "{detail}");
    assert_eq!(detail.matches(id).count(), 2, "{detail}");
    // Nothing of the refused order was stored.
    let all = page(&app, "limit=100").await;
    assert_eq!(all["data"].as_array().unwrap().len(), 1);
}
