//! New orders written several to a statement (PostgreSQL; SQLite writes each alone): a burst
//! must come out exactly as the same orders written one at a time — each order with its lines,
//! holds, audit record, event and idempotency answer, an item held by one order only, a key
//! stored once — and a batch the database refuses writes nothing, each of its orders then
//! written alone. Two batches wanting the same entries never deadlock.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use landpay::events::EventType;
use landpay::obligations::line::LineKind;
use landpay::storage::create_batch::{Creation, Creations, Written};
use landpay::storage::group::Work;
use landpay::storage::idempotency::{Claim, KeyAnswer};
use landpay::storage::payments::{NewPayment, PaymentLineRow, PaymentStoreError};
use landpay::storage::Store;

use crate::helpers::TestDb;
use crate::store_contract::{fresh_store, pending_row};

const CLIENT: &str = "[\"portal\",null]";

/// An order of two lines holding `own` and, when given, `shared` too.
fn order(tag: &str, own: &str, shared: Option<&str>, now: DateTime<Utc>) -> NewPayment {
    let id = landpay::ids::PaymentId::new().into_string();
    let line = |n: i64| PaymentLineRow {
        kind: LineKind::NoticeLine,
        source: "notice".into(),
        notice_line_id: Some(format!("{own}-{n}")),
        assessment_line: None,
        sub_item: None,
        name: format!("{tag} line {n}"),
        amount: 400 + n * 100,
        days: None,
        due_date: Some("2026-12-31".into()),
    };
    let mut holds = vec![own.to_owned()];
    holds.extend(shared.map(str::to_owned));
    NewPayment {
        row: pending_row(id, now),
        lines: vec![line(0), line(2)],
        holds,
    }
}

fn answer(key: &str, body: &str) -> KeyAnswer {
    KeyAnswer {
        client: CLIENT.into(),
        key: key.into(),
        hash: format!("hash-{key}"),
        status: 201,
        body: body.into(),
    }
}

/// The database read directly, for what the store has no reader of (audit records).
enum Raw {
    Pg(sqlx::PgPool),
    Lite(sqlx::SqlitePool),
}

impl Raw {
    async fn open(db: &TestDb) -> Self {
        if db.is_postgres() {
            Self::Pg(sqlx::PgPool::connect(&db.url).await.unwrap())
        } else {
            Self::Lite(sqlx::SqlitePool::connect(&db.url).await.unwrap())
        }
    }

    /// The `payment.created` audit records of an order.
    async fn created_audits(&self, payment_id: &str) -> i64 {
        let sql = "select count(*) from audit where payment_id = $1 and type = 'payment.created'";
        match self {
            Self::Pg(p) => sqlx::query_scalar(sql).bind(payment_id).fetch_one(p).await,
            Self::Lite(p) => sqlx::query_scalar(sql).bind(payment_id).fetch_one(p).await,
        }
        .unwrap()
    }
}

/// Checks that `new` is stored whole: the order and its lines as given, each of its holds its
/// own, its `payment.created` audit record and event, and `key`'s answer when it had one.
async fn assert_stored(
    (store, raw): (&Store, &Raw),
    new: &NewPayment,
    key: Option<&str>,
    now: DateTime<Utc>,
) {
    let id = &new.row.payment_id;
    let stored = store
        .payment(id)
        .await
        .unwrap()
        .expect("the order is stored");
    assert_eq!(stored.payment.amount, new.row.amount);
    assert_eq!(stored.payment.created_at, new.row.created_at);
    let names: Vec<&str> = stored.lines.iter().map(|l| l.name.as_str()).collect();
    let want: Vec<&str> = new.lines.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, want, "lines in their order");
    let held = store.held_items(&new.holds).await.unwrap();
    assert_eq!(held.len(), new.holds.len(), "{held:?}");
    assert!(held.iter().all(|h| &h.payment_id == id), "{held:?}");
    let history = store.payment_history(id).await.unwrap();
    let events = history.iter().filter(|h| h["type"] == "payment.created");
    assert_eq!(events.count(), 1, "{history:#?}");
    assert_eq!(raw.created_audits(id).await, 1);
    if let Some(key) = key {
        let found = store
            .find_idempotency_key(CLIENT, key, &format!("hash-{key}"), now)
            .await
            .unwrap();
        assert_eq!(
            found,
            Claim::Done {
                status: 201,
                body: format!("answer {key}")
            }
        );
    }
}

