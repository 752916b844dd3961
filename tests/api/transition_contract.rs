//! The money transition's contract at the store, on whichever backend this run uses: a callback
//! decided and applied in one transaction that also logs it with the answer. Every answer a
//! caller would send must be the one in the log, races and late callbacks included, and a
//! transaction that dies halfway must leave nothing behind.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use chrono::{Duration, Utc};
use landpay::payments::order::{AttemptStatus, PaymentStatus};
use landpay::storage::callback_log::CallbackFilter;
use landpay::storage::payments::{
    CallbackRecord, GatewayResult, NewAttempt, NewPayment, PaymentRow, ResultApplied,
};
use landpay::storage::transition::{CallbackClaim, CallbackOutcome};
use landpay::storage::{ts, Store};

use crate::helpers::{settings_for, TestDb};

async fn fresh_store() -> (TestDb, Store) {
    let db = TestDb::new().await;
    let settings = settings_for(&db, &[]).database;
    let store = Store::connect(&settings).await.unwrap();
    store.migrate().await.unwrap();
    (db, store)
}

/// VNPay's mapping, written here independently of the service.
pub fn rsp_code(outcome: &CallbackOutcome) -> String {
    match outcome {
        CallbackOutcome::UnknownReference => "01",
        CallbackOutcome::AmountMismatch => "04",
        CallbackOutcome::AlreadySettled => "02",
        CallbackOutcome::Noted | CallbackOutcome::Applied(_) => "00",
    }
    .into()
}

/// A pending order of 1,000 đ with one open VNPay attempt `txn_ref`.
pub async fn order_with_attempt(store: &Store, txn_ref: &str) -> String {
    let now = Utc::now();
    let payment_id = landpay::ids::new_id(landpay::ids::IdKind::Payment);
    let row = PaymentRow {
        payment_id: payment_id.clone(),
        agency_code: Some("HN".into()),
        dossier_code: Some("D-1".into()),
        status: PaymentStatus::Pending,
        amount: 1000,
        refunded_amount: 0,
        payer: "{}".into(),
        return_url: None,
        locale: "vi".into(),
        created_by: "t".into(),
        expires_at: ts(now + Duration::hours(1)),
        paid_at: None,
        paid_attempt_id: None,
        confirmation_no: None,
        created_at: ts(now),
    };
    let new = NewPayment {
        row,
        lines: vec![],
        holds: vec![format!("item-{payment_id}")],
    };
    store.insert_payment(&new, now).await.unwrap();
    let attempt = NewAttempt {
        attempt_id: landpay::ids::new_id(landpay::ids::IdKind::Attempt),
        gateway: "vnpay".into(),
        txn_ref: txn_ref.into(),
        amount: 1000,
        redirect_url: None,
        qr: None,
        client_ip: None,
        bank_code: None,
        expires_at: now + Duration::minutes(15),
        extend_order_to: None,
    };
    store
        .insert_attempt(&payment_id, &attempt, "t", now)
        .await
        .unwrap();
    payment_id
}

/// What the callback routes do with a verified callback: decide it, logging it with the answer
/// in the same transaction; returns the answer.
pub async fn ipn(
    store: &Store,
    txn_ref: &str,
    amount: i64,
    success: bool,
) -> (CallbackOutcome, String) {
    ipn_answered_by(
        &new_callback_id(),
        store,
        txn_ref,
        amount,
        success,
        &rsp_code,
    )
    .await
    .unwrap()
}

pub fn new_callback_id() -> String {
    landpay::ids::new_id(landpay::ids::IdKind::Callback)
}

/// [`ipn`] as the callback `id`, with the answers of `answer_for`.
pub async fn ipn_answered_by(
    id: &str,
    store: &Store,
    txn_ref: &str,
    amount: i64,
    success: bool,
    answer_for: &(dyn Fn(&CallbackOutcome) -> String + Sync),
) -> Result<(CallbackOutcome, String), landpay::storage::payments::PaymentStoreError> {
    let payload = format!(
        "vnp_TxnRef={txn_ref}&vnp_Amount={}&ok={success}",
        amount * 100
    );
    let result = GatewayResult {
        txn_ref: txn_ref.into(),
        success,
        amount,
        gateway_txn_no: Some("1".into()),
        bank_code: None,
        paid_at: None,
        source: "test".into(),
        failure: None,
    };
    let claim = CallbackClaim {
        callback_id: id,
        gateway: "vnpay",
        txn_ref,
        payload: &payload,
        payload_bytes: i64::try_from(payload.len()).unwrap(),
        payload_sha256: "x",
        amount: Some(amount),
        result: Some(&result),
    };
    store.decide_callback(&claim, answer_for, Utc::now()).await
}

