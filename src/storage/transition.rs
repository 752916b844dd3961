//! The one transition every word of a gateway takes (a callback, a status query, a statement
//! row): the attempt moves by compare-and-set from an open status, and only the transaction
//! that moved it moves the order and writes the events. For a callback, the verdict and the
//! answer are decided inside that same transaction, and the callback is written to the log
//! there with them, once: the log always says what the gateway was told, and a callback is
//! durable before any answer goes out (the answer is sent after this transaction commits).

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::{Database, Encode, Executor, FromRow, IntoArguments, Type};

use super::payment_rows::PaymentRecord;
use super::payments::{
    AttemptFailure, AttemptRow, GatewayResult, PaymentStoreError, ResultApplied, ATTEMPT_COLUMNS,
};
use super::snapshot::PaymentLoadRow;
use super::txops::{self, DbOf, Decision, PaidNotices, Paying, TxConn};
use super::{in_write_tx, ts, Store};
use crate::events::{EventType, NewEvent};
use crate::money::format_vnd_plain;
use crate::payments::order::{AttemptStatus, PaymentStatus};

/// What a callback's decision came to; its `verdict` in the callback log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallbackOutcome {
    /// No attempt of this gateway has that reference.
    UnknownReference,
    /// The amount is not the attempt's: nothing moved, the order is flagged.
    AmountMismatch,
    /// The attempt had already been settled (a resend, or the loser of a race).
    AlreadySettled,
    /// Verified and for a known attempt, with nothing to apply yet (a pending status).
    Noted,
    /// The transition ran.
    Applied(ResultApplied),
}

impl CallbackOutcome {
    pub fn verdict(&self) -> &'static str {
        match self {
            Self::UnknownReference => "unknown_reference",
            Self::AmountMismatch => "amount_mismatch",
            Self::AlreadySettled => "already_settled",
            Self::Noted | Self::Applied(_) => "valid",
        }
    }
}

/// A verified callback as received, about to be decided; it is written to the log with its
/// decision, in the transaction that applies it.
pub struct CallbackClaim<'a> {
    pub callback_id: &'a str,
    pub gateway: &'a str,
    pub txn_ref: &'a str,
    /// The text kept of the payload (whole), and the size and SHA-256 of the bytes received.
    pub payload: &'a str,
    pub payload_bytes: i64,
    pub payload_sha256: &'a str,
    /// The amount claimed; `None` when it is not a whole number of đồng (never the attempt's).
    pub amount: Option<i64>,
    /// What to apply; `None` only notes the callback (a status that is not final yet).
    pub result: Option<&'a GatewayResult>,
}

impl<'a> CallbackClaim<'a> {
    /// The callback with its decision, for the log (no payment yet).
    pub(super) fn decision(
        &self,
        verdict: &'a str,
        answer: &'a str,
        audit: &'a serde_json::Value,
    ) -> Decision<'a> {
        Decision {
            callback_id: self.callback_id,
            verdict,
            answer,
            payment_id: None,
            gateway: self.gateway,
            audit,
            txn_ref: self.txn_ref,
            payload: self.payload,
            payload_bytes: self.payload_bytes,
            payload_sha256: self.payload_sha256,
        }
    }
}

/// The `callback.received` audit record's data.
pub(super) fn callback_audit(
    claim: &CallbackClaim<'_>,
    verdict: &str,
    answer: &str,
) -> serde_json::Value {
    json!({"callback_id": claim.callback_id, "reference": claim.txn_ref,
           "verdict": verdict, "answer": answer})
}

/// How the compare-and-set on the attempt came out.
enum Moved {
    NoAttempt,
    AmountDiffers(Box<AttemptRow>),
    AlreadyFinal(String),
    Yes(MovedAttempt),
}

/// The attempt that moved, and its order.
pub(super) struct MovedAttempt {
    pub attempt_id: String,
    pub payment_id: String,
    pub gateway: String,
}

