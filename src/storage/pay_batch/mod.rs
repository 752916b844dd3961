//! PostgreSQL: callbacks that pay are decided together, several to a transaction (group
//! commit, [`super::group`]).
//!
//! A gateway's success callbacks arrive many at a time at peak, each a short transaction of the
//! same few statements. So a success callback is queued, and whichever callbacks are waiting
//! when a batch starts are decided by one transaction: one statement that moves all their
//! attempts (compare-and-set), pays the orders of those that moved and reads those that did not
//! ([`statement`]), one that writes all their events and log rows, one commit. Measured on a
//! 2-core machine with webhooks delivered in the same run, deciding callbacks together took
//! first-time VNPay IPNs from about 1,100–1,300 to about 2,000 a second, and resends from about
//! 4,800 to 7,800. At most [`MAX`] callbacks go in a batch, and [`SLOTS`] batches run at once.
//!
//! A batch decides only what it can decide exactly as the one-callback transaction
//! ([`super::transition`]) would, in the same transaction that applies it:
//! - an attempt that moved pays its order, or flags it when the order can no longer take money
//!   (a second attempt of an order in the same batch is applied after the first, one by one);
//! - an attempt that did not move is read by the same statement: settled already (a resend,
//!   the loser of a race) or not this gateway's (an unknown reference);
//! - another amount (which flags the order), a second copy of a callback already in the batch,
//!   and every callback of a batch that failed before its commit (rolled back whole) are handed
//!   back undecided, and take the one-callback transaction.
//!
//! Each callback is logged with its verdict and answer in the batch's transaction, so, as on
//! the one-callback path, the log says what the gateway is told and nothing is answered before
//! it is committed.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::group::{Group, Work};
use super::payments::{GatewayResult, PaymentStoreError, ResultApplied};
use super::transition::{CallbackClaim, CallbackOutcome, UNPAYABLE_FLAGS};
use super::Store;
use tx::{decide_all, Failed};

mod statement;
mod tx;

/// Callbacks decided by one transaction at most.
pub const MAX: usize = 32;

/// Batches in flight at once, each on a connection of the batches' own pool. Measured on two
/// cores with the benchmark's 16 connections: one, two and four slots paid first-time callbacks
/// equally fast (within the runs' noise), eight slower; resends went 20% faster with one or two
/// than with four. Two keeps a second batch going while one waits for its commit.
pub const SLOTS: usize = 2;

/// A verified success callback for a known gateway and amount, queued to be decided.
pub struct Item {
    pub callback_id: String,
    pub gateway: String,
    pub payload: String,
    pub payload_bytes: i64,
    pub payload_sha256: String,
    /// What it applies (a success, for the callback's amount).
    pub result: GatewayResult,
    /// The answer sent for each outcome a batch may decide ([`OUTCOMES`]).
    pub answers: Vec<(CallbackOutcome, String)>,
    pub now: DateTime<Utc>,
}

/// The outcomes a batch decides: paid, flagged, already settled, unknown reference. Another
/// amount is handed back (it flags the order, which the one-callback transaction does).
pub fn outcomes() -> Vec<CallbackOutcome> {
    let mut outcomes = vec![CallbackOutcome::Applied(ResultApplied::Paid)];
    outcomes.extend(
        UNPAYABLE_FLAGS
            .iter()
            .map(|f| CallbackOutcome::Applied(ResultApplied::Flagged((*f).to_owned()))),
    );
    outcomes.extend([
        CallbackOutcome::AlreadySettled,
        CallbackOutcome::UnknownReference,
    ]);
    outcomes
}

impl Item {
    fn claim(&self) -> CallbackClaim<'_> {
        CallbackClaim {
            callback_id: &self.callback_id,
            gateway: &self.gateway,
            txn_ref: &self.result.txn_ref,
            payload: &self.payload,
            payload_bytes: self.payload_bytes,
            payload_sha256: &self.payload_sha256,
            amount: Some(self.result.amount),
            result: Some(&self.result),
        }
    }

    /// The answer for `outcome`; an outcome without one fails the batch (before its commit),
    /// which hands every callback back.
    fn answer(&self, outcome: &CallbackOutcome) -> Result<&str, sqlx::Error> {
        self.answers
            .iter()
            .find(|(o, _)| o == outcome)
            .map(|(_, a)| a.as_str())
            .ok_or_else(|| sqlx::Error::Protocol(format!("no answer for {outcome:?}")))
    }
}

