//! The national rails: the DVCQG payment platform and PayGov. Local servers play each platform
//! and check landpay's signatures with their own code; results are signed here, independently
//! of the service (plain SHA-256 of the `|`-joined fields and the key).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::helpers::{expect_json, spawn_app_with, TestApp};

pub const GLOBAL_KEY: &str = "dvcqg-service-key-for-tests";
pub const AGENCY_KEY: &str = "dvcqg-agency-key-for-tests";
pub const AGENCY_PARTNER: &str = "VPDKDD-HN";

/// Lower-case hex SHA-256 of `fields` joined by `|`, then `|key` (written here from the
/// protocol's description, not from the service's code).
pub fn sha_mac(fields: &[&str], key: &str) -> String {
    let text = format!("{}|{key}", fields.join("|"));
    hex::encode(Sha256::digest(text.as_bytes()))
}

fn field(v: &Value, k: &str) -> String {
    v[k].as_str()
        .map_or_else(|| v[k].to_string(), str::to_owned)
}

/// A local DVCQG platform: `/init` checks `MaXacThuc` with the agency's key and answers
/// `UrlThanhToan`; `/query` checks its message and answers with `paid` (when set) signed.
pub struct Platform {
    pub url: String,
    pub seen: Arc<Mutex<Vec<Value>>>,
    pub paid: Arc<Mutex<Option<(String, String)>>>,
}

