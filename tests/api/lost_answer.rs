//! PostgreSQL: writes whose answer from the database never comes back (the connection drops
//! after the statement or the commit is sent), cut by a relay ([`crate::relay`]).
//!
//! A new order's batch: the order is then written alone; if the batch had committed it, that
//! copy fails on the order's unique keys and the order stored under its id is the batch's.
//! Either way the client is told the order was created, once, and a retry with the same
//! idempotency key replays that answer: never two orders, never a failure for an order that
//! exists. A batch of success callbacks: the gateway is answered with its error code and the
//! log says so; the money, which the commit did record, is recorded once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::Ordering::SeqCst;

use serde_json::{json, Value};

use crate::helpers::{expect_json, Receiver};
use crate::relay::{app_through_relay, Cut};

/// The statement of new orders.
const NEW_ORDERS: &[u8] = b"insert into payment (";

fn order_body(notice: &Value, dossier: &str) -> Value {
    json!({"agency_code": "HN-VPDKDD", "dossier_code": dossier,
           "items": [{"notice_id": notice["id"]}], "payer": {"name": "A"}})
}

#[tokio::test]
async fn a_new_order_whose_answer_is_lost_is_written_once_under_its_key() {
    let check = "a_new_order_whose_answer_is_lost_is_written_once_under_its_key";
    let Some((relay, app)) = app_through_relay(check, NEW_ORDERS, false).await else {
        return;
    };
    let token = app.portal();
    // One order first, so a connection of the batches has the statement prepared.
    app.payment(1_000_000).await;

    // Cut after the run and before it, twice each.
    for round in 0..4 {
        let notice = app
            .notice(&format!("N-LOST-{round}"), 2_000_000, "2099-12-31")
            .await;
        let dossier = format!("D-LOST-{round}");
        let body = order_body(&notice, &dossier);
        let key = format!("lost-{round}");
        relay.arm([Cut::AfterRun, Cut::BeforeRun][round % 2]);
        let lost = app.post_idem("/v1/payments", &token, &key, &body).await;
        assert_eq!(relay.cuts.load(SeqCst), round + 1, "the connection was cut");
        let lost = expect_json(lost, 201).await;
        let id = lost["id"].as_str().unwrap().to_owned();

        // The retry with the key replays that answer.
        let again = app.post_idem("/v1/payments", &token, &key, &body).await;
        assert_eq!(again.headers()["idempotent-replayed"], "true");
        assert_eq!(expect_json(again, 201).await, lost);
        let page = expect_json(
            app.get(&format!("/v1/payments?dossier_code={dossier}"), &token)
                .await,
            200,
        )
        .await;
        let orders = page["data"].as_array().unwrap();
        assert_eq!(orders.len(), 1, "one order: {orders:?}");
        assert_eq!(orders[0]["id"], lost["id"]);
        let history = app.store().payment_history(&id).await.unwrap();
        let created = history.iter().filter(|h| h["type"] == "payment.created");
        assert_eq!(created.count(), 1, "{history:#?}");
    }
}

/// The first statement of a batch of success callbacks.
const MOVE_AND_PAY: &[u8] = b"as c(txn_ref, gateway, txn_no";

/// The callback log's rows for a reference, newest first.
async fn logged(app: &crate::helpers::TestApp, txn_ref: &str) -> Vec<Value> {
    let path = format!("/v1/callbacks?txn_ref={txn_ref}");
    let log = expect_json(app.get(&path, &app.finance()).await, 200).await;
    log["data"].as_array().unwrap().clone()
}

