//! The janitor asks a gateway about an attempt whose callback never came. An answer about
//! another transaction, or one that reports a payment without its amount, must move no money:
//! the attempt is left to be asked again. A local server plays VNPay (`querydr`, signed here
//! with HMAC-SHA512 independently of the service), MoMo and ZaloPay; it answers falsely first,
//! then truthfully, and the truthful answers pay, so the refusals are the checks' doing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use actix_web::{web, App, HttpResponse, HttpServer};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};

use crate::helpers::{spawn_app_with, TestApp};

const AMOUNT: i64 = 1_500_000;

/// What the local gateway says: falsely until `honest` is set; VNPay's answers are signed with
/// `secret`.
#[derive(Clone, Default)]
struct Script {
    honest: Arc<AtomicBool>,
    secret: Arc<Mutex<String>>,
}

/// A VNPay `querydr` answer about `txn_ref`, paid, signed over its 15 fields in order.
fn vnpay_answer(secret: &str, txn_ref: &str) -> Value {
    let fields = [
        ("vnp_ResponseId", "r1".to_owned()),
        ("vnp_Command", "querydr".to_owned()),
        ("vnp_ResponseCode", "00".to_owned()),
        ("vnp_Message", "QueryDR Success".to_owned()),
        ("vnp_TmnCode", "LANDPAY1".to_owned()),
        ("vnp_TxnRef", txn_ref.to_owned()),
        ("vnp_Amount", (AMOUNT * 100).to_string()),
        ("vnp_BankCode", "NCB".to_owned()),
        ("vnp_PayDate", "20261120101500".to_owned()),
        ("vnp_TransactionNo", "14000001".to_owned()),
        ("vnp_TransactionType", "01".to_owned()),
        ("vnp_TransactionStatus", "00".to_owned()),
        ("vnp_OrderInfo", "Truy van".to_owned()),
        ("vnp_PromotionCode", String::new()),
        ("vnp_PromotionAmount", String::new()),
    ];
    let data = fields
        .iter()
        .map(|(_, v)| v.as_str())
        .collect::<Vec<_>>()
        .join("|");
    let mut mac = Hmac::<sha2::Sha512>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(data.as_bytes());
    let mut answer: serde_json::Map<String, Value> = fields
        .iter()
        .map(|(k, v)| ((*k).to_owned(), json!(v)))
        .collect();
    answer.insert(
        "vnp_SecureHash".into(),
        json!(hex::encode(mac.finalize().into_bytes())),
    );
    Value::Object(answer)
}

/// Answers a query `b` as `script` says, for each gateway.
fn answer(script: &Script, gateway: &str, b: &Value) -> Value {
    let honest = script.honest.load(Ordering::SeqCst);
    match gateway {
        "vnpay" => {
            let asked = b["vnp_TxnRef"].as_str().unwrap();
            let about = if honest { asked } else { "ANOTHERTXN0001" };
            vnpay_answer(&script.secret.lock().unwrap(), about)
        }
        "momo" => {
            let order = if honest {
                b["orderId"].clone()
            } else {
                json!("ANOTHER-ORDER-1")
            };
            json!({"partnerCode": b["partnerCode"], "orderId": order, "requestId": b["requestId"],
                   "amount": AMOUNT, "transId": 4_088_878_653i64, "resultCode": 0, "message": "Thành công."})
        }
        // ZaloPay's query answer names no transaction: falsely, it omits the amount.
        _ if honest => json!({"return_code": 1, "return_message": "success", "amount": AMOUNT,
                              "zp_trans_id": 250_115_000_001i64, "server_time": 1_763_600_000_000i64}),
        _ => json!({"return_code": 1, "return_message": "success",
                    "zp_trans_id": 250_115_000_001i64, "server_time": 1_763_600_000_000i64}),
    }
}