/// The answers in the log for `txn_ref`, sorted.
pub async fn logged_answers(store: &Store, txn_ref: &str) -> Vec<String> {
    let filter = CallbackFilter {
        txn_ref: Some(txn_ref),
        ..CallbackFilter::default()
    };
    let rows = store.callback_log(&filter, None, 500).await.unwrap();
    let mut answers: Vec<String> = rows.into_iter().map(|r| r.answer).collect();
    answers.sort();
    answers
}

/// The (verdict, answer) of each `callback.received` audit record of a payment, oldest first.
pub async fn callback_audits(store: &Store, payment_id: &str) -> Vec<(String, String)> {
    let history = store.payment_history(payment_id).await.unwrap();
    history
        .iter()
        .filter(|h| h["type"] == "callback.received")
        .map(|h| {
            (
                h["data"]["verdict"].as_str().unwrap().into(),
                h["data"]["answer"].as_str().unwrap().into(),
            )
        })
        .collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[tokio::test]
async fn a_duplicate_is_answered_already_confirmed_and_logged_so() {
    let (_db, store) = fresh_store().await;
    let pid = order_with_attempt(&store, "T-DUP").await;
    let first = ipn(&store, "T-DUP", 1000, true).await;
    let second = ipn(&store, "T-DUP", 1000, true).await;
    assert_eq!(first.0, CallbackOutcome::Applied(ResultApplied::Paid));
    assert_eq!(second, (CallbackOutcome::AlreadySettled, "02".into()));
    assert_eq!(logged_answers(&store, "T-DUP").await, vec!["00", "02"]);
    let audits = callback_audits(&store, &pid).await;
    assert_eq!(
        audits,
        vec![
            ("valid".into(), "00".into()),
            ("already_settled".into(), "02".into())
        ]
    );
}

#[tokio::test]
async fn fifty_concurrent_copies_pay_once_and_the_log_matches_every_answer() {
    let (_db, store) = fresh_store().await;
    let pid = order_with_attempt(&store, "T-RACE").await;
    let store = Arc::new(store);
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { ipn(&store, "T-RACE", 1000, true).await })
        })
        .collect();
    let mut sent = Vec::new();
    for t in tasks {
        sent.push(t.await.unwrap());
    }
    let applied = sent
        .iter()
        .filter(|(o, _)| matches!(o, CallbackOutcome::Applied(_)))
        .count();
    assert_eq!(applied, 1, "exactly one copy moves the money");
    let answers = sorted(sent.iter().map(|(_, a)| a.clone()).collect());
    assert_eq!(answers.iter().filter(|a| *a == "00").count(), 1);
    assert_eq!(logged_answers(&store, "T-RACE").await, answers);
    let paid = store
        .events_after(0, Some("payment.paid"), None, 100)
        .await
        .unwrap();
    assert_eq!(paid.len(), 1);
    assert_eq!(
        store
            .payment(&pid)
            .await
            .unwrap()
            .unwrap()
            .payment
            .status
            .as_str(),
        "paid"
    );
}

#[tokio::test]
async fn a_failure_on_an_expired_attempt_is_answered_and_logged_already_confirmed() {
    let (_db, store) = fresh_store().await;
    order_with_attempt(&store, "T-EXP").await;
    let attempt = store.attempt_by_ref("T-EXP").await.unwrap().unwrap();
    assert!(store
        .settle_attempt_without_money(&attempt.attempt_id, AttemptStatus::Expired, Utc::now())
        .await
        .unwrap());
    let failure = ipn(&store, "T-EXP", 1000, false).await;
    assert_eq!(failure, (CallbackOutcome::AlreadySettled, "02".into()));
    // Money on an expired attempt is real: recorded, answered 00.
    let money = ipn(&store, "T-EXP", 1000, true).await;
    assert_eq!(money.1, "00");
    assert_eq!(logged_answers(&store, "T-EXP").await, vec!["00", "02"]);
    let log = store
        .callback_log(
            &CallbackFilter {
                txn_ref: Some("T-EXP"),
                ..CallbackFilter::default()
            },
            None,
            10,
        )
        .await
        .unwrap();
    assert_eq!(
        log[1].verdict, "already_settled",
        "oldest last: the failure"
    );
}

#[tokio::test]
async fn a_failure_after_success_moves_nothing_and_is_logged_as_answered() {
    let (_db, store) = fresh_store().await;
    let pid = order_with_attempt(&store, "T-FAS").await;
    assert_eq!(ipn(&store, "T-FAS", 1000, true).await.1, "00");
    assert_eq!(
        ipn(&store, "T-FAS", 1000, false).await,
        (CallbackOutcome::AlreadySettled, "02".into())
    );
    assert_eq!(
        ipn(&store, "T-FAS", 999, true).await,
        (CallbackOutcome::AmountMismatch, "04".into())
    );
    assert_eq!(
        ipn(&store, "T-NONE", 1000, true).await,
        (CallbackOutcome::UnknownReference, "01".into())
    );
    assert_eq!(
        logged_answers(&store, "T-FAS").await,
        vec!["00", "02", "04"]
    );
    assert_eq!(logged_answers(&store, "T-NONE").await, vec!["01"]);
    let record = store.payment(&pid).await.unwrap().unwrap();
    assert_eq!(record.payment.status.as_str(), "paid");
    assert_eq!(record.attempts[0].status.as_str(), "succeeded");
    let failed = store
        .events_after(0, Some("payment.attempt_failed"), None, 10)
        .await
        .unwrap();
    assert!(failed.is_empty(), "a failure after success emits nothing");
}