/// A success IPN whose batch commits though the reply to its commit never comes back: the
/// service cannot tell the money was recorded, so VNPay is answered `99` and asks again; the
/// log holds one row for that callback, saying `99`; the money is recorded once, and the resend
/// is answered and logged `02`.
#[tokio::test]
async fn an_ipn_whose_commit_reply_is_lost_is_logged_with_the_answer_sent() {
    let check = "an_ipn_whose_commit_reply_is_lost_is_logged_with_the_answer_sent";
    let Some((relay, app)) = app_through_relay(check, MOVE_AND_PAY, false).await else {
        return;
    };
    let secret = app.vnpay_secret();
    let order = app.payment(5_000_000).await;
    let pid = order["id"].as_str().unwrap();
    let attempt = app.attempt(pid, "vnpay").await;
    let txn = attempt["reference"].as_str().unwrap();
    let params = app.ipn_params(txn, 5_000_000, "00");

    relay.arm(Cut::AfterCommit);
    let answer = app.ipn(&params, &secret).await;
    assert_eq!(relay.cuts.load(SeqCst), 1, "the commit's reply was cut");
    assert_eq!(answer["RspCode"], "99", "{answer}");
    assert_eq!(
        app.payment_status(pid).await["status"],
        "paid",
        "it committed"
    );
    let rows = logged(&app, txn).await;
    assert_eq!(rows.len(), 1, "one row for the one callback: {rows:#?}");
    assert_eq!(rows[0]["answer"], "99", "the answer sent: {rows:#?}");

    // VNPay asks again: the money is there, recorded once.
    assert_eq!(app.ipn(&params, &secret).await["RspCode"], "02");
    let rows = logged(&app, txn).await;
    let mut answers: Vec<&str> = rows.iter().map(|r| r["answer"].as_str().unwrap()).collect();
    answers.sort_unstable();
    assert_eq!(answers, ["02", "99"], "{rows:#?}");
    let history = app.store().payment_history(pid).await.unwrap();
    let paid = history.iter().filter(|h| h["type"] == "payment.paid");
    assert_eq!(paid.count(), 1, "{history:#?}");
}

/// The numbering statement of the event feed.
const NUMBERING: &[u8] = b"with todo as (select id, n from unnest";

/// A numbering run that commits though the reply to its commit never comes back: the numbers
/// and deliveries it wrote stand, the next run goes on from them, and the feed stays gap-free
/// with every event once, each delivered once.
#[tokio::test]
async fn a_numbering_run_whose_commit_reply_is_lost_leaves_the_feed_whole() {
    let check = "a_numbering_run_whose_commit_reply_is_lost_leaves_the_feed_whole";
    let Some((relay, app)) = app_through_relay(check, NUMBERING, true).await else {
        return;
    };
    let receiver = Receiver::start(&[200]).await;
    app.subscribe(&receiver.url, &["payment.created"]).await;
    for i in 0..3 {
        app.payment(1_000_000 + i).await;
    }
    relay.arm(Cut::AfterCommit);
    let cut = app.get("/v1/events?after=0", &app.portal()).await;
    assert_eq!(
        relay.cuts.load(SeqCst),
        1,
        "the numbering's commit reply was cut"
    );
    // The reader could not tell whether its run committed: told to retry.
    assert_eq!(cut.status().as_u16(), 503);
    for i in 3..5 {
        app.payment(1_000_000 + i).await;
    }

    let feed = expect_json(
        app.get("/v1/events?after=0&limit=500", &app.portal()).await,
        200,
    )
    .await;
    let events = feed["data"].as_array().unwrap();
    let seqs: Vec<i64> = events
        .iter()
        .map(|e| e["sequence"].as_i64().unwrap())
        .collect();
    let all = i64::try_from(seqs.len()).unwrap();
    assert_eq!(seqs, (1..=all).collect::<Vec<_>>(), "gap-free from 1");
    let created: Vec<&str> = (events.iter())
        .filter(|e| e["type"] == "payment.created")
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert_eq!(created.len(), 5, "{feed:#}");

    app.deliver_all().await;
    let mut delivered: Vec<String> = receiver.all().into_iter().map(|r| r.event_id).collect();
    delivered.sort_unstable();
    let mut want: Vec<String> = created.iter().map(|s| (*s).to_owned()).collect();
    want.sort_unstable();
    assert_eq!(delivered, want, "each event delivered once");
}
