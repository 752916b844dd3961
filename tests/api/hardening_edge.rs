//! The edge: control characters refused naming the field, rate limits with Retry-After and
//! trusted proxies, security and caching headers, the body deadline and a fast `/readyz`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{expect_json, expect_problem, notice_body, spawn_app, spawn_app_with};

#[tokio::test]
async fn a_nul_anywhere_is_a_400_or_422_naming_the_field_and_changes_nothing() {
    let app = spawn_app().await;
    let admin = app.admin();
    let res = app
        .request(Method::GET, "/pay/%00?t=x")
        .send()
        .await
        .unwrap();
    let p = expect_problem(res, 400, "validation_failed").await;
    assert_eq!(p["errors"][0]["field"], "id");
    let p = expect_problem(
        app.get("/v1/payments/%00", &admin).await,
        400,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "id");
    let p = expect_problem(
        app.get("/v1/payments?agency_code=%00", &admin).await,
        400,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "agency_code");
    let mut body = notice_body("TB-1", "HN-VPDKDD", 1_000, "2099-12-31");
    body["notice_no"] = "TB\u{0}1".into();
    let res = app.post_json("/v1/notices", &admin, &body).await;
    let p = expect_problem(res, 422, "validation_failed").await;
    assert_eq!(p["errors"][0]["field"], "notice_no");
    body["notice_no"] = "TB-1".into();
    body["agency_code"] = "HN\u{0}".into();
    let p = expect_problem(
        app.post_json("/v1/notices", &admin, &body).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "agency_code");
    let hook = json!({"url": "https://hooks.example.com/\u{0}", "events": ["payment.paid"]});
    let res = app.post_json("/v1/webhook-endpoints", &admin, &hook).await;
    let p = expect_problem(res, 422, "validation_failed").await;
    assert_eq!(p["errors"][0]["field"], "url");
    let listed = expect_json(app.get("/v1/notices", &admin).await, 200).await;
    assert!(listed["data"].as_array().unwrap().is_empty());
    let listed = expect_json(app.get("/v1/webhook-endpoints", &admin).await, 200).await;
    assert!(listed["data"].as_array().unwrap().is_empty());
}

async fn status_of(
    app: &crate::helpers::TestApp,
    req: reqwest::RequestBuilder,
) -> (u16, Option<String>) {
    let _ = app;
    let res = req.send().await.unwrap();
    let retry = res
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    (res.status().as_u16(), retry)
}

#[tokio::test]
async fn public_pages_sign_in_and_the_api_are_rate_limited_with_retry_after() {
    let app = spawn_app_with(&[
        ("LANDPAY__RATE_LIMITS__PUBLIC_PER_IP", "2/min"),
        ("LANDPAY__RATE_LIMITS__SIGN_IN_PER_IP", "2/min"),
        ("LANDPAY__RATE_LIMITS__API_PER_SUBJECT", "2/min"),
    ])
    .await;
    let mut seen = Vec::new();
    for _ in 0..3 {
        seen.push(status_of(&app, app.request(Method::GET, "/pay/pay_x?t=y")).await);
    }
    assert_ne!(seen[1].0, 429);
    assert_eq!(seen[2].0, 429);
    assert!(seen[2].1.as_deref().unwrap().parse::<u64>().unwrap() <= 60);
    for i in 0..3 {
        let (status, _) = status_of(
            &app,
            app.request(Method::POST, "/finance/login")
                .form(&[("token", "nope")]),
        )
        .await;
        assert_eq!(status == 429, i == 2, "sign-in try {i}: {status}");
    }
    let token = app.token_for("busy", &[landpay::auth::Role::Admin], None);
    for i in 0..3 {
        let res = app.get("/v1/payments", &token).await;
        if i < 2 {
            assert_eq!(res.status().as_u16(), 200);
        } else {
            assert!(res.headers().contains_key("retry-after"));
            expect_problem(res, 429, "rate_limited").await;
        }
    }
    let other = app.token_for("calm", &[landpay::auth::Role::Admin], None);
    assert_eq!(app.get("/v1/payments", &other).await.status().as_u16(), 200);
}

