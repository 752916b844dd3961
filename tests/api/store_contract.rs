//! The store's contract, run on whichever backend this test run uses (SQLite, or PostgreSQL
//! with TEST_DATABASE_URL): the same scenarios must hold on both.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{Duration, Utc};
use landpay::config::DatabaseSettings;
use landpay::storage::idempotency::Claim;
use landpay::storage::Store;

use crate::helpers::{settings_for, TestDb};

pub(crate) async fn fresh_store() -> (TestDb, Store) {
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

#[tokio::test]
async fn event_sequences_are_gap_free_under_concurrent_writers() {
    use landpay::storage::payments::NewPayment;
    let (_db, store) = fresh_store().await;
    let now = Utc::now();
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let id = landpay::ids::new_id(landpay::ids::IdKind::Payment);
                let row = pending_row(id.clone(), now);
                let new = NewPayment {
                    row,
                    lines: vec![],
                    holds: vec![format!("item-{i}"), "shared-item".to_owned()],
                };
                store.insert_payment(&new, now).await.is_ok()
            })
        })
        .collect();
    let mut created = 0;
    for t in tasks {
        created += usize::from(t.await.unwrap());
    }
    assert_eq!(
        created, 1,
        "one order holds the shared item; the others roll back whole"
    );
    let events = store.events_after(0, None, None, 100).await.unwrap();
    let seqs: Vec<i64> = events.iter().map(|(s, _)| *s).collect();
    assert_eq!(seqs, vec![1], "rolled-back writers leave no visible gap");
}

/// An endpoint subscribed to `payment.created` and three orders: three deliveries, each the
/// first of its order.
async fn three_deliveries(store: &landpay::storage::Store, now: chrono::DateTime<Utc>) {
    let endpoint = endpoint("whe_1", now);
    store.insert_endpoint(&endpoint, "t").await.unwrap();
    for i in 0..3 {
        let row = pending_row(format!("pay_{i}"), now);
        store
            .insert_payment(
                &landpay::storage::payments::NewPayment {
                    row,
                    lines: vec![],
                    holds: vec![format!("i{i}")],
                },
                now,
            )
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn a_delivery_is_claimed_by_one_worker_at_a_time() {
    let (_db, store) = fresh_store().await;
    let now = Utc::now();
    three_deliveries(&store, now).await;
    let lease = now + Duration::seconds(15);
    let claims: Vec<_> = (0..4)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.claim_deliveries(now, lease, 10).await.unwrap() })
        })
        .collect();
    let mut ids = Vec::new();
    for c in claims {
        ids.extend(c.await.unwrap().into_iter().map(|d| d.delivery_id));
    }
    ids.sort();
    let unique: std::collections::BTreeSet<_> = ids.iter().cloned().collect();
    assert_eq!(ids.len(), 3, "{ids:?}");
    assert_eq!(unique.len(), 3);
    // While leased nobody else claims them; after the lease they come back.
    assert!(store
        .claim_deliveries(now + Duration::seconds(1), lease, 10)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        store
            .claim_deliveries(
                lease + Duration::seconds(1),
                lease + Duration::seconds(20),
                10
            )
            .await
            .unwrap()
            .len(),
        3
    );
}

