//! A hard kill of the service after an IPN commits and while its webhook is in flight: after a
//! restart on the same database, the payment is still paid, the callback is in the log with the
//! answer it was sent, and the event is delivered once the killed try's lease runs out (the
//! restarted instance runs in the test, on a clock the test moves past the lease).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use landpay::auth::jwt::JwtKeys;
use landpay::auth::Role;
use serde_json::{json, Value};

use crate::helpers::{
    config_dir, notice_body, settings_for, spawn_app_driven_on, vnpay_sign, within_a_second,
    Receiver, TestDb,
};

fn start(db_url: &str, port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_landpay"))
        .arg("serve")
        .env("LANDPAY_ENV", "test")
        .env("LANDPAY_CONFIG_DIR", config_dir())
        .env("LANDPAY__DATABASE__URL", db_url)
        .env("LANDPAY__SERVER__PORT", port.to_string())
        .env(
            "LANDPAY__SERVER__PUBLIC_BASE_URL",
            format!("http://127.0.0.1:{port}"),
        )
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the landpay binary starts")
}

async fn wait_healthy(client: &reqwest::Client, base: &str) {
    for _ in 0..150 {
        if client
            .get(format!("{base}/healthz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the service did not become healthy");
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
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    // The first try hangs (in flight when the process dies), the next succeeds.
    let receiver = Receiver::start(&[0, 200]).await;

    let mut child = start(&db.url, port);
    wait_healthy(&client, &base).await;
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
