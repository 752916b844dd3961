//! Success callbacks decided several to a transaction (PostgreSQL; SQLite decides each alone):
//! a burst must come out exactly as the same callbacks decided one at a time — each order paid
//! once, a resend answered as one, a second attempt and money on a closed order flagged, and
//! the log agreeing with every answer sent — including when a batch fails and each of its
//! callbacks is decided on its own.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{Duration, Utc};
use landpay::payments::order::AttemptStatus;
use landpay::storage::payments::{NewAttempt, ResultApplied};
use landpay::storage::transition::CallbackOutcome;
use landpay::storage::Store;
use sqlx::PgPool;

use crate::helpers::{on_own_thread, settings_for, TestDb};
use crate::transition_contract::{
    callback_audits, ipn, ipn_answered_by, logged_answers, new_callback_id, order_with_attempt,
    rsp_code,
};

const ORDERS: usize = 30;

/// The burst: one success callback for each of `ORDERS` orders, a second copy of the first
/// five, both attempts of an order with two, money on an attempt of a cancelled order, another
/// amount for an order (`B-M`) and a reference no attempt has (`B-NONE`).
struct Burst {
    orders: Vec<String>,
    twice: String,
    closed: String,
    other_amount: String,
}

async fn set_up(store: &Store) -> Burst {
    let mut orders = Vec::new();
    for i in 0..ORDERS {
        orders.push(order_with_attempt(store, &format!("B-{i}")).await);
    }
    let twice = order_with_attempt(store, "B-X1").await;
    let second = NewAttempt {
        attempt_id: landpay::ids::new_id(landpay::ids::IdKind::Attempt),
        gateway: "vnpay".into(),
        txn_ref: "B-X2".into(),
        amount: 1000,
        redirect_url: None,
        qr: None,
        client_ip: None,
        bank_code: None,
        expires_at: Utc::now() + Duration::minutes(15),
        extend_order_to: None,
    };
    store
        .insert_attempt(&twice, &second, "t", Utc::now())
        .await
        .unwrap();
    let closed = order_with_attempt(store, "B-C").await;
    let attempt = store.attempt_by_ref("B-C").await.unwrap().unwrap();
    assert!(store
        .settle_attempt_without_money(&attempt.attempt_id, AttemptStatus::Expired, Utc::now())
        .await
        .unwrap());
    store
        .cancel_payment(&closed, "t", Utc::now())
        .await
        .unwrap();
    let other_amount = order_with_attempt(store, "B-M").await;
    Burst {
        orders,
        twice,
        closed,
        other_amount,
    }
}

/// Sends the burst at once; returns each reference's answers as sent, sorted.
async fn send(store: &Arc<Store>) -> HashMap<String, Vec<(CallbackOutcome, String)>> {
    let mut refs: Vec<String> = (0..ORDERS).map(|i| format!("B-{i}")).collect();
    refs.extend((0..5).map(|i| format!("B-{i}")));
    refs.extend(["B-X1", "B-X2", "B-C", "B-M", "B-NONE"].map(String::from));
    let tasks: Vec<_> = refs
        .into_iter()
        .map(|r| {
            let store = store.clone();
            let amount = if r == "B-M" { 999 } else { 1000 };
            tokio::spawn(async move { (r.clone(), ipn(&store, &r, amount, true).await) })
        })
        .collect();
    let mut sent: HashMap<String, Vec<(CallbackOutcome, String)>> = HashMap::new();
    for t in tasks {
        let (r, answer) = t.await.unwrap();
        sent.entry(r).or_default().push(answer);
    }
    for answers in sent.values_mut() {
        answers.sort_by(|a, b| a.1.cmp(&b.1));
    }
    sent
}

