#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::helpers::{expect_json, expect_problem, spawn_app};
use reqwest::Method;

#[tokio::test]
async fn health_ready_and_request_ids() {
    let app = spawn_app().await;
    let res = app.request(Method::GET, "/healthz").send().await.unwrap();
    assert!(res.headers().get("x-request-id").is_some());
    expect_json(res, 200).await;
    let body = expect_json(
        app.request(Method::GET, "/readyz").send().await.unwrap(),
        200,
    )
    .await;
    assert_eq!(body["status"], "ready");
    let res = app
        .request(Method::GET, "/healthz")
        .header("X-Request-Id", "trace-abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "trace-abc-123");
}

#[tokio::test]
async fn unknown_routes_and_methods_are_problems() {
    let app = spawn_app().await;
    expect_problem(
        app.request(Method::GET, "/nowhere").send().await.unwrap(),
        404,
        "not_found",
    )
    .await;
    expect_problem(
        app.request(Method::DELETE, "/healthz")
            .send()
            .await
            .unwrap(),
        405,
        "method_not_allowed",
    )
    .await;
}

#[tokio::test]
async fn metrics_are_prometheus_text() {
    let app = spawn_app().await;
    app.request(Method::GET, "/healthz").send().await.unwrap();
    let text = app
        .request(Method::GET, "/metrics")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("# TYPE landpay_http_requests_total counter"),
        "{text}"
    );
    assert!(text.contains("# TYPE landpay_http_request_duration_seconds histogram"));
    assert!(text.contains("landpay_db_pool_connections"));
    assert!(text.contains(r#"route="/healthz""#));
}

#[tokio::test]
async fn openapi_is_3_1_and_docs_load_nothing_from_elsewhere() {
    let app = spawn_app().await;
    let doc = expect_json(
        app.request(Method::GET, "/openapi.json")
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3."),
        "{}",
        doc["openapi"]
    );
    // Every path of the contract, written in full.
    for path in [
        "/healthz",
        "/readyz",
        "/metrics",
        "/v1/quotes",
        "/v1/assessments",
        "/v1/assessments/{id}",
        "/v1/late-interest",
        "/v1/notices",
        "/v1/notices/{id}",
        "/v1/payments",
        "/v1/payments/{id}",
        "/v1/payments/{id}/cancel",
        "/v1/payments/{id}/events",
        "/v1/payments/{id}/pay-link",
        "/v1/payments/{id}/attempts",
        "/v1/payments/{id}/refunds",
        "/v1/flags",
        "/v1/payments/{id}/flags/{flag}/resolve",
        "/callbacks/vnpay/ipn",
        "/callbacks/vnpay/return",
        "/callbacks/momo/ipn",
        "/callbacks/zalopay",
        "/v1/events",
        "/v1/webhook-endpoints",
        "/v1/webhook-endpoints/{id}",
        "/v1/webhook-endpoints/{id}/rotate-secret",
        "/v1/webhook-endpoints/{id}/deliveries",
        "/v1/events/{id}/redeliver",
        "/v1/reconciliations",
        "/v1/reconciliations/{id}",
        "/v1/reports/collections",
        "/pay/{id}",
        "/pay/{id}/result",
    ] {
        assert!(
            doc["paths"][path].is_object(),
            "{path} missing from the OpenAPI document"
        );
    }
    let text = doc.to_string();
    assert!(!text.contains("dev-only"), "no secret in the examples");
    let res = app.request(Method::GET, "/docs").send().await.unwrap();
    assert_eq!(res.status().as_u16(), 308);
    for asset in ["/docs/", "/docs/swagger-initializer.js"] {
        let text = app
            .request(Method::GET, asset)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            !text.contains("http://") && !text.contains("https://"),
            "{asset} names a host: {text}"
        );
    }
}

#[tokio::test]
async fn oversized_bodies_and_bad_queries_are_problems() {
    let app = crate::helpers::spawn_app_with(&[("LANDPAY__SERVER__MAX_BODY_BYTES", "1024")]).await;
    let big = serde_json::json!({"procedure": "x".repeat(4096)});
    expect_problem(
        app.post_json("/v1/quotes", &app.portal(), &big).await,
        413,
        "payload_too_large",
    )
    .await;
    let p = expect_problem(
        app.get("/v1/payments?limit=5000", &app.portal()).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "limit");
    let p = expect_problem(
        app.get("/v1/payments?limit=abc", &app.portal()).await,
        400,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "limit");
    let res = app
        .request(Method::POST, "/v1/quotes")
        .bearer_auth(app.portal())
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    expect_problem(res, 415, "unsupported_media_type").await;
}

#[tokio::test]
async fn payer_pages_carry_security_headers_and_refuse_forged_links() {
    let app = spawn_app().await;
    let p = app.payment(1_000_000).await;
    let url = p["pay_url"].as_str().unwrap();
    let res = app.client.get(url).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let h = res.headers();
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("default-src 'none'")
            && csp.contains("frame-ancestors 'none'")
            && !csp.contains("script-src"),
        "{csp}"
    );
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["cache-control"], "no-store");
    assert_eq!(h["referrer-policy"], "no-referrer");
    let html = res.text().await.unwrap();
    assert!(html.contains("<html lang=\"vi\">") && html.contains("1.000.000 đ"));
    assert!(!html.contains("<script"), "no script at all");
    let forged = url.replace("?t=", "?t=1");
    assert_eq!(
        app.client
            .get(&forged)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        403
    );
    let other = url.replace(p["id"].as_str().unwrap(), "pay_01jdzzzzzzzzzzzzzzzzzzzzzz");
    assert_eq!(
        app.client
            .get(&other)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        404
    );
    // A re-issued link works; an expired one does not.
    let fresh = expect_json(
        app.post_json(
            &format!("/v1/payments/{}/pay-link", p["id"].as_str().unwrap()),
            &app.portal(),
            &serde_json::json!({}),
        )
        .await,
        200,
    )
    .await;
    assert_ne!(fresh["pay_url"], p["pay_url"]);
    assert_eq!(
        app.client
            .get(fresh["pay_url"].as_str().unwrap())
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        200
    );
    app.state.clock.advance(chrono::Duration::days(3));
    assert_eq!(
        app.client.get(url).send().await.unwrap().status().as_u16(),
        403
    );
}
