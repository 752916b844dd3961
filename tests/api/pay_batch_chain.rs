//! A batch of success callbacks that finds the next batch waiting when its statements have run
//! commits in the same message that begins the next one's transaction (`COMMIT; BEGIN`). The
//! next batch must still be one transaction — all of it or none of it — and a commit that fails
//! in that message must fail only its own batch (PostgreSQL; SQLite decides each alone).
//!
//! Each test holds both batch slots on row locks, queues more callbacks behind them, then lets
//! the first slot go: it takes the queued callbacks as its next batch. Triggers record when each
//! transaction that logs a callback began and when each committed: a transaction begun by the
//! message that committed the one before it began at that commit's message, to the microsecond.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use landpay::storage::payments::{PaymentStoreError, ResultApplied};
use landpay::storage::transition::CallbackOutcome;
use landpay::storage::Store;
use sqlx::{PgPool, Postgres, Transaction};
use tokio::task::JoinHandle;

use crate::helpers::TestDb;
use crate::pay_batch::{fresh, run_each};
use crate::transition_contract::{
    ipn, ipn_answered_by, logged_answers, new_callback_id, order_with_attempt, rsp_code,
};

/// Callbacks queued behind the two held batches.
const QUEUED: usize = 12;

type Answer = Result<(CallbackOutcome, String), PaymentStoreError>;

fn paid() -> (CallbackOutcome, String) {
    (CallbackOutcome::Applied(ResultApplied::Paid), "00".into())
}

/// Records, for each callback logged, when its transaction began, and, at each commit of a
/// transaction that logged one, the time of the message that committed it.
async fn stamp_transactions(pool: &PgPool) {
    run_each(
        pool,
        &[
            "create table begun (txn_ref text, at timestamptz)",
            "create table committed (at timestamptz)",
            "create function stamp_begin() returns trigger language plpgsql as $$
         begin
           insert into begun values (new.txn_ref, transaction_timestamp());
           return null;
         end $$",
            "create trigger stamp_begin after insert on callback
         for each row execute function stamp_begin()",
            "create function stamp_commit() returns trigger language plpgsql as $$
         begin
           insert into committed values (statement_timestamp());
           return null;
         end $$",
            "create constraint trigger stamp_commit after insert on callback
         deferrable initially deferred for each row execute function stamp_commit()",
        ],
    )
    .await;
}

/// The references whose callback was logged by a transaction begun in the message that
/// committed another.
async fn begun_at_a_commit(pool: &PgPool) -> Vec<String> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "select txn_ref from begun b
         where exists (select 1 from committed c where c.at = b.at) order by txn_ref",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    rows.into_iter().map(|(r,)| r).collect()
}

fn queued_refs() -> Vec<String> {
    (0..QUEUED).map(|i| format!("CH-Q{i:02}")).collect()
}

/// A transaction holding the attempt of `txn_ref` locked.
async fn hold(pool: &PgPool, txn_ref: &str) -> Transaction<'static, Postgres> {
    let mut tx = pool.begin().await.unwrap();
    sqlx::query("select 1 from attempt where txn_ref = $1 for update")
        .bind(txn_ref)
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    tx
}