/// Moves the attempt named by `r.txn_ref` (of `gateway`, for `amount`) from an open status, in
/// one statement; when nothing moved, finds out why.
async fn move_attempt<C>(
    conn: &mut C,
    r: &GatewayResult,
    gateway: Option<&str>,
    amount: Option<i64>,
    now: DateTime<Utc>,
) -> Result<Moved, sqlx::Error>
where
    C: TxConn,
    for<'c> &'c mut C: Executor<'c, Database = DbOf<C>>,
    for<'q> <DbOf<C> as Database>::Arguments<'q>: IntoArguments<'q, DbOf<C>>,
    for<'q> &'q str: Encode<'q, DbOf<C>> + Type<DbOf<C>>,
    for<'q> Option<&'q str>: Encode<'q, DbOf<C>> + Type<DbOf<C>>,
    for<'q> Option<i64>: Encode<'q, DbOf<C>> + Type<DbOf<C>>,
    for<'r> (String, String, String): FromRow<'r, <DbOf<C> as Database>::Row>,
    for<'r> AttemptRow: FromRow<'r, <DbOf<C> as Database>::Row>,
{
    let money_at = ts(r.paid_at.unwrap_or(now));
    let now_text = ts(now);
    // Money is real even on an attempt already closed as expired; a failure only moves an
    // open attempt.
    let from = if r.success {
        txops::sql_money_states()
    } else {
        txops::sql_open_states()
    };
    let to = if r.success {
        AttemptStatus::Succeeded
    } else {
        AttemptStatus::Failed
    };
    let moved: Option<(String, String, String)> = sqlx::query_as(&format!(
        "update attempt set status = $2, gateway_txn_no = $3, bank_code = coalesce($4, bank_code),
                paid_amount = $5, money_at = $6, updated_at = $7
         where txn_ref = $1 and gateway = coalesce($8, gateway) and amount = $9 and status in {from}
         returning attempt_id, payment_id, gateway"
    ))
    .bind(r.txn_ref.as_str())
    .bind(to.as_str())
    .bind(r.gateway_txn_no.as_deref())
    .bind(r.bank_code.as_deref())
    .bind(r.success.then_some(r.amount))
    .bind(r.success.then_some(money_at.as_str()))
    .bind(now_text.as_str())
    .bind(gateway)
    .bind(amount)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some((attempt_id, payment_id, gateway)) = moved {
        return Ok(Moved::Yes(MovedAttempt {
            attempt_id,
            payment_id,
            gateway,
        }));
    }
    let sql = format!("select {ATTEMPT_COLUMNS} from attempt where txn_ref = $1");
    let found: Option<AttemptRow> = sqlx::query_as(&sql)
        .bind(r.txn_ref.as_str())
        .fetch_optional(&mut *conn)
        .await?;
    Ok(match found {
        Some(a) if gateway.is_none_or(|g| g == a.gateway.as_str()) => {
            if Some(a.amount) != amount {
                Moved::AmountDiffers(Box::new(a))
            } else {
                Moved::AlreadyFinal(a.payment_id)
            }
        }
        _ => Moved::NoAttempt,
    })
}

/// Applies a moved attempt to its order (the payment's row lock taken first): a failure sends
/// the order back to `pending` and emits `payment.attempt_failed`; money pays the order, or is
/// recorded and flagged when the order can no longer take it. The events of a paid order are
/// returned, not yet written, so that the caller writes them with what else it logs.
pub(super) async fn apply_moved<C>(
    conn: &mut C,
    r: &GatewayResult,
    moved: &MovedAttempt,
    now: DateTime<Utc>,
) -> Result<(ResultApplied, Vec<NewEvent>), sqlx::Error>
where
    C: TxConn,
    for<'c> &'c mut C: Executor<'c, Database = DbOf<C>>,
    for<'q> <DbOf<C> as Database>::Arguments<'q>: IntoArguments<'q, DbOf<C>>,
    for<'q> &'q str: Encode<'q, DbOf<C>> + Type<DbOf<C>>,
    for<'q> Option<&'q str>: Encode<'q, DbOf<C>> + Type<DbOf<C>>,
    for<'r> (String,): FromRow<'r, <DbOf<C> as Database>::Row>,
    for<'r> (PaymentStatus,): FromRow<'r, <DbOf<C> as Database>::Row>,
    for<'r> PaymentLoadRow: FromRow<'r, <DbOf<C> as Database>::Row>,
{
    let detail = money_detail(r, moved);
    if r.success {
        apply_money(conn, r, moved, &detail, now).await
    } else {
        apply_failure(conn, r, moved, &detail, now).await?;
        Ok((ResultApplied::Failed, Vec::new()))
    }
}

