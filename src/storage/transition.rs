//! The one transition every word of a gateway takes (a callback, a status query, a statement
//! row): the attempt moves by compare-and-set from an open status, and only the transaction
//! that moved it moves the order and writes the events. For a callback, the verdict and the
//! answer are decided inside that same transaction and written to the callback log there, so
//! the log always says what the gateway was told.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::payments::{
    raise_flag, AttemptRow, GatewayResult, PaymentStoreError, ResultApplied, ATTEMPT_COLUMNS,
};
use super::{in_write_tx, ts, Store};
use crate::events::EventType;

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

/// A verified callback, already committed to the log as received, about to be decided.
pub struct CallbackClaim<'a> {
    pub callback_id: &'a str,
    pub gateway: &'a str,
    pub txn_ref: &'a str,
    /// The amount claimed; `None` when it is not a whole number of đồng (never the attempt's).
    pub amount: Option<i64>,
    /// What to apply; `None` only notes the callback (a status that is not final yet).
    pub result: Option<&'a GatewayResult>,
}

/// How the compare-and-set on the attempt came out.
enum Moved {
    NoAttempt,
    AmountDiffers(Box<AttemptRow>),
    AlreadyFinal(String),
    /// (attempt id, payment id, gateway)
    Yes(String, String, String),
}

/// Moves the attempt named by `$r.txn_ref` (of `$gateway`, for `$amount`) from an open status,
/// in one statement; when nothing moved, finds out why.
macro_rules! move_attempt {
    ($tx:ident, $r:expr, $gateway:expr, $amount:expr, $now:expr) => {{
        let r: &GatewayResult = $r;
        let money_at = r.paid_at.unwrap_or($now);
        // Money is real even on an attempt already closed as expired; a failure only moves an
        // open attempt.
        let open_states = if r.success { "('redirected', 'unknown', 'expired')" } else { "('redirected', 'unknown')" };
        let moved: Option<(String, String, String)> = sqlx::query_as(&format!(
            "update attempt set status = $2, gateway_txn_no = $3, bank_code = coalesce($4, bank_code),
                    paid_amount = $5, money_at = $6, updated_at = $7
             where txn_ref = $1 and gateway = coalesce($8, gateway) and amount = $9 and status in {open_states}
             returning attempt_id, payment_id, gateway"
        ))
        .bind(&r.txn_ref)
        .bind(if r.success { "succeeded" } else { "failed" })
        .bind(&r.gateway_txn_no)
        .bind(&r.bank_code)
        .bind(if r.success { Some(r.amount) } else { None })
        .bind(if r.success { Some(ts(money_at)) } else { None })
        .bind(ts($now))
        .bind($gateway)
        .bind($amount)
        .fetch_optional(&mut *$tx)
        .await?;
        match moved {
            Some((attempt_id, pid, gateway)) => Moved::Yes(attempt_id, pid, gateway),
            None => {
                let sql = format!("select {ATTEMPT_COLUMNS} from attempt where txn_ref = $1");
                let found: Option<AttemptRow> = sqlx::query_as(&sql).bind(&r.txn_ref).fetch_optional(&mut *$tx).await?;
                match found {
                    Some(a) if $gateway.is_none_or(|g: &str| g == a.gateway) => {
                        if Some(a.amount) != $amount { Moved::AmountDiffers(Box::new(a)) } else { Moved::AlreadyFinal(a.payment_id) }
                    }
                    _ => Moved::NoAttempt,
                }
            }
        }
    }};
}

