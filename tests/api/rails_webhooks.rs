//! Telling the workflow on the national rails: the OpenCPS dossier action after `payment.paid`
//! and the DVCQG land-tax voucher after `notice.paid`, on the same outbox, retries, dead letters
//! and redelivery as landpay's own webhooks. Local servers play OpenCPS (checking Basic auth,
//! `groupId`, `actionCode` and the payment JSON) and a DVCQG adapter (issuing sessions and
//! checking the voucher).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use base64::Engine;
use serde_json::{json, Value};

use crate::helpers::{expect_json, expect_problem, spawn_app_driven, spawn_app_with, TestApp};

/// What the fake servers saw: (checks passed, what was sent).
type Seen = Arc<Mutex<Vec<(bool, Value)>>>;

struct Fakes {
    base: String,
    opencps: Seen,
    adapter: Seen,
    auths: Arc<Mutex<u32>>,
    /// Answers still to give (HTTP status for OpenCPS, `status` for the adapter); the last repeats.
    opencps_script: Arc<Mutex<Vec<u16>>>,
    adapter_script: Arc<Mutex<Vec<&'static str>>>,
}

fn next<T: Copy>(script: &Mutex<Vec<T>>) -> T {
    let mut s = script.lock().unwrap();
    if s.len() > 1 {
        s.remove(0)
    } else {
        s[0]
    }
}

