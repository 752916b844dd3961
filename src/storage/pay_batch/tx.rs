//! A batch's transaction: what each of its callbacks comes to, decided and written with as few
//! statements as the batch allows.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

use super::super::paying::pg_pay_orders;
use super::super::payments::ResultApplied;
use super::super::transition::{
    apply_moved, callback_audit, flag_unpayable, log_decision, money_detail, paid_events,
    CallbackClaim, CallbackOutcome, MovedAttempt,
};
use super::super::ts;
use super::super::txops::{self, Decision, Paying};
use super::{Decided, Item};
use crate::events::NewEvent;

pub(super) enum Failed {
    BeforeCommit(sqlx::Error),
    AtCommit(sqlx::Error),
}

/// The batch's transaction: each item's decision, `None` for one handed back.
pub(super) async fn decide_all(pool: &PgPool, items: &[Item]) -> Result<Vec<Decided>, Failed> {
    let now = items.iter().map(|i| i.now).max().unwrap_or_else(Utc::now);
    let mut tx = pool.begin().await.map_err(Failed::BeforeCommit)?;
    let decided = apply_all(&mut tx, items, now)
        .await
        .map_err(Failed::BeforeCommit)?;
    tx.commit().await.map_err(Failed::AtCommit)?;
    Ok(decided)
}

async fn apply_all(
    conn: &mut PgConnection,
    items: &[Item],
    now: DateTime<Utc>,
) -> Result<Vec<Decided>, sqlx::Error> {
    let mut moved = move_attempts(conn, items, now).await?;
    let mut batch = Batch {
        items,
        decided: items.iter().map(|_| None).collect(),
        logged: Vec::new(),
        events: Vec::new(),
        now,
    };
    // The first moved attempt of each order is paid with the others in one statement; a second
    // attempt of an order in the batch is applied after it, on its own.
    let mut orders = HashSet::new();
    let (mut first, mut second, mut unmoved) = (Vec::new(), Vec::new(), Vec::new());
    for (i, item) in items.iter().enumerate() {
        match moved.remove(item.result.txn_ref.as_str()) {
            Some(m) if orders.insert(m.payment_id.clone()) => first.push((i, m)),
            Some(m) => second.push((i, m)),
            None => unmoved.push(i),
        }
    }
    batch.pay(conn, &first).await?;
    batch.not_moved(conn, &unmoved).await?;
    batch.write_logged(conn).await?;
    for (i, m) in &second {
        let item = &items[*i];
        let (applied, events) = apply_moved(conn, &item.result, m, now).await?;
        batch
            .log_one(conn, *i, applied, &m.payment_id, events)
            .await?;
    }
    Ok(batch.decided)
}

/// A batch being decided: its callbacks' decisions, those to log together, and the events.
struct Batch<'a> {
    items: &'a [Item],
    decided: Vec<Decided>,
    /// (item, payment) of the callbacks decided in [`Self::decided`] to be logged with the
    /// events in one statement.
    logged: Vec<(usize, Option<String>)>,
    events: Vec<NewEvent>,
    now: DateTime<Utc>,
}

