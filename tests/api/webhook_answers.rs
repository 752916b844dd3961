//! What the delivery worker does with a receiver's answer beyond its status: it reads the
//! body, so the connection serves the next try, but never more than a bounded amount.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix_web::{web, App, HttpResponse, HttpServer};
use serde_json::Value;

use crate::helpers::{expect_json, spawn_app_driven, TestApp};

/// How a test receiver answers every delivery (always `200`).
#[derive(Clone, Copy)]
enum Body {
    /// This many bytes.
    Sized(usize),
    /// A stream that never ends.
    Endless,
}

/// A receiver on loopback that reads each delivery, answers `200` with `body`, and counts
/// the TCP connections it accepts and the requests it answers.
async fn receiver(body: Body) -> (String, Arc<AtomicUsize>, Arc<AtomicUsize>) {
    let connections = Arc::new(AtomicUsize::new(0));
    let requests = Arc::new(AtomicUsize::new(0));
    let (c, r) = (connections.clone(), requests.clone());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = HttpServer::new(move || {
        let r = r.clone();
        App::new().default_service(web::to(move |sent: web::Bytes| {
            let r = r.clone();
            async move {
                assert!(!sent.is_empty(), "a delivery has a body");
                r.fetch_add(1, Ordering::SeqCst);
                match body {
                    Body::Sized(n) => HttpResponse::Ok().body(vec![b'x'; n]),
                    Body::Endless => {
                        HttpResponse::Ok().streaming(futures_util::stream::repeat_with(|| {
                            Ok::<_, actix_web::Error>(web::Bytes::from_static(&[b'x'; 8192]))
                        }))
                    }
                }
            }
        }))
    })
    .on_connect(move |_, _| {
        c.fetch_add(1, Ordering::SeqCst);
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    (
        format!("http://127.0.0.1:{port}/hook"),
        connections,
        requests,
    )
}

/// Each of the endpoint's deliveries: its state and the status its last try got.
async fn tries(app: &TestApp, eid: &str) -> Vec<(String, Value)> {
    let path = format!("/v1/webhook-endpoints/{eid}/deliveries");
    let listed = expect_json(app.get(&path, &app.admin()).await, 200).await;
    listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let status = d["tries"]
                .as_array()
                .and_then(|t| t.last())
                .map_or(Value::Null, |t| t["status_code"].clone());
            (d["status"].as_str().unwrap_or_default().to_owned(), status)
        })
        .collect()
}

#[tokio::test]
async fn an_answer_with_a_body_is_read_and_its_connection_serves_the_next_tries() {
    let app = spawn_app_driven(&[]).await;
    // Larger than one read of the socket: a body left unread would close the connection.
    let (url, connections, requests) = receiver(Body::Sized(48 * 1024)).await;
    let endpoint = app.subscribe(&url, &["payment.paid"]).await;
    for n in 1..=3 {
        app.paid_payment(1_000_000).await;
        assert_eq!(app.deliver().await, 1, "pass {n}");
    }
    assert_eq!(requests.load(Ordering::SeqCst), 3);
    assert_eq!(
        connections.load(Ordering::SeqCst),
        1,
        "three passes, one after the other, share one connection"
    );
    let eid = endpoint["id"].as_str().unwrap();
    let status = Value::from(200);
    let delivered = ("delivered".to_owned(), status);
    assert_eq!(tries(&app, eid).await, vec![delivered; 3]);
}

#[tokio::test]
async fn an_endless_answer_is_cut_off_and_the_delivery_still_counts_as_delivered() {
    // The request timeout is far away: only the limit on what a try reads ends the answer.
    let app = spawn_app_driven(&[("LANDPAY__WEBHOOKS__REQUEST_TIMEOUT", "60s")]).await;
    let (url, connections, requests) = receiver(Body::Endless).await;
    let endpoint = app.subscribe(&url, &["payment.paid"]).await;
    app.paid_payment(1_000_000).await;
    let pass = tokio::time::timeout(Duration::from_secs(20), app.deliver()).await;
    assert_eq!(pass.expect("the pass ends long before the timeout"), 1);
    assert_eq!(requests.load(Ordering::SeqCst), 1);
    let eid = endpoint["id"].as_str().unwrap();
    assert_eq!(
        tries(&app, eid).await,
        vec![("delivered".to_owned(), Value::from(200))],
        "the receiver said 200: what followed changes nothing"
    );
    // The cut-off connection is not reused: the next try opens another.
    app.paid_payment(1_000_000).await;
    let pass = tokio::time::timeout(Duration::from_secs(20), app.deliver()).await;
    assert_eq!(pass.unwrap(), 1);
    assert_eq!(connections.load(Ordering::SeqCst), 2);
}
