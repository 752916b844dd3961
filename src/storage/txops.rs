//! Statements that run inside a caller's write transaction, written once and expanded for each
//! backend's connection type. Use cases reach them through the alias that `in_write_tx!` binds.

macro_rules! define_tx_ops {
    ($name:ident, $conn:ty) => {
        pub mod $name {
            use chrono::{DateTime, Utc};

            use crate::events::{Event, NewEvent};
            use crate::ids::{new_id, IdKind};
            use crate::storage::payments::{
                AttemptRow, FlagRow, PaymentLineRow, PaymentRecord, PaymentRow, ATTEMPT_COLUMNS, FLAG_COLUMNS,
                LINE_COLUMNS, PAYMENT_COLUMNS,
            };
            use crate::storage::ts;

            /// Writes an event with the next sequence and one delivery per subscribed endpoint.
            pub async fn emit(conn: &mut $conn, event: NewEvent, now: DateTime<Utc>) -> Result<Event, sqlx::Error> {
                let mut stored = emit_all(conn, vec![event], now).await?;
                stored.pop().ok_or(sqlx::Error::RowNotFound)
            }

            /// Writes a transaction's events with consecutive sequences, and their deliveries.
            /// The counter row is taken as late as possible, once: it serialises event writers
            /// until commit, which is what keeps sequences in commit order with no gaps, so
            /// everything that can be done before it (subscriptions, bodies) is.
            pub async fn emit_all(conn: &mut $conn, events: Vec<NewEvent>, now: DateTime<Utc>) -> Result<Vec<Event>, sqlx::Error> {
                if events.is_empty() {
                    return Ok(Vec::new());
                }
                let endpoints: Vec<(String, String, Option<String>)> = sqlx::query_as(
                    "select endpoint_id, events, agency_code from webhook_endpoint where deleted_at is null",
                )
                .fetch_all(&mut *conn)
                .await?;
                let n = i64::try_from(events.len()).unwrap_or(i64::MAX);
                let (last,): (i64,) = sqlx::query_as(
                    "update event_counter set value = value + $1 where name = 'event' returning value",
                )
                .bind(n)
                .fetch_one(&mut *conn)
                .await?;
                let mut stored = Vec::with_capacity(events.len());
                let mut event_sql = String::from(
                    "insert into event (sequence, event_id, type, payment_id, notice_id, agency_code, body, created_at) values ",
                );
                let mut deliveries: Vec<(String, String, i64, String, String)> = Vec::new();
                for (i, event) in events.iter().enumerate() {
                    let sequence = last - n + 1 + i64::try_from(i).unwrap_or(0);
                    stored.push(Event {
                        id: new_id(IdKind::Event),
                        event_type: event.event_type.as_str().to_owned(),
                        created_at: ts(now),
                        sequence,
                        data: event.data.clone(),
                    });
                    let b = i * 8;
                    if i > 0 {
                        event_sql.push(',');
                    }
                    event_sql.push_str(&format!(
                        "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${})",
                        b + 1, b + 2, b + 3, b + 4, b + 5, b + 6, b + 7, b + 8
                    ));
                    let order_key = event
                        .payment_id
                        .clone()
                        .or_else(|| event.notice_id.clone())
                        .unwrap_or_else(|| stored[i].id.clone());
                    for (endpoint_id, subscribed, agency) in &endpoints {
                        if crate::webhooks::subscribes(subscribed, agency.as_deref(), event.event_type.as_str(), event.agency_code.as_deref()) {
                            deliveries.push((endpoint_id.clone(), stored[i].id.clone(), sequence, stored[i].event_type.clone(), order_key.clone()));
                        }
                    }
                }
                let mut insert = sqlx::query(&event_sql);
                for (event, s) in events.iter().zip(&stored) {
                    let body = serde_json::to_string(s).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
                    insert = insert
                        .bind(s.sequence)
                        .bind(s.id.clone())
                        .bind(s.event_type.clone())
                        .bind(event.payment_id.clone())
                        .bind(event.notice_id.clone())
                        .bind(event.agency_code.clone())
                        .bind(body)
                        .bind(ts(now));
                }
                insert.execute(&mut *conn).await?;
                if !deliveries.is_empty() {
                    let mut sql = String::from(
                        "insert into delivery (delivery_id, endpoint_id, event_id, event_sequence, event_type, order_key,
                                               status, tries, next_attempt_at, created_at, updated_at) values ",
                    );
                    for i in 0..deliveries.len() {
                        let b = i * 7;
                        if i > 0 {
                            sql.push(',');
                        }
                        sql.push_str(&format!(
                            "(${}, ${}, ${}, ${}, ${}, ${}, 'pending', 0, ${}, ${}, ${})",
                            b + 1, b + 2, b + 3, b + 4, b + 5, b + 6, b + 7, b + 7, b + 7
                        ));
                    }
                    let mut q = sqlx::query(&sql);
                    for (endpoint_id, event_id, sequence, event_type, order_key) in deliveries {
                        q = q
                            .bind(new_id(IdKind::Delivery))
                            .bind(endpoint_id)
                            .bind(event_id)
                            .bind(sequence)
                            .bind(event_type)
                            .bind(order_key)
                            .bind(ts(now));
                    }
                    q.execute(&mut *conn).await?;
                }
                Ok(stored)
            }

            /// A payment with its lines, attempts and flags.
            pub async fn load_payment(conn: &mut $conn, id: &str) -> Result<Option<PaymentRecord>, sqlx::Error> {
                let payment: Option<PaymentRow> = sqlx::query_as(&format!("select {PAYMENT_COLUMNS} from payment where payment_id = $1"))
                    .bind(id)
                    .fetch_optional(&mut *conn)
                    .await?;
                let Some(payment) = payment else { return Ok(None) };
                let lines: Vec<PaymentLineRow> = sqlx::query_as(&format!(
                    "select {LINE_COLUMNS} from payment_line where payment_id = $1 order by position"
                ))
                .bind(id)
                .fetch_all(&mut *conn)
                .await?;
                let attempts: Vec<AttemptRow> = sqlx::query_as(&format!(
                    "select {ATTEMPT_COLUMNS} from attempt where payment_id = $1 order by created_at, attempt_id"
                ))
                .bind(id)
                .fetch_all(&mut *conn)
                .await?;
                let flags: Vec<FlagRow> = sqlx::query_as(&format!(
                    "select {FLAG_COLUMNS} from payment_flag where payment_id = $1 order by created_at, flag"
                ))
                .bind(id)
                .fetch_all(&mut *conn)
                .await?;
                Ok(Some(PaymentRecord { payment, lines, attempts, flags }))
            }

            /// Emits `event_type` with the payment's current snapshot.
            pub async fn emit_payment(
                conn: &mut $conn,
                id: &str,
                event_type: crate::events::EventType,
                now: DateTime<Utc>,
            ) -> Result<Event, sqlx::Error> {
                emit_payment_with(conn, id, event_type, serde_json::Value::Null, now).await
            }

            /// Emits `event_type` with the snapshot and `extra` fields merged into `data`.
            pub async fn emit_payment_with(
                conn: &mut $conn,
                id: &str,
                event_type: crate::events::EventType,
                extra: serde_json::Value,
                now: DateTime<Utc>,
            ) -> Result<Event, sqlx::Error> {
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
                let mut data = record.snapshot();
                if let (Some(map), serde_json::Value::Object(more)) = (data.as_object_mut(), extra) {
                    map.extend(more);
                }
                Ok(NewEvent {
                    event_type,
                    payment_id: Some(id.to_owned()),
                    notice_id: None,
                    agency_code: record.payment.agency_code.clone(),
                    data,
                })
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

define_tx_ops!(sqlite_ops, sqlx::SqliteConnection);
define_tx_ops!(pg_ops, sqlx::PgConnection);
