//! Which endpoints an event is delivered to, on both backends: the endpoints as they were when
//! the event committed, each once. (On PostgreSQL, deliveries are written when the event is
//! numbered, after its commit; on SQLite, with the event.) And on PostgreSQL, what writing and
//! leasing them costs: no second delivery beside an earlier version's, and a lease that stays
//! on its row's page.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::Utc;
use landpay::storage::delivery_claim::{claim_sql, CLAIM_PLAN_SETTINGS};
use landpay::storage::payments::NewPayment;
use landpay::storage::{Backend, Store};
use sqlx::Connection;

use crate::claim_plan::{insert_deliveries, migrated};
use crate::helpers::{settings_for, TestDb};
use crate::store_contract::{endpoint, fresh_store, pending_row};

/// Writes an order, whose `payment.created` event commits with it.
async fn order(store: &Store, id: &str, now: chrono::DateTime<Utc>) {
    let new = NewPayment {
        row: pending_row(id.into(), now),
        lines: vec![],
        holds: vec![format!("item-{id}")],
    };
    store.insert_payment(&new, now).await.unwrap();
}

/// The orders whose `payment.created` an endpoint was given, each delivery numbered: the list
/// reads its own writes, the deliveries of events nothing has numbered yet included.
async fn delivered_orders(store: &Store, endpoint_id: &str) -> Vec<String> {
    let deliveries = store.deliveries(endpoint_id, None, 100).await.unwrap();
    let ids: Vec<&str> = deliveries
        .iter()
        .map(|(d, _)| d.event_id.as_str())
        .collect();
    let bodies = store.event_bodies(&ids).await.unwrap();
    let mut orders = Vec::new();
    for (d, _) in &deliveries {
        assert!(d.event_sequence.is_some(), "{d:?} has no number");
        let event: serde_json::Value = serde_json::from_str(&bodies[&d.event_id]).unwrap();
        orders.push(event["data"]["payment"]["id"].as_str().unwrap().to_owned());
    }
    orders.sort();
    orders
}

#[tokio::test]
async fn an_event_goes_to_the_endpoints_of_its_commit_each_once() {
    let (_db, store) = fresh_store().await;
    let now = Utc::now();
    store
        .insert_endpoint(&endpoint("whe_a", now), "t")
        .await
        .unwrap();
    order(&store, "pay_1", now).await;
    // Added after pay_1 committed: pay_1 is not its to deliver.
    store
        .insert_endpoint(&endpoint("whe_b", now), "t")
        .await
        .unwrap();
    order(&store, "pay_2", now).await;
    // Removed after pay_2 committed: pay_2 was its to deliver.
    assert!(store.delete_endpoint("whe_a", now).await.unwrap());
    order(&store, "pay_3", now).await;

    assert_eq!(delivered_orders(&store, "whe_a").await, ["pay_1", "pay_2"]);
    assert_eq!(delivered_orders(&store, "whe_b").await, ["pay_2", "pay_3"]);
}

/// A version of the service before deliveries were written at numbering wrote them with the
/// event, unnumbered, under the same id; a rolling upgrade numbers those and writes no second.
#[tokio::test]
async fn a_delivery_written_with_its_event_by_an_earlier_version_is_numbered_not_doubled() {
    let Some(db) = TestDb::postgres_for("the rolling-upgrade delivery check").await else {
        return;
    };
    let store = Store::connect(&settings_for(&db, &[]).database)
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let now = Utc::now();
    store
        .insert_endpoint(&endpoint("whe_a", now), "t")
        .await
        .unwrap();
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&db.url)
        .await
        .unwrap();
    // The earlier version's write: the event unnumbered, and its delivery with it.
    sqlx::query(
        "insert into event (event_id, type, payment_id, agency_code, body, created_at)
         values ('evt_0000000000000000old', 'payment.created', 'pay_old', 'HN',
                 '{\"id\":\"evt_0000000000000000old\",\"type\":\"payment.created\",\"created_at\":\"t\",\"sequence\":null,\"data\":{}}', $1)",
    )
    .bind(landpay::storage::ts(now))
    .execute(&mut conn)
    .await
    .unwrap();
    sqlx::query(
        "insert into delivery (delivery_id, endpoint_id, event_id, event_type, order_key, status, tries,
                               next_attempt_at, created_at, updated_at)
         select 'dlv_' || substr(event_id, 5, 16) || substr(md5('whe_a' || event_id), 1, 10), 'whe_a',
                event_id, type, payment_id, 'pending', 0, created_at, created_at, created_at
         from event where event_id = 'evt_0000000000000000old'",
    )
    .execute(&mut conn)
    .await
    .unwrap();

    store.catch_up_events().await.unwrap();
    let (count, numbered): (i64, i64) = sqlx::query_as(
        "select count(*), count(*) filter (where d.event_sequence = e.sequence)
         from delivery d join event e using (event_id) where d.endpoint_id = 'whe_a'",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!((count, numbered), (1, 1));
}

/// Leasing a delivery changes only its lease, and the deliveries' pages keep room for it: a
/// lease taken while the page is still full of the deliveries written with it stays on that
/// page (a heap-only tuple) and writes no index entry, where a lease without room writes a new
/// entry in each of the table's indexes. Counted by the database's own statistics of the
/// claim's transaction.
#[tokio::test]
async fn leasing_deliveries_just_written_mostly_stays_on_their_pages() {
    const N: i64 = 400;
    let Some((_db, mut conn)) = migrated("the lease page room check").await else {
        return;
    };
    insert_deliveries(&mut conn, "pending", "dlv_lease_", N).await;
    let mut tx = conn.begin().await.unwrap();
    sqlx::query(CLAIM_PLAN_SETTINGS)
        .execute(&mut *tx)
        .await
        .unwrap();
    let claimed = sqlx::query(&claim_sql(Backend::Postgres))
        .bind("2026-12-02T07:00:00.000000Z")
        .bind("2026-12-02T07:01:00.000000Z")
        .bind(N)
        .fetch_all(&mut *tx)
        .await
        .unwrap();
    assert_eq!(i64::try_from(claimed.len()).unwrap(), N);
    let (updated, on_page): (i64, i64) = sqlx::query_as(
        "select pg_stat_get_xact_tuples_updated('delivery'::regclass),
                pg_stat_get_xact_tuples_hot_updated('delivery'::regclass)",
    )
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    assert_eq!(updated, N);
    // Each lease is a little longer than the row it replaces (the lease's time was empty), so
    // the last rows of a full page may still miss; at the fill factor of 80, about one in five
    // stayed on its page.
    assert!(
        on_page * 4 >= updated * 3,
        "{on_page} of {updated} leases stayed on their page"
    );
}
