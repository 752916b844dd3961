#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::sync::Arc;

use hmac::{Hmac, Mac};
use serde_json::{json, Value};

use crate::helpers::{
    expect_json, expect_problem, spawn_app, spawn_app_driven, spawn_app_driven_on, within_a_second,
    Receiver, TestApp,
};

/// The receiver's check, written independently: one `v1` must be HMAC-SHA256(secret, "t.body").
fn signature_verifies(header: &str, secret: &str, body: &str) -> bool {
    let t = header
        .split(',')
        .find_map(|p| p.strip_prefix("t="))
        .unwrap_or_default();
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{body}").as_bytes());
    let expected = hex::encode(mac.finalize().into_bytes());
    let fresh = t
        .parse::<i64>()
        .is_ok_and(|t| (chrono::Utc::now().timestamp() - t).abs() <= 300);
    fresh
        && header
            .split(',')
            .filter_map(|p| p.strip_prefix("v1="))
            .any(|v| v == expected)
}

/// The endpoint's deliveries (every try a pass made is recorded when the pass returns).
async fn deliveries(app: &TestApp, eid: &str) -> Value {
    expect_json(
        app.get(
            &format!("/v1/webhook-endpoints/{eid}/deliveries"),
            &app.admin(),
        )
        .await,
        200,
    )
    .await
}