/// Every callback of the burst is decided as it would be alone, and logged as answered.
async fn check(
    store: &Store,
    burst: &Burst,
    sent: &HashMap<String, Vec<(CallbackOutcome, String)>>,
) {
    let paid = CallbackOutcome::Applied(ResultApplied::Paid);
    let settled = (CallbackOutcome::AlreadySettled, "02".to_owned());
    for (i, order) in burst.orders.iter().enumerate() {
        let r = format!("B-{i}");
        let mut expected = vec![(paid.clone(), "00".to_owned())];
        if i < 5 {
            expected.push(settled.clone());
        }
        assert_eq!(sent[&r], expected, "{r}");
        let record = store.payment(order).await.unwrap().unwrap();
        assert_eq!(record.payment.status.as_str(), "paid", "{r}");
        assert_eq!(record.attempts[0].status, AttemptStatus::Succeeded, "{r}");
    }
    // One of the order's two attempts pays it; the other's money is flagged.
    let mut twice: Vec<CallbackOutcome> = ["B-X1", "B-X2"]
        .iter()
        .map(|r| sent[*r][0].0.clone())
        .collect();
    twice.sort_by_key(|o| format!("{o:?}"));
    let duplicate = CallbackOutcome::Applied(ResultApplied::Flagged("duplicate_payment".into()));
    assert_eq!(twice, vec![duplicate, paid.clone()]);
    let flagged = CallbackOutcome::Applied(ResultApplied::Flagged("paid_after_expiry".into()));
    assert_eq!(sent["B-C"], vec![(flagged, "00".to_owned())]);
    let mismatch = (CallbackOutcome::AmountMismatch, "04".to_owned());
    assert_eq!(sent["B-M"], vec![mismatch]);
    let unknown = (CallbackOutcome::UnknownReference, "01".to_owned());
    assert_eq!(sent["B-NONE"], vec![unknown]);
    let record = store.payment(&burst.other_amount).await.unwrap().unwrap();
    assert_eq!(record.payment.status.as_str(), "processing", "not paid");
    for (order, flag) in [
        (&burst.twice, "duplicate_payment"),
        (&burst.closed, "paid_after_expiry"),
        (&burst.other_amount, "amount_mismatch"),
    ] {
        let record = store.payment(order).await.unwrap().unwrap();
        assert_eq!(
            record
                .flags
                .iter()
                .map(|f| f.flag.as_str())
                .collect::<Vec<_>>(),
            vec![flag]
        );
    }
    // The log says, for each reference, exactly what was sent.
    for (r, answers) in sent {
        let answered: Vec<String> = answers.iter().map(|(_, a)| a.clone()).collect();
        assert_eq!(logged_answers(store, r).await, answered, "{r}");
    }
    // One payment.paid per paid order, carrying it as paid by its succeeded attempt.
    let events = store
        .events_after(0, Some("payment.paid"), None, 500)
        .await
        .unwrap();
    assert_eq!(events.len(), ORDERS + 1);
    for (_, body) in &events {
        let body: serde_json::Value = serde_json::from_str(body).unwrap();
        let payment = &body["data"]["payment"];
        assert_eq!(payment["status"], "paid", "{body}");
        // The snapshot shows the attempt as the callback left it, not as it was before.
        let succeeded: Vec<&serde_json::Value> = payment["attempts"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["status"] == "succeeded")
            .collect();
        assert!(!succeeded.is_empty(), "{body}");
        for attempt in &succeeded {
            assert_eq!(attempt["paid_amount"], attempt["amount"], "{body}");
            assert!(attempt["gateway_txn_no"].is_string(), "{body}");
        }
        // The order's money.received record names an attempt that paid it.
        let id = payment["id"].as_str().unwrap();
        let history = store.payment_history(id).await.unwrap();
        let received: Vec<&serde_json::Value> = history
            .iter()
            .filter(|h| h["type"] == "money.received")
            .map(|h| &h["data"]["attempt_id"])
            .collect();
        assert!(
            succeeded.iter().any(|a| received.contains(&&a["id"])),
            "{id}: {received:?}"
        );
    }
}

async fn fresh(db: &TestDb) -> Arc<Store> {
    let store = Store::connect(&settings_for(db, &[]).database)
        .await
        .unwrap();
    store.migrate().await.unwrap();
    Arc::new(store)
}