/// What a batch made of a callback: decided (with the answer logged), or handed back.
pub type Decided = Option<(CallbackOutcome, String)>;

/// Success callbacks, decided in batches.
pub struct Callbacks;

/// The queue of success callbacks and the batches that decide them.
pub type PayBatch = Group<Callbacks>;

impl Work for Callbacks {
    type Item = Item;
    /// The decision, or the error of a commit whose outcome is unknown.
    type Outcome = Result<Decided, String>;
    const SLOTS: usize = SLOTS;
    const MAX: usize = MAX;

    /// Abandoned: its commit may have happened, as when a commit's answer is lost.
    fn unanswered() -> Self::Outcome {
        Err(super::deadline::timed_out().to_string())
    }

    /// Decides a batch. A second copy of a callback already in the batch goes back at once.
    async fn run(pool: &PgPool, batch: Vec<Item>) -> Vec<Self::Outcome> {
        let mut seen = HashSet::new();
        let mut places = Vec::with_capacity(batch.len());
        let mut items = Vec::with_capacity(batch.len());
        for item in batch {
            if seen.insert(item.result.txn_ref.clone()) {
                places.push(Some(items.len()));
                items.push(item);
            } else {
                places.push(None);
            }
        }
        let decided: Vec<Self::Outcome> = match decide_all(pool, &items).await {
            Ok(decided) => decided.into_iter().map(Ok).collect(),
            Err(Failed::BeforeCommit(e)) => {
                tracing::warn!(error = %e, callbacks = items.len(), "a batch of callbacks failed and was rolled back; each is decided on its own");
                items.iter().map(|_| Ok(None)).collect()
            }
            Err(Failed::AtCommit(e)) => {
                tracing::error!(error = %e, callbacks = items.len(), "a batch of callbacks failed at commit");
                items.iter().map(|_| Err(e.to_string())).collect()
            }
        };
        places
            .into_iter()
            .map(|place| place.map_or(Ok(None), |i| decided[i].clone()))
            .collect()
    }
}

impl Store {
    /// PostgreSQL: a success callback for the amount it claims is decided with the others
    /// waiting ([`super::pay_batch`]); `None` when it is not one, or its batch handed it back.
    pub(super) async fn decide_in_batch(
        &self,
        claim: &CallbackClaim<'_>,
        answer_for: &(dyn Fn(&CallbackOutcome) -> String + Sync),
        now: DateTime<Utc>,
    ) -> Result<Option<(CallbackOutcome, String)>, PaymentStoreError> {
        let (Some(batch), Some(r)) = (&self.pay_batch, claim.result) else {
            return Ok(None);
        };
        if !r.success || claim.amount != Some(r.amount) || claim.txn_ref != r.txn_ref {
            return Ok(None);
        }
        let item = Item {
            callback_id: claim.callback_id.to_owned(),
            gateway: claim.gateway.to_owned(),
            payload: claim.payload.to_owned(),
            payload_bytes: claim.payload_bytes,
            payload_sha256: claim.payload_sha256.to_owned(),
            result: r.clone(),
            answers: outcomes()
                .into_iter()
                .map(|o| {
                    let answer = answer_for(&o);
                    (o, answer)
                })
                .collect(),
            now,
        };
        match batch.submit(item).await {
            Some(Ok(decided)) => Ok(decided),
            Some(Err(commit_failed)) => {
                Err(PaymentStoreError::Db(sqlx::Error::Protocol(commit_failed)))
            }
            // The batch's task ended before it told this callback (it panicked, or its
            // runtime is shutting down): nothing of it was committed, or its commit's reply
            // never came. Either way the one-callback transaction decides it again; a callback
            // the batch did commit then fails to be logged twice, and is answered and logged as
            // an error, as when any commit's reply is lost.
            None => Ok(None),
        }
    }
}
