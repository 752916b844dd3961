//! The money path over HTTP: every answer VNPay receives is the answer in the callback log and
//! in the payment's audit trail, for every verdict and under races; a declined payment emits
//! `payment.attempt_failed`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use reqwest::Method;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::helpers::{expect_json, spawn_app, vnpay_sign, TestApp};

/// Sends a signed (or mis-signed) IPN; returns (the raw query, the `RspCode` received).
async fn send(app: &TestApp, params: &[(&str, String)], secret: &str) -> (String, String) {
    let query = vnpay_sign(params, secret);
    let res = app
        .request(Method::GET, &format!("/callbacks/vnpay/ipn?{query}"))
        .send()
        .await
        .unwrap();
    let body: Value = res.json().await.unwrap();
    (query, body["RspCode"].as_str().unwrap().to_owned())
}

async fn callback_log(app: &TestApp, query: &str) -> Value {
    expect_json(
        app.get(&format!("/v1/callbacks?{query}"), &app.finance())
            .await,
        200,
    )
    .await
}

#[tokio::test]
async fn every_answer_sent_is_the_answer_logged_races_included() {
    let app = spawn_app().await;
    let secret = app.vnpay_secret();
    let p = app.payment(150_000).await;
    let pid = p["id"].as_str().unwrap().to_owned();
    let a1 = app.attempt(&pid, "vnpay").await;
    let r1 = a1["reference"].as_str().unwrap().to_owned();
    // (txn_ref as logged, answer sent)
    let mut sent: Vec<(Option<String>, String)> = Vec::new();
    let bad = send(&app, &app.ipn_params(&r1, 150_000, "00"), "not-the-secret").await;
    assert_eq!(bad.1, "97");
    sent.push((None, bad.1));
    // Signed, but for another merchant: 97, logged with its reference.
    let mut other = app.ipn_params(&r1, 150_000, "00");
    other
        .iter_mut()
        .filter(|(k, _)| *k == "vnp_TmnCode")
        .for_each(|(_, v)| *v = "OTHERTMN".into());
    let wrong = send(&app, &other, &secret).await;
    assert_eq!(wrong.1, "97");
    sent.push((Some(r1.clone()), wrong.1));
    // Signed, but without a reference: malformed, 99.
    let mut no_ref = app.ipn_params(&r1, 150_000, "00");
    no_ref.retain(|(k, _)| *k != "vnp_TxnRef");
    let malformed = send(&app, &no_ref, &secret).await;
    assert_eq!(malformed.1, "99");
    sent.push((None, malformed.1));
    for (txn_ref, amount, code, expected) in [
        ("NO-SUCH-REF", 150_000, "00", "01"),
        (r1.as_str(), 150_001, "00", "04"),
        (r1.as_str(), 150_000, "24", "00"),
        (r1.as_str(), 150_000, "24", "02"),
    ] {
        let (_, answer) = send(&app, &app.ipn_params(txn_ref, amount, code), &secret).await;
        assert_eq!(answer, expected, "{txn_ref} {amount} {code}");
        sent.push((Some(txn_ref.to_owned()), answer));
    }
    // 20 copies of the same success at once: one pays, the others hear 02 — and the log agrees.
    let r2 = app.attempt(&pid, "vnpay").await["reference"]
        .as_str()
        .unwrap()
        .to_owned();
    let paid = app.ipn_params(&r2, 150_000, "00");
    let copies = futures_util::future::join_all((0..20).map(|_| send(&app, &paid, &secret))).await;
    assert_eq!(copies.iter().filter(|(_, a)| a == "00").count(), 1);
    assert!(copies.iter().all(|(_, a)| a == "00" || a == "02"));
    sent.extend(copies.iter().map(|(_, a)| (Some(r2.clone()), a.clone())));
    let (last_query, after) = send(&app, &app.ipn_params(&r2, 150_000, "24"), &secret).await;
    assert_eq!(after, "02", "a failure after success moves nothing");
    sent.push((Some(r2.clone()), after));

    let log = callback_log(&app, "limit=500").await;
    let rows = log["data"].as_array().unwrap();
    let mut logged: Vec<(Option<String>, String)> = rows
        .iter()
        .map(|r| {
            (
                r["txn_ref"].as_str().map(str::to_owned),
                r["answer"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    logged.sort();
    sent.sort();
    assert_eq!(logged, sent);
    assert!(
        rows.iter().all(|r| r["verdict"] != "received"),
        "every callback decided"
    );
    // Newest first: the last IPN sent heads the log, with its size and digest.
    assert_eq!(rows[0]["payload"], last_query.as_str());
    assert_eq!(rows[0]["payload_bytes"], last_query.len());
    assert_eq!(
        rows[0]["payload_sha256"],
        hex::encode(Sha256::digest(last_query.as_bytes())).as_str()
    );
    assert_eq!(rows[0]["verdict"], "already_settled");

    // The payment's audit trail carries the same answers (callbacks it could be tied to).
    let events = expect_json(
        app.get(&format!("/v1/payments/{pid}/events"), &app.admin())
            .await,
        200,
    )
    .await;
    let mut audited: Vec<String> = events["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "callback.received")
        .map(|e| e["data"]["answer"].as_str().unwrap().to_owned())
        .collect();
    audited.sort();
    let mut tied: Vec<String> = sent
        .iter()
        .filter(|(r, _)| r.as_deref() == Some(&r1) || r.as_deref() == Some(&r2))
        .filter(|(_, a)| a != "97") // another merchant's callback is tied to no payment of ours
        .map(|(_, a)| a.clone())
        .collect();
    tied.sort();
    assert_eq!(audited, tied);
}

#[tokio::test]
async fn the_callback_log_filters_and_pages_newest_first() {
    let app = spawn_app().await;
    let secret = app.vnpay_secret();
    let p = app.payment(80_000).await;
    let pid = p["id"].as_str().unwrap().to_owned();
    let r = app.attempt(&pid, "vnpay").await["reference"]
        .as_str()
        .unwrap()
        .to_owned();
    for _ in 0..3 {
        send(&app, &app.ipn_params(&r, 80_000, "00"), &secret).await;
    }
    send(&app, &app.ipn_params("OTHER", 1_000, "00"), &secret).await;
    let first = callback_log(&app, &format!("payment_id={pid}&limit=2")).await;
    assert_eq!(first["data"].as_array().unwrap().len(), 2);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = callback_log(&app, &format!("payment_id={pid}&limit=2&cursor={cursor}")).await;
    let answers: Vec<&str> = first["data"]
        .as_array()
        .unwrap()
        .iter()
        .chain(second["data"].as_array().unwrap())
        .map(|r| r["answer"].as_str().unwrap())
        .collect();
    assert_eq!(answers, vec!["02", "02", "00"], "newest first");
    assert!(second["next_cursor"].is_null());
    let settled = callback_log(&app, &format!("txn_ref={r}&verdict=already_settled")).await;
    assert_eq!(settled["data"].as_array().unwrap().len(), 2);
    let unknown = callback_log(&app, "gateway=vnpay&verdict=unknown_reference").await;
    assert_eq!(unknown["data"][0]["txn_ref"], "OTHER");
    let portal = app.get("/v1/callbacks", &app.portal()).await;
    assert_eq!(portal.status().as_u16(), 403, "finance and admin only");
}

#[tokio::test]
async fn a_sandbox_decline_emits_attempt_failed() {
    let app = spawn_app().await;
    let p = app.payment(120_000).await;
    let pid = p["id"].as_str().unwrap().to_owned();
    let attempt = app.pay_through_sandbox(&pid, "decline").await;
    let feed = expect_json(
        app.get("/v1/events?type=payment.attempt_failed", &app.admin())
            .await,
        200,
    )
    .await;
    let events = feed["data"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{feed}");
    let data = &events[0]["data"];
    assert_eq!(data["payment"]["id"], pid.as_str());
    assert_eq!(
        data["payment"]["status"], "pending",
        "the order is payable again"
    );
    assert_eq!(data["attempt"]["id"], attempt["id"]);
    assert_eq!(data["attempt"]["gateway"], "vnpay");
    assert_eq!(data["attempt"]["code"], "24");
    assert!(!data["attempt"]["reason_vi"].as_str().unwrap().is_empty());
    assert!(!data["attempt"]["reason_en"].as_str().unwrap().is_empty());
    assert_eq!(data["agency_code"], "HN-VPDKDD");
    assert_eq!(data["dossier_code"], p["dossier_code"]);
    // On the payment's own trail it follows payment.processing.
    let trail = expect_json(
        app.get(&format!("/v1/payments/{pid}/events"), &app.admin())
            .await,
        200,
    )
    .await;
    let types: Vec<&str> = trail["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["sequence"].as_i64().map(|_| e["type"].as_str().unwrap()))
        .collect();
    assert_eq!(
        types,
        vec![
            "payment.created",
            "payment.processing",
            "payment.attempt_failed"
        ]
    );
}

/// Runs `statements` on the test database directly, beside the service.
async fn run_sql(app: &TestApp, statements: &[&str]) {
    for sql in statements {
        app.db.execute(sql).await;
    }
}

#[tokio::test]
async fn a_decision_that_fails_is_logged_with_the_error_answer_and_the_resend_pays_once() {
    let app = spawn_app().await;
    let secret = app.vnpay_secret();
    let pid = app.payment(150_000).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let reference = app.attempt(&pid, "vnpay").await["reference"]
        .as_str()
        .unwrap()
        .to_owned();
    // The database refuses to write the order, inside the decision's transaction.
    let (refuse, allow): (&[&str], &[&str]) = if app.db.is_postgres() {
        (
            &[
                "create function refuse_payment() returns trigger language plpgsql
                 as $$ begin raise exception 'refused'; end $$",
                "create trigger refuse before update on payment
                 for each row execute function refuse_payment()",
            ],
            &["drop trigger refuse on payment"],
        )
    } else {
        (
            &["create trigger refuse before update on payment
               begin select raise(abort, 'refused'); end"],
            &["drop trigger refuse"],
        )
    };
    run_sql(&app, refuse).await;
    let params = app.ipn_params(&reference, 150_000, "00");
    let (query, answer) = send(&app, &params, &secret).await;
    assert_eq!(answer, "99", "VNPay is told the callback was not taken");
    let log = callback_log(&app, &format!("txn_ref={reference}")).await;
    let rows = log["data"].as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (&rows[0]["verdict"], &rows[0]["answer"]),
        (&"error".into(), &"99".into())
    );
    assert_eq!(rows[0]["payload"], query.as_str());
    assert_eq!(rows[0]["payment_id"], Value::Null);
    // Nothing of the decision stayed: the attempt is still open, the order unpaid.
    let status = app.payment_status(&pid).await;
    assert_ne!(status["status"], "paid");
    assert_eq!(status["attempts"][0]["status"], "redirected");
    // VNPay sends again once the database takes writes: paid once, and the log has both answers.
    run_sql(&app, allow).await;
    assert_eq!(send(&app, &params, &secret).await.1, "00");
    assert_eq!(send(&app, &params, &secret).await.1, "02");
    assert_eq!(app.payment_status(&pid).await["status"], "paid");
    let log = callback_log(&app, &format!("txn_ref={reference}")).await;
    let mut logged: Vec<(String, String)> = log["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["verdict"].as_str().unwrap().to_owned(),
                r["answer"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    logged.sort();
    let expected = [("already_settled", "02"), ("error", "99"), ("valid", "00")];
    assert_eq!(logged, expected.map(|(v, a)| (v.to_owned(), a.to_owned())));
}