impl Batch<'_> {
    /// Pays the orders of the first moved attempts in one statement; an order that can no
    /// longer take the money is flagged.
    async fn pay(
        &mut self,
        conn: &mut PgConnection,
        first: &[(usize, MovedAttempt)],
    ) -> Result<(), sqlx::Error> {
        if first.is_empty() {
            return Ok(());
        }
        let (items, now) = (self.items, self.now);
        let details: Vec<serde_json::Value> = first
            .iter()
            .map(|(i, m)| money_detail(&items[*i].result, m))
            .collect();
        let paying: Vec<Paying<'_>> = first
            .iter()
            .zip(&details)
            .map(|((i, m), detail)| Paying {
                payment_id: &m.payment_id,
                attempt_id: &m.attempt_id,
                money_at: items[*i].result.paid_at.unwrap_or(now),
                source: &items[*i].result.source,
                detail,
            })
            .collect();
        let mut paid: HashMap<String, _> = pg_pay_orders(conn, &paying, now)
            .await?
            .into_iter()
            .map(|(record, notices)| (record.payment.payment_id.clone(), (record, notices)))
            .collect();
        for (i, m) in first {
            let Some((record, notices)) = paid.remove(&m.payment_id) else {
                let flag = flag_unpayable(conn, &items[*i].result, m, now).await?;
                let applied = ResultApplied::Flagged(flag.to_owned());
                self.log_one(conn, *i, applied, &m.payment_id, Vec::new())
                    .await?;
                continue;
            };
            self.events.extend(paid_events(&record, notices));
            let outcome = CallbackOutcome::Applied(ResultApplied::Paid);
            self.decide(*i, outcome, Some(m.payment_id.clone()))?;
        }
        Ok(())
    }

    /// Finds out why attempts did not move, in one query: settled already, or not this
    /// gateway's (an unknown reference). Another amount is handed back.
    async fn not_moved(
        &mut self,
        conn: &mut PgConnection,
        unmoved: &[usize],
    ) -> Result<(), sqlx::Error> {
        if unmoved.is_empty() {
            return Ok(());
        }
        let refs: Vec<String> = unmoved
            .iter()
            .map(|i| self.items[*i].result.txn_ref.clone())
            .collect();
        let found: HashMap<String, (String, String, i64)> = sqlx::query_as(
            "select txn_ref, payment_id, gateway, amount from attempt where txn_ref = any($1)",
        )
        .bind(refs)
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .map(|(r, pid, gateway, amount): (String, String, String, i64)| (r, (pid, gateway, amount)))
        .collect();
        for i in unmoved {
            let item = &self.items[*i];
            match found.get(&item.result.txn_ref) {
                Some((_, gateway, _)) if *gateway != item.gateway => {}
                Some((_, _, amount)) if *amount != item.result.amount => continue,
                Some((pid, _, _)) => {
                    self.decide(*i, CallbackOutcome::AlreadySettled, Some(pid.clone()))?;
                    continue;
                }
                None => {}
            }
            self.decide(*i, CallbackOutcome::UnknownReference, None)?;
        }
        Ok(())
    }

    /// Decides a callback, to be logged with the others.
    fn decide(
        &mut self,
        i: usize,
        outcome: CallbackOutcome,
        payment_id: Option<String>,
    ) -> Result<(), sqlx::Error> {
        let answer = self.items[i].answer(&outcome)?.to_owned();
        self.decided[i] = Some((outcome, answer));
        self.logged.push((i, payment_id));
        Ok(())
    }

    /// The events, and the callbacks decided together with the decisions and answers recorded
    /// for them, in one statement.
    async fn write_logged(&mut self, conn: &mut PgConnection) -> Result<(), sqlx::Error> {
        if self.logged.is_empty() {
            return Ok(());
        }
        let (items, decided) = (self.items, &self.decided);
        let logged: Vec<(CallbackClaim<'_>, &CallbackOutcome, &str, Option<&str>)> = self
            .logged
            .iter()
            .filter_map(|(i, pid)| {
                let (outcome, answer) = decided[*i].as_ref()?;
                Some((items[*i].claim(), outcome, answer.as_str(), pid.as_deref()))
            })
            .collect();
        let audits: Vec<serde_json::Value> = logged
            .iter()
            .map(|(claim, outcome, answer, _)| callback_audit(claim, outcome.verdict(), answer))
            .collect();
        let decisions: Vec<Decision<'_>> = logged
            .iter()
            .zip(&audits)
            .map(|((claim, outcome, answer, pid), audit)| Decision {
                payment_id: *pid,
                ..claim.decision(outcome.verdict(), answer, audit)
            })
            .collect();
        let log: Vec<&Decision<'_>> = decisions.iter().collect();
        let events = std::mem::take(&mut self.events);
        super::super::outbox::pg_insert_events(conn, &events, &log, self.now).await
    }

    /// A callback decided on its own within the batch, logged with its events.
    async fn log_one(
        &mut self,
        conn: &mut PgConnection,
        i: usize,
        applied: ResultApplied,
        payment_id: &str,
        events: Vec<NewEvent>,
    ) -> Result<(), sqlx::Error> {
        let item = &self.items[i];
        let outcome = CallbackOutcome::Applied(applied);
        let answer = item.answer(&outcome)?.to_owned();
        let claim = item.claim();
        log_decision(
            conn,
            &claim,
            &outcome,
            &answer,
            Some(payment_id),
            events,
            self.now,
        )
        .await?;
        self.decided[i] = Some((outcome, answer));
        Ok(())
    }
}

/// The compare-and-set of [`move_attempts`]: each attempt named (reference, gateway, amount)
/// moves to `succeeded` from a state money may move.
static MOVE_ATTEMPTS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "update attempt set status = 'succeeded', gateway_txn_no = u.txn_no,
                bank_code = coalesce(u.bank, attempt.bank_code), paid_amount = u.amount,
                money_at = u.money_at, updated_at = $7
         from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[])
              as u(txn_ref, gateway, txn_no, bank, amount, money_at)
         where attempt.txn_ref = u.txn_ref and attempt.gateway = u.gateway and attempt.amount = u.amount
           and attempt.status in {}
         returning attempt.txn_ref, attempt.attempt_id, attempt.payment_id, attempt.gateway",
        txops::sql_money_states()
    )
});

/// Moves every item's attempt from a state money may move in one statement, as
/// [`super::transition`] does one at a time; returns the moved attempts by reference.
async fn move_attempts(
    conn: &mut PgConnection,
    items: &[Item],
    now: DateTime<Utc>,
) -> Result<HashMap<String, MovedAttempt>, sqlx::Error> {
    let column = |f: &dyn Fn(&Item) -> Option<String>| items.iter().map(f).collect::<Vec<_>>();
    let rows: Vec<(String, String, String, String)> = sqlx::query_as(MOVE_ATTEMPTS.as_str())
        .bind(column(&|i| Some(i.result.txn_ref.clone())))
        .bind(column(&|i| Some(i.gateway.clone())))
        .bind(column(&|i| i.result.gateway_txn_no.clone()))
        .bind(column(&|i| i.result.bank_code.clone()))
        .bind(items.iter().map(|i| i.result.amount).collect::<Vec<i64>>())
        .bind(column(&|i| Some(ts(i.result.paid_at.unwrap_or(now)))))
        .bind(ts(now))
        .fetch_all(&mut *conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(txn_ref, attempt_id, payment_id, gateway)| {
            let moved = MovedAttempt {
                attempt_id,
                payment_id,
                gateway,
            };
            (txn_ref, moved)
        })
        .collect())
}
