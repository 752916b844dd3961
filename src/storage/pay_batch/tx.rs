//! A batch's transaction: what each of its callbacks comes to, decided and written with as few
//! statements as the batch allows.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

use super::super::paying::fully_paid;
use super::super::payments::ResultApplied;
use super::super::snapshot::PaidLoadRow;
use super::super::transition::{
    apply_moved, callback_audit, flag_unpayable, log_decision, paid_events, CallbackClaim,
    CallbackOutcome, MovedAttempt,
};
use super::super::txops::Decision;
use super::statement::{move_and_pay, ItemRow};
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
    let rows = move_and_pay(conn, items, now).await?;
    let mut batch = Batch {
        items,
        decided: items.iter().map(|_| None).collect(),
        logged: Vec::new(),
        events: Vec::new(),
        now,
    };
    // A second moved attempt of an order in the batch is applied after the first, on its own.
    let mut second = Vec::new();
    for row in rows {
        let ItemRow {
            index,
            moved,
            first,
            paid,
            found,
        } = row;
        if index >= items.len() {
            return Err(sqlx::Error::Protocol(format!(
                "no callback {index} in the batch"
            )));
        }
        match moved {
            Some(m) if first => batch.pay(conn, index, m, paid).await?,
            Some(m) => second.push((index, m)),
            None => batch.not_moved(index, found)?,
        }
    }
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
    /// The first moved attempt of an order: the order paid (its events to be written with the
    /// others), or flagged when it could no longer take the money.
    async fn pay(
        &mut self,
        conn: &mut PgConnection,
        i: usize,
        m: MovedAttempt,
        paid: Option<PaidLoadRow>,
    ) -> Result<(), sqlx::Error> {
        let Some(paid) = paid else {
            let flag = flag_unpayable(conn, &self.items[i].result, &m, self.now).await?;
            let applied = ResultApplied::Flagged(flag.to_owned());
            return self
                .log_one(conn, i, applied, &m.payment_id, Vec::new())
                .await;
        };
        let (record, notices) = paid.into_parts()?;
        self.events
            .extend(paid_events(&record, fully_paid(notices)));
        let outcome = CallbackOutcome::Applied(ResultApplied::Paid);
        self.decide(i, outcome, Some(m.payment_id))
    }

    /// Why an attempt did not move, from the attempt the batch statement found (order,
    /// gateway, amount): settled already, or not this gateway's (an unknown reference).
    /// Another amount is handed back.
    fn not_moved(
        &mut self,
        i: usize,
        found: Option<(String, String, i64)>,
    ) -> Result<(), sqlx::Error> {
        let item = &self.items[i];
        match found {
            Some((_, gateway, _)) if gateway != item.gateway => {}
            Some((_, _, amount)) if amount != item.result.amount => return Ok(()),
            Some((pid, _, _)) => return self.decide(i, CallbackOutcome::AlreadySettled, Some(pid)),
            None => {}
        }
        self.decide(i, CallbackOutcome::UnknownReference, None)
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
