//! Statements that run inside a caller's write transaction, written once and expanded for each
//! backend's connection type. Use cases reach them through the alias that `in_write_tx!` binds.

macro_rules! define_tx_ops {
    ($name:ident, $conn:ty, $insert:ident, $order:ident, $pay:ident, $decide:ident, $mark:ident, $for_update:literal, $load_sql:expr) => {
        pub mod $name {
            use chrono::{DateTime, Utc};

            use crate::events::NewEvent;
            use crate::ids::{new_id, IdKind};
            use crate::storage::payments::PaymentRecord;
            use crate::storage::ts;

            pub use crate::storage::orders::$order as insert_order;
            pub use crate::storage::paying::{$pay as pay_order, $decide as log_decision, $mark as mark_lines_paid};

            /// Writes an event and one delivery per subscribed endpoint.
            pub async fn emit(conn: &mut $conn, event: NewEvent, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
                emit_all(conn, vec![event], now).await
            }

            /// Writes a transaction's events, in order, and their deliveries (the outbox), in
            /// the caller's transaction. The caller holds the row lock of each event's payment
            /// (or notice), so one payment's events are inserted in commit order.
            pub async fn emit_all(conn: &mut $conn, events: Vec<NewEvent>, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
                if events.is_empty() {
                    return Ok(());
                }
                super::$insert(conn, &events, now).await
            }

            /// Takes the payment's row lock (held to commit) and returns its status: every
            /// transaction that emits a payment's event holds it, so that payment's events are
            /// inserted, committed and numbered in order.
            pub async fn lock_payment(conn: &mut $conn, id: &str) -> Result<Option<String>, sqlx::Error> {
                let row: Option<(String,)> = sqlx::query_as(concat!("select status from payment where payment_id = $1", $for_update))
                    .bind(id)
                    .fetch_optional(&mut *conn)
                    .await?;
                Ok(row.map(|(s,)| s))
            }

            /// A payment with its lines, attempts and flags, in one query.
            pub async fn load_payment(conn: &mut $conn, id: &str) -> Result<Option<PaymentRecord>, sqlx::Error> {
                let row: Option<crate::storage::snapshot::PaymentLoadRow> = sqlx::query_as($load_sql.as_str())
                    .bind(id)
                    .fetch_optional(&mut *conn)
                    .await?;
                row.map(crate::storage::snapshot::PaymentLoadRow::into_record).transpose()
            }

            /// Emits `event_type` with the payment's current snapshot.
            pub async fn emit_payment(
                conn: &mut $conn,
                id: &str,
                event_type: crate::events::EventType,
                now: DateTime<Utc>,
            ) -> Result<(), sqlx::Error> {
                emit_payment_with(conn, id, event_type, serde_json::Value::Null, now).await
            }

            /// Emits `event_type` with the snapshot and `extra` fields merged into `data`.
            pub async fn emit_payment_with(
                conn: &mut $conn,
                id: &str,
                event_type: crate::events::EventType,
                extra: serde_json::Value,
                now: DateTime<Utc>,
            ) -> Result<(), sqlx::Error> {
                let event = payment_event(&mut *conn, id, event_type, extra).await?;
                emit(conn, event, now).await
            }

            /// The event `event_type` of a payment, with its current snapshot (not yet written).
            pub async fn payment_event(
                conn: &mut $conn,
                id: &str,
                event_type: crate::events::EventType,
                extra: serde_json::Value,
            ) -> Result<NewEvent, sqlx::Error> {
                let record = load_payment(&mut *conn, id).await?.ok_or(sqlx::Error::RowNotFound)?;
                Ok(super::event_of(&record, event_type, extra))
            }

            /// An audit record of a payment (who or what did what).
            pub async fn audit(
                conn: &mut $conn,
                payment_id: &str,
                kind: &str,
                actor: &str,
                data: &serde_json::Value,
                now: DateTime<Utc>,
            ) -> Result<(), sqlx::Error> {
                sqlx::query(
                    "insert into audit (audit_id, payment_id, type, actor, data, created_at) values ($1, $2, $3, $4, $5, $6)",
                )
                .bind(new_id(IdKind::Callback).replacen("cbk_", "aud_", 1))
                .bind(payment_id)
                .bind(kind)
                .bind(actor)
                .bind(data.to_string())
                .bind(ts(now))
                .execute(&mut *conn)
                .await?;
                Ok(())
            }
        }
    };
}

// SQLite's write transaction already excludes every other writer: no row lock to take.
define_tx_ops!(
    sqlite_ops,
    sqlx::SqliteConnection,
    sqlite_insert_events,
    sqlite_insert_order,
    sqlite_pay_order,
    sqlite_log_decision,
    sqlite_mark_lines_paid,
    "",
    crate::storage::snapshot::SQLITE_LOAD
);
define_tx_ops!(
    pg_ops,
    sqlx::PgConnection,
    pg_insert_events,
    pg_insert_order,
    pg_pay_order,
    pg_log_decision,
    pg_mark_lines_paid,
    " for update",
    crate::storage::snapshot::PG_LOAD
);

pub use super::outbox::{pg_insert_events, sqlite_insert_events};

/// The event `event_type` of a payment with `record`'s snapshot and `extra` fields merged into
/// its `data` (not yet written).
pub fn event_of(
    record: &crate::storage::payments::PaymentRecord,
    event_type: crate::events::EventType,
    extra: serde_json::Value,
) -> crate::events::NewEvent {
    let mut data = record.snapshot();
    if let (Some(map), serde_json::Value::Object(more)) = (data.as_object_mut(), extra) {
        map.extend(more);
    }
    crate::events::NewEvent {
        event_type,
        payment_id: Some(record.payment.payment_id.clone()),
        notice_id: None,
        agency_code: record.payment.agency_code.clone(),
        data,
    }
}
