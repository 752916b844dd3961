//! The event feed under concurrent writers (PostgreSQL, where writers commit in parallel and
//! events are numbered after commit): 8 writers for 10 s while readers poll. No event ever
//! appears at or below a cursor already handed out, sequences have no gap, and one payment's
//! events keep their order. SQLite has one writer and numbers at insert; the test is skipped.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use landpay::storage::Store;

use crate::helpers::{on_postgres, settings_for, TestDb};
use crate::transition_contract::{ipn, order_with_attempt};

const ORDER: [&str; 3] = ["payment.created", "payment.processing", "payment.paid"];

/// Polls the feed until `done` and the feed is drained; checks every page as it comes.
async fn read_feed(
    store: Arc<Store>,
    done: Arc<AtomicBool>,
) -> (usize, HashMap<String, Vec<String>>) {
    let mut cursor = 0_i64;
    let mut per_payment: HashMap<String, Vec<String>> = HashMap::new();
    loop {
        let finished = done.load(Ordering::SeqCst);
        let page = store.events_after(cursor, None, None, 1000).await.unwrap();
        for (sequence, body) in &page {
            assert_eq!(
                *sequence,
                cursor + 1,
                "after cursor {cursor} came {sequence}: a gap, or one at or below the cursor"
            );
            cursor = *sequence;
            let body: serde_json::Value = serde_json::from_str(body).unwrap();
            assert_eq!(body["sequence"], *sequence, "the body carries its sequence");
            let pid = body["data"]["payment"]["id"].as_str().unwrap().to_owned();
            let types = per_payment.entry(pid.clone()).or_default();
            types.push(body["type"].as_str().unwrap().to_owned());
            assert_eq!(
                types.as_slice(),
                &ORDER[..types.len()],
                "payment {pid} out of order"
            );
        }
        if finished && page.is_empty() {
            return (usize::try_from(cursor).unwrap(), per_payment);
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_writers_for_ten_seconds_never_break_the_feed() {
    if !on_postgres() {
        eprintln!("skipped: SQLite has one writer and numbers events at insert");
        return;
    }
    let db = TestDb::new().await;
    let settings = settings_for(&db, &[("LANDPAY__DATABASE__MAX_CONNECTIONS", "16")]).database;
    let store = Arc::new(Store::connect(&settings).await.unwrap());
    store.migrate().await.unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let written = Arc::new(AtomicUsize::new(0));
    let readers: Vec<_> = (0..2)
        .map(|_| tokio::spawn(read_feed(store.clone(), done.clone())))
        .collect();
    let deadline = Instant::now() + Duration::from_secs(10);
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let (store, written) = (store.clone(), written.clone());
            tokio::spawn(async move {
                let mut n = 0;
                while Instant::now() < deadline {
                    let txn_ref = format!("F{w}-{n}");
                    order_with_attempt(&store, &txn_ref).await;
                    assert_eq!(ipn(&store, &txn_ref, 1000, true).await.1, "00");
                    written.fetch_add(3, Ordering::SeqCst);
                    n += 1;
                }
            })
        })
        .collect();
    for w in writers {
        w.await.unwrap();
    }
    done.store(true, Ordering::SeqCst);
    let total = written.load(Ordering::SeqCst);
    assert!(total > 0);
    for r in readers {
        let (seen, per_payment) = r.await.unwrap();
        assert_eq!(
            seen, total,
            "every committed event was read, numbered 1..={total}"
        );
        eprintln!(
            "feed: {seen} events read in order, {} payments",
            per_payment.len()
        );
        assert!(
            per_payment.values().all(|t| t.as_slice() == ORDER),
            "every payment's three events, in order"
        );
    }
}
