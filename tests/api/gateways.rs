//! MoMo and ZaloPay through their protocols: a local server plays each gateway (checking our
//! signatures with its own code), and callbacks are signed independently of the service.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use actix_web::{web, App, HttpResponse, HttpServer};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};

use crate::helpers::{expect_json, expect_problem, spawn_app_with, TestApp};

const MOMO_ACCESS: &str = "momo-access-key-for-tests";
const MOMO_SECRET: &str = "momo-secret-key-for-tests";
const ZP_KEY1: &str = "zalopay-key1-for-tests";
const ZP_KEY2: &str = "zalopay-key2-for-tests";

fn hmac256(key: &str, data: &str) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(data.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

fn momo_raw(v: &Value, fields: &[&str]) -> String {
    fields
        .iter()
        .map(|f| {
            let val = if *f == "accessKey" {
                MOMO_ACCESS.to_owned()
            } else {
                match &v[*f] {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                }
            };
            format!("{f}={val}")
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// A local gateway: answers create requests whose signature it verified; records the bodies.
async fn gateway_server() -> (String, Arc<Mutex<Vec<Value>>>) {
    let seen: Arc<Mutex<Vec<Value>>> = Arc::default();
    let s = seen.clone();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = HttpServer::new(move || {
        let s1 = s.clone();
        let s2 = s.clone();
        App::new()
            .route("/v2/gateway/api/create", web::post().to(move |body: web::Json<Value>| {
                let s = s1.clone();
                async move {
                    let b = body.into_inner();
                    let fields = ["accessKey", "amount", "extraData", "ipnUrl", "orderId", "orderInfo", "partnerCode", "redirectUrl", "requestId", "requestType"];
                    let ok = hmac256(MOMO_SECRET, &momo_raw(&b, &fields)) == b["signature"].as_str().unwrap_or_default();
                    s.lock().unwrap().push(b.clone());
                    if !ok {
                        return HttpResponse::Ok().json(json!({"resultCode": 11, "message": "signature", "partnerCode": b["partnerCode"], "orderId": b["orderId"], "requestId": b["requestId"], "amount": b["amount"]}));
                    }
                    HttpResponse::Ok().json(json!({"partnerCode": b["partnerCode"], "orderId": b["orderId"], "requestId": b["requestId"], "amount": b["amount"],
                        "resultCode": 0, "message": "Thành công.", "payUrl": format!("https://test-payment.momo.vn/v2/gateway/pay?t={}", b["orderId"].as_str().unwrap())}))
                }
            }))
            .route("/v2/create", web::post().to(move |body: web::Json<Value>| {
                let s = s2.clone();
                async move {
                    let b = body.into_inner();
                    let data = format!("{}|{}|{}|{}|{}|{}|{}", b["app_id"], b["app_trans_id"].as_str().unwrap(), b["app_user"].as_str().unwrap(),
                        b["amount"], b["app_time"], b["embed_data"].as_str().unwrap(), b["item"].as_str().unwrap());
                    let ok = hmac256(ZP_KEY1, &data) == b["mac"].as_str().unwrap_or_default();
                    s.lock().unwrap().push(b.clone());
                    HttpResponse::Ok().json(if ok {
                        json!({"return_code": 1, "return_message": "success", "order_url": format!("https://qcgateway.zalopay.vn/openinapp?order={}", b["app_trans_id"].as_str().unwrap())})
                    } else {
                        json!({"return_code": 2, "return_message": "mac invalid"})
                    })
                }
            }))
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    (format!("http://127.0.0.1:{port}"), seen)
}

async fn app_with_gateways(endpoint: &str) -> TestApp {
    spawn_app_with(&[
        ("LANDPAY__GATEWAYS__MOMO__ENABLED", "true"),
        ("LANDPAY__GATEWAYS__MOMO__ENDPOINT", endpoint),
        ("LANDPAY__GATEWAYS__MOMO__ACCESS_KEY", MOMO_ACCESS),
        ("LANDPAY__GATEWAYS__MOMO__SECRET_KEY", MOMO_SECRET),
        ("LANDPAY__GATEWAYS__ZALOPAY__ENABLED", "true"),
        ("LANDPAY__GATEWAYS__ZALOPAY__ENDPOINT", endpoint),
        ("LANDPAY__GATEWAYS__ZALOPAY__KEY1", ZP_KEY1),
        ("LANDPAY__GATEWAYS__ZALOPAY__KEY2", ZP_KEY2),
    ])
    .await
}

#[tokio::test]
async fn momo_create_ipn_and_limits() {
    let (endpoint, seen) = gateway_server().await;
    let app = app_with_gateways(&endpoint).await;
    let p = app.payment(1_500_000).await;
    let pid = p["id"].as_str().unwrap();
    let a = app.attempt(pid, "momo").await;
    assert!(a["redirect_url"]
        .as_str()
        .unwrap()
        .starts_with("https://test-payment.momo.vn/"));
    let sent = seen.lock().unwrap()[0].clone();
    assert_eq!(sent["requestType"], "captureWallet");
    assert_eq!(sent["amount"], 1_500_000);
    assert!(sent["orderInfo"].as_str().unwrap().is_ascii());
    let mut ipn = json!({
        "partnerCode": sent["partnerCode"], "orderId": sent["orderId"], "requestId": sent["requestId"], "amount": 1_500_000,
        "orderInfo": sent["orderInfo"], "orderType": "momo_wallet", "transId": 4_088_878_653i64, "resultCode": 0,
        "message": "Successful.", "payType": "qr", "responseTime": 1_721_720_663_942i64, "extraData": ""
    });
    let fields = [
        "accessKey",
        "amount",
        "extraData",
        "message",
        "orderId",
        "orderInfo",
        "orderType",
        "partnerCode",
        "payType",
        "requestId",
        "responseTime",
        "resultCode",
        "transId",
    ];
    ipn["signature"] = json!(hmac256(MOMO_SECRET, &momo_raw(&ipn, &fields)));
    let post = |body: &Value| {
        app.request(reqwest::Method::POST, "/callbacks/momo/ipn")
            .json(body)
            .send()
    };
    assert_eq!(post(&ipn).await.unwrap().status().as_u16(), 204);
    assert_eq!(app.payment_status(pid).await["status"], "paid");
    // Tampered: refused, nothing moves.
    let mut forged = ipn.clone();
    forged["amount"] = json!(1);
    assert_eq!(post(&forged).await.unwrap().status().as_u16(), 400);
    // Over MoMo's limit: a clear 422 naming the gateway.
    let big = app.payment(60_000_000).await;
    let res = app
        .post_json(
            &format!("/v1/payments/{}/attempts", big["id"].as_str().unwrap()),
            &app.portal(),
            &json!({"gateway": "momo"}),
        )
        .await;
    let problem = expect_problem(res, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "gateway");
    assert!(
        problem["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("50000000"),
        "{problem}"
    );
}

#[tokio::test]
async fn zalopay_create_and_callback_codes() {
    let (endpoint, _) = gateway_server().await;
    let app = app_with_gateways(&endpoint).await;
    let p = app.payment(2_000_000).await;
    let pid = p["id"].as_str().unwrap();
    let a = app.attempt(pid, "zalopay").await;
    let reference = a["reference"].as_str().unwrap().to_owned();
    assert!(
        reference.chars().nth(6) == Some('_'),
        "yyMMdd_…: {reference}"
    );
    let data = json!({"app_id": 2553, "app_trans_id": reference, "app_time": 1_700_000_000_000i64, "app_user": "landpay", "amount": 2_000_000,
        "embed_data": "{}", "item": "[]", "zp_trans_id": 240_101_000_000_123i64, "server_time": 1_700_000_100_000i64, "channel": 38,
        "merchant_user_id": "u", "user_fee_amount": 0, "discount_amount": 0}).to_string();
    let body = json!({"data": data, "mac": hmac256(ZP_KEY2, &data), "type": 1});
    let url = format!("{}/callbacks/zalopay", app.address);
    let client = app.client.clone();
    let send = |b: Value| {
        let (client, url) = (client.clone(), url.clone());
        async move {
            client
                .post(url)
                .json(&b)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    assert_eq!(
        send(body.clone()).await,
        json!({"return_code": 1, "return_message": "success"})
    );
    assert_eq!(app.payment_status(pid).await["status"], "paid");
    assert_eq!(send(body.clone()).await["return_code"], 2);
    let forged = json!({"data": data, "mac": hmac256("wrong", &data), "type": 1});
    assert_eq!(send(forged).await["return_code"], -1);
    let pay = expect_json(
        app.get(&format!("/v1/payments/{pid}"), &app.admin()).await,
        200,
    )
    .await;
    assert_eq!(pay["attempts"][0]["gateway_txn_no"], "240101000000123");
}

#[tokio::test]
async fn a_signed_zalopay_reference_hiding_a_nul_behind_an_escaped_escape_is_malformed() {
    let (endpoint, _) = gateway_server().await;
    let app = app_with_gateways(&endpoint).await;
    // The signed `data` holds `\u0000` as text; the body writes that backslash as `\u005c`,
    // so no `\u0000` appears in the raw bytes, and the reference decodes to "a", NUL, "b".
    let data = r#"{"app_id":2553,"app_trans_id":"a\u0000b","app_time":1700000000000,"app_user":"u","amount":1000,"embed_data":"{}","item":"[]","zp_trans_id":123,"server_time":1700000100000,"channel":38,"merchant_user_id":"m"}"#;
    let body = json!({"data": data, "mac": hmac256(ZP_KEY2, data), "type": 1})
        .to_string()
        .replace(r"\\u0000", r"\u005cu0000");
    assert!(!body.contains(r"\u0000") && !body.contains('\0'), "{body}");
    let res = app
        .request(reqwest::Method::POST, "/callbacks/zalopay")
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let answer: Value = res.json().await.unwrap();
    // Malformed (never "call again" for ever), and logged as such.
    assert_eq!(answer["return_code"], -1, "{answer}");
    let log = expect_json(app.get("/v1/callbacks", &app.admin()).await, 200).await;
    assert_eq!(log["data"][0]["verdict"], "malformed", "{log}");
}
