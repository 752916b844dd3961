//! Traces: a request's span and its database spans reach an OTLP/HTTP collector (a stub on
//! loopback that decodes what it receives).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;

use crate::helpers::{config_dir, TestDb};
use crate::serve_child;

/// Every span the stub received: (trace id, span id, parent span id, name, attributes).
type Spans = Arc<Mutex<Vec<(Vec<u8>, Vec<u8>, Vec<u8>, String, Vec<(String, String)>)>>>;

async fn collector() -> (String, Spans, Arc<Mutex<Vec<String>>>) {
    use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
    let spans: Spans = Arc::default();
    let paths: Arc<Mutex<Vec<String>>> = Arc::default();
    let (s, p) = (spans.clone(), paths.clone());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = HttpServer::new(move || {
        let (s, p) = (s.clone(), p.clone());
        App::new().default_service(web::to(move |req: HttpRequest, body: web::Bytes| {
            let (s, p) = (s.clone(), p.clone());
            async move {
                p.lock().unwrap().push(format!(
                    "{} {} {}",
                    req.method(),
                    req.path(),
                    req.headers()
                        .get("content-type")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                ));
                let Ok(export) = ExportTraceServiceRequest::decode(body.as_ref()) else {
                    return HttpResponse::BadRequest().finish();
                };
                for rs in export.resource_spans {
                    for ss in rs.scope_spans {
                        for span in ss.spans {
                            let attrs = span
                                .attributes
                                .iter()
                                .map(|kv| (kv.key.clone(), format!("{:?}", kv.value)))
                                .collect();
                            s.lock().unwrap().push((
                                span.trace_id,
                                span.span_id,
                                span.parent_span_id,
                                span.name,
                                attrs,
                            ));
                        }
                    }
                }
                HttpResponse::Ok()
                    .content_type("application/x-protobuf")
                    .body(Vec::<u8>::new())
            }
        }))
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    (format!("http://127.0.0.1:{port}"), spans, paths)
}

#[tokio::test]
async fn a_request_and_its_database_spans_reach_the_otlp_collector() {
    let (endpoint, spans, paths) = collector().await;
    let db = TestDb::new().await;
    let command = |port: u16| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_landpay"));
        cmd.env("LANDPAY_CONFIG_DIR", config_dir());
        for (k, _) in std::env::vars() {
            if k.starts_with("LANDPAY__") || k.starts_with("OTEL_") {
                cmd.env_remove(k);
            }
        }
        serve_child::on_port(&mut cmd, port)
            .env("LANDPAY_ENV", "test")
            .env("LANDPAY__DATABASE__URL", &db.url)
            .env("LANDPAY__TELEMETRY__OTLP_ENDPOINT", &endpoint)
            .env("LANDPAY__TELEMETRY__SERVICE_NAME", "landpay-under-test");
        cmd
    };
    let (mut child, port) = serve_child::serve(command, Duration::from_secs(20))
        .await
        .unwrap_or_else(|why| panic!("the service did not become ready: {why}"));
    let client = reqwest::Client::new();
    let res = client
        .get(format!("http://127.0.0.1:{port}/readyz"))
        .header("x-request-id", "trace-me-0001")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    // SIGTERM: the service stops and flushes the spans it holds.
    assert!(Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap()
        .success());
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "still running after SIGTERM");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let paths = paths.lock().unwrap().clone();
    assert!(!paths.is_empty(), "nothing reached the collector");
    assert!(
        paths
            .iter()
            .all(|p| p == "POST /v1/traces application/x-protobuf"),
        "{paths:?}"
    );
    let spans = spans.lock().unwrap().clone();
    let request = spans
        .iter()
        .find(|(_, _, _, name, attrs)| {
            name == "request" && attrs.iter().any(|(_, v)| v.contains("trace-me-0001"))
        })
        .unwrap_or_else(|| {
            panic!(
                "no request span among {:?}",
                spans.iter().map(|s| &s.3).collect::<Vec<_>>()
            )
        });
    let db_spans: Vec<_> = spans
        .iter()
        .filter(|(trace, _, parent, name, _)| {
            name == "db.query" && *trace == request.0 && *parent == request.1
        })
        .collect();
    assert!(
        !db_spans.is_empty(),
        "no database span inside the request's trace"
    );
    assert!(db_spans[0]
        .4
        .iter()
        .any(|(k, v)| k == "db.system" && (v.contains("sqlite") || v.contains("postgresql"))));
}
