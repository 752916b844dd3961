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
    assert!(doc["paths"]["/healthz"].is_object());
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
