//! PostgreSQL: the reads by key (a payment, a notice, the bodies of events) keep their
//! connection for the next read when they succeed, so giving it back costs no ping — the
//! pool's test of a connection given back, a round trip of its own, which doubled the server's
//! round trips per read. Counted at a relay between the service and PostgreSQL, as `Sync`
//! messages sent on their own. A read that failed gives its connection back to the pool, which
//! tries it and closes it if it is broken; more reads than connections wait their turn; the
//! store closes with connections kept. Skipped without PostgreSQL, unless LANDPAY_REQUIRE_ALL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::join_all;

use crate::helpers::{spawn_app_driven_on, TestDb};
use crate::relay::{app_through_relay, Cut};

/// Text of the payment read by key only (the relay marks the connections that prepare it).
const PAYMENT_READ: &[u8] = b"from payment p where payment_id = $1";

#[tokio::test]
async fn reads_by_key_give_their_connection_back_without_a_ping() {
    let check = "reads_by_key_give_their_connection_back_without_a_ping";
    let Some((relay, app)) = app_through_relay(check, PAYMENT_READ, true).await else {
        return;
    };
    let notice = app.notice("N-KEPT-1", 1_000_000, "2099-12-31").await;
    let notice_id = notice["id"].as_str().unwrap();
    let payment = app
        .payment_for(&serde_json::json!([{"notice_id": notice_id}]))
        .await;
    let id = payment["id"].as_str().unwrap();
    let store = app.store();
    for _ in 0..3 {
        assert!(store.payment(id).await.unwrap().is_some());
        assert!(store.notice(notice_id).await.unwrap().is_some());
    }

    // The relay sees a ping when one is sent: a read on the main pool gives its connection back
    // with one.
    let before = relay.pings();
    assert!(!store.payment_history(id).await.unwrap().is_empty());
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        relay.pings() > before,
        "the relay counted no ping for a read on the main pool: the check below could not fail"
    );

    let before = relay.pings();
    for _ in 0..20 {
        assert!(store.payment(id).await.unwrap().is_some());
        assert!(store.notice(notice_id).await.unwrap().is_some());
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        relay.pings() - before,
        0,
        "40 reads by key gave their connection back with a ping"
    );
}

#[tokio::test]
async fn a_read_whose_connection_broke_does_not_keep_it() {
    let check = "a_read_whose_connection_broke_does_not_keep_it";
    let Some((relay, app)) = app_through_relay(check, PAYMENT_READ, true).await else {
        return;
    };
    let payment = app.payment(1_000_000).await;
    let id = payment["id"].as_str().unwrap();
    let store = app.store();
    // Prepared on the connection the reads keep, which the relay now knows.
    assert!(store.payment(id).await.unwrap().is_some());

    // The next read runs, and its connection is cut before the answer.
    relay.arm(Cut::AfterRun);
    assert!(store.payment(id).await.is_err(), "the cut read succeeded");
    assert_eq!(relay.cuts.load(std::sync::atomic::Ordering::SeqCst), 1);

    // The broken connection went back to the pool, not to the kept ones: the reads after it
    // get a working one.
    for _ in 0..3 {
        assert!(store.payment(id).await.unwrap().is_some());
    }
}

#[tokio::test]
async fn more_reads_than_connections_wait_their_turn_and_the_store_still_closes() {
    let Some(db) = TestDb::postgres_for("more reads than connections").await else {
        return;
    };
    // A main pool of 2 gives the reads by key a pool of one connection.
    let app =
        spawn_app_driven_on(Arc::new(db), &[("LANDPAY__DATABASE__MAX_CONNECTIONS", "2")]).await;
    let payment = app.payment(1_000_000).await;
    let id = payment["id"].as_str().unwrap();
    let store = app.store().clone();
    let reads = join_all((0..16).map(|_| store.payment(id)));
    // Without their turn, a read would wait on the pool for a connection kept by another
    // read, which only a read of the kept ones would ever take again.
    let done = tokio::time::timeout(Duration::from_secs(5), reads)
        .await
        .expect("16 reads on one connection did not finish within 5 s");
    for read in done {
        assert!(read.unwrap().is_some());
    }
    tokio::time::timeout(Duration::from_secs(5), store.close())
        .await
        .expect("the store did not close with a connection kept");
}
