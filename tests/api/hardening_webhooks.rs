//! Webhook URLs are read by the sending client's parser: userinfo refused; in production only
//! https to an allowed host with public addresses, checked again at delivery.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use landpay::storage::webhooks::EndpointRow;
use serde_json::json;

use crate::helpers::{expect_json, expect_problem, spawn_app, spawn_app_driven, spawn_app_with};

/// A TCP listener that only counts the connections made to it.
async fn counting_listener() -> (u16, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let count = Arc::new(AtomicUsize::new(0));
    let c = count.clone();
    tokio::spawn(async move {
        while let Ok((_s, _)) = listener.accept().await {
            c.fetch_add(1, Ordering::SeqCst);
        }
    });
    (port, count)
}

#[tokio::test]
async fn userinfo_is_refused_naming_the_url() {
    let app = spawn_app().await;
    for url in [
        "http://user:pass@127.0.0.1:9/hook",
        "https://token@hooks.example.com/x",
    ] {
        let body = json!({"url": url, "events": ["payment.paid"]});
        let res = app
            .post_json("/v1/webhook-endpoints", &app.admin(), &body)
            .await;
        let p = expect_problem(res, 422, "validation_failed").await;
        assert_eq!(p["errors"][0]["field"], "url");
        assert!(!p.to_string().contains("pass@"), "{p}");
    }
}