/// Forty new orders at once, every third with an idempotency key; six of them also want one
/// shared item, and one reuses a key already stored.
#[tokio::test]
async fn a_burst_of_new_orders_is_stored_as_if_written_one_by_one() {
    let (db, store) = fresh_store().await;
    let raw = Raw::open(&db).await;
    let store = Arc::new(store);
    let now = Utc::now();
    let first = order("first", "taken-key-item", None, now);
    store
        .insert_payment_answered(&first, Some(&answer("k-taken", "answer k-taken")), now)
        .await
        .unwrap();

    let mut tasks = Vec::new();
    for i in 0..40 {
        let shared = (i % 7 == 3).then_some("shared-item");
        let new = order(&format!("o{i}"), &format!("item-{i}"), shared, now);
        let key = (i % 3 == 0).then(|| format!("k-{i}"));
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            let a = key.as_deref().map(|k| answer(k, &format!("answer {k}")));
            let result = store.insert_payment_answered(&new, a.as_ref(), now).await;
            (new, key, result)
        }));
    }
    let reused = order("reused", "reused-item", None, now);
    let reused_result = store
        .insert_payment_answered(&reused, Some(&answer("k-taken", "other")), now)
        .await;

    let mut shared_winners = 0;
    let mut created = HashSet::new();
    for task in tasks {
        let (new, key, result) = task.await.unwrap();
        let wants_shared = new.holds.iter().any(|h| h == "shared-item");
        match result {
            Ok(record) => {
                assert_eq!(record.payment.payment_id, new.row.payment_id);
                shared_winners += usize::from(wants_shared);
                assert_stored((&store, &raw), &new, key.as_deref(), now).await;
                created.insert(new.row.payment_id.clone());
            }
            Err(PaymentStoreError::ItemHeld) => {
                assert!(wants_shared, "only the shared item is contended");
                assert!(store.payment(&new.row.payment_id).await.unwrap().is_none());
                assert_eq!(raw.created_audits(&new.row.payment_id).await, 0);
                let own = store.held_items(&new.holds[..1]).await.unwrap();
                assert!(own.is_empty(), "a refused order holds nothing: {own:?}");
                if let Some(key) = key {
                    let claim = store
                        .find_idempotency_key(CLIENT, &key, &format!("hash-{key}"), now)
                        .await
                        .unwrap();
                    assert_eq!(claim, Claim::Acquired, "its key stays free");
                }
            }
            Err(other) => panic!("{other:?}"),
        }
    }
    assert_eq!(shared_winners, 1, "one order holds the shared item");
    assert_eq!(created.len(), 40 - 6 + 1);
    assert!(
        matches!(reused_result, Err(PaymentStoreError::KeyTaken)),
        "{reused_result:?}"
    );
    assert!(store
        .payment(&reused.row.payment_id)
        .await
        .unwrap()
        .is_none());
    assert!(store.held_items(&reused.holds).await.unwrap().is_empty());

    // The feed: one `payment.created` per stored order, numbered without a gap.
    let events = store.events_after(0, None, None, 1000).await.unwrap();
    let sequences: Vec<i64> = events.iter().map(|(s, _)| *s).collect();
    let want: Vec<i64> = (1..=i64::try_from(created.len() + 1).unwrap()).collect();
    assert_eq!(sequences, want);
    let paid_for: HashSet<String> = events
        .iter()
        .map(|(_, body)| {
            let e: serde_json::Value = serde_json::from_str(body).unwrap();
            assert_eq!(e["type"], EventType::PaymentCreated.as_str());
            e["data"]["payment"]["id"].as_str().unwrap().to_owned()
        })
        .collect();
    assert!(
        created.is_subset(&paid_for),
        "every stored order has its event"
    );
}

