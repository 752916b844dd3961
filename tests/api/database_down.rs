//! PostgreSQL: the database goes away (its connections cut, new ones refused) and comes back.
//! Meanwhile every request is answered 503 `database_unavailable` with `Retry-After`, and
//! nothing of the database's error in the body; a write retried with its key once the database
//! is back is done, once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use reqwest::Response;
use serde_json::json;

use crate::helpers::expect_json;
use crate::relay::{app_through_relay, Cut};

async fn assert_unavailable(res: Response, what: &str) {
    assert_eq!(res.status().as_u16(), 503, "{what}");
    assert_eq!(res.headers()["retry-after"], "1", "{what}");
    let text = res.text().await.unwrap();
    for internal in ["EOF", "sqlx", "bytes", "postgres", "connection"] {
        assert!(!text.contains(internal), "{what}: {text}");
    }
    let body: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["code"], "database_unavailable", "{what}: {body}");
}

#[tokio::test]
async fn while_the_database_is_down_requests_are_told_to_retry_and_nothing_is_half_done() {
    let check = "while_the_database_is_down_requests_are_told_to_retry_and_nothing_is_half_done";
    let Some((relay, app)) = app_through_relay(check, b"no statement is marked", true).await else {
        return;
    };
    let token = app.portal();
    let earlier = app.payment(1_000_000).await;
    let path = format!("/v1/payments/{}", earlier["id"].as_str().unwrap());
    let notice = app.notice("N-DOWN-1", 2_000_000, "2099-12-31").await;
    let body = json!({"agency_code": "HN-VPDKDD", "dossier_code": "D-DOWN-1",
                      "items": [{"notice_id": notice["id"]}], "payer": {"name": "A"}});

    relay.arm(Cut::Everything);
    assert_unavailable(app.get(&path, &token).await, "a read").await;
    let write = app.post_idem("/v1/payments", &token, "down-1", &body).await;
    assert_unavailable(write, "a write").await;
    assert_unavailable(app.get("/v1/events?after=0", &token).await, "the feed").await;

    relay.disarm();
    expect_json(app.get(&path, &token).await, 200).await;
    let created = app.post_idem("/v1/payments", &token, "down-1", &body).await;
    assert!(created.headers().get("idempotent-replayed").is_none());
    let created = expect_json(created, 201).await;
    let again = app.post_idem("/v1/payments", &token, "down-1", &body).await;
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(expect_json(again, 201).await, created);
    let page = expect_json(
        app.get("/v1/payments?dossier_code=D-DOWN-1", &token).await,
        200,
    )
    .await;
    assert_eq!(page["data"].as_array().unwrap().len(), 1, "{page}");
}
