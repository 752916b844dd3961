//! The store's contract, run on whichever backend this test run uses (SQLite, or PostgreSQL
//! with TEST_DATABASE_URL): the same scenarios must hold on both.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{Duration, Utc};
use landpay::config::DatabaseSettings;
use landpay::storage::idempotency::Claim;
use landpay::storage::Store;

use crate::helpers::{settings_for, TestDb};

async fn fresh_store() -> (TestDb, Store) {
    let db = TestDb::new().await;
    let settings: DatabaseSettings = settings_for(&db, &[]).database;
    let store = Store::connect(&settings).await.unwrap();
    store.migrate().await.unwrap();
    (db, store)
}

#[tokio::test]
async fn migrations_are_idempotent_and_ready() {
    let (_db, store) = fresh_store().await;
    store.migrate().await.unwrap();
    store.is_ready().await.unwrap();
}

#[tokio::test]
async fn idempotency_key_lifecycle() {
    let (_db, store) = fresh_store().await;
    let now = Utc::now();
    let lock = now + Duration::seconds(60);
    assert_eq!(
        store
            .claim_idempotency_key("a", "k1", "h1", now, lock)
            .await
            .unwrap(),
        Claim::Acquired
    );
    assert_eq!(
        store
            .claim_idempotency_key("a", "k1", "h1", now, lock)
            .await
            .unwrap(),
        Claim::InFlight
    );
    assert_eq!(
        store
            .claim_idempotency_key("a", "k1", "h2", now, lock)
            .await
            .unwrap(),
        Claim::Mismatch
    );
    // Keys are scoped to the client.
    assert_eq!(
        store
            .claim_idempotency_key("b", "k1", "h2", now, lock)
            .await
            .unwrap(),
        Claim::Acquired
    );
    store
        .complete_idempotency_key("a", "k1", 201, r#"{"id":1}"#)
        .await
        .unwrap();
    assert_eq!(
        store
            .claim_idempotency_key("a", "k1", "h1", now, lock)
            .await
            .unwrap(),
        Claim::Done {
            status: 201,
            body: r#"{"id":1}"#.into()
        }
    );
    // A claim whose holder died (lock ran out) is taken over.
    let later = lock + Duration::seconds(1);
    assert_eq!(
        store
            .claim_idempotency_key("b", "k1", "h2", later, later + Duration::seconds(60))
            .await
            .unwrap(),
        Claim::Acquired
    );
    // Released keys may be used again; swept keys are gone.
    store.release_idempotency_key("b", "k1").await.unwrap();
    assert_eq!(
        store
            .claim_idempotency_key("b", "k1", "h3", now, lock)
            .await
            .unwrap(),
        Claim::Acquired
    );
    let swept = store
        .sweep_idempotency_keys(now + Duration::seconds(1))
        .await
        .unwrap();
    assert_eq!(swept, 2);
    assert_eq!(
        store
            .claim_idempotency_key("a", "k1", "h9", now, lock)
            .await
            .unwrap(),
        Claim::Acquired
    );
}

#[tokio::test]
async fn concurrent_claims_acquire_once() {
    let (_db, store) = fresh_store().await;
    let now = Utc::now();
    let lock = now + Duration::seconds(60);
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .claim_idempotency_key("c", "same", "h", now, lock)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut acquired = 0;
    for t in tasks {
        if t.await.unwrap() == Claim::Acquired {
            acquired += 1;
        }
    }
    assert_eq!(acquired, 1);
}