fn creation(new: NewPayment, key: Option<&str>, now: DateTime<Utc>) -> Creation {
    let record = new.record();
    Creation {
        event: landpay::storage::txops::event_of(
            &record,
            EventType::PaymentCreated,
            serde_json::Value::Null,
        ),
        audit: serde_json::json!({"amount": new.row.amount}).to_string(),
        answer: key.map(|k| answer(k, &format!("answer {k}"))),
        new,
        now,
    }
}

/// The batch statement itself, several orders at once: all written, or — when the database
/// refuses any part (two orders of the batch holding one item) — nothing, every order handed
/// back.
#[tokio::test]
async fn a_batch_writes_all_its_orders_or_none() {
    let Some(db) = TestDb::postgres_for("a_batch_writes_all_its_orders_or_none").await else {
        return;
    };
    let settings = crate::helpers::settings_for(&db, &[]).database;
    let store = Store::connect(&settings).await.unwrap();
    store.migrate().await.unwrap();
    let pool = store.lookup_pool().unwrap().clone();
    let raw = Raw::open(&db).await;
    let now = Utc::now();

    let orders: Vec<NewPayment> = (0..5)
        .map(|i| order(&format!("b{i}"), &format!("b-item-{i}"), None, now))
        .collect();
    let keys = [Some("bk-0"), None, Some("bk-2"), None, None];
    let batch: Vec<Creation> = orders
        .iter()
        .zip(keys)
        .map(|(o, k)| creation(o.clone(), k, now))
        .collect();
    let written = Creations::run(&pool, batch).await;
    assert_eq!(written, vec![Written::Yes; 5]);
    for (o, k) in orders.iter().zip(keys) {
        assert_stored((&store, &raw), o, k, now).await;
    }

    let clashing = [
        order("c0", "c-item-0", Some("c-shared"), now),
        order("c1", "c-item-1", None, now),
        order("c2", "c-item-2", Some("c-shared"), now),
    ];
    let batch = clashing
        .iter()
        .map(|o| creation(o.clone(), Some(&o.row.payment_id), now));
    let written = Creations::run(&pool, batch.collect()).await;
    assert_eq!(written, vec![Written::HandedBack; 3]);
    for o in &clashing {
        assert!(store.payment(&o.row.payment_id).await.unwrap().is_none());
        assert!(store.held_items(&o.holds).await.unwrap().is_empty());
        assert_eq!(raw.created_audits(&o.row.payment_id).await, 0);
        let claim = store
            .find_idempotency_key(
                CLIENT,
                &o.row.payment_id,
                &format!("hash-{}", o.row.payment_id),
                now,
            )
            .await
            .unwrap();
        assert_eq!(claim, Claim::Acquired);
    }
    let events = store.events_after(0, None, None, 100).await.unwrap();
    assert_eq!(events.len(), 5, "the refused batch wrote no event");
    store.close().await;
}