#[tokio::test]
async fn production_refuses_the_backslash_trick_metadata_and_hosts_resolving_inside() {
    let (port, connections) = counting_listener().await;
    let app = spawn_app_with(&[
        ("LANDPAY_ENV", "production"),
        (
            "LANDPAY__WEBHOOKS__ALLOWED_HOSTS",
            r#"["allowed.example.com", "localhost", "127.0.0.1"]"#,
        ),
    ])
    .await;
    for url in [
        format!(r"https://127.0.0.1:{port}\@allowed.example.com/hook"),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        "https://169.254.169.254/latest/meta-data/".to_owned(),
        format!("https://localhost:{port}/hook"),
        format!("https://127.0.0.1:{port}/hook"),
    ] {
        let body = json!({"url": url, "events": ["payment.paid"]});
        let res = app
            .post_json("/v1/webhook-endpoints", &app.admin(), &body)
            .await;
        let p = expect_problem(res, 422, "validation_failed").await;
        assert_eq!(p["errors"][0]["field"], "url", "{url}");
    }
    assert_eq!(connections.load(Ordering::SeqCst), 0);
    let open = spawn_app_with(&[
        ("LANDPAY_ENV", "production"),
        ("LANDPAY__WEBHOOKS__ALLOWED_HOSTS", r#"["127.0.0.1"]"#),
        ("LANDPAY__WEBHOOKS__ALLOW_PRIVATE", "true"),
    ])
    .await;
    let body = json!({"url": format!("https://127.0.0.1:{port}/hook"), "events": ["payment.paid"]});
    expect_json(
        open.post_json("/v1/webhook-endpoints", &open.admin(), &body)
            .await,
        201,
    )
    .await;
}

#[tokio::test]
async fn delivery_checks_the_url_again_and_never_connects_inside() {
    let (port, connections) = counting_listener().await;
    // The test runs the delivery pass itself: no background worker may take the delivery first.
    let app = spawn_app_driven(&[
        ("LANDPAY_ENV", "production"),
        (
            "LANDPAY__WEBHOOKS__ALLOWED_HOSTS",
            r#"["127.0.0.1", "localhost"]"#,
        ),
    ])
    .await;
    // Registered before the rules tightened (written straight to the store): one with userinfo,
    // refused by the URL's own rules; one whose host resolves to a loopback address, refused
    // once resolved.
    let legacy = legacy_endpoint(&app, &format!("https://hook:s3cret@127.0.0.1:{port}/hook")).await;
    let inside = legacy_endpoint(&app, &format!("https://localhost:{port}/hook")).await;
    let listed = expect_json(app.get("/v1/webhook-endpoints", &app.admin()).await, 200).await;
    let shown = listed["data"].to_string();
    assert!(
        !shown.contains("s3cret") && !shown.contains("hook:"),
        "{shown}"
    );
    // Two deliveries to each endpoint in one pass: each is refused, not only the first.
    app.payment(10_000).await;
    app.payment(20_000).await;
    let tried = landpay::webhooks::delivery::run_once(&app.state)
        .await
        .unwrap();
    assert_eq!(tried, 4);
    for (endpoint_id, why) in [(&legacy, "userinfo"), (&inside, "resolves to a loopback")] {
        let deliveries = expect_json(
            app.get(
                &format!("/v1/webhook-endpoints/{endpoint_id}/deliveries"),
                &app.admin(),
            )
            .await,
            200,
        )
        .await;
        let data = deliveries["data"].as_array().unwrap();
        assert_eq!(data.len(), 2, "{deliveries}");
        for delivery in data {
            let error = delivery["tries"][0]["error"].as_str().unwrap_or_default();
            assert!(
                error.contains("the URL is refused") && error.contains(why),
                "{deliveries}"
            );
        }
    }
    assert_eq!(connections.load(Ordering::SeqCst), 0);
}

/// An endpoint subscribed to `payment.created`, written straight to the store.
async fn legacy_endpoint(app: &crate::helpers::TestApp, url: &str) -> String {
    let endpoint_id = landpay::ids::WebhookEndpointId::new().into_string();
    let row = EndpointRow {
        endpoint_id: endpoint_id.clone(),
        url: url.to_owned(),
        agency_code: None,
        events: r#"["payment.created"]"#.into(),
        secret: "whsec_legacy".into(),
        previous_secret: None,
        previous_expires_at: None,
        created_at: landpay::storage::ts(app.state.clock.now()),
        deleted_at: None,
        format: "landpay".into(),
        credentials: None,
    };
    app.store().insert_endpoint(&row, "test").await.unwrap();
    endpoint_id
}

/// Overwrites an endpoint's stored subscription list, as a faulty migration or a hand edit might.
async fn store_events_list(app: &crate::helpers::TestApp, endpoint_id: &str, events: &str) {
    let sql = "update webhook_endpoint set events = $1 where endpoint_id = $2";
    let changed = if app.db.is_postgres() {
        let pool = sqlx::PgPool::connect(&app.db.url).await.unwrap();
        let r = sqlx::query(sql).bind(events).bind(endpoint_id);
        r.execute(&pool).await.unwrap().rows_affected()
    } else {
        let pool = sqlx::SqlitePool::connect(&app.db.url).await.unwrap();
        let r = sqlx::query(sql).bind(events).bind(endpoint_id);
        r.execute(&pool).await.unwrap().rows_affected()
    };
    assert_eq!(changed, 1);
}

async fn delivery_count(app: &crate::helpers::TestApp, endpoint_id: &str) -> usize {
    let res = app
        .get(
            &format!("/v1/webhook-endpoints/{endpoint_id}/deliveries"),
            &app.admin(),
        )
        .await;
    expect_json(res, 200).await["data"]
        .as_array()
        .unwrap()
        .len()
}

#[tokio::test]
async fn an_unreadable_subscription_list_disables_the_endpoint() {
    let app = crate::helpers::spawn_app_driven(&[]).await;
    let url = "http://127.0.0.1:9/hook";
    let good = app.subscribe(url, &["payment.created"]).await;
    let good = good["id"].as_str().unwrap().to_owned();
    let broken = app.subscribe(url, &["payment.created"]).await;
    let broken = broken["id"].as_str().unwrap().to_owned();
    store_events_list(&app, &broken, "payment.created").await;

    let payment = app.payment(1_000_000).await;
    app.deliver_all().await;
    assert_eq!(delivery_count(&app, &good).await, 1, "the control endpoint");
    assert_eq!(
        delivery_count(&app, &broken).await,
        0,
        "the disabled endpoint"
    );

    // Redelivery reads the list the same way: only the readable endpoint gets the event again.
    let res = app
        .get(
            &format!("/v1/payments/{}/events", payment["id"].as_str().unwrap()),
            &app.admin(),
        )
        .await;
    let history = expect_json(res, 200).await;
    let event = history["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "payment.created")
        .expect("the payment.created event")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = app
        .post_json(
            &format!("/v1/events/{event}/redeliver"),
            &app.admin(),
            &json!({}),
        )
        .await;
    assert_eq!(expect_json(res, 202).await["deliveries"], 1);
    assert_eq!(delivery_count(&app, &broken).await, 0);

    // The endpoint is still there to read, delete or subscribe again.
    let res = app
        .get(&format!("/v1/webhook-endpoints/{broken}"), &app.admin())
        .await;
    expect_json(res, 200).await;
}