#[tokio::test]
async fn forwarded_for_is_believed_only_from_a_trusted_proxy() {
    let limited = [("LANDPAY__RATE_LIMITS__PUBLIC_PER_IP", "1/min")];
    let untrusted = spawn_app_with(&limited).await;
    let trusted = spawn_app_with(&[
        limited[0],
        ("LANDPAY__SERVER__TRUSTED_PROXIES", r#"["127.0.0.0/8"]"#),
    ])
    .await;
    for (app, expect_second) in [(&untrusted, 429), (&trusted, 404)] {
        let mut statuses = Vec::new();
        for ip in ["203.0.113.1", "203.0.113.2"] {
            let req = app
                .request(Method::GET, "/pay/pay_x?t=y")
                .header("x-forwarded-for", ip);
            statuses.push(status_of(app, req).await.0);
        }
        assert_ne!(statuses[0], 429);
        assert_eq!(statuses[1] == 429, expect_second == 429, "{statuses:?}");
    }
}

#[tokio::test]
async fn answers_carry_hsts_csp_and_no_store() {
    let app = spawn_app_with(&[(
        "LANDPAY__SERVER__PUBLIC_BASE_URL",
        "https://pay.example.gov.vn",
    )])
    .await;
    let res = app.request(Method::GET, "/healthz").send().await.unwrap();
    let hsts = res.headers()["strict-transport-security"]
        .to_str()
        .unwrap()
        .to_owned();
    let age: u64 = hsts
        .split(';')
        .find_map(|p| p.trim().strip_prefix("max-age="))
        .unwrap()
        .parse()
        .unwrap();
    assert!(age >= 31_536_000, "{hsts}");
    let res = app.request(Method::GET, "/docs/").send().await.unwrap();
    assert!(res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("default-src"));
    for res in [
        app.get("/v1/payments", &app.admin()).await,
        app.request(Method::GET, "/v1/payments")
            .send()
            .await
            .unwrap(),
    ] {
        assert_eq!(res.headers()["cache-control"], "no-store");
    }
    let plain = spawn_app().await;
    let res = plain.request(Method::GET, "/healthz").send().await.unwrap();
    assert!(!res.headers().contains_key("strict-transport-security"));
}

#[tokio::test]
async fn a_stalled_body_is_closed_with_408() {
    let app = spawn_app_with(&[("LANDPAY__SERVER__BODY_TIMEOUT", "1s")]).await;
    let token = app.portal();
    let mut streams = Vec::new();
    for _ in 0..8 {
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", app.port))
            .await
            .unwrap();
        let head = format!(
            "POST /v1/quotes HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"proc"
        );
        s.write_all(head.as_bytes()).await.unwrap();
        streams.push(s);
    }
    let started = Instant::now();
    for mut s in streams {
        let mut buf = Vec::new();
        tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut buf))
            .await
            .expect("the server closes a stalled request")
            .unwrap();
        let text = String::from_utf8_lossy(&buf);
        assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    }
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn readyz_answers_503_within_a_second_when_the_database_stops_answering() {
    // SQLite is a file in the process: it cannot stop answering the way a server does.
    let check = "readyz_answers_503_within_a_second_when_the_database_stops_answering";
    let Some((relay, app)) =
        crate::relay::app_through_relay(check, b"no statement is marked", false).await
    else {
        return;
    };
    let res = app.request(Method::GET, "/readyz").send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    relay.fall_silent();
    let started = Instant::now();
    let res = app.request(Method::GET, "/readyz").send().await.unwrap();
    assert_eq!(res.status().as_u16(), 503);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_body_trickled_a_byte_at_a_time_is_refused_at_the_total_deadline_and_closed() {
    let app = spawn_app_with(&[("LANDPAY__SERVER__BODY_TIMEOUT", "1s")]).await;
    let token = app.portal();
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", app.port))
        .await
        .unwrap();
    // 60 bytes at one every 200 ms would take 12 s: never a pause of 1 s, but 1 s in total.
    const LENGTH: usize = 60;
    let head = format!(
        "POST /v1/quotes HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {LENGTH}\r\n\r\n"
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let mut sent = 0;
    let mut chunk = [0u8; 4096];
    while sent < LENGTH {
        if s.write_all(b" ").await.is_err() {
            break;
        }
        sent += 1;
        match tokio::time::timeout(Duration::from_millis(200), s.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => answer.extend_from_slice(&chunk[..n]),
            Err(_) => {}
        }
    }
    assert!(
        sent < LENGTH,
        "the whole trickled body was read: the deadline did not bound it"
    );
    // The rest of the answer, then end of stream: the server closed the connection.
    let mut rest = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut rest))
        .await
        .expect("the server closes the connection after its 408")
        .unwrap_or_default();
    answer.extend_from_slice(&rest);
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(
        text.to_ascii_lowercase().contains("connection: close"),
        "{text}"
    );
    assert!(text.contains("request_timeout"), "{text}");
}
