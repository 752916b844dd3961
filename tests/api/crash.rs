//! A hard kill of the service after an IPN commits and while its webhook is in flight: after a
//! restart on the same database, the payment is still paid, the callback is in the log with the
//! answer it was sent, and the event is delivered once the killed try's lease runs out (the
//! restarted instance runs in the test, on a clock the test moves past the lease). And a kill
//! in the middle of a batch of success callbacks (PostgreSQL): nothing answered, nothing kept,
//! and the gateway's resends are each paid once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Child, Command};
use std::sync::Arc;
use std::time::Duration;

use landpay::auth::jwt::JwtKeys;
use landpay::auth::Role;
use serde_json::{json, Value};

use sqlx::Connection;

use crate::helpers::{
    config_dir, expect_json, notice_body, settings_for, spawn_app_driven_on, vnpay_sign,
    within_a_second, Receiver, TestDb,
};
use crate::serve_child;

fn command(db_url: &str, port: u16) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_landpay"));
    serve_child::on_port(&mut c, port)
        .env("LANDPAY_ENV", "test")
        .env("LANDPAY_CONFIG_DIR", config_dir())
        .env("LANDPAY__DATABASE__URL", db_url);
    c
}

/// Starts the binary on a free port and waits until it is ready; returns it and its base URL.
async fn serve(db_url: &str) -> (Child, String) {
    let (child, port) = serve_child::serve(|port| command(db_url, port), Duration::from_secs(15))
        .await
        .unwrap_or_else(|why| panic!("the service did not become ready: {why}"));
    (child, format!("http://127.0.0.1:{port}"))
}