/// Applies a moved attempt to its order (the payment's row lock taken first): a failure sends
/// the order back to `pending` and emits `payment.attempt_failed`; money pays the order, or is
/// recorded and flagged when the order can no longer take it.
macro_rules! apply_moved {
    ($tx:ident, $ops:ident, $r:expr, $attempt_id:expr, $pid:expr, $gateway:expr, $now:expr) => {{
        let r: &GatewayResult = $r;
        let (attempt_id, pid): (&str, &str) = ($attempt_id, $pid);
        let detail = json!({"attempt_id": attempt_id, "gateway": $gateway, "reference": r.txn_ref,
                            "amount": r.amount, "gateway_txn_no": r.gateway_txn_no, "source": r.source});
        if !r.success {
            $ops::lock_payment(&mut $tx, pid).await?;
            $ops::audit(&mut $tx, pid, "attempt.failed", &r.source, &detail, $now).await?;
            sqlx::query(&super::payments::back_to_pending_sql()).bind(pid).bind(ts($now)).execute(&mut *$tx).await?;
            let failure = r.failure.clone().unwrap_or_else(unexplained_failure);
            let extra = json!({"attempt": {"id": attempt_id, "gateway": $gateway, "code": failure.code,
                                           "reason_vi": failure.reason_vi, "reason_en": failure.reason_en}});
            $ops::emit_payment_with(&mut $tx, pid, EventType::PaymentAttemptFailed, extra, $now).await?;
            ResultApplied::Failed
        } else {
            let money_at = r.paid_at.unwrap_or($now);
            // Paying the order takes its row lock; when it cannot take the money, the lock is
            // taken to read why.
            let paying = super::paying::Paying { payment_id: pid, attempt_id, money_at, source: &r.source, detail: &detail };
            if let Some(record) = $ops::pay_order(&mut $tx, &paying, $now).await? {
                let notices = $ops::mark_lines_paid(&mut $tx, pid, money_at, $now).await?;
                // The confirmation's e-mail waits in the mail outbox, committed with the money.
                sqlx::query(
                    "insert into mail_outbox (payment_id, kind, status, tries, next_attempt_at, created_at, updated_at)
                     values ($1, 'confirmation', 'pending', 0, $2, $2, $2) on conflict do nothing",
                )
                .bind(pid).bind(ts($now)).execute(&mut *$tx).await?;
                // payment.paid and notice.paid in one write of the event log.
                let mut events = vec![super::txops::event_of(&record, EventType::PaymentPaid, serde_json::Value::Null)];
                for (notice_id, agency) in notices {
                    events.push(crate::events::NewEvent {
                        event_type: EventType::NoticePaid,
                        payment_id: None,
                        notice_id: Some(notice_id.clone()),
                        agency_code: agency.clone(),
                        data: json!({"notice_id": notice_id, "payment_id": pid, "agency_code": agency}),
                    });
                }
                $ops::emit_all(&mut $tx, events, $now).await?;
                ResultApplied::Paid
            } else {
                let status = $ops::lock_payment(&mut $tx, pid).await?.unwrap_or_default();
                let flag = if matches!(status.as_str(), "expired" | "cancelled") { "paid_after_expiry" } else { "duplicate_payment" };
                let text = format!(
                    "{} đ received on attempt {attempt_id} ({}) while the order was {status}",
                    crate::money::format_vnd_plain(r.amount), r.txn_ref
                );
                raise_flag!($tx, $ops, pid, flag, &text, Some(attempt_id), $now);
                ResultApplied::Flagged(flag.to_owned())
            }
        }
    }};
}

fn unexplained_failure() -> super::payments::AttemptFailure {
    super::payments::AttemptFailure {
        code: None,
        reason_vi: "Cổng thanh toán báo giao dịch không thành công".into(),
        reason_en: "The gateway reports that the payment did not go through".into(),
    }
}

/// Flags the order of an attempt that a callback claims another amount for.
macro_rules! flag_amount {
    ($tx:ident, $ops:ident, $claim:expr, $attempt:expr, $now:expr) => {{
        let a: &AttemptRow = $attempt;
        let claimed = $claim.amount.map_or_else(
            || "another amount".to_owned(),
            |c| format!("{} đ", crate::money::format_vnd_plain(c)),
        );
        let detail = format!(
            "{} callback for {} with {claimed}, not the attempt's {} đ",
            $claim.gateway,
            a.txn_ref,
            crate::money::format_vnd_plain(a.amount)
        );
        $ops::lock_payment(&mut $tx, &a.payment_id).await?;
        raise_flag!(
            $tx,
            $ops,
            &a.payment_id,
            "amount_mismatch",
            &detail,
            None::<&str>,
            $now
        );
    }};
}

