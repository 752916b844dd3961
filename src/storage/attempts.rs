//! Gateway attempts: starting one, finding them by the gateway's reference, recording callbacks,
//! and the janitor's view of those still waiting for an answer.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use serde_json::json;

use super::callback_log::CALLBACK_INSERT;
use super::payments::{AttemptRow, CallbackRecord, NewAttempt, PaymentStoreError, ATTEMPT_COLUMNS};
use super::txops;
use super::{in_write_tx, on_pool, on_writer, ts, Store};
use crate::events::EventType;
use crate::payments::order::{AttemptStatus, PaymentStatus};

/// A callback logged on its own; a row already under its id takes this verdict and answer.
static RECORD_CALLBACK: LazyLock<String> = LazyLock::new(|| {
    format!(
        "{CALLBACK_INSERT} values ($1, $2, $3, null, $4, $5, $6, $7, $8, $9)
         on conflict (callback_id) do update set verdict = excluded.verdict, answer = excluded.answer"
    )
});

impl Store {
    /// Adds an attempt to a payable order and moves it to `processing`.
    pub async fn insert_attempt(
        &self,
        payment_id: &str,
        attempt: &NewAttempt,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<(), PaymentStoreError> {
        in_write_tx!(self, tx => {
            let row: Option<(PaymentStatus, String)> =
                sqlx::query_as("select status, expires_at from payment where payment_id = $1")
                    .bind(payment_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            let Some((status, expires_at)) = row else { return Err(PaymentStoreError::NotFound) };
            if !status.is_payable() {
                return Err(PaymentStoreError::NotPayable(status.to_string()));
            }
            if expires_at <= ts(now) {
                return Err(PaymentStoreError::NotPayable("past its expiry".into()));
            }
            sqlx::query(
                "insert into attempt (attempt_id, payment_id, gateway, txn_ref, status, amount, redirect_url, qr,
                                      client_ip, bank_code, expires_at, created_at, updated_at)
                 values ($1, $2, $3, $4, 'redirected', $5, $6, $7, $8, $9, $10, $11, $11)",
            )
            .bind(&attempt.attempt_id)
            .bind(payment_id)
            .bind(&attempt.gateway)
            .bind(&attempt.txn_ref)
            .bind(attempt.amount)
            .bind(&attempt.redirect_url)
            .bind(&attempt.qr)
            .bind(&attempt.client_ip)
            .bind(&attempt.bank_code)
            .bind(ts(attempt.expires_at))
            .bind(ts(now))
            .execute(&mut *tx)
            .await?;
            if let Some(until) = attempt.extend_order_to {
                sqlx::query("update payment set expires_at = $2 where payment_id = $1 and expires_at < $2")
                    .bind(payment_id)
                    .bind(ts(until))
                    .execute(&mut *tx)
                    .await?;
            }
            txops::audit(&mut *tx, payment_id, "attempt.created", actor,
                &json!({"attempt_id": attempt.attempt_id, "gateway": attempt.gateway, "reference": attempt.txn_ref}), now).await?;
            let moved = sqlx::query(
                "update payment set status = 'processing', updated_at = $2 where payment_id = $1 and status = 'pending'",
            )
            .bind(payment_id)
            .bind(ts(now))
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if moved == 1 {
                txops::emit_payment(&mut *tx, payment_id, EventType::PaymentProcessing, serde_json::Value::Null, now).await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// The attempt a gateway reference names.
    pub async fn attempt_by_ref(&self, txn_ref: &str) -> Result<Option<AttemptRow>, sqlx::Error> {
        let sql = format!("select {ATTEMPT_COLUMNS} from attempt where txn_ref = $1");
        on_pool!(self, pool => sqlx::query_as(&sql).bind(txn_ref).fetch_optional(pool).await)
    }

    /// The agency of the order whose attempt `txn_ref` names: `None` for an unknown reference,
    /// `Some(None)` for an order of no agency.
    pub async fn agency_of_attempt(
        &self,
        txn_ref: &str,
    ) -> Result<Option<Option<String>>, sqlx::Error> {
        let sql =
            "select p.agency_code from attempt a join payment p on p.payment_id = a.payment_id \
                   where a.txn_ref = $1";
        let row: Option<(Option<String>,)> =
            on_pool!(self, pool => sqlx::query_as(sql).bind(txn_ref).fetch_optional(pool).await)?;
        Ok(row.map(|(agency,)| agency))
    }

    /// The attempts these gateway references name (those that exist), in one query per 500.
    pub async fn attempts_by_refs(&self, refs: &[String]) -> Result<Vec<AttemptRow>, sqlx::Error> {
        let mut out = Vec::new();
        for chunk in refs.chunks(500) {
            let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "select {ATTEMPT_COLUMNS} from attempt where txn_ref in ({})",
                placeholders.join(",")
            );
            let rows: Vec<AttemptRow> = on_pool!(self, pool => {
                let mut q = sqlx::query_as(&sql);
                for r in chunk {
                    q = q.bind(r);
                }
                q.fetch_all(pool).await
            })?;
            out.extend(rows);
        }
        Ok(out)
    }

    /// Commits a callback with its verdict and answer in its own statement: one that failed
    /// verification, or one whose decision failed (a decided callback is written by the
    /// transaction that decides it, [`Store::decide_callback`]). A callback already in the log
    /// under the same id — a decision that did commit though its commit's reply never came back —
    /// takes this verdict and answer, which are the ones the gateway is sent.
    pub async fn record_callback(
        &self,
        cb: &CallbackRecord<'_>,
        now: DateTime<Utc>,
    ) -> Result<(), sqlx::Error> {
        on_writer!(self, pool => {
            sqlx::query(RECORD_CALLBACK.as_str())
            .bind(cb.callback_id)
            .bind(cb.gateway)
            .bind(cb.txn_ref)
            .bind(cb.verdict)
            .bind(cb.answer)
            .bind(cb.payload)
            .bind(cb.payload_bytes)
            .bind(cb.payload_sha256)
            .bind(ts(now))
            .execute(pool)
            .await
            .map(|_| ())
        })
    }

    /// Deletes callbacks that failed verification received before `cutoff`; returns how many.
    /// Verified callbacks are accounting records and stay.
    pub async fn sweep_unverified_callbacks(
        &self,
        cutoff: DateTime<Utc>,
    ) -> Result<u64, sqlx::Error> {
        on_writer!(self, pool => {
            sqlx::query(
                "delete from callback where verdict in ('bad_signature', 'malformed', 'wrong_merchant')
                 and received_at < $1",
            )
            .bind(ts(cutoff))
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
        })
    }

    /// Attempts still open whose expiry passed before `cutoff`: the janitor asks their gateway.
    pub async fn stale_attempts(
        &self,
        cutoff: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<AttemptRow>, sqlx::Error> {
        let sql = format!(
            "select {ATTEMPT_COLUMNS} from attempt where status in {} and expires_at < $1
             order by expires_at limit $2",
            txops::sql_open_states()
        );
        on_pool!(self, pool => sqlx::query_as(&sql).bind(ts(cutoff)).bind(limit).fetch_all(pool).await)
    }

    /// Marks an open attempt `expired` (the gateway says it never happened) or `unknown`
    /// (no answer yet); an expired attempt may return its order to `pending`.
    pub async fn settle_attempt_without_money(
        &self,
        attempt_id: &str,
        to: AttemptStatus,
        now: DateTime<Utc>,
    ) -> Result<bool, PaymentStoreError> {
        let sql = format!(
            "update attempt set status = $2, updated_at = $3
             where attempt_id = $1 and status in {} returning payment_id",
            txops::sql_open_states()
        );
        in_write_tx!(self, tx => {
            let row: Option<(String,)> = sqlx::query_as(&sql)
            .bind(attempt_id)
            .bind(to)
            .bind(ts(now))
            .fetch_optional(&mut *tx)
            .await?;
            let Some((pid,)) = row else {
                tx.commit().await?;
                return Ok(false);
            };
            if to == AttemptStatus::Expired {
                txops::back_to_pending(&mut *tx, &pid, now).await?;
                txops::audit(&mut *tx, &pid, "attempt.expired", "janitor", &json!({"attempt_id": attempt_id}), now).await?;
            }
            tx.commit().await?;
            Ok(true)
        })
    }
}