/// A pass records its tries in one write, each only where its lease still holds: a delivery
/// whose lease ran out and was claimed again is recorded by its new holder alone, with one try.
#[tokio::test]
async fn a_pass_records_only_the_tries_it_still_holds() {
    use landpay::events::DeliveryStatus;
    use landpay::storage::webhooks::DeliveryTry;
    let (_db, store) = fresh_store().await;
    let now = Utc::now();
    three_deliveries(&store, now).await;
    let first_lease = now + Duration::seconds(15);
    let first = store.claim_deliveries(now, first_lease, 10).await.unwrap();
    assert_eq!(first.len(), 3);
    // The first worker stalls past its lease; a second takes two of the three.
    let later = first_lease + Duration::seconds(1);
    let second = store
        .claim_deliveries(later, later + Duration::seconds(15), 2)
        .await
        .unwrap();
    assert_eq!(second.len(), 2);
    let done = |c, at, code: Option<u16>, error: Option<&str>, outcome, next| DeliveryTry {
        claimed: c,
        at,
        status_code: code,
        error: error.map(str::to_owned),
        duration_ms: 7,
        outcome,
        next_attempt_at: next,
    };
    let stalled: Vec<_> = first
        .iter()
        .map(|c| done(c, later, Some(200), None, DeliveryStatus::Delivered, later))
        .collect();
    let kept: Vec<String> = first
        .iter()
        .filter(|c| !second.iter().any(|s| s.delivery_id == c.delivery_id))
        .map(|c| c.delivery_id.clone())
        .collect();
    assert_eq!(store.record_delivery_tries(&stalled).await.unwrap(), kept);
    let retry_at = later + Duration::seconds(60);
    let retried: Vec<_> = second
        .iter()
        .map(|c| {
            let error = Some("connection failed");
            done(c, later, None, error, DeliveryStatus::Pending, retry_at)
        })
        .collect();
    let mut recorded = store.record_delivery_tries(&retried).await.unwrap();
    recorded.sort();
    let mut expected: Vec<String> = second.iter().map(|c| c.delivery_id.clone()).collect();
    expected.sort();
    assert_eq!(recorded, expected);
    // Recording the same pass again writes nothing: no lease holds any more.
    assert!(store
        .record_delivery_tries(&retried)
        .await
        .unwrap()
        .is_empty());
    assert!(store.record_delivery_tries(&[]).await.unwrap().is_empty());

    let listed = store.deliveries("whe_1", None, 10).await.unwrap();
    assert_eq!(listed.len(), 3);
    for (d, tries) in &listed {
        assert_eq!(tries.len(), 1, "one try each: {d:?} {tries:?}");
        let t = &tries[0];
        assert_eq!(t.duration_ms, 7);
        if kept.contains(&d.delivery_id) {
            assert_eq!(d.status, DeliveryStatus::Delivered);
            assert_eq!((t.status_code, t.error.as_deref()), (Some(200), None));
        } else {
            assert_eq!(d.status, DeliveryStatus::Pending);
            assert_eq!(d.next_attempt_at, landpay::storage::ts(retry_at));
            assert_eq!(
                (t.status_code, t.error.as_deref()),
                (None, Some("connection failed"))
            );
        }
    }
    // The retried ones come due again at their time, with their try counted.
    let due = store
        .claim_deliveries(retry_at, retry_at + Duration::seconds(15), 10)
        .await
        .unwrap();
    assert_eq!(due.len(), 2);
    assert!(due.iter().all(|c| c.tries == 1));
}

/// Only a violation of the item-hold key reports an item as held: another unique violation on
/// a new order (here, its id) is a database error.
#[tokio::test]
async fn only_the_hold_key_reports_an_item_held() {
    use landpay::storage::payments::PaymentStoreError;
    use landpay::storage::{is_unique_violation, unique};
    let (_db, store) = fresh_store().await;
    let now = Utc::now();
    let order = |id: &str, item: &str| order_holding(id, item, now);
    let id = landpay::ids::PaymentId::new().into_string();
    store
        .insert_payment(&order(&id, "item-1"), now)
        .await
        .unwrap();

    let other = landpay::ids::PaymentId::new().into_string();
    let held = store.insert_payment(&order(&other, "item-1"), now).await;
    assert!(matches!(held, Err(PaymentStoreError::ItemHeld)), "{held:?}");

    let same_id = store.insert_payment(&order(&id, "item-2"), now).await;
    match same_id {
        Err(PaymentStoreError::Db(e)) => {
            assert!(
                matches!(&e, sqlx::Error::Database(db) if db.is_unique_violation()),
                "{e}"
            );
            assert!(!is_unique_violation(&e, unique::PAYMENT_HOLD), "{e}");
        }
        other => panic!("a second order with the same id: {other:?}"),
    }
    assert!(store
        .held_items(&["item-2".to_owned()])
        .await
        .unwrap()
        .is_empty());
}

