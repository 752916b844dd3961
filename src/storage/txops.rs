//! Statements that run inside a caller's write transaction, on either backend's connection.
//!
//! Where the dialects differ, a [`TxConn`] method is the backend's own statement (implemented
//! for `SqliteConnection` and `PgConnection` in [`super::dialects`]); where they do not, one
//! generic function here serves both. Callers pass the transaction's connection (`&mut *tx`).
//!
//! The `where` clauses of the generic functions name the Rust types each statement binds and
//! reads; both connection types meet them, so a caller holding a concrete transaction never
//! repeats them. A generic caller repeats the clauses of what it calls.

use std::future::Future;

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::{Database, Encode, Executor, FromRow, IntoArguments, Type};

use super::payment_rows::PaymentRecord;
use super::snapshot::PaymentLoadRow;
use super::ts;
use crate::events::{EventType, NewEvent};
use crate::ids::new_audit_id;
use crate::payments::order::{self, AttemptStatus, OrderEvent, PaymentStatus};

/// The database behind a connection type.
pub type DbOf<C> = <C as sqlx::Connection>::Database;

/// A write transaction's connection. Its methods are the statements whose text differs
/// between the backends (PostgreSQL does in one statement what SQLite does in several).
pub trait TxConn: sqlx::Connection + Send {
    /// Appended to a row read to take its lock until commit (` for update`); empty on SQLite,
    /// whose write transaction already excludes every other writer.
    const FOR_UPDATE: &'static str;

    /// The query of [`load_payment`] (`$1`: the payment id).
    fn load_sql() -> &'static str;

    /// Writes a transaction's events, in order (the outbox); their deliveries are written with
    /// them on SQLite, and when they are numbered on PostgreSQL.
    fn insert_events(
        &mut self,
        events: &[NewEvent],
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), sqlx::Error>> + Send;

    /// Writes a transaction's events (as [`Self::insert_events`] does), and a callback with its
    /// decision to the log and its payment's (`payment_id`) audit trail: one statement on
    /// PostgreSQL.
    fn insert_events_logged(
        &mut self,
        events: &[NewEvent],
        decision: &Decision<'_>,
        payment_id: &str,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), sqlx::Error>> + Send;

    /// Pays the order (takes its row lock) with everything paying writes: its `money.received`
    /// audit record, its notice lines and their notices, the confirmation's mail. Returns its
    /// snapshot and the notices that became fully paid; `None` when the order can no longer
    /// take money (only the audit record is written then).
    fn pay_order(
        &mut self,
        p: &Paying<'_>,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Option<(PaymentRecord, PaidNotices)>, sqlx::Error>> + Send;

    /// Writes a callback with its decision to the log and, with a payment, its audit trail.
    fn log_decision(
        &mut self,
        d: &Decision<'_>,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), sqlx::Error>> + Send;
}

/// What paying an order writes besides the order.
pub struct Paying<'a> {
    pub payment_id: &'a str,
    pub attempt_id: &'a str,
    pub money_at: DateTime<Utc>,
    /// The `money.received` audit record's actor and data.
    pub source: &'a str,
    pub detail: &'a serde_json::Value,
}

/// A callback as received with its decision: its log row (written once, with the verdict and
/// the answer) and, with a payment, that payment's audit record.
pub struct Decision<'a> {
    pub callback_id: &'a str,
    pub verdict: &'a str,
    pub answer: &'a str,
    pub payment_id: Option<&'a str>,
    pub gateway: &'a str,
    pub audit: &'a serde_json::Value,
    /// The reference the callback names.
    pub txn_ref: &'a str,
    /// The text kept of the payload, and the size and SHA-256 of the payload as received.
    pub payload: &'a str,
    pub payload_bytes: i64,
    pub payload_sha256: &'a str,
}

/// The notices that a paid order's lines completed, as (notice id, agency).
pub type PaidNotices = Vec<(String, Option<String>)>;

/// `('redirected', 'unknown')`: the open attempt states, for SQL, from [`AttemptStatus::OPEN`].
pub fn sql_open_states() -> String {
    sql_list(AttemptStatus::OPEN.iter().map(|s| s.as_str()))
}