impl Fakes {
    async fn start(opencps: &[u16], adapter: &[&'static str]) -> Self {
        let f = Self {
            base: String::new(),
            opencps: Seen::default(),
            adapter: Seen::default(),
            auths: Arc::default(),
            opencps_script: Arc::new(Mutex::new(opencps.to_vec())),
            adapter_script: Arc::new(Mutex::new(adapter.to_vec())),
        };
        let (o, a, n, os, ascr) = (
            f.opencps.clone(),
            f.adapter.clone(),
            f.auths.clone(),
            f.opencps_script.clone(),
            f.adapter_script.clone(),
        );
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = HttpServer::new(move || {
            let (o, os) = (o.clone(), os.clone());
            let (a, n1, n2, ascr) = (a.clone(), n.clone(), n.clone(), ascr.clone());
            App::new()
                .route(
                    "/opencps/o/rest/v2/dossiers/{dossier}/actions",
                    web::post().to(
                        move |req: HttpRequest,
                              path: web::Path<String>,
                              form: web::Form<Vec<(String, String)>>| {
                            let (o, os) = (o.clone(), os.clone());
                            async move {
                                let h = |k: &str| {
                                    req.headers()
                                        .get(k)
                                        .and_then(|v| v.to_str().ok())
                                        .unwrap_or_default()
                                        .to_owned()
                                };
                                let basic = format!(
                                    "Basic {}",
                                    base64::engine::general_purpose::STANDARD
                                        .encode("motcua:mat-khau-opencps")
                                );
                                let get = |k: &str| {
                                    form.iter()
                                        .find(|(n, _)| n == k)
                                        .map(|(_, v)| v.clone())
                                        .unwrap_or_default()
                                };
                                let payment: Value =
                                    serde_json::from_str(&get("payment")).unwrap_or_default();
                                let ok = h("authorization") == basic
                                    && h("groupid") == "35404"
                                    && get("actionCode") == "8001"
                                    && payment["requestPayment"] == 5
                                    && payment["feeAmount"].as_i64().is_some_and(|a| a > 0)
                                    && payment["paymentMethod"] == "landpay:vnpay"
                                    && payment["confirmPayload"]
                                        .as_str()
                                        .is_some_and(|p| p.contains("payment.paid"));
                                o.lock().unwrap().push((
                                    ok,
                                    json!({"dossier": path.into_inner(), "payment": payment}),
                                ));
                                HttpResponse::build(
                                    actix_web::http::StatusCode::from_u16(next(&os)).unwrap(),
                                )
                                .finish()
                            }
                        },
                    ),
                )
                .route(
                    "/dvcqg/auth",
                    web::post().to(move |body: web::Json<Value>| {
                        let n = n1.clone();
                        async move {
                            if body["username"] != "landpay" || body["password"] != "mat-khau-dvcqg"
                            {
                                return HttpResponse::Unauthorized().finish();
                            }
                            let mut n = n.lock().unwrap();
                            *n += 1;
                            HttpResponse::Ok().json(json!({"session": format!("S{n}")}))
                        }
                    }),
                )
                .route(
                    "/dvcqg/adapter",
                    web::post().to(move |req: HttpRequest, body: web::Json<Value>| {
                        let (a, n, ascr) = (a.clone(), n2.clone(), ascr.clone());
                        async move {
                            let session = format!("S{}", *n.lock().unwrap());
                            let b = body.into_inner();
                            let d = &b["data"];
                            let t = &d["ThongTinThanhToan"];
                            let ok = req
                                .headers()
                                .get("dstcode")
                                .is_some_and(|v| v == "000.00.00.G22")
                                && b["session"] == session.as_str()
                                && b["madonvi"] == "000.00.12.H26"
                                && b["service"] == "NhanChungTuThueDat"
                                && d["MaSoThue"] == "8000000001"
                                && d["HoTenNguoiNopTien"] == "Nguyễn Văn A"
                                && t["TrangThaiThanhToan"] == 1
                                && d["UrlFileChungTu"]
                                    .as_str()
                                    .is_some_and(|u| u.contains("/receipt.pdf?t="));
                            a.lock().unwrap().push((ok, b));
                            match next(&ascr) {
                                // Success, padded past what a try reads of an answer.
                                "oversized" => HttpResponse::Ok().json(
                                    json!({"status": "success", "padding": "x".repeat(70_000)}),
                                ),
                                status => HttpResponse::Ok().json(json!({"status": status})),
                            }
                        }
                    }),
                )
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        tokio::spawn(server);
        Self {
            base: format!("http://127.0.0.1:{port}"),
            ..f
        }
    }

    async fn subscribe_opencps(&self, app: &TestApp) -> Value {
        let body = json!({"url": format!("{}/opencps", self.base), "format": "opencps", "events": ["payment.paid"],
            "opencps": {"username": "motcua", "password": "mat-khau-opencps", "group_id": "35404", "action_code": "8001"}});
        expect_json(
            app.post_json("/v1/webhook-endpoints", &app.admin(), &body)
                .await,
            201,
        )
        .await
    }

    async fn subscribe_dvcqg(&self, app: &TestApp) -> Value {
        let body = json!({"url": format!("{}/dvcqg/adapter", self.base), "format": "dvcqg_land_tax", "events": ["notice.paid"],
            "dvcqg": {"auth_url": format!("{}/dvcqg/auth", self.base), "username": "landpay", "password": "mat-khau-dvcqg",
                      "dstcode": "000.00.00.G22", "madonvi": "000.00.12.H26"}});
        expect_json(
            app.post_json("/v1/webhook-endpoints", &app.admin(), &body)
                .await,
            201,
        )
        .await
    }
}

/// The endpoint's deliveries, which must all have `status`.
async fn all_with_status(app: &TestApp, endpoint: &Value, status: &str) -> Vec<Value> {
    let d = app.deliveries_of(endpoint).await;
    assert!(
        !d.is_empty() && d.iter().all(|d| d["status"] == status),
        "deliveries not all {status}: {d:?}"
    );
    d
}

const FAST: (&str, &str) = ("LANDPAY__WEBHOOKS__RETRY_SCHEDULE", r#"["300ms", "300ms"]"#);

#[tokio::test]
async fn the_opencps_action_is_delivered_once_after_a_failure_and_dies_after_the_schedule() {
    let fakes = Fakes::start(&[500, 200], &["success"]).await;
    let app = spawn_app_driven(&[FAST]).await;
    let endpoint = fakes.subscribe_opencps(&app).await;
    assert_eq!(endpoint["format"], "opencps");
    let pid = app.paid_payment(1_250_000).await;
    assert_eq!(app.deliver_with_retries().await, 2);
    let d = all_with_status(&app, &endpoint, "delivered").await;
    assert_eq!(d.len(), 1);
    let tries = d[0]["tries"].as_array().unwrap();
    assert_eq!(tries.len(), 2, "{d:?}");
    assert_eq!(tries.iter().filter(|t| t["status_code"] == 200).count(), 1);
    app.advance(std::time::Duration::from_secs(60));
    assert_eq!(
        app.deliver().await,
        0,
        "nothing more is sent once delivered"
    );
    let seen = fakes.opencps.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "one failure, then delivered once: {seen:?}");
    assert!(seen.iter().all(|(ok, _)| *ok), "{seen:?}");
    let (_, sent) = &seen[1];
    assert_eq!(sent["dossier"], "000.00.12.H26-261120-0001");
    assert_eq!(sent["payment"]["feeAmount"], 1_250_000);
    assert!(sent["payment"]["paymentNote"]
        .as_str()
        .unwrap()
        .starts_with(&pid));

    // Always refused: dead after the schedule (1 try + 2 retries); redelivery sends it again.
    *fakes.opencps_script.lock().unwrap() = vec![503];
    let pid2 = app.paid_payment(2_000_000).await;
    assert_eq!(app.deliver_with_retries().await, 3);
    let ds = with_status_of(&app, &endpoint, &pid2, "dead").await;
    assert_eq!(ds["tries"].as_array().unwrap().len(), 3, "{ds}");
    *fakes.opencps_script.lock().unwrap() = vec![200];
    let event_id = ds["event_id"].as_str().unwrap();
    let res = app
        .post_json(
            &format!("/v1/events/{event_id}/redeliver"),
            &app.admin(),
            &json!({}),
        )
        .await;
    expect_json(res, 202).await;
    assert_eq!(app.deliver().await, 1);
    assert!(fakes
        .opencps
        .lock()
        .unwrap()
        .last()
        .is_some_and(|(ok, s)| *ok && s["payment"]["feeAmount"] == 2_000_000));
}

/// The delivery of `payment_id`'s `payment.paid`, which must have `status`.
async fn with_status_of(app: &TestApp, endpoint: &Value, payment_id: &str, status: &str) -> Value {
    let events = expect_json(
        app.get("/v1/events?type=payment.paid", &app.admin()).await,
        200,
    )
    .await;
    let event_id = events["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["data"]["payment"]["id"] == payment_id)
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .unwrap();
    let d = app
        .deliveries_of(endpoint)
        .await
        .into_iter()
        .find(|d| d["event_id"] == event_id.as_str())
        .unwrap_or_else(|| panic!("no delivery of {event_id}"));
    assert_eq!(d["status"], status, "{d}");
    d
}

#[tokio::test]
async fn the_dvcqg_voucher_is_delivered_once_with_a_cached_session_and_dies_after_the_schedule() {
    let fakes = Fakes::start(&[200], &["error", "success"]).await;
    let app = spawn_app_driven(&[FAST]).await;
    let endpoint = fakes.subscribe_dvcqg(&app).await;
    app.paid_payment(900_000).await;
    assert_eq!(app.deliver_with_retries().await, 2);
    let d = all_with_status(&app, &endpoint, "delivered").await;
    assert_eq!(d[0]["event_type"], "notice.paid");
    assert_eq!(d[0]["tries"].as_array().unwrap().len(), 2, "{d:?}");
    app.advance(std::time::Duration::from_secs(60));
    assert_eq!(
        app.deliver().await,
        0,
        "nothing more is sent once delivered"
    );
    let seen = fakes.adapter.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert!(seen.iter().all(|(ok, _)| *ok), "{seen:?}");
    let data = &seen[1].1["data"];
    assert_eq!(data["ThongTinThanhToan"]["SoTien"], 900_000);
    assert!(data["ThongTinThanhToan"]["MaThongBaoThue"]
        .as_str()
        .unwrap()
        .starts_with("N-"));
    let when = data["ThongTinThanhToan"]["ThoiGianThanhToan"]
        .as_str()
        .unwrap();
    assert!(
        chrono::NaiveDateTime::parse_from_str(when, "%d/%m/%Y %H:%M:%S").is_ok(),
        "{when}"
    );
    assert!(
        data["MaHoSo"]
            .as_str()
            .unwrap()
            .starts_with("000.00.12.H26-N-"),
        "{data}"
    );
    // Refused once: a new session was asked for; the next voucher reuses it.
    assert_eq!(*fakes.auths.lock().unwrap(), 2);
    app.paid_payment(300_000).await;
    assert_eq!(app.deliver_all().await, 1);
    assert_eq!(fakes.adapter.lock().unwrap().len(), 3);
    assert!(fakes.adapter.lock().unwrap()[2].0);
    assert_eq!(
        *fakes.auths.lock().unwrap(),
        2,
        "the session is cached until refused"
    );

    *fakes.adapter_script.lock().unwrap() = vec!["error"];
    app.paid_payment(400_000).await;
    assert_eq!(app.deliver_with_retries().await, 3);
    assert_eq!(fakes.adapter.lock().unwrap().len(), 6);
    let dead = any_with_status(&app, &endpoint, "dead").await;
    assert_eq!(dead["tries"].as_array().unwrap().len(), 3, "{dead}");
    assert!(
        dead["tries"][0]["error"]
            .as_str()
            .unwrap()
            .contains("status"),
        "{dead}"
    );
}

#[tokio::test]
async fn an_adapter_answer_too_long_to_read_is_not_taken_for_success() {
    let fakes = Fakes::start(&[200], &["oversized", "success"]).await;
    let app = spawn_app_driven(&[FAST]).await;
    let endpoint = fakes.subscribe_dvcqg(&app).await;
    app.paid_payment(900_000).await;
    assert_eq!(app.deliver_with_retries().await, 2);
    let d = all_with_status(&app, &endpoint, "delivered").await;
    let tries = d[0]["tries"].as_array().unwrap();
    assert_eq!(tries.len(), 2, "{d:?}");
    assert_eq!(tries[0]["status_code"], 200);
    let why = tries[0]["error"].as_str().unwrap();
    assert!(why.contains("longer than 65536 bytes"), "{why}");
    assert_eq!(tries[1]["error"], Value::Null);
    assert_eq!(
        *fakes.auths.lock().unwrap(),
        2,
        "the next try asks for a new session"
    );
}

async fn any_with_status(app: &TestApp, endpoint: &Value, status: &str) -> Value {
    app.deliveries_of(endpoint)
        .await
        .into_iter()
        .find(|d| d["status"] == status)
        .unwrap_or_else(|| panic!("no delivery is {status}"))
}

#[tokio::test]
async fn workflow_credentials_are_checked_and_never_shown_again() {
    let app = spawn_app_with(&[]).await;
    let missing = json!({"url": "http://127.0.0.1:9/opencps", "format": "opencps", "events": ["payment.paid"]});
    let p = expect_problem(
        app.post_json("/v1/webhook-endpoints", &app.admin(), &missing)
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert!(p.to_string().contains("opencps"), "{p}");
    let unknown =
        json!({"url": "http://127.0.0.1:9/x", "format": "xml", "events": ["payment.paid"]});
    let p = expect_problem(
        app.post_json("/v1/webhook-endpoints", &app.admin(), &unknown)
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert!(p.to_string().contains("format"), "{p}");
    let nul = json!({"url": "http://127.0.0.1:9/opencps", "format": "opencps", "events": ["payment.paid"],
        "opencps": {"username": "a\u{0}", "password": "p", "group_id": "1", "action_code": "2"}});
    let p = expect_problem(
        app.post_json("/v1/webhook-endpoints", &app.admin(), &nul)
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert!(p.to_string().contains("opencps.username"), "{p}");
    let bad_auth = json!({"url": "http://127.0.0.1:9/a", "format": "dvcqg_land_tax", "events": ["notice.paid"],
        "dvcqg": {"auth_url": "ftp://x", "username": "u", "password": "p", "dstcode": "d", "madonvi": "m"}});
    let p = expect_problem(
        app.post_json("/v1/webhook-endpoints", &app.admin(), &bad_auth)
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert!(p.to_string().contains("dvcqg.auth_url"), "{p}");

    let fakes = Fakes::start(&[200], &["success"]).await;
    let created = fakes.subscribe_opencps(&app).await;
    let id = created["id"].as_str().unwrap();
    let listed = expect_json(app.get("/v1/webhook-endpoints", &app.admin()).await, 200).await;
    let one = expect_json(
        app.get(&format!("/v1/webhook-endpoints/{id}"), &app.admin())
            .await,
        200,
    )
    .await;
    for shown in [created.to_string(), listed.to_string(), one.to_string()] {
        assert!(!shown.contains("mat-khau-opencps"), "{shown}");
    }
}