/// An order stored with its idempotency key's answer: both or neither. A key already stored
/// refuses the whole order — no payment, no hold, no event — and the first answer stays.
#[tokio::test]
async fn an_order_and_its_answer_are_stored_together() {
    use landpay::storage::idempotency::{Claim, KeyAnswer};
    use landpay::storage::payments::PaymentStoreError;
    let (_db, store) = fresh_store().await;
    let now = Utc::now();
    let order = |id: &str, item: &str| order_holding(id, item, now);
    const CLIENT: &str = "[\"portal\",null]";
    let answer = |body: &str| KeyAnswer {
        client: CLIENT.into(),
        key: "k-1".into(),
        hash: "h-1".into(),
        status: 201,
        body: body.into(),
    };
    let first = landpay::ids::PaymentId::new().into_string();
    store
        .insert_payment_answered(&order(&first, "item-1"), Some(&answer("first")), now)
        .await
        .unwrap();
    let known =
        |key: &'static str, hash: &'static str| store.find_idempotency_key(CLIENT, key, hash, now);
    let first_answer = Claim::Done {
        status: 201,
        body: "first".into(),
    };
    assert_eq!(known("k-1", "h-1").await.unwrap(), first_answer);
    let events_before = store.events_after(0, None, None, 100).await.unwrap().len();

    let second = landpay::ids::PaymentId::new().into_string();
    let taken = store
        .insert_payment_answered(&order(&second, "item-2"), Some(&answer("second")), now)
        .await;
    assert!(
        matches!(taken, Err(PaymentStoreError::KeyTaken)),
        "{taken:?}"
    );
    assert!(store.payment(&second).await.unwrap().is_none());
    assert!(store
        .held_items(&["item-2".to_owned()])
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        store.events_after(0, None, None, 100).await.unwrap().len(),
        events_before
    );
    assert_eq!(known("k-1", "h-1").await.unwrap(), first_answer);
    // Another fingerprint under the key is a mismatch; a key never stored is free.
    assert_eq!(known("k-1", "h-2").await.unwrap(), Claim::Mismatch);
    assert_eq!(known("k-2", "h-1").await.unwrap(), Claim::Acquired);
}

/// A pending order with no lines that holds `item`.
fn order_holding(
    id: &str,
    item: &str,
    now: chrono::DateTime<Utc>,
) -> landpay::storage::payments::NewPayment {
    landpay::storage::payments::NewPayment {
        row: pending_row(id.to_owned(), now),
        lines: vec![],
        holds: vec![item.to_owned()],
    }
}

/// A live endpoint subscribed to `payment.created`.
pub(crate) fn endpoint(
    id: &str,
    now: chrono::DateTime<Utc>,
) -> landpay::storage::webhooks::EndpointRow {
    landpay::storage::webhooks::EndpointRow {
        endpoint_id: id.into(),
        url: "http://127.0.0.1:9/hook".into(),
        agency_code: None,
        events: r#"["payment.created"]"#.into(),
        secret: "whsec_x".into(),
        previous_secret: None,
        previous_expires_at: None,
        created_at: landpay::storage::ts(now),
        deleted_at: None,
        format: "landpay".into(),
        credentials: None,
    }
}

/// A pending order row of 1,000 đ expiring in an hour.
pub(crate) fn pending_row(
    payment_id: String,
    now: chrono::DateTime<Utc>,
) -> landpay::storage::payments::PaymentRow {
    landpay::storage::payments::PaymentRow {
        payment_id,
        agency_code: Some("HN".into()),
        dossier_code: None,
        status: landpay::payments::order::PaymentStatus::Pending,
        amount: 1000,
        refunded_amount: 0,
        payer: "{}".into(),
        return_url: None,
        locale: "vi".into(),
        created_by: "t".into(),
        expires_at: landpay::storage::ts(now + Duration::hours(1)),
        paid_at: None,
        paid_attempt_id: None,
        confirmation_no: None,
        created_at: landpay::storage::ts(now),
    }
}