impl Platform {
    pub async fn start() -> Self {
        let seen: Arc<Mutex<Vec<Value>>> = Arc::default();
        let paid: Arc<Mutex<Option<(String, String)>>> = Arc::default();
        let (s, p) = (seen.clone(), paid.clone());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = HttpServer::new(move || {
            let (s1, s2, p2) = (s.clone(), s.clone(), p.clone());
            App::new()
                .route("/init", web::post().to(move |body: web::Json<Value>| {
                    let s = s1.clone();
                    async move {
                        let b = body.into_inner();
                        let fields: Vec<String> = ["LoaiBanTin", "PhienBan", "MaDoiTac", "MaThamChieu", "SoTien", "LoaiHinhThanhToan",
                            "MaKenhThanhToan", "MaThietBi", "NgonNgu", "MaTienTe", "MaNganHang", "ThongTinGiaoDich", "ThoiGianGD", "Ip"]
                            .iter().map(|f| field(&b, f)).collect();
                        let refs: Vec<&str> = fields.iter().map(String::as_str).collect();
                        let ok = sha_mac(&refs, AGENCY_KEY) == field(&b, "MaXacThuc");
                        s.lock().unwrap().push(b.clone());
                        HttpResponse::Ok().json(if ok {
                            json!({"MaLoi": "00", "MoTaLoi": "OK", "UrlThanhToan": format!("https://thanhtoan.dichvucong.example.gov.vn/pay?ref={}", field(&b, "MaThamChieu"))})
                        } else {
                            json!({"MaLoi": "05", "MoTaLoi": "Sai mã xác thực"})
                        })
                    }
                }))
                .route("/query", web::post().to(move |body: web::Json<Value>| {
                    let (s, p) = (s2.clone(), p2.clone());
                    async move {
                        let b = body.into_inner();
                        let fields: Vec<String> = ["LoaiBanTin", "PhienBan", "MaDoiTac", "MaThamChieu", "ThoiGianGD"].iter().map(|f| field(&b, f)).collect();
                        let refs: Vec<&str> = fields.iter().map(String::as_str).collect();
                        let ok = sha_mac(&refs, AGENCY_KEY) == field(&b, "MaXacThuc");
                        s.lock().unwrap().push(b.clone());
                        let Some((reference, amount)) = p.lock().unwrap().clone().filter(|_| ok) else {
                            return HttpResponse::Ok().json(json!({"MaLoi": "01", "MoTaLoi": "Không tìm thấy"}));
                        };
                        HttpResponse::Ok().json(result(&reference, &amount, "00", AGENCY_PARTNER, AGENCY_KEY))
                    }
                }))
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        tokio::spawn(server);
        Self {
            url: format!("http://127.0.0.1:{port}"),
            seen,
            paid,
        }
    }
}

/// A result message signed with `key` (`ThoiGianGD` before `ThongTinGiaoDich`).
pub fn result(reference: &str, amount: &str, code: &str, partner: &str, key: &str) -> Value {
    let time = "20261202093000";
    let info = "Thanh toan ho so";
    let mac = sha_mac(
        &[
            "2",
            code,
            partner,
            reference,
            amount,
            "VND",
            "DVC123456",
            "NCB",
            time,
            info,
        ],
        key,
    );
    json!({"LoaiBanTin": "2", "MaLoi": code, "MaDoiTac": partner, "MaThamChieu": reference, "SoTien": amount,
           "MaTienTe": "VND", "MaGiaoDich": "DVC123456", "MaNganHang": "NCB", "ThoiGianGD": time,
           "ThongTinGiaoDich": info, "MaXacThuc": mac})
}

/// The agency's own platform account, as inline TOML for `agencies`.
pub fn agencies_toml() -> String {
    format!(
        r#"{{ HN-VPDKDD = {{ gateways = {{ dvcqg = {{ partner_code = "{AGENCY_PARTNER}", hash_key = "{AGENCY_KEY}", beneficiary_account = "3511", beneficiary_bank = "970415", beneficiary_name = "VP DANG KY DAT DAI HA NOI", agency_name = "Văn phòng đăng ký đất đai Hà Nội" }} }} }} }}"#
    )
}

async fn app_with_platform(platform: &Platform, extra: &[(&str, &str)]) -> TestApp {
    let init = format!("{}/init", platform.url);
    let query = format!("{}/query", platform.url);
    let agencies = agencies_toml();
    let mut o: Vec<(&str, &str)> = vec![
        ("LANDPAY__GATEWAYS__DVCQG__ENABLED", "true"),
        ("LANDPAY__GATEWAYS__DVCQG__INIT_URL", &init),
        ("LANDPAY__GATEWAYS__DVCQG__QUERY_URL", &query),
        ("LANDPAY__GATEWAYS__DVCQG__HASH_KEY", GLOBAL_KEY),
        ("LANDPAY__AGENCIES", &agencies),
    ];
    o.extend_from_slice(extra);
    spawn_app_with(&o).await
}

pub async fn post_result(app: &TestApp, body: &str) -> Value {
    let res = app
        .request(reqwest::Method::POST, "/callbacks/dvcqg")
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    res.json().await.unwrap()
}

async fn events(app: &TestApp, pid: &str) -> Vec<String> {
    let v = expect_json(
        app.get(&format!("/v1/payments/{pid}/events"), &app.admin())
            .await,
        200,
    )
    .await;
    v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// A pending payment for two notice lines, and its DVCQG attempt.
async fn dvcqg_attempt(app: &TestApp) -> (String, Value, Value) {
    let no = format!("N-{}", ulid::Ulid::new());
    let mut body = crate::helpers::notice_body(&no, "HN-VPDKDD", 1_500_000, "2099-12-31");
    body["lines"].as_array_mut().unwrap().push(json!({"chapter": "757", "sub_item": "1006",
        "name": "Thuế thu nhập cá nhân", "amount": 500_000, "due_date": "2099-12-31", "interest_sub_item": null}));
    let notice = expect_json(
        app.post_json("/v1/notices", &app.portal(), &body).await,
        201,
    )
    .await;
    let payment = app.payment_for(&json!([{"notice_id": notice["id"]}])).await;
    let pid = payment["id"].as_str().unwrap().to_owned();
    let attempt = app.attempt(&pid, "dvcqg").await;
    (pid, payment, attempt)
}

#[tokio::test]
async fn a_dvcqg_payment_is_paid_end_to_end_and_a_duplicate_moves_nothing() {
    let platform = Platform::start().await;
    let app = app_with_platform(&platform, &[]).await;
    let (pid, payment, attempt) = dvcqg_attempt(&app).await;
    let reference = attempt["reference"].as_str().unwrap().to_owned();
    assert!(reference.len() <= 20, "{reference}");
    assert_eq!(
        attempt["redirect_url"],
        format!("https://thanhtoan.dichvucong.example.gov.vn/pay?ref={reference}")
    );
    // The create message as the platform received it.
    let sent = platform.seen.lock().unwrap()[0].clone();
    assert_eq!(sent["MaDoiTac"], AGENCY_PARTNER);
    assert_eq!(sent["MaThamChieu"], reference.as_str());
    assert_eq!(sent["SoTien"], "2000000");
    assert_eq!(sent["MaTienTe"], "VND");
    let receipt = &sent["ThongTinBienLai"];
    assert_eq!(receipt["MaHoSo"], payment["dossier_code"]);
    assert_eq!(receipt["TKThuHuong"], "3511");
    assert_eq!(receipt["MaNHThuHuong"], "970415");
    assert_eq!(receipt["TenDonVi"], "Văn phòng đăng ký đất đai Hà Nội");
    let fees = receipt["PhiLePhi"].as_array().unwrap();
    assert_eq!(fees.len(), 2, "one entry per line: {receipt}");
    assert_eq!(fees[0]["LoaiPhiLePhi"], "2");
    assert_eq!(fees[0]["MaPhiLePhi"], "2801");
    assert_eq!(fees[0]["SoTien"], 1_500_000);
    assert_eq!(fees[1]["SoTien"], 500_000);
    assert_eq!(receipt["HoTenNguoiNop"], "Nguyễn Văn A");

    // The platform's result, signed with the agency's key.
    let body = result(&reference, "2000000", "00", AGENCY_PARTNER, AGENCY_KEY).to_string();
    let answer = post_result(&app, &body).await;
    assert_eq!(answer["MaLoi"], "00", "{answer}");
    assert_eq!(answer["MaThamChieu"], reference.as_str());
    assert_eq!(answer["MaDoiTac"], AGENCY_PARTNER);
    let p = app.payment_status(&pid).await;
    assert_eq!(p["status"], "paid", "{p}");
    assert_eq!(p["attempts"][0]["gateway_txn_no"], "DVC123456");

    // The same result again: 00, and nothing moves twice.
    let again = post_result(&app, &body).await;
    assert_eq!(again["MaLoi"], "00");
    let types = events(&app, &pid).await;
    assert_eq!(
        types.iter().filter(|t| *t == "payment.paid").count(),
        1,
        "{types:?}"
    );
    let log = expect_json(
        app.get(
            &format!("/v1/callbacks?gateway=dvcqg&payment_id={pid}"),
            &app.finance(),
        )
        .await,
        200,
    )
    .await;
    let verdicts: Vec<(&str, &str)> = log["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["verdict"].as_str().unwrap(),
                c["answer"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(verdicts, vec![("already_settled", "00"), ("valid", "00")]);
}

#[tokio::test]
async fn a_forged_or_malformed_dvcqg_result_is_refused_with_99_and_nothing_moves() {
    let platform = Platform::start().await;
    let app = app_with_platform(&platform, &[]).await;
    let (pid, _, attempt) = dvcqg_attempt(&app).await;
    let reference = attempt["reference"].as_str().unwrap();
    let forged = [
        result(reference, "2000000", "00", AGENCY_PARTNER, "not-the-key").to_string(),
        // Signed right, then the amount changed.
        result(reference, "2000000", "00", AGENCY_PARTNER, AGENCY_KEY)
            .to_string()
            .replace("\"SoTien\":\"2000000\"", "\"SoTien\":\"1\""),
        // Another agency's partner code with the service's key.
        result(reference, "2000000", "00", "LANDPAY", GLOBAL_KEY).to_string(),
        "{not json".to_owned(),
        json!({"MaThamChieu": reference, "MaLoi": "00"}).to_string(),
        result(reference, "2000000", "00", AGENCY_PARTNER, AGENCY_KEY)
            .to_string()
            .replace("Thanh toan ho so", "Thanh toan\\u0000"),
        // Signed right, for a reference nobody knows.
        result(
            "UNKNOWNREF0000000000",
            "2000000",
            "00",
            AGENCY_PARTNER,
            AGENCY_KEY,
        )
        .to_string(),
    ];
    for body in &forged {
        let answer = post_result(&app, body).await;
        assert_eq!(answer["MaLoi"], "99", "{body} → {answer}");
    }
    let p = app.payment_status(&pid).await;
    assert_eq!(p["status"], "processing", "{p}");
    assert_eq!(p["attempts"][0]["status"], "redirected");
    assert!(p["flags"].as_array().unwrap().is_empty(), "{p}");
    let types = events(&app, &pid).await;
    assert!(!types.iter().any(|t| t == "payment.paid"), "{types:?}");
    let log = expect_json(
        app.get("/v1/callbacks?gateway=dvcqg", &app.finance()).await,
        200,
    )
    .await;
    let verdicts: Vec<&str> = log["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["verdict"].as_str().unwrap())
        .collect();
    assert_eq!(
        verdicts.iter().filter(|v| **v == "bad_signature").count(),
        3,
        "{verdicts:?}"
    );
    assert!(verdicts.contains(&"wrong_merchant"), "{verdicts:?}");
    assert!(verdicts.contains(&"unknown_reference"), "{verdicts:?}");
}

#[tokio::test]
async fn a_short_dvcqg_amount_is_flagged_and_a_failure_fails_the_attempt() {
    let platform = Platform::start().await;
    let app = app_with_platform(&platform, &[]).await;
    let (pid, _, attempt) = dvcqg_attempt(&app).await;
    let reference = attempt["reference"].as_str().unwrap();
    let short = result(reference, "1999999", "00", AGENCY_PARTNER, AGENCY_KEY).to_string();
    assert_eq!(post_result(&app, &short).await["MaLoi"], "00");
    let p = app.payment_status(&pid).await;
    assert_ne!(p["status"], "paid");
    assert_eq!(p["flags"][0]["flag"], "amount_mismatch", "{p}");

    let (pid2, _, attempt2) = dvcqg_attempt(&app).await;
    let reference2 = attempt2["reference"].as_str().unwrap();
    let declined = result(reference2, "2000000", "24", AGENCY_PARTNER, AGENCY_KEY).to_string();
    assert_eq!(post_result(&app, &declined).await["MaLoi"], "00");
    let p2 = app.payment_status(&pid2).await;
    assert_eq!(p2["attempts"][0]["status"], "failed", "{p2}");
    assert_eq!(p2["status"], "pending");
}

#[tokio::test]
async fn the_janitor_asks_the_dvcqg_platform_with_a_signed_query() {
    let platform = Platform::start().await;
    let app = app_with_platform(&platform, &[("LANDPAY__PAYMENTS__ATTEMPT_TTL", "1s")]).await;
    let (pid, _, attempt) = dvcqg_attempt(&app).await;
    let reference = attempt["reference"].as_str().unwrap().to_owned();
    *platform.paid.lock().unwrap() = Some((reference.clone(), "2000000".into()));
    app.state
        .clock
        .advance(chrono::Duration::milliseconds(1500));
    landpay::payments::service::janitor_pass(&app.state)
        .await
        .unwrap();
    let query = platform.seen.lock().unwrap().last().cloned().unwrap();
    assert_eq!(query["LoaiBanTin"], "3", "{query}");
    assert_eq!(query["MaThamChieu"], reference.as_str());
    let p = app.payment_status(&pid).await;
    assert_eq!(p["status"], "paid", "{p}");
}

#[tokio::test]
async fn a_platform_refusal_fails_the_attempt_with_502() {
    let platform = Platform::start().await;
    // The service signs with a key the platform does not hold: it answers 05.
    let app = app_with_platform(&platform, &[("LANDPAY__AGENCIES", "{}")]).await;
    let no = format!("N-{}", ulid::Ulid::new());
    let notice = app.notice(&no, 100_000, "2099-12-31").await;
    let payment = app.payment_for(&json!([{"notice_id": notice["id"]}])).await;
    let pid = payment["id"].as_str().unwrap();
    let res = app
        .post_json(
            &format!("/v1/payments/{pid}/attempts"),
            &app.portal(),
            &json!({"gateway": "dvcqg"}),
        )
        .await;
    crate::helpers::expect_problem(res, 502, "gateway_unavailable").await;
}

/// A local PayGov: checks the checksum and the LGSP headers, answers `data.url`.
async fn paygov_server(seen: Arc<Mutex<Vec<(Value, String, String)>>>) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = HttpServer::new(move || {
        let s = seen.clone();
        App::new().route("/create", web::post().to(move |req: HttpRequest, body: web::Json<Value>| {
            let s = s.clone();
            async move {
                let b = body.into_inner();
                let h = |n: &str| req.headers().get(n).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
                let text = format!("paygov-secret-for-tests{}{}{}{}{}", field(&b, "accessKey"), field(&b, "partnerCode"), field(&b, "orderId"), field(&b, "requestCode"), field(&b, "amount"));
                let ok = hex::encode(Sha256::digest(text.as_bytes())) == field(&b, "checksum")
                    && b.as_object().unwrap().values().all(Value::is_string);
                s.lock().unwrap().push((b.clone(), h("authorization"), h("lgsp-access-token")));
                HttpResponse::Ok().json(if ok {
                    json!({"data": {"url": format!("https://paygov.example.gov.vn/pay/{}", field(&b, "orderId"))}})
                } else {
                    json!({"message": "checksum"})
                })
            }
        }))
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    format!("http://127.0.0.1:{port}/create")
}

#[tokio::test]
async fn a_paygov_return_leaves_the_attempt_unknown_and_a_settlement_file_pays_it() {
    let seen: Arc<Mutex<Vec<(Value, String, String)>>> = Arc::default();
    let create = paygov_server(seen.clone()).await;
    let app = spawn_app_with(&[
        ("LANDPAY__GATEWAYS__PAYGOV__ENABLED", "true"),
        ("LANDPAY__GATEWAYS__PAYGOV__CREATE_URL", &create),
        (
            "LANDPAY__GATEWAYS__PAYGOV__SECRET_KEY",
            "paygov-secret-for-tests",
        ),
        (
            "LANDPAY__GATEWAYS__PAYGOV__BEARER_TOKEN",
            "bearer-for-tests",
        ),
        ("LANDPAY__GATEWAYS__PAYGOV__LGSP_TOKEN", "lgsp-for-tests"),
    ])
    .await;
    let payment = app.payment(750_000).await;
    let pid = payment["id"].as_str().unwrap();
    let attempt = app.attempt(pid, "paygov").await;
    let reference = attempt["reference"].as_str().unwrap();
    assert_eq!(
        attempt["redirect_url"],
        format!("https://paygov.example.gov.vn/pay/{reference}")
    );
    let (body, auth, lgsp) = seen.lock().unwrap()[0].clone();
    assert_eq!(body["amount"], "750000");
    assert_eq!(auth, "Bearer bearer-for-tests");
    assert_eq!(lgsp, "lgsp-for-tests");

    // The browser comes back saying "paid": nothing is recorded, the attempt is unknown.
    let res = app
        .request(
            reqwest::Method::GET,
            &format!("/callbacks/paygov/return?paygate=VCB&orderId={reference}&errorCode=00&amount=750000&transactionNo=PG1&checksum=abc"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 303);
    assert!(res.headers()["location"]
        .to_str()
        .unwrap()
        .contains("/result"));
    let p = app.payment_status(pid).await;
    assert_eq!(p["status"], "processing", "{p}");
    assert_eq!(p["attempts"][0]["status"], "unknown");
    assert!(p["paid_at"].is_null());

    // PayGov's settlement file pays it.
    let date = chrono::Utc::now()
        .with_timezone(&landpay::clock::vietnam())
        .date_naive();
    let csv = format!(
        "gateway_txn_no,txn_ref,amount,status,paid_at,bank_code,fee\nPG1,{reference},750000,success,{date}T10:15:00+07:00,VCB,0\n"
    );
    let res = app
        .request(
            reqwest::Method::POST,
            &format!("/v1/reconciliations?gateway=paygov&statement_date={date}"),
        )
        .bearer_auth(app.finance())
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    expect_json(res, 201).await;
    let p = app.payment_status(pid).await;
    assert_eq!(p["status"], "paid", "{p}");
    assert_eq!(p["attempts"][0]["gateway_txn_no"], "PG1");
}

#[tokio::test]
async fn a_paygov_return_with_a_configured_checksum_is_recorded_only_when_it_verifies() {
    let seen: Arc<Mutex<Vec<(Value, String, String)>>> = Arc::default();
    let create = paygov_server(seen).await;
    let app = spawn_app_with(&[
        ("LANDPAY__GATEWAYS__PAYGOV__ENABLED", "true"),
        ("LANDPAY__GATEWAYS__PAYGOV__CREATE_URL", &create),
        (
            "LANDPAY__GATEWAYS__PAYGOV__SECRET_KEY",
            "paygov-secret-for-tests",
        ),
        (
            "LANDPAY__GATEWAYS__PAYGOV__RETURN_CHECKSUM_FIELDS",
            r#"["orderId", "errorCode", "amount", "transactionNo"]"#,
        ),
    ])
    .await;
    let payment = app.payment(750_000).await;
    let pid = payment["id"].as_str().unwrap();
    let reference = app.attempt(pid, "paygov").await["reference"]
        .as_str()
        .unwrap()
        .to_owned();
    let sum = |amount: &str| {
        let text = format!("paygov-secret-for-tests{reference}00{amount}PG7");
        hex::encode(Sha256::digest(text.as_bytes()))
    };
    let forged = format!("/callbacks/paygov/return?orderId={reference}&errorCode=00&amount=750000&transactionNo=PG7&checksum={}", sum("1"));
    let res = app
        .request(reqwest::Method::GET, &forged)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 400);
    assert_eq!(
        app.payment_status(pid).await["attempts"][0]["status"],
        "redirected"
    );
    let good = format!("/callbacks/paygov/return?orderId={reference}&errorCode=00&amount=750000&transactionNo=PG7&checksum={}", sum("750000"));
    let res = app
        .request(reqwest::Method::GET, &good)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(app.payment_status(pid).await["status"], "paid");
}

/// Test vectors: each expected value computed outside the service (`printf '…' | sha256sum`).
#[test]
fn the_rails_signatures_match_independently_computed_vectors() {
    use landpay::gateways::dvcqg::wire::{InitMessage, QueryMessage, Receipt, ResultMessage};
    let init = InitMessage {
        message_type: "1".into(),
        version: "1.0.0".into(),
        partner_code: "LANDPAY".into(),
        reference: "B3M0D5N6D2CQ1W3V9HZX".into(),
        amount: "2000000".into(),
        payment_kind: "1".into(),
        channel: "1".into(),
        device: "1".into(),
        language: "vi".into(),
        currency: "VND".into(),
        bank_code: String::new(),
        description: "Thanh toan ho so".into(),
        time: "20261202093000".into(),
        ip: "203.0.113.10".into(),
        receipt: Receipt::default(),
        mac: String::new(),
    }
    .sign("vector-key");
    assert_eq!(
        init.mac,
        "9a436d2bdfe275b4c672b3431f7cd43de70053f9662935e86bef562758cc756c"
    );
    let result = ResultMessage {
        message_type: "2".into(),
        code: "00".into(),
        partner_code: "LANDPAY".into(),
        reference: "B3M0D5N6D2CQ1W3V9HZX".into(),
        amount: "2000000".into(),
        currency: "VND".into(),
        transaction_no: "DVC1".into(),
        bank_code: "NCB".into(),
        time: "20261202093000".into(),
        description: "Thanh toan".into(),
        mac: "B1460B643F7FB1417350E567031FD1F5FFE7504EC346107C765111B3D0ACA4C3".into(),
    };
    assert!(
        result.verify("vector-key").is_ok(),
        "upper-case hex verifies"
    );
    assert!(result.verify("other-key").is_err());
    let query = QueryMessage {
        message_type: "3".into(),
        version: "1.0.0".into(),
        partner_code: "LANDPAY".into(),
        reference: "B3M0D5N6D2CQ1W3V9HZX".into(),
        time: "20261202093000".into(),
        mac: String::new(),
    }
    .sign("vector-key");
    assert_eq!(
        query.mac,
        "893225d57ecaa1f2140dd622af785f503c6742fe985509b2edcf9214c414c068"
    );

    let cfg = landpay::config::PaygovSettings {
        partner_code: "LANDPAY".into(),
        access_key: landpay::config::Secret::new("paygov-access"),
        secret_key: landpay::config::Secret::new("paygov-secret"),
        ..Default::default()
    };
    let now = chrono::Utc::now();
    let req = landpay::gateways::adapters::StartRequest {
        txn_ref: "REF1".into(),
        amount_vnd: 750_000,
        order_info: "Thanh toán hồ sơ".into(),
        client_ip: "203.0.113.10".into(),
        bank_code: None,
        locale: "vi".into(),
        created: now,
        expires: now,
        facts: Default::default(),
    };
    let body = landpay::gateways::paygov::create_body(&cfg, "https://x/return", &req);
    assert_eq!(
        body["checksum"],
        "08f6d4242cb9b22b8d5b62268bf96eca1bff50da64135e06e0668835bef87c5c"
    );
    assert_eq!(body["orderInfo"], "Thanh toan ho so");
    assert!(
        body.as_object().unwrap().values().all(Value::is_string),
        "{body}"
    );
}