async fn apply_failure<C>(
    conn: &mut C,
    r: &GatewayResult,
    moved: &MovedAttempt,
    detail: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error>
where
    C: TxConn,
    for<'c> &'c mut C: Executor<'c, Database = DbOf<C>>,
    for<'q> <DbOf<C> as Database>::Arguments<'q>: IntoArguments<'q, DbOf<C>>,
    for<'q> &'q str: Encode<'q, DbOf<C>> + Type<DbOf<C>>,
    for<'q> Option<&'q str>: Encode<'q, DbOf<C>> + Type<DbOf<C>>,
    for<'r> (String,): FromRow<'r, <DbOf<C> as Database>::Row>,
    for<'r> (PaymentStatus,): FromRow<'r, <DbOf<C> as Database>::Row>,
    for<'r> PaymentLoadRow: FromRow<'r, <DbOf<C> as Database>::Row>,
{
    let pid = moved.payment_id.as_str();
    txops::lock_payment(&mut *conn, pid).await?;
    txops::audit(&mut *conn, pid, "attempt.failed", &r.source, detail, now).await?;
    txops::back_to_pending(&mut *conn, pid, now).await?;
    let failure = r.failure.clone().unwrap_or_else(unexplained_failure);
    let extra = json!({"attempt": {"id": moved.attempt_id, "gateway": moved.gateway, "code": failure.code,
                                   "reason_vi": failure.reason_vi, "reason_en": failure.reason_en}});
    txops::emit_payment(conn, pid, EventType::PaymentAttemptFailed, extra, now).await
}

async fn apply_money<C>(
    conn: &mut C,
    r: &GatewayResult,
    moved: &MovedAttempt,
    detail: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<(ResultApplied, Vec<NewEvent>), sqlx::Error>
where
    C: TxConn,
    for<'c> &'c mut C: Executor<'c, Database = DbOf<C>>,
    for<'q> <DbOf<C> as Database>::Arguments<'q>: IntoArguments<'q, DbOf<C>>,
    for<'q> &'q str: Encode<'q, DbOf<C>> + Type<DbOf<C>>,
    for<'q> Option<&'q str>: Encode<'q, DbOf<C>> + Type<DbOf<C>>,
    for<'r> (String,): FromRow<'r, <DbOf<C> as Database>::Row>,
    for<'r> (PaymentStatus,): FromRow<'r, <DbOf<C> as Database>::Row>,
    for<'r> PaymentLoadRow: FromRow<'r, <DbOf<C> as Database>::Row>,
{
    let (attempt_id, pid) = (moved.attempt_id.as_str(), moved.payment_id.as_str());
    let money_at = r.paid_at.unwrap_or(now);
    // Paying the order takes its row lock; when it cannot take the money, the lock is taken
    // to read why.
    let paying = Paying {
        payment_id: pid,
        attempt_id,
        money_at,
        source: &r.source,
        detail,
    };
    let Some((record, notices)) = conn.pay_order(&paying, now).await? else {
        let flag = flag_unpayable(conn, r, moved, now).await?;
        return Ok((ResultApplied::Flagged(flag.to_owned()), Vec::new()));
    };
    // payment.paid and notice.paid, for one write of the event log.
    Ok((ResultApplied::Paid, paid_events(&record, notices)))
}

/// The audit data of the gateway's word on a moved attempt.
pub(super) fn money_detail(r: &GatewayResult, moved: &MovedAttempt) -> serde_json::Value {
    let mut detail = received_detail(r, &moved.gateway);
    detail["attempt_id"] = json!(moved.attempt_id);
    detail
}

/// The `money.received` record's data but the attempt it moved.
pub(super) fn received_detail(r: &GatewayResult, gateway: &str) -> serde_json::Value {
    json!({"gateway": gateway, "reference": r.txn_ref, "amount": r.amount,
           "gateway_txn_no": r.gateway_txn_no, "source": r.source})
}

/// The flags raised when money comes for an order that can no longer take it: it was closed
/// (expired or cancelled), or it is paid already.
pub(super) const UNPAYABLE_FLAGS: [&str; 2] = ["paid_after_expiry", "duplicate_payment"];

/// Records money on an order that could not take it: takes the order's row lock to read why,
/// and flags it for finance. Returns the flag.
pub(super) async fn flag_unpayable<C>(
    conn: &mut C,
    r: &GatewayResult,
    moved: &MovedAttempt,
    now: DateTime<Utc>,
) -> Result<&'static str, sqlx::Error>
where
    C: TxConn,
    for<'c> &'c mut C: Executor<'c, Database = DbOf<C>>,
    for<'q> <DbOf<C> as Database>::Arguments<'q>: IntoArguments<'q, DbOf<C>>,
    for<'q> &'q str: Encode<'q, DbOf<C>> + Type<DbOf<C>>,
    for<'q> Option<&'q str>: Encode<'q, DbOf<C>> + Type<DbOf<C>>,
    for<'r> (String,): FromRow<'r, <DbOf<C> as Database>::Row>,
    for<'r> (PaymentStatus,): FromRow<'r, <DbOf<C> as Database>::Row>,
    for<'r> PaymentLoadRow: FromRow<'r, <DbOf<C> as Database>::Row>,
{
    let (attempt_id, pid) = (moved.attempt_id.as_str(), moved.payment_id.as_str());
    let status = txops::lock_payment(&mut *conn, pid)
        .await?
        .ok_or(sqlx::Error::RowNotFound)?;
    let closed = matches!(status, PaymentStatus::Expired | PaymentStatus::Cancelled);
    let [after_expiry, duplicate] = UNPAYABLE_FLAGS;
    let flag = if closed { after_expiry } else { duplicate };
    let text = format!(
        "{} đ received on attempt {attempt_id} ({}) while the order was {status}",
        format_vnd_plain(r.amount),
        r.txn_ref
    );
    txops::raise_flag(conn, pid, flag, &text, Some(attempt_id), now).await?;
    Ok(flag)
}

/// `payment.paid` with the paid order's snapshot, and `notice.paid` for each notice it
/// completed: the events of a paid order, in order.
pub(super) fn paid_events(record: &PaymentRecord, notices: PaidNotices) -> Vec<NewEvent> {
    let pid = record.payment.payment_id.as_str();
    let mut events = vec![txops::event_of(
        record,
        EventType::PaymentPaid,
        serde_json::Value::Null,
    )];
    for (notice_id, agency) in notices {
        events.push(NewEvent {
            event_type: EventType::NoticePaid,
            payment_id: None,
            notice_id: Some(notice_id.clone()),
            agency_code: agency.clone(),
            data: json!({"notice_id": notice_id, "payment_id": pid, "agency_code": agency}),
        });
    }
    events
}

fn unexplained_failure() -> AttemptFailure {
    AttemptFailure {
        code: None,
        reason_vi: "Cổng thanh toán báo giao dịch không thành công".into(),
        reason_en: "The gateway reports that the payment did not go through".into(),
    }
}

/// Flags the order of an attempt that a callback claims another amount for.
async fn flag_amount<C>(
    conn: &mut C,
    claim: &CallbackClaim<'_>,
    a: &AttemptRow,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error>
where
    C: TxConn,
    for<'c> &'c mut C: Executor<'c, Database = DbOf<C>>,
    for<'q> <DbOf<C> as Database>::Arguments<'q>: IntoArguments<'q, DbOf<C>>,
    for<'q> &'q str: Encode<'q, DbOf<C>> + Type<DbOf<C>>,
    for<'q> Option<&'q str>: Encode<'q, DbOf<C>> + Type<DbOf<C>>,
    for<'r> (String,): FromRow<'r, <DbOf<C> as Database>::Row>,
    for<'r> (PaymentStatus,): FromRow<'r, <DbOf<C> as Database>::Row>,
    for<'r> PaymentLoadRow: FromRow<'r, <DbOf<C> as Database>::Row>,
{
    let claimed = claim.amount.map_or_else(
        || "another amount".to_owned(),
        |c| format!("{} đ", format_vnd_plain(c)),
    );
    let detail = format!(
        "{} callback for {} with {claimed}, not the attempt's {} đ",
        claim.gateway,
        a.txn_ref,
        format_vnd_plain(a.amount)
    );
    txops::lock_payment(&mut *conn, &a.payment_id).await?;
    txops::raise_flag(conn, &a.payment_id, "amount_mismatch", &detail, None, now).await?;
    Ok(())
}

/// Writes the callback with its decision to the log and, for a known payment, its audit trail,
/// with the transition's `events` (one statement on PostgreSQL).
pub(super) async fn log_decision<C: TxConn>(
    conn: &mut C,
    claim: &CallbackClaim<'_>,
    outcome: &CallbackOutcome,
    answer: &str,
    payment_id: Option<&str>,
    events: Vec<NewEvent>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let verdict = outcome.verdict();
    let data = callback_audit(claim, verdict, answer);
    let decision = Decision {
        payment_id,
        ..claim.decision(verdict, answer, &data)
    };
    match payment_id {
        Some(pid) if !events.is_empty() => {
            conn.insert_events_logged(&events, &decision, pid, now)
                .await
        }
        _ => {
            txops::emit_all(&mut *conn, events, now).await?;
            conn.log_decision(&decision, now).await
        }
    }
}

impl Store {
    /// Applies the gateway's word on an attempt (a status query, a statement row), exactly once.
    pub async fn apply_gateway_result(
        &self,
        r: &GatewayResult,
        now: DateTime<Utc>,
    ) -> Result<ResultApplied, PaymentStoreError> {
        in_write_tx!(self, tx => {
            let applied = match move_attempt(&mut *tx, r, None, Some(r.amount), now).await? {
                Moved::NoAttempt => return Err(PaymentStoreError::NotFound),
                Moved::AmountDiffers(_) | Moved::AlreadyFinal(_) => ResultApplied::AlreadyFinal,
                Moved::Yes(moved) => {
                    let (applied, events) = apply_moved(&mut *tx, r, &moved, now).await?;
                    txops::emit_all(&mut *tx, events, now).await?;
                    applied
                }
            };
            tx.commit().await?;
            Ok(applied)
        })
    }

    /// Decides a verified callback and applies it in one transaction, which also writes the
    /// callback with its verdict and `answer_for`'s answer to the log and to the payment's
    /// audit trail: what the log says is what the caller sends, and nothing is answered before
    /// the callback is committed. A transaction that fails or dies leaves no trace: no answer
    /// went out, and the gateway sends the callback again.
    ///
    /// On PostgreSQL a success callback is first offered to a batch ([`super::pay_batch`]),
    /// which decides it with the other success callbacks waiting, in one transaction, or hands
    /// it back to be decided here. `answer_for` is then asked its answers before the batch.
    pub async fn decide_callback(
        &self,
        claim: &CallbackClaim<'_>,
        answer_for: &(dyn Fn(&CallbackOutcome) -> String + Sync),
        now: DateTime<Utc>,
    ) -> Result<(CallbackOutcome, String), PaymentStoreError> {
        if let Some(decided) = self.decide_in_batch(claim, answer_for, now).await? {
            return Ok(decided);
        }
        in_write_tx!(self, tx => {
            let mut events = Vec::new();
            let (outcome, payment_id) = match claim.result {
                Some(r) => match move_attempt(&mut *tx, r, Some(claim.gateway), claim.amount, now).await? {
                    Moved::NoAttempt => (CallbackOutcome::UnknownReference, None),
                    Moved::AmountDiffers(a) => {
                        flag_amount(&mut *tx, claim, &a, now).await?;
                        (CallbackOutcome::AmountMismatch, Some(a.payment_id))
                    }
                    Moved::AlreadyFinal(pid) => (CallbackOutcome::AlreadySettled, Some(pid)),
                    Moved::Yes(moved) => {
                        let (applied, written_later) = apply_moved(&mut *tx, r, &moved, now).await?;
                        events = written_later;
                        (CallbackOutcome::Applied(applied), Some(moved.payment_id))
                    }
                },
                None => {
                    let sql = format!("select {ATTEMPT_COLUMNS} from attempt where txn_ref = $1 and gateway = $2");
                    let found: Option<AttemptRow> = sqlx::query_as(&sql).bind(claim.txn_ref).bind(claim.gateway).fetch_optional(&mut *tx).await?;
                    match found {
                        None => (CallbackOutcome::UnknownReference, None),
                        Some(a) if Some(a.amount) != claim.amount => {
                            flag_amount(&mut *tx, claim, &a, now).await?;
                            (CallbackOutcome::AmountMismatch, Some(a.payment_id))
                        }
                        Some(a) if matches!(a.status, AttemptStatus::Succeeded | AttemptStatus::Failed) => (CallbackOutcome::AlreadySettled, Some(a.payment_id)),
                        Some(a) => (CallbackOutcome::Noted, Some(a.payment_id)),
                    }
                }
            };
            let answer = answer_for(&outcome);
            log_decision(&mut *tx, claim, &outcome, &answer, payment_id.as_deref(), events, now).await?;
            tx.commit().await?;
            Ok((outcome, answer))
        })
    }
}