/// Writes the decision to the callback's log row and, for a known payment, its audit trail.
macro_rules! log_decision {
    ($tx:ident, $ops:ident, $claim:expr, $outcome:expr, $answer:expr, $payment_id:expr, $now:expr) => {{
        let verdict = $outcome.verdict();
        let data = json!({"callback_id": $claim.callback_id, "reference": $claim.txn_ref,
                          "verdict": verdict, "answer": $answer});
        let decision = super::paying::Decision { callback_id: $claim.callback_id, verdict, answer: $answer,
                                                 payment_id: $payment_id, gateway: $claim.gateway, audit: &data };
        $ops::log_decision(&mut $tx, &decision, $now).await?;
    }};
}

impl Store {
    /// Applies the gateway's word on an attempt (a status query, a statement row), exactly once.
    pub async fn apply_gateway_result(
        &self,
        r: &GatewayResult,
        now: DateTime<Utc>,
    ) -> Result<ResultApplied, PaymentStoreError> {
        in_write_tx!(self, tx, ops => {
            let applied = match move_attempt!(tx, r, None::<&str>, Some(r.amount), now) {
                Moved::NoAttempt => return Err(PaymentStoreError::NotFound),
                Moved::AmountDiffers(_) | Moved::AlreadyFinal(_) => ResultApplied::AlreadyFinal,
                Moved::Yes(attempt_id, pid, gateway) => apply_moved!(tx, ops, r, &attempt_id, &pid, &gateway, now),
            };
            tx.commit().await?;
            Ok(applied)
        })
    }

    /// Decides a verified callback and applies it in one transaction, which also writes the
    /// verdict and `answer_for`'s answer to the callback's log row and to the payment's audit
    /// trail: what the log says is what the caller sends.
    pub async fn decide_callback(
        &self,
        claim: &CallbackClaim<'_>,
        answer_for: &(dyn Fn(&CallbackOutcome) -> String + Sync),
        now: DateTime<Utc>,
    ) -> Result<(CallbackOutcome, String), PaymentStoreError> {
        in_write_tx!(self, tx, ops => {
            let (outcome, payment_id) = match claim.result {
                Some(r) => match move_attempt!(tx, r, Some(claim.gateway), claim.amount, now) {
                    Moved::NoAttempt => (CallbackOutcome::UnknownReference, None),
                    Moved::AmountDiffers(a) => {
                        flag_amount!(tx, ops, claim, &a, now);
                        (CallbackOutcome::AmountMismatch, Some(a.payment_id))
                    }
                    Moved::AlreadyFinal(pid) => (CallbackOutcome::AlreadySettled, Some(pid)),
                    Moved::Yes(attempt_id, pid, gateway) => {
                        let applied = apply_moved!(tx, ops, r, &attempt_id, &pid, &gateway, now);
                        (CallbackOutcome::Applied(applied), Some(pid))
                    }
                },
                None => {
                    let sql = format!("select {ATTEMPT_COLUMNS} from attempt where txn_ref = $1 and gateway = $2");
                    let found: Option<AttemptRow> = sqlx::query_as(&sql).bind(claim.txn_ref).bind(claim.gateway).fetch_optional(&mut *tx).await?;
                    match found {
                        None => (CallbackOutcome::UnknownReference, None),
                        Some(a) if Some(a.amount) != claim.amount => {
                            flag_amount!(tx, ops, claim, &a, now);
                            (CallbackOutcome::AmountMismatch, Some(a.payment_id))
                        }
                        Some(a) if matches!(a.status.as_str(), "succeeded" | "failed") => (CallbackOutcome::AlreadySettled, Some(a.payment_id)),
                        Some(a) => (CallbackOutcome::Noted, Some(a.payment_id)),
                    }
                }
            };
            let answer = answer_for(&outcome);
            log_decision!(tx, ops, claim, &outcome, &answer, payment_id.as_deref(), now);
            tx.commit().await?;
            Ok((outcome, answer))
        })
    }
}