/// Waits until `n` of the database's sessions wait for a lock.
async fn lock_waiters(pool: &PgPool, n: i64) {
    for _ in 0..500 {
        let (waiting,): (i64,) = sqlx::query_as(
            "select count(*) from pg_stat_activity
             where datname = current_database() and wait_event_type = 'Lock'",
        )
        .fetch_one(pool)
        .await
        .unwrap();
        if waiting == n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{n} sessions never waited for a lock");
}

fn send(store: &Arc<Store>, txn_ref: &str) -> JoinHandle<Answer> {
    let (store, txn_ref) = (store.clone(), txn_ref.to_owned());
    tokio::spawn(async move {
        ipn_answered_by(&new_callback_id(), &store, &txn_ref, 1000, true, &rsp_code).await
    })
}

/// Orders for `CH-A`, `CH-B` and the queued references; the batches of `CH-A` and `CH-B` held
/// on their attempts' locks with the others queued behind them; then `CH-A` let go, and `CH-B`
/// once `CH-A` and the queue are answered. Returns `CH-A`'s answer, `CH-B`'s, and the queued
/// ones' in order.
async fn held_then_released(store: &Arc<Store>, pool: &PgPool) -> (Answer, Answer, Vec<Answer>) {
    for r in ["CH-A", "CH-B"]
        .map(String::from)
        .into_iter()
        .chain(queued_refs())
    {
        order_with_attempt(store, &r).await;
    }
    let (hold_a, hold_b) = (hold(pool, "CH-A").await, hold(pool, "CH-B").await);
    let a = send(store, "CH-A");
    lock_waiters(pool, 1).await;
    let b = send(store, "CH-B");
    lock_waiters(pool, 2).await;
    let queued: Vec<_> = queued_refs().iter().map(|r| send(store, r)).collect();
    // Every queued callback reaches the queue: deciding one needs a batch slot, and both are held.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(queued.iter().all(|t| !t.is_finished()));
    hold_a.commit().await.unwrap();
    let a = a.await.unwrap();
    let mut answers = Vec::new();
    for t in queued {
        answers.push(t.await.unwrap());
    }
    hold_b.commit().await.unwrap();
    (a, b.await.unwrap(), answers)
}

#[tokio::test]
async fn the_batch_waiting_when_a_batch_commits_begins_in_the_same_message() {
    let db = TestDb::new().await;
    if !db.is_postgres() {
        return; // SQLite decides every callback alone.
    }
    let store = fresh(&db).await;
    let pool = PgPool::connect(&db.url).await.unwrap();
    stamp_transactions(&pool).await;
    let (a, b, queued) = held_then_released(&store, &pool).await;
    for answer in [a, b].into_iter().chain(queued) {
        assert_eq!(answer.unwrap(), paid());
    }
    // The queued callbacks were one batch, begun by the message that committed CH-A's.
    assert_eq!(begun_at_a_commit(&pool).await, queued_refs());
    let (transactions,): (i64,) = sqlx::query_as(
        "select count(distinct xmin::text) from callback where txn_ref like 'CH-Q%'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(transactions, 1);
    for r in queued_refs() {
        assert_eq!(logged_answers(&store, &r).await, vec!["00"], "{r}");
    }
}

#[tokio::test]
async fn a_batch_begun_by_the_commit_before_it_is_rolled_back_whole() {
    let db = TestDb::new().await;
    if !db.is_postgres() {
        return; // SQLite decides every callback alone.
    }
    let store = fresh(&db).await;
    let pool = PgPool::connect(&db.url).await.unwrap();
    stamp_transactions(&pool).await;
    // A statement logging the money of more than one callback, in a transaction begun by the
    // message that committed another, is refused: the queued batch fails after its first
    // statement has moved every attempt and paid every order. Were that statement outside the
    // batch's transaction, the orders would stay paid with nothing logged, and each callback,
    // decided again alone, would be answered as a resend (02).
    run_each(
        &pool,
        &[
            "create sequence refusals",
            "create function refuse_chained() returns trigger language plpgsql as $$
         begin
           if (select count(*) from new_rows where type = 'money.received') > 1
              and exists (select 1 from committed where at = transaction_timestamp()) then
             perform nextval('refusals');
             raise exception 'a batch begun at a commit is refused';
           end if;
           return null;
         end $$",
            "create trigger refuse_chained after insert on audit referencing new table as new_rows
         for each statement execute function refuse_chained()",
        ],
    )
    .await;
    let (a, b, queued) = held_then_released(&store, &pool).await;
    for answer in [a, b].into_iter().chain(queued) {
        assert_eq!(answer.unwrap(), paid());
    }
    let (refused,): (i64,) =
        sqlx::query_as("select case when is_called then last_value else 0 end from refusals")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(refused, 1, "the batch begun at a commit was not refused");
    for r in queued_refs() {
        assert_eq!(logged_answers(&store, &r).await, vec!["00"], "{r}");
    }
    let paid = store
        .events_after(0, Some("payment.paid"), None, 100)
        .await
        .unwrap();
    assert_eq!(paid.len(), QUEUED + 2);
}

#[tokio::test]
async fn a_commit_that_fails_as_it_begins_the_next_batch_fails_only_its_own() {
    let db = TestDb::new().await;
    if !db.is_postgres() {
        return; // SQLite decides every callback alone.
    }
    let store = fresh(&db).await;
    let pool = PgPool::connect(&db.url).await.unwrap();
    stamp_transactions(&pool).await;
    // CH-A's callback, decided as paid, is refused at commit: the commit of `COMMIT; BEGIN`.
    run_each(
        &pool,
        &[
            "create function refuse_at_commit() returns trigger language plpgsql as $$
         begin
           raise exception 'the commit is refused';
         end $$",
            "create constraint trigger refuse_at_commit after insert on callback
         deferrable initially deferred for each row
         when (new.txn_ref = 'CH-A' and new.verdict = 'valid')
         execute function refuse_at_commit()",
        ],
    )
    .await;
    let (a, b, queued) = held_then_released(&store, &pool).await;
    assert!(a.is_err(), "{a:?}");
    for answer in std::iter::once(b).chain(queued) {
        assert_eq!(answer.unwrap(), paid());
    }
    assert!(logged_answers(&store, "CH-A").await.is_empty());
    // The queued batch took a transaction of its own: nothing began at the failed commit.
    assert!(begun_at_a_commit(&pool).await.is_empty());
    sqlx::query("drop trigger refuse_at_commit on callback")
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(ipn(&store, "CH-A", 1000, true).await, paid());
    assert_eq!(logged_answers(&store, "CH-A").await, vec!["00"]);
    let paid = store
        .events_after(0, Some("payment.paid"), None, 100)
        .await
        .unwrap();
    assert_eq!(paid.len(), QUEUED + 2);
}