/// The open attempt states and `expired`: money is real even on an attempt already closed as
/// expired, so money may still move those.
pub fn sql_money_states() -> String {
    let expired = std::iter::once(AttemptStatus::Expired.as_str());
    sql_list(
        AttemptStatus::OPEN
            .iter()
            .map(|s| s.as_str())
            .chain(expired),
    )
}

fn sql_list<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let quoted: Vec<String> = names.map(|n| format!("'{n}'")).collect();
    format!("({})", quoted.join(", "))
}

/// An audit record of a payment (who or what did what).
pub async fn audit<C>(
    conn: &mut C,
    payment_id: &str,
    kind: &str,
    actor: &str,
    data: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error>
where
    C: TxConn,
    for<'c> &'c mut C: Executor<'c, Database = DbOf<C>>,
    for<'q> <DbOf<C> as Database>::Arguments<'q>: IntoArguments<'q, DbOf<C>>,
    for<'q> &'q str: Encode<'q, DbOf<C>> + Type<DbOf<C>>,
{
    sqlx::query(
        "insert into audit (audit_id, payment_id, type, actor, data, created_at) values ($1, $2, $3, $4, $5, $6)",
    )
    .bind(new_audit_id().as_str())
    .bind(payment_id)
    .bind(kind)
    .bind(actor)
    .bind(data.to_string().as_str())
    .bind(ts(now).as_str())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Takes the payment's row lock (held to commit) and returns its status: every transaction
/// that emits a payment's event holds it, so that payment's events are inserted, committed and
/// numbered in order.
pub async fn lock_payment<C>(conn: &mut C, id: &str) -> Result<Option<PaymentStatus>, sqlx::Error>
where
    C: TxConn,
    for<'c> &'c mut C: Executor<'c, Database = DbOf<C>>,
    for<'q> <DbOf<C> as Database>::Arguments<'q>: IntoArguments<'q, DbOf<C>>,
    for<'q> &'q str: Encode<'q, DbOf<C>> + Type<DbOf<C>>,
    for<'r> (PaymentStatus,): FromRow<'r, <DbOf<C> as Database>::Row>,
{
    let sql = format!(
        "select status from payment where payment_id = $1{}",
        C::FOR_UPDATE
    );
    let row: Option<(PaymentStatus,)> = sqlx::query_as(&sql)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.map(|(s,)| s))
}

/// A payment with its lines, attempts and flags, in one query.
pub async fn load_payment<C>(conn: &mut C, id: &str) -> Result<Option<PaymentRecord>, sqlx::Error>
where
    C: TxConn,
    for<'c> &'c mut C: Executor<'c, Database = DbOf<C>>,
    for<'q> <DbOf<C> as Database>::Arguments<'q>: IntoArguments<'q, DbOf<C>>,
    for<'q> &'q str: Encode<'q, DbOf<C>> + Type<DbOf<C>>,
    for<'r> PaymentLoadRow: FromRow<'r, <DbOf<C> as Database>::Row>,
{
    let row: Option<PaymentLoadRow> = sqlx::query_as(C::load_sql())
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    row.map(PaymentLoadRow::into_record).transpose()
}

/// Writes a transaction's events, in order (the outbox), in the caller's transaction (see
/// [`TxConn::insert_events`] for their deliveries). The caller holds the row lock of each
/// event's payment (or notice), so one payment's events are inserted in commit order.
pub async fn emit_all<C: TxConn>(
    conn: &mut C,
    events: Vec<NewEvent>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    if events.is_empty() {
        return Ok(());
    }
    conn.insert_events(&events, now).await
}

/// Emits `event_type` with the payment's current snapshot and `extra` fields merged into
/// `data`.
pub async fn emit_payment<C>(
    conn: &mut C,
    id: &str,
    event_type: EventType,
    extra: serde_json::Value,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error>
where
    C: TxConn,
    for<'c> &'c mut C: Executor<'c, Database = DbOf<C>>,
    for<'q> <DbOf<C> as Database>::Arguments<'q>: IntoArguments<'q, DbOf<C>>,
    for<'q> &'q str: Encode<'q, DbOf<C>> + Type<DbOf<C>>,
    for<'r> PaymentLoadRow: FromRow<'r, <DbOf<C> as Database>::Row>,
{
    let record = load_payment(&mut *conn, id)
        .await?
        .ok_or(sqlx::Error::RowNotFound)?;
    let event = event_of(&record, event_type, extra);
    emit_all(conn, vec![event], now).await
}

/// Inserts an open flag once and emits `payment.flagged` when it is new; `true` when it was.
pub async fn raise_flag<C>(
    conn: &mut C,
    payment_id: &str,
    flag: &str,
    detail: &str,
    attempt_id: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error>
where
    C: TxConn,
    for<'c> &'c mut C: Executor<'c, Database = DbOf<C>>,
    for<'q> <DbOf<C> as Database>::Arguments<'q>: IntoArguments<'q, DbOf<C>>,
    for<'q> &'q str: Encode<'q, DbOf<C>> + Type<DbOf<C>>,
    for<'q> Option<&'q str>: Encode<'q, DbOf<C>> + Type<DbOf<C>>,
    for<'r> (String,): FromRow<'r, <DbOf<C> as Database>::Row>,
    for<'r> PaymentLoadRow: FromRow<'r, <DbOf<C> as Database>::Row>,
{
    let inserted: Option<(String,)> = sqlx::query_as(
        "insert into payment_flag (payment_id, flag, status, detail, created_at, attempt_id) values ($1, $2, 'open', $3, $4, $5)
         on conflict (payment_id, flag) do nothing returning flag",
    )
    .bind(payment_id)
    .bind(flag)
    .bind(detail)
    .bind(ts(now).as_str())
    .bind(attempt_id)
    .fetch_optional(&mut *conn)
    .await?;
    if inserted.is_some() {
        let data = json!({"flag": flag, "detail": detail});
        audit(&mut *conn, payment_id, "flag.raised", "landpay", &data, now).await?;
        emit_payment(
            conn,
            payment_id,
            EventType::PaymentFlagged,
            serde_json::Value::Null,
            now,
        )
        .await?;
    }
    Ok(inserted.is_some())
}

/// An order whose attempt failed goes back to `pending` when no other attempt is still open.
pub async fn back_to_pending<C>(
    conn: &mut C,
    payment_id: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error>
where
    C: TxConn,
    for<'c> &'c mut C: Executor<'c, Database = DbOf<C>>,
    for<'q> <DbOf<C> as Database>::Arguments<'q>: IntoArguments<'q, DbOf<C>>,
    for<'q> &'q str: Encode<'q, DbOf<C>> + Type<DbOf<C>>,
{
    let sql = format!(
        "update payment set status = 'pending', updated_at = $2
         where payment_id = $1 and status in {}
           and not exists (select 1 from attempt where payment_id = $1 and status in {})",
        order::sql_sources(OrderEvent::AttemptsFailed),
        sql_open_states()
    );
    sqlx::query(&sql)
        .bind(payment_id)
        .bind(ts(now).as_str())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Releases the items an order holds, so that they can be paid again.
pub async fn release_holds<C>(conn: &mut C, payment_id: &str) -> Result<(), sqlx::Error>
where
    C: TxConn,
    for<'c> &'c mut C: Executor<'c, Database = DbOf<C>>,
    for<'q> <DbOf<C> as Database>::Arguments<'q>: IntoArguments<'q, DbOf<C>>,
    for<'q> &'q str: Encode<'q, DbOf<C>> + Type<DbOf<C>>,
{
    sqlx::query("delete from payment_hold where payment_id = $1")
        .bind(payment_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The event `event_type` of a payment with `record`'s snapshot and `extra` fields merged into
/// its `data` (not yet written).
pub fn event_of(
    record: &PaymentRecord,
    event_type: EventType,
    extra: serde_json::Value,
) -> NewEvent {
    let mut data = record.snapshot();
    if let (Some(map), serde_json::Value::Object(more)) = (data.as_object_mut(), extra) {
        map.extend(more);
    }
    NewEvent {
        event_type,
        payment_id: Some(record.payment.payment_id.clone()),
        notice_id: None,
        agency_code: record.payment.agency_code.clone(),
        data,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sql_state_lists_follow_attempt_status() {
        assert_eq!(sql_open_states(), "('redirected', 'unknown')");
        assert_eq!(sql_money_states(), "('redirected', 'unknown', 'expired')");
        for s in AttemptStatus::OPEN {
            assert!(s.is_open());
        }
    }
}