#[tokio::test]
async fn a_burst_of_success_callbacks_comes_out_as_if_each_were_decided_alone() {
    let db = TestDb::new().await;
    let store = fresh(&db).await;
    let burst = set_up(&store).await;
    let sent = send(&store).await;
    check(&store, &burst, &sent).await;
    if db.is_postgres() {
        // Callbacks committed together share their transaction id: the burst was batched.
        let pool = PgPool::connect(&db.url).await.unwrap();
        let (rows, transactions): (i64, i64) = sqlx::query_as(
            "select count(*), count(distinct xmin::text) from callback where verdict = 'valid'",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(rows, i64::try_from(ORDERS).unwrap() + 3);
        assert!(
            transactions < rows,
            "{rows} callbacks in {transactions} transactions"
        );
    }
    // The gateway sends everything again: each resend is answered as settled (another amount
    // and an unknown reference as before), and logged as answered.
    let again = send(&store).await;
    for (r, answers) in &again {
        let expected = match r.as_str() {
            "B-M" => "04",
            "B-NONE" => "01",
            _ => "02",
        };
        assert!(
            answers.iter().all(|(_, a)| a == expected),
            "{r}: {answers:?}"
        );
        let mut answered: Vec<String> = sent[r]
            .iter()
            .chain(answers)
            .map(|(_, a)| a.clone())
            .collect();
        answered.sort();
        assert_eq!(logged_answers(&store, r).await, answered, "{r}");
    }
    // Each callback of a known order is in its audit trail, with its verdict and answer.
    let mut audits = callback_audits(&store, &burst.orders[0]).await;
    audits.sort();
    // B-0 was sent twice in each burst: paid once, settled three times.
    let settled = ("already_settled".to_owned(), "02".to_owned());
    let mut expected = vec![settled; 3];
    expected.push(("valid".into(), "00".into()));
    assert_eq!(audits, expected);
    if db.is_postgres() {
        let pool = PgPool::connect(&db.url).await.unwrap();
        let (rows, transactions): (i64, i64) = sqlx::query_as(
            "select count(*), count(distinct xmin::text) from callback
             where verdict in ('already_settled', 'unknown_reference')",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        assert!(
            transactions < rows,
            "{rows} resends in {transactions} transactions"
        );
    }
}

/// A batch runs on a thread of its own: it commits while the thread of the request that
/// queued it is busy — here blocked outright, as a worker is while it parses and verifies other
/// requests — and the callback's answer is waiting when that thread comes back.
#[tokio::test]
async fn a_batch_commits_while_the_thread_that_queued_it_is_busy() {
    let db = TestDb::new().await;
    if !db.is_postgres() {
        return; // SQLite decides every callback alone, on the caller's thread.
    }
    let store = fresh(&db).await;
    let payment_id = order_with_attempt(&store, "B-T").await;
    let mut callback = Box::pin(ipn(&store, "B-T", 1000, true));
    // One poll queues the callback and starts its batch.
    assert!(futures_util::FutureExt::now_or_never(&mut callback).is_none());
    // This test's runtime has one thread, blocked from here until the watcher ends: a batch
    // on it could not run.
    let url = db.url.clone();
    let watcher = on_own_thread(async move {
        let pool = PgPool::connect(&url).await.unwrap();
        for _ in 0..200 {
            let (status,): (String,) =
                sqlx::query_as("select status from payment where payment_id = $1")
                    .bind(&payment_id)
                    .fetch_one(&pool)
                    .await
                    .unwrap();
            if status == "paid" {
                return true;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        false
    });
    let paid = watcher.join().unwrap();
    assert!(
        paid,
        "the order was not paid within 10 s while the thread that queued its callback was busy"
    );
    assert_eq!(callback.await.1, "00");
    assert_eq!(logged_answers(&store, "B-T").await, ["00"]);
}

/// Runs each statement in turn: a test's sequences, functions and triggers.
async fn run_each(pool: &PgPool, statements: &[&str]) {
    for sql in statements {
        sqlx::query(sql).execute(pool).await.unwrap();
    }
}

#[tokio::test]
async fn when_a_batch_fails_each_of_its_callbacks_is_decided_alone() {
    let db = TestDb::new().await;
    if !db.is_postgres() {
        return; // SQLite decides every callback alone.
    }
    let store = fresh(&db).await;
    let burst = set_up(&store).await;
    // Any statement that writes more than one audit record fails: every batch of more than one
    // order fails before its commit. A sequence (not rolled back) counts the refusals.
    let pool = PgPool::connect(&db.url).await.unwrap();
    run_each(
        &pool,
        &[
            "create sequence refusals",
            "create function refuse_batches() returns trigger language plpgsql as $$
         begin
           if (select count(*) from new_rows where type = 'money.received') > 1 then
             perform nextval('refusals');
             raise exception 'a batch is refused';
           end if;
           return null;
         end $$",
            "create trigger refuse_batches after insert on audit referencing new table as new_rows
         for each statement execute function refuse_batches()",
        ],
    )
    .await;
    let sent = send(&store).await;
    check(&store, &burst, &sent).await;
    let (refused,): (i64,) =
        sqlx::query_as("select case when is_called then last_value else 0 end from refusals")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(
        refused > 0,
        "no batch was refused: the burst was not batched"
    );
    let (transactions,): (i64,) =
        sqlx::query_as("select count(distinct xmin::text) from callback where verdict = 'valid'")
            .fetch_one(&pool)
            .await
            .unwrap();
    // Each alone, but for the two attempts of one order, which may still share a batch of
    // one order (the second attempt is applied after the first, on its own).
    assert!(
        transactions >= i64::try_from(ORDERS).unwrap() + 2,
        "{transactions} transactions"
    );
}

#[tokio::test]
async fn a_batch_whose_commit_fails_returns_the_error_and_the_resend_pays_once() {
    let db = TestDb::new().await;
    if !db.is_postgres() {
        return; // SQLite decides every callback alone.
    }
    let store = fresh(&db).await;
    let order = order_with_attempt(&store, "B-COMMIT").await;
    // A deferred check refuses, at commit, the callback decided as paid, and counts each
    // refusal in a sequence (not rolled back).
    let pool = PgPool::connect(&db.url).await.unwrap();
    run_each(
        &pool,
        &[
            "create sequence commit_refusals",
            "create function refuse_at_commit() returns trigger language plpgsql as $$
         begin
           perform nextval('commit_refusals');
           raise exception 'the commit is refused';
         end $$",
            "create constraint trigger refuse_at_commit after insert on callback
         deferrable initially deferred for each row
         when (new.txn_ref = 'B-COMMIT' and new.verdict = 'valid')
         execute function refuse_at_commit()",
        ],
    )
    .await;
    let id = new_callback_id();
    let failed = ipn_answered_by(&id, &store, "B-COMMIT", 1000, true, &rsp_code).await;
    assert!(failed.is_err(), "{failed:?}");
    // The error goes back to the caller (which answers the gateway with its error code): the
    // callback is not decided a second time, and nothing of the batch stayed.
    let (refused,): (i64,) = sqlx::query_as("select last_value from commit_refusals")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(refused, 1);
    assert!(logged_answers(&store, "B-COMMIT").await.is_empty());
    let record = store.payment(&order).await.unwrap().unwrap();
    assert_eq!(record.payment.status.as_str(), "processing");
    assert_eq!(record.attempts[0].status, AttemptStatus::Redirected);
    // The gateway sends it again once the database takes commits: paid once, logged 00.
    sqlx::query("drop trigger refuse_at_commit on callback")
        .execute(&pool)
        .await
        .unwrap();
    let resent = ipn(&store, "B-COMMIT", 1000, true).await;
    assert_eq!(
        resent,
        (CallbackOutcome::Applied(ResultApplied::Paid), "00".into())
    );
    assert_eq!(logged_answers(&store, "B-COMMIT").await, vec!["00"]);
    let paid = store
        .events_after(0, Some("payment.paid"), None, 10)
        .await
        .unwrap();
    assert_eq!(paid.len(), 1);
}