#[tokio::test]
async fn a_killed_service_delivers_after_restart() {
    let db = Arc::new(TestDb::new().await);
    let settings = settings_for(&db, &[]);
    let jwt = JwtKeys::new(&settings.auth);
    let portal = jwt
        .mint("portal", &[Role::Portal], None, Duration::from_secs(600))
        .unwrap();
    let admin = jwt
        .mint("admin", &[Role::Admin], None, Duration::from_secs(600))
        .unwrap();
    let client = reqwest::Client::new();
    // The first try hangs (in flight when the process dies), the next succeeds.
    let receiver = Receiver::start(&[0, 200]).await;

    let (mut child, base) = serve(&db.url).await;
    let post = |path: &str, token: &str, body: Value| {
        client
            .post(format!("{base}{path}"))
            .bearer_auth(token)
            .header("Idempotency-Key", ulid::Ulid::new().to_string())
            .json(&body)
            .send()
    };
    post(
        "/v1/webhook-endpoints",
        &admin,
        json!({"url": receiver.url, "events": ["payment.paid"]}),
    )
    .await
    .unwrap();
    let notice: Value = post(
        "/v1/notices",
        &portal,
        notice_body("N-CRASH", "HN-VPDKDD", 9_000_000, "2099-01-01"),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let payment: Value = post(
        "/v1/payments",
        &portal,
        json!({"items": [{"notice_id": notice["id"]}], "payer": {"name": "A"}}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let pid = payment["id"].as_str().unwrap().to_owned();
    let attempt: Value = post(
        &format!("/v1/payments/{pid}/attempts"),
        &portal,
        json!({"gateway": "vnpay"}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let txn = attempt["reference"].as_str().unwrap();
    let params: Vec<(&str, String)> = vec![
        ("vnp_Amount", "900000000".into()),
        ("vnp_ResponseCode", "00".into()),
        ("vnp_TmnCode", settings.gateways.vnpay.tmn_code.clone()),
        ("vnp_TransactionNo", "777".into()),
        ("vnp_TransactionStatus", "00".into()),
        ("vnp_TxnRef", txn.into()),
    ];
    let query = vnpay_sign(&params, settings.gateways.vnpay.hash_secret.expose());
    let answer: Value = client
        .get(format!("{base}/callbacks/vnpay/ipn?{query}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["RspCode"], "00");
    // The IPN woke the worker, which sent the first try at once.
    assert!(
        within_a_second(|| receiver.all().len() == 1).await,
        "the first try is in flight"
    );

    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    let app = spawn_app_driven_on(Arc::clone(&db), &[]).await;
    let payment = app.payment_status(&pid).await;
    assert_eq!(
        payment["status"], "paid",
        "the recorded IPN survived the kill"
    );
    // The callback itself, logged by the transaction that paid, with the answer it was sent.
    let log: Value = app
        .get(&format!("/v1/callbacks?txn_ref={txn}"), &app.finance())
        .await
        .json()
        .await
        .unwrap();
    let rows = log["data"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{log}");
    assert_eq!(rows[0]["verdict"], "valid");
    assert_eq!(rows[0]["answer"], "00");
    assert_eq!(rows[0]["payload"], query.as_str());
    // The lease of the killed try runs out (request_timeout + 5 s), then another claim delivers.
    app.advance(landpay::webhooks::delivery::lease(&app.state) + Duration::from_secs(1));
    assert_eq!(app.deliver_all().await, 1, "delivered after restart");
    let got = receiver.all();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].event_id, got[1].event_id);
    assert_eq!(got[1].event_type, "payment.paid");
}

/// How many backends other than the caller's are inside a statement or a transaction.
async fn busy_backends(conn: &mut sqlx::PgConnection) -> i64 {
    sqlx::query_scalar(
        "select count(*) from pg_stat_activity
         where datname = current_database() and pid <> pg_backend_pid() and state <> 'idle'",
    )
    .fetch_one(conn)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_service_killed_in_the_middle_of_a_batch_answered_nothing_and_kept_nothing() {
    let db = Arc::new(TestDb::new().await);
    if !db.is_postgres() {
        return; // SQLite decides every callback alone: the kill in `transition_contract` covers it.
    }
    // The orders are made, and the resends sent, by an instance inside the test.
    let app = spawn_app_driven_on(Arc::clone(&db), &[]).await;
    let mut refs = Vec::new();
    for _ in 0..6 {
        let payment = app.payment(500_000).await;
        let pid = payment["id"].as_str().unwrap().to_owned();
        let attempt = app.attempt(&pid, "vnpay").await;
        refs.push((pid, attempt["reference"].as_str().unwrap().to_owned()));
    }
    // From now on, any statement that pays an order waits for a lock the test holds.
    let mut admin = sqlx::PgConnection::connect(&db.url).await.unwrap();
    for sql in [
        "create table stall (on_ boolean)",
        "insert into stall values (true)",
        "create function stall_paying() returns trigger language plpgsql as $$
         begin
           if exists (select 1 from stall) then perform pg_advisory_xact_lock(4242); end if;
           return null;
         end $$",
        "create trigger stall_paying before update on payment
         for each statement execute function stall_paying()",
        "select pg_advisory_lock(4242)",
    ] {
        sqlx::query(sql).execute(&mut admin).await.unwrap();
    }
    let client = reqwest::Client::new();
    let (mut child, base) = serve(&db.url).await;
    let secret = app.vnpay_secret();
    let sent: Vec<_> = refs
        .iter()
        .map(|(_, txn)| {
            let url = format!(
                "{base}/callbacks/vnpay/ipn?{}",
                vnpay_sign(&app.ipn_params(txn, 500_000, "00"), &secret)
            );
            let client = client.clone();
            tokio::spawn(async move { client.get(url).send().await })
        })
        .collect();
    // A batch has moved its attempts and is paying their orders when the process dies.
    let mut stalled = false;
    for _ in 0..100 {
        let waiting: i64 = sqlx::query_scalar(
            "select count(*) from pg_locks where locktype = 'advisory' and not granted",
        )
        .fetch_one(&mut admin)
        .await
        .unwrap();
        if waiting > 0 {
            stalled = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(stalled, "no batch reached the paying statement");
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    for request in sent {
        let answer = request.await.unwrap();
        assert!(
            answer.is_err(),
            "a callback was answered before its batch committed: {answer:?}"
        );
    }
    // The killed batch's statement goes on once the lock is free, then finds its client gone.
    sqlx::query("delete from stall")
        .execute(&mut admin)
        .await
        .unwrap();
    sqlx::query("select pg_advisory_unlock(4242)")
        .execute(&mut admin)
        .await
        .unwrap();
    for _ in 0..200 {
        if busy_backends(&mut admin).await == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(busy_backends(&mut admin).await, 0, "the killed batch ended");
    let log_of = |txn: &str| {
        let path = format!("/v1/callbacks?txn_ref={txn}");
        let app = &app;
        async move {
            let log = expect_json(app.get(&path, &app.finance()).await, 200).await;
            log["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["answer"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    for (pid, txn) in &refs {
        // Nothing of the batch stayed: not the log rows, not the attempts' move, not the money.
        assert!(log_of(txn).await.is_empty(), "{txn}");
        let payment = app.payment_status(pid).await;
        assert_ne!(payment["status"], "paid", "{payment}");
        assert_eq!(payment["attempts"][0]["status"], "redirected", "{payment}");
    }
    // VNPay had no answers, so it sends again: each paid once, answered and logged 00.
    for (pid, txn) in &refs {
        let answer = app.ipn(&app.ipn_params(txn, 500_000, "00"), &secret).await;
        assert_eq!(answer["RspCode"], "00", "{txn}");
        assert_eq!(app.payment_status(pid).await["status"], "paid");
        assert_eq!(log_of(txn).await, vec!["00"]);
    }
}