/// Two batches wanting the same items (then the same idempotency keys), listed in opposite
/// orders, wait for each other in one direction only: the later is refused on the entry the
/// earlier wrote (a unique violation) when it commits, never a deadlock. A third transaction
/// holds the middle entry first, so both batches are inside their statement at once: writing
/// the entries in each batch's own order would then deadlock every time.
#[tokio::test]
async fn two_batches_wanting_the_same_entries_never_deadlock() {
    let check = "two_batches_wanting_the_same_entries_never_deadlock";
    let Some(db) = TestDb::postgres_for(check).await else {
        return;
    };
    let settings = crate::helpers::settings_for(&db, &[]).database;
    let store = Store::connect(&settings).await.unwrap();
    store.migrate().await.unwrap();
    let pool = store.lookup_pool().unwrap().clone();
    let raw = sqlx::PgPool::connect(&db.url).await.unwrap();
    let now = Utc::now();
    // An order that exists, whose id the third transaction's hold borrows.
    let anchor = order("anchor", "d-anchor", None, now);
    Creations::write(&pool, &[creation(anchor.clone(), None, now)])
        .await
        .unwrap();

    // Items: each batch three orders holding d-1, d-2, d-3 between them.
    let holding = |tag: &str, items: [&str; 3]| -> Vec<Creation> {
        (items.iter().enumerate())
            .map(|(i, item)| creation(order(&format!("{tag}{i}"), item, None, now), None, now))
            .collect()
    };
    let hold_d3 = sqlx::query(
        "insert into payment_hold (item_key, payment_id, created_at) values ('d-3', $1, $2)",
    )
    .bind(&anchor.row.payment_id)
    .bind(&anchor.row.created_at);
    let (winner, loser) = race(
        (&pool, &raw),
        hold_d3,
        holding("x", ["d-1", "d-3", "d-2"]),
        holding("y", ["d-2", "d-3", "d-1"]),
    )
    .await;
    for o in &winner {
        assert_eq!(
            store.held_items(&o.new.holds).await.unwrap()[0].payment_id,
            o.new.row.payment_id
        );
    }
    assert_eq!(stored(&store, &loser).await, [false; 3]);

    // Idempotency keys: each batch three orders of their own items, keyed k-1, k-2, k-3.
    let keyed = |tag: &str, keys: [&str; 3]| -> Vec<Creation> {
        (keys.iter().enumerate())
            .map(|(i, key)| {
                let own = format!("{tag}-item-{i}");
                creation(order(&format!("{tag}{i}"), &own, None, now), Some(key), now)
            })
            .collect()
    };
    let take_k3 = sqlx::query(
        "insert into idempotency_key (client_id, idem_key, request_hash, state, response_status,
                                      response_body, locked_until, created_at)
         values ($1, 'k-3', 'hash-k-3', 'done', 201, 'held', $2, $2)",
    )
    .bind(CLIENT)
    .bind(&anchor.row.created_at);
    let (winner, loser) = race(
        (&pool, &raw),
        take_k3,
        keyed("kx", ["k-1", "k-3", "k-2"]),
        keyed("ky", ["k-2", "k-3", "k-1"]),
    )
    .await;
    assert_eq!(stored(&store, &winner).await, [true; 3]);
    assert_eq!(stored(&store, &loser).await, [false; 3]);
    store.close().await;
}

/// Whether each order of a batch is stored.
async fn stored(store: &Store, batch: &[Creation]) -> Vec<bool> {
    let mut out = Vec::with_capacity(batch.len());
    for c in batch {
        let found = store.payment(&c.new.row.payment_id).await.unwrap();
        out.push(found.is_some());
    }
    out
}

/// Runs `first` and `second` as batches at once while `blocker` sits uncommitted in a third
/// transaction; rolls it back once both batches wait on a lock. Exactly one batch must commit
/// and the other fail on a unique violation (`23505`), not a deadlock (`40P01`). Returns
/// (committed batch, refused batch).
async fn race(
    (pool, raw): (&sqlx::PgPool, &sqlx::PgPool),
    blocker: sqlx::query::Query<'_, sqlx::Postgres, sqlx::postgres::PgArguments>,
    first: Vec<Creation>,
    second: Vec<Creation>,
) -> (Vec<Creation>, Vec<Creation>) {
    let mut held = raw.begin().await.unwrap();
    blocker.execute(&mut *held).await.unwrap();
    let batches = Arc::new([first, second]);
    let run = |i: usize| {
        let (pool, batches) = (pool.clone(), Arc::clone(&batches));
        tokio::spawn(async move { Creations::write(&pool, &batches[i]).await })
    };
    let (a, b) = (run(0), run(1));
    let mut waiting = 0_i64;
    for _ in 0..1_000 {
        waiting = crate::helpers::lock_waiters(raw).await;
        if waiting == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(
        waiting, 2,
        "both batches wait, one on the other or both on the third"
    );
    held.rollback().await.unwrap();
    let results = [a.await.unwrap(), b.await.unwrap()];
    let refused: Vec<String> = (results.iter().filter_map(|r| r.as_ref().err()))
        .map(|e| match e {
            sqlx::Error::Database(d) => d.code().unwrap_or_default().into_owned(),
            other => other.to_string(),
        })
        .collect();
    assert_eq!(
        refused,
        ["23505"],
        "one batch refused on a taken entry, no deadlock"
    );
    let [first, second] = Arc::into_inner(batches).unwrap();
    if results[0].is_ok() {
        (first, second)
    } else {
        (second, first)
    }
}