#[tokio::test]
async fn a_receiver_that_fails_twice_gets_the_same_event_three_times_signed() {
    let app = spawn_app_driven(&[]).await;
    let receiver = Receiver::start(&[500, 503, 200]).await;
    let endpoint = app.subscribe(&receiver.url, &["payment.paid"]).await;
    let secret = endpoint["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));
    let pid = app.paid_payment(1_000_000).await;
    assert_eq!(app.deliver().await, 1, "the first try");
    assert_eq!(app.deliver().await, 0, "the retry waits for its time");
    assert_eq!(app.retry(1).await, 1);
    assert_eq!(app.retry(2).await, 1);
    let got = receiver.all();
    assert_eq!(got.len(), 3);
    let ids: BTreeSet<_> = got.iter().map(|r| r.event_id.clone()).collect();
    assert_eq!(ids.len(), 1, "the same event id each time");
    for r in &got {
        assert_eq!(r.event_type, "payment.paid");
        assert!(
            signature_verifies(&r.signature, &secret, &r.body),
            "{}",
            r.signature
        );
        let body: Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(body["data"]["payment"]["id"], pid);
        assert_eq!(body["data"]["payment"]["status"], "paid");
    }
    let eid = endpoint["id"].as_str().unwrap();
    let d = deliveries(&app, eid).await;
    assert_eq!(d["data"][0]["status"], "delivered", "{d}");
    let codes: Vec<i64> = d["data"][0]["tries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["status_code"].as_i64().unwrap())
        .collect();
    assert_eq!(codes, vec![500, 503, 200]);
}

#[tokio::test]
async fn a_receiver_that_always_fails_ends_dead_then_redelivery_works() {
    let app = spawn_app_driven(&[]).await;
    let receiver = Receiver::start(&[500]).await;
    let endpoint = app.subscribe(&receiver.url, &["payment.paid"]).await;
    let eid = endpoint["id"].as_str().unwrap().to_owned();
    app.paid_payment(1_000_000).await;
    let schedule = app.state.settings.webhooks.retry_schedule.len();
    assert_eq!(app.deliver().await, 1);
    for n in 1..=schedule {
        assert_eq!(app.retry(n).await, 1, "retry {n}");
    }
    // Give a further retry a chance to (wrongly) happen.
    assert_eq!(app.retry(schedule).await, 0);
    app.advance(std::time::Duration::from_secs(3600));
    assert_eq!(app.deliver().await, 0);
    assert_eq!(
        receiver.all().len(),
        1 + schedule,
        "exactly 1 + len(schedule) tries"
    );
    let d = deliveries(&app, &eid).await;
    assert_eq!(d["data"][0]["status"], "dead");
    assert_eq!(
        d["data"][0]["tries"].as_array().unwrap().len(),
        1 + schedule
    );
    // Redeliver once the receiver is healthy.
    receiver.set_script(&[200]);
    let event_id = d["data"][0]["event_id"].as_str().unwrap();
    let res = app
        .request(
            reqwest::Method::POST,
            &format!("/v1/events/{event_id}/redeliver"),
        )
        .bearer_auth(app.admin())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 202);
    assert_eq!(app.deliver().await, 1);
    assert_eq!(receiver.all().len(), 2 + schedule);
    let statuses = |d: &Value| -> BTreeSet<String> {
        d["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["status"].as_str().unwrap().to_owned())
            .collect()
    };
    let d = deliveries(&app, &eid).await;
    assert_eq!(
        statuses(&d),
        BTreeSet::from(["dead".to_owned(), "delivered".to_owned()])
    );
    // Each delivery of the page lists its own tries.
    for delivery in d["data"].as_array().unwrap() {
        let tries = delivery["tries"].as_array().unwrap().len();
        let expected = if delivery["status"] == "dead" {
            1 + schedule
        } else {
            1
        };
        assert_eq!(tries, expected, "{d}");
    }
    expect_problem(
        app.request(reqwest::Method::POST, "/v1/events/evt_nope/redeliver")
            .bearer_auth(app.admin())
            .send()
            .await
            .unwrap(),
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn one_payments_events_reach_an_endpoint_in_sequence_order() {
    let app = spawn_app_driven(&[]).await;
    // The first try fails: later events of the same payment must wait for it.
    let receiver = Receiver::start(&[500, 200]).await;
    app.subscribe(
        &receiver.url,
        &["payment.created", "payment.processing", "payment.paid"],
    )
    .await;
    app.paid_payment(2_000_000).await;
    assert_eq!(
        app.deliver_all().await,
        1,
        "the failed first event holds the others back"
    );
    assert_eq!(app.retry(1).await, 3);
    let got = receiver.all();
    let seqs: Vec<i64> = got
        .iter()
        .map(|r| {
            serde_json::from_str::<Value>(&r.body).unwrap()["sequence"]
                .as_i64()
                .unwrap()
        })
        .collect();
    let types: Vec<&str> = got.iter().map(|r| r.event_type.as_str()).collect();
    assert_eq!(
        types,
        vec![
            "payment.created",
            "payment.created",
            "payment.processing",
            "payment.paid"
        ]
    );
    assert!(seqs.windows(2).all(|w| w[0] <= w[1]), "{seqs:?}");
}

#[tokio::test]
async fn the_feed_is_gap_free_ordered_and_agrees_with_deliveries() {
    // The one test of the background worker as the service runs it: committed events wake it.
    let app = spawn_app().await;
    let receiver = Receiver::start(&[200]).await;
    app.subscribe(&receiver.url, &["payment.paid"]).await;
    for i in 0..4 {
        app.paid_payment(1_000_000 + i).await;
    }
    let feed = expect_json(
        app.get("/v1/events?after=0&limit=500", &app.portal()).await,
        200,
    )
    .await;
    let seqs: Vec<i64> = feed["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["sequence"].as_i64().unwrap())
        .collect();
    assert_eq!(
        seqs,
        (1..=i64::try_from(seqs.len()).unwrap()).collect::<Vec<_>>(),
        "gap-free from 1"
    );
    let page = expect_json(
        app.get("/v1/events?after=3&limit=2", &app.portal()).await,
        200,
    )
    .await;
    let s: Vec<i64> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["sequence"].as_i64().unwrap())
        .collect();
    assert_eq!(s, vec![4, 5]);
    assert_eq!(page["next_cursor"], "5");
    let paid = expect_json(
        app.get("/v1/events?type=payment.paid", &app.portal()).await,
        200,
    )
    .await;
    let paid_ids: BTreeSet<String> = paid["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(paid_ids.len(), 4);
    assert!(within_a_second(|| receiver.all().len() >= 4).await);
    let delivered: BTreeSet<String> = receiver.all().iter().map(|r| r.event_id.clone()).collect();
    assert_eq!(
        delivered, paid_ids,
        "the feed agrees with what was delivered"
    );
    expect_problem(
        app.get("/v1/events?type=payment.nope", &app.portal()).await,
        422,
        "validation_failed",
    )
    .await;
}

#[tokio::test]
async fn a_rotated_secret_signs_alongside_the_old_one() {
    let app = spawn_app_driven(&[]).await;
    let receiver = Receiver::start(&[200]).await;
    let endpoint = app.subscribe(&receiver.url, &["payment.paid"]).await;
    let old = endpoint["secret"].as_str().unwrap().to_owned();
    let eid = endpoint["id"].as_str().unwrap();
    let rotated = expect_json(
        app.post_json(
            &format!("/v1/webhook-endpoints/{eid}/rotate-secret"),
            &app.admin(),
            &json!({}),
        )
        .await,
        200,
    )
    .await;
    let new = rotated["secret"].as_str().unwrap().to_owned();
    assert_ne!(old, new);
    app.paid_payment(1_000_000).await;
    assert_eq!(app.deliver().await, 1);
    let r = &receiver.all()[0];
    assert_eq!(r.signature.matches("v1=").count(), 2);
    assert!(signature_verifies(&r.signature, &old, &r.body));
    assert!(signature_verifies(&r.signature, &new, &r.body));
    // Only admins manage endpoints; the secret is never shown again.
    expect_problem(
        app.get(&format!("/v1/webhook-endpoints/{eid}"), &app.portal())
            .await,
        403,
        "forbidden",
    )
    .await;
    let shown = expect_json(
        app.get(&format!("/v1/webhook-endpoints/{eid}"), &app.admin())
            .await,
        200,
    )
    .await;
    assert!(shown.get("secret").is_none());
    let bad = expect_problem(
        app.post_json(
            "/v1/webhook-endpoints",
            &app.admin(),
            &json!({"url": "ftp://x", "events": ["payment.nope"]}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(bad["errors"][0]["field"], "url");
    assert_eq!(bad["errors"][1]["field"], "events[0]");
}

#[tokio::test]
async fn three_instances_deliver_each_event_exactly_once() {
    let first = spawn_app_driven(&[]).await;
    let second = spawn_app_driven_on(Arc::clone(&first.db), &[]).await;
    let third = spawn_app_driven_on(Arc::clone(&first.db), &[]).await;
    let receiver = Receiver::start(&[200]).await;
    first
        .subscribe(
            &receiver.url,
            &["payment.created", "payment.processing", "payment.paid"],
        )
        .await;
    let mut payments = Vec::new();
    for (i, app) in [&first, &second, &third, &first, &second, &third]
        .into_iter()
        .enumerate()
    {
        payments.push(
            app.paid_payment(1_000_000 + i64::try_from(i).unwrap())
                .await,
        );
    }
    let expected = payments.len() * 3;
    // The three instances' workers run their passes at the same time until none finds work.
    let mut tried = 0;
    for _ in 0..100 {
        let (a, b, c) = tokio::join!(first.deliver(), second.deliver(), third.deliver());
        if a + b + c == 0 {
            break;
        }
        tried += a + b + c;
    }
    assert_eq!(tried, expected, "each delivery tried once");
    let got = receiver.all();
    let ids: BTreeSet<String> = got.iter().map(|r| r.event_id.clone()).collect();
    assert_eq!(ids.len(), expected);
    assert_eq!(got.len(), expected, "no event delivered twice");
}

#[tokio::test]
async fn a_backlog_goes_out_in_one_larger_pass_and_each_payment_still_in_order() {
    let app = spawn_app_driven(&[]).await;
    let receiver = Receiver::start(&[200]).await;
    app.subscribe(&receiver.url, &["payment.created", "payment.cancelled"])
        .await;
    // More payments than a first pass claims.
    let n = 40;
    let mut ids = Vec::new();
    for _ in 0..n {
        let p = app.payment(1_000_000).await;
        ids.push(p["id"].as_str().unwrap().to_owned());
    }
    // A second event for one payment: it must wait for that payment's first.
    let cancelled = &ids[0];
    expect_json(
        app.post_json(
            &format!("/v1/payments/{cancelled}/cancel"),
            &app.portal(),
            &json!({}),
        )
        .await,
        200,
    )
    .await;
    let tried = landpay::webhooks::delivery::run_pass(&app.state, 256)
        .await
        .unwrap();
    assert_eq!(
        tried, n,
        "every payment's first event in one pass, and only that"
    );
    assert_eq!(
        app.deliver().await,
        1,
        "then the cancelled payment's second event"
    );
    assert_eq!(app.deliver().await, 0);
    let got = receiver.all();
    assert_eq!(got.len(), n + 1);
    let of_cancelled: Vec<&str> = got
        .iter()
        .filter(|r| r.body.contains(cancelled.as_str()))
        .map(|r| r.event_type.as_str())
        .collect();
    assert_eq!(of_cancelled, ["payment.created", "payment.cancelled"]);
}