/// The local gateway: creates always succeed; queries are answered by `script`.
async fn gateway_server(script: Script) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = HttpServer::new(move || {
        let routes = [
            ("/merchant_webapi/api/transaction", "vnpay"),
            ("/v2/gateway/api/query", "momo"),
            ("/v2/query", "zalopay"),
        ];
        let mut app = App::new()
            .route("/v2/gateway/api/create", web::post().to(|b: web::Json<Value>| async move {
                HttpResponse::Ok().json(json!({"partnerCode": b["partnerCode"], "orderId": b["orderId"],
                    "requestId": b["requestId"], "amount": b["amount"], "resultCode": 0, "message": "Thành công.",
                    "payUrl": "https://test-payment.momo.vn/v2/gateway/pay?t=1"}))
            }))
            .route("/v2/create", web::post().to(|| async {
                HttpResponse::Ok().json(json!({"return_code": 1, "return_message": "success",
                    "order_url": "https://qcgateway.zalopay.vn/openinapp?order=1"}))
            }));
        for (path, gateway) in routes {
            let script = script.clone();
            app = app.route(path, web::post().to(move |b: web::Json<Value>| {
                let body = answer(&script, gateway, &b);
                async move { HttpResponse::Ok().json(body) }
            }));
        }
        app
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    format!("http://127.0.0.1:{port}")
}

/// One attempt at `gateway` of a fresh order: (order id, attempt id).
async fn attempted(app: &TestApp, gateway: &str) -> (String, String) {
    let p = app.payment(AMOUNT).await;
    let pid = p["id"].as_str().unwrap().to_owned();
    let a = app.attempt(&pid, gateway).await;
    (pid, a["id"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn a_query_answer_about_another_transaction_or_without_its_amount_moves_no_money() {
    let script = Script::default();
    let endpoint = gateway_server(script.clone()).await;
    let api = format!("{endpoint}/merchant_webapi/api/transaction");
    let app = spawn_app_with(&[
        ("LANDPAY__GATEWAYS__VNPAY__API_URL", api.as_str()),
        ("LANDPAY__GATEWAYS__MOMO__ENABLED", "true"),
        ("LANDPAY__GATEWAYS__MOMO__ENDPOINT", endpoint.as_str()),
        (
            "LANDPAY__GATEWAYS__MOMO__ACCESS_KEY",
            "momo-access-key-for-tests",
        ),
        (
            "LANDPAY__GATEWAYS__MOMO__SECRET_KEY",
            "momo-secret-key-for-tests",
        ),
        ("LANDPAY__GATEWAYS__ZALOPAY__ENABLED", "true"),
        ("LANDPAY__GATEWAYS__ZALOPAY__ENDPOINT", endpoint.as_str()),
        ("LANDPAY__GATEWAYS__ZALOPAY__KEY1", "zalopay-key1-for-tests"),
        ("LANDPAY__GATEWAYS__ZALOPAY__KEY2", "zalopay-key2-for-tests"),
    ])
    .await;
    *script.secret.lock().unwrap() = app.vnpay_secret();
    let mut orders = Vec::new();
    for gateway in ["vnpay", "momo", "zalopay"] {
        orders.push((gateway, attempted(&app, gateway).await));
    }

    // Past the attempts' expiry, with no callback: the janitor asks, and is answered falsely.
    app.state.clock.advance(chrono::Duration::minutes(16));
    landpay::workers::sweep(&app.state).await.unwrap();
    for (gateway, (pid, attempt_id)) in &orders {
        let s = app.payment_status(pid).await;
        assert_ne!(s["status"], "paid", "{gateway}: {s}");
        assert!(s["paid_at"].is_null(), "{gateway}: {s}");
        let attempt = &s["attempts"][0];
        assert_eq!(attempt["id"], attempt_id.as_str());
        assert_eq!(attempt["status"], "unknown", "{gateway}: {s}");
        assert!(attempt["paid_amount"].is_null(), "{gateway}: {s}");
    }

    // Answered truthfully on the next pass, each is paid at the stated amount.
    script.honest.store(true, Ordering::SeqCst);
    app.state.clock.advance(chrono::Duration::minutes(5));
    landpay::workers::sweep(&app.state).await.unwrap();
    for (gateway, (pid, _)) in &orders {
        let s = app.payment_status(pid).await;
        assert_eq!(s["status"], "paid", "{gateway}: {s}");
        assert_eq!(s["attempts"][0]["paid_amount"], AMOUNT, "{gateway}: {s}");
    }
}