#[tokio::test]
async fn a_failed_attempt_emits_attempt_failed_with_the_order_back_to_pending() {
    let (_db, store) = fresh_store().await;
    let pid = order_with_attempt(&store, "T-FAIL").await;
    assert_eq!(
        ipn(&store, "T-FAIL", 1000, false).await,
        (CallbackOutcome::Applied(ResultApplied::Failed), "00".into())
    );
    assert_eq!(ipn(&store, "T-FAIL", 1000, false).await.1, "02");
    let failed = store
        .events_after(0, Some("payment.attempt_failed"), None, 10)
        .await
        .unwrap();
    assert_eq!(failed.len(), 1);
    let body: serde_json::Value = serde_json::from_str(&failed[0].1).unwrap();
    assert_eq!(body["sequence"], failed[0].0);
    assert_eq!(body["data"]["payment"]["id"], pid.as_str());
    assert_eq!(body["data"]["payment"]["status"], "pending");
    assert_eq!(body["data"]["attempt"]["gateway"], "vnpay");
    assert_eq!(body["data"]["dossier_code"], "D-1");
    assert_eq!(body["data"]["agency_code"], "HN");
}

#[tokio::test]
async fn a_decision_that_dies_halfway_leaves_nothing_and_the_resend_is_applied_once() {
    let (db, store) = fresh_store().await;
    let pid = order_with_attempt(&store, "T-CRASH").await;
    let status = |store: Store| {
        let pid = pid.clone();
        async move {
            let record = store.payment(&pid).await.unwrap().unwrap();
            (record.payment.status, record.attempts[0].status)
        }
    };
    let before = status(store.clone()).await;
    assert_eq!(before.1, AttemptStatus::Redirected);
    // The process dies while the callback is decided, before it was logged and committed: no
    // answer went out. (On SQLite the answer is asked after the attempt moved and the order was
    // paid inside the transaction; on PostgreSQL a success callback's answers are asked before
    // its batch.)
    let dying = store.clone();
    let died = tokio::spawn(async move {
        let die = |_: &CallbackOutcome| -> String { panic!("the process dies before commit") };
        ipn_answered_by(&new_callback_id(), &dying, "T-CRASH", 1000, true, &die).await
    })
    .await;
    assert!(died.unwrap_err().is_panic());
    store.close().await;
    let settings = settings_for(&db, &[]).database;
    let store = Store::connect(&settings).await.unwrap();
    // Nothing of it stayed: not the log row, not the money, not an event.
    assert!(logged_answers(&store, "T-CRASH").await.is_empty());
    assert_eq!(status(store.clone()).await, before);
    let paid = store
        .events_after(0, Some("payment.paid"), None, 10)
        .await
        .unwrap();
    assert!(paid.is_empty());
    // VNPay had no answer, so it sends again: applied once, answered and logged 00.
    assert_eq!(ipn(&store, "T-CRASH", 1000, true).await.1, "00");
    assert_eq!(
        status(store.clone()).await,
        (PaymentStatus::Paid, AttemptStatus::Succeeded)
    );
    assert_eq!(logged_answers(&store, "T-CRASH").await, vec!["00"]);
}

#[tokio::test]
async fn the_error_answer_of_a_decision_that_committed_after_all_is_the_one_logged() {
    let (_db, store) = fresh_store().await;
    order_with_attempt(&store, "T-LOST").await;
    // The decision commits, but the reply to its commit never comes back: the caller answers
    // the gateway with its error code and logs that under the decision's callback id.
    let id = new_callback_id();
    let decided = ipn_answered_by(&id, &store, "T-LOST", 1000, true, &rsp_code).await;
    assert_eq!(decided.unwrap().1, "00");
    let error = CallbackRecord {
        callback_id: &id,
        gateway: "vnpay",
        txn_ref: Some("T-LOST"),
        verdict: "error",
        answer: "99",
        payload: "vnp_TxnRef=T-LOST",
        payload_bytes: 17,
        payload_sha256: "x",
    };
    store.record_callback(&error, Utc::now()).await.unwrap();
    // One row for the one callback, saying what the gateway was sent.
    assert_eq!(logged_answers(&store, "T-LOST").await, vec!["99"]);
    // The resend finds the money recorded and is answered, and logged, 02.
    assert_eq!(ipn(&store, "T-LOST", 1000, true).await.1, "02");
    assert_eq!(logged_answers(&store, "T-LOST").await, vec!["02", "99"]);
}
