//! A delivery's first try is written on the delivery itself, in the update that records it; only
//! a second try and later ones get a row of their own in `delivery_try`. What an endpoint's
//! deliveries list shows is the same either way, and tries recorded before the first try moved
//! onto the delivery (all in rows) read as they did.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;

use crate::helpers::{spawn_app_driven, Receiver, TestApp};

/// The tries an endpoint's deliveries list shows, per delivery, as the API gives them.
async fn listed_tries(app: &TestApp, endpoint: &Value) -> Vec<Value> {
    let page = app.deliveries_of(endpoint).await;
    page.iter().map(|d| d["tries"].clone()).collect()
}

fn codes(tries: &Value) -> Vec<i64> {
    tries
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["status_code"].as_i64().unwrap())
        .collect()
}

/// One payment paid, its `payment.paid` delivered to an endpoint that answers 200 at once and to
/// one that answers 503 first: three tries in all.
async fn three_tries() -> (TestApp, Value, Value) {
    let app = spawn_app_driven(&[]).await;
    let ok = Receiver::start(&[200]).await;
    let flaky = Receiver::start(&[503, 200]).await;
    let ok_endpoint = app.subscribe(&ok.url, &["payment.paid"]).await;
    let flaky_endpoint = app.subscribe(&flaky.url, &["payment.paid"]).await;
    app.paid_payment(1_000_000).await;
    assert_eq!(app.deliver_all().await, 2, "the first tries");
    assert_eq!(app.retry(1).await, 1, "the flaky endpoint's retry");
    (app, ok_endpoint, flaky_endpoint)
}

/// (endpoint, status, tries, first try's status code, first try's duration) as stored.
type StoredDelivery = (String, String, i64, Option<i64>, Option<i64>);

#[tokio::test]
async fn a_first_try_is_kept_on_its_delivery_and_later_tries_in_rows_of_their_own() {
    let (app, ok, flaky) = three_tries().await;
    let (ok_id, flaky_id) = (ok["id"].as_str().unwrap(), flaky["id"].as_str().unwrap());

    let deliveries: Vec<StoredDelivery> = app
        .db
        .rows(
            "select endpoint_id, status, tries, first_status_code, first_duration_ms from delivery
             order by endpoint_id",
        )
        .await;
    let mut expected = vec![
        (ok_id.to_owned(), "delivered".to_owned(), 1, Some(200)),
        (flaky_id.to_owned(), "delivered".to_owned(), 2, Some(503)),
    ];
    expected.sort();
    let stored: Vec<_> = deliveries
        .iter()
        .map(|(e, s, n, code, _)| (e.clone(), s.clone(), *n, *code))
        .collect();
    assert_eq!(stored, expected);
    assert!(
        deliveries.iter().all(|d| d.4.is_some_and(|ms| ms >= 0)),
        "each first try keeps its duration: {deliveries:?}"
    );
    // Only the flaky endpoint's second try has a row.
    let rows: Vec<(String, i64, Option<i64>)> = app
        .db
        .rows(
            "select d.endpoint_id, t.attempt_no, t.status_code from delivery_try t
             join delivery d on d.delivery_id = t.delivery_id",
        )
        .await;
    assert_eq!(rows, vec![(flaky_id.to_owned(), 2, Some(200))]);

    // The list shows every try, the first read from the delivery.
    let ok_tries = listed_tries(&app, &ok).await;
    let flaky_tries = listed_tries(&app, &flaky).await;
    assert_eq!(ok_tries.len(), 1);
    assert_eq!(codes(&ok_tries[0]), vec![200]);
    assert_eq!(flaky_tries.len(), 1);
    assert_eq!(codes(&flaky_tries[0]), vec![503, 200]);
    for t in ok_tries[0]
        .as_array()
        .unwrap()
        .iter()
        .chain(flaky_tries[0].as_array().unwrap())
    {
        let at = t["at"].as_str().unwrap();
        assert!(
            chrono::DateTime::parse_from_rfc3339(at).is_ok(),
            "a try's time: {t}"
        );
        assert!(t["duration_ms"].as_i64().is_some_and(|ms| ms >= 0), "{t}");
    }
}

#[tokio::test]
async fn tries_recorded_before_the_first_try_moved_onto_the_delivery_read_as_they_did() {
    let (app, ok, flaky) = three_tries().await;
    let before = (
        listed_tries(&app, &ok).await,
        listed_tries(&app, &flaky).await,
    );

    // The first tries as a version before migration 0028 kept them: rows of their own, nothing
    // on the delivery.
    let moved = app
        .db
        .execute(
            "insert into delivery_try (delivery_id, attempt_no, at, status_code, error, duration_ms)
             select delivery_id, 1, first_try_at, first_status_code, first_error, first_duration_ms
             from delivery where first_try_at is not null",
        )
        .await;
    assert_eq!(moved, 2);
    let cleared = app
        .db
        .execute(
            "update delivery set first_try_at = null, first_status_code = null, first_error = null,
                                 first_duration_ms = null",
        )
        .await;
    assert_eq!(cleared, 2);

    let after = (
        listed_tries(&app, &ok).await,
        listed_tries(&app, &flaky).await,
    );
    assert_eq!(after, before);
    assert_eq!(codes(&after.1[0]), vec![503, 200]);
}
