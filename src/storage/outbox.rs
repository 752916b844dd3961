//! Writing events and their deliveries (the outbox) inside the state change's transaction.
//!
//! SQLite has one writer: an event takes the next sequence at insert, and no other transaction
//! can write meanwhile. PostgreSQL writers insert events without a sequence and
//! commit in parallel; [`super::sequencer`] numbers them once they are committed.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, SqliteConnection};

use super::ts;
use crate::events::NewEvent;
use crate::ids::{DeliveryId, EventId};

/// The stored body of an event; `sequence` is `null` until the sequencer numbers it.
#[derive(serde::Serialize)]
struct Body<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    event_type: &'a str,
    created_at: &'a str,
    sequence: Option<i64>,
    data: &'a serde_json::Value,
}

fn body(
    id: &str,
    event: &NewEvent,
    created_at: &str,
    sequence: Option<i64>,
) -> Result<String, sqlx::Error> {
    serde_json::to_string(&Body {
        id,
        event_type: event.event_type.as_str(),
        created_at,
        sequence,
        data: &event.data,
    })
    .map_err(|e| sqlx::Error::Encode(Box::new(e)))
}

/// Which deliveries an event gets: one per live endpoint whose agency and event list take it
/// (an empty list or `*` takes every type). The same rule as [`crate::webhooks::subscription::subscribes`]:
/// a list that is not a JSON array of strings takes nothing (the endpoint is disabled), and
/// the pattern checked first keeps its cast from failing the whole insert.
const SUBSCRIBED: &str = r#"w.deleted_at is null
    and (w.agency_code is null or w.agency_code = ev.agency_code)
    and case when w.events ~ '^\s*\[\s*("([^"\\]|\\(["\\/bfnrt]|u[0-9a-fA-F]{4}))*"\s*(,\s*"([^"\\]|\\(["\\/bfnrt]|u[0-9a-fA-F]{4}))*"\s*)*)?\]\s*$'
        then (w.events::jsonb = '[]'::jsonb or w.events::jsonb ? ev.type or w.events::jsonb ? '*')
        else false end"#;

/// PostgreSQL: the events and their deliveries in one statement whose text never changes with
/// the number of events (arrays, not a VALUES list), so it is prepared once per connection.
/// Deliveries take the event's sequence when the sequencer numbers it; until then no worker
/// can claim them. A delivery id keeps the event id's time part, so ids still sort by time.
pub async fn pg_insert_events(
    conn: &mut PgConnection,
    events: &[NewEvent],
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let created_at = ts(now);
    let mut ids = Vec::with_capacity(events.len());
    let mut bodies = Vec::with_capacity(events.len());
    for event in events {
        let id = EventId::new().into_string();
        bodies.push(body(&id, event, &created_at, None)?);
        ids.push(id);
    }
    let sql = format!(
        "with ev as (
           insert into event (event_id, type, payment_id, notice_id, agency_code, body, created_at)
           select u.id, u.type, u.pid, u.nid, u.agency, u.body, $7
           from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
                with ordinality as u(id, type, pid, nid, agency, body, n)
           order by u.n
           returning event_id, type, agency_code, coalesce(payment_id, notice_id, event_id) as order_key
         )
         insert into delivery (delivery_id, endpoint_id, event_id, event_type, order_key,
                               status, tries, next_attempt_at, created_at, updated_at)
         select 'dlv_' || substr(ev.event_id, 5, 16) || substr(md5(w.endpoint_id || ev.event_id), 1, 10),
                w.endpoint_id, ev.event_id, ev.type, ev.order_key, 'pending', 0, $7, $7, $7
         from ev join webhook_endpoint w on {SUBSCRIBED}"
    );
    sqlx::query(&sql)
        .bind(&ids)
        .bind(
            events
                .iter()
                .map(|e| e.event_type.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            events
                .iter()
                .map(|e| e.payment_id.clone())
                .collect::<Vec<_>>(),
        )
        .bind(
            events
                .iter()
                .map(|e| e.notice_id.clone())
                .collect::<Vec<_>>(),
        )
        .bind(
            events
                .iter()
                .map(|e| e.agency_code.clone())
                .collect::<Vec<_>>(),
        )
        .bind(&bodies)
        .bind(&created_at)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// SQLite: events are numbered at insert, continuing from the highest sequence given (read
/// through `event_sequence_key`). The one writer holds the database from this read until
/// commit, so numbers commit in order, and a rollback takes its numbers back with it: no gap.
pub async fn sqlite_insert_events(
    conn: &mut SqliteConnection,
    events: &[NewEvent],
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let endpoints: Vec<(String, String, Option<String>)> = sqlx::query_as(
        "select endpoint_id, events, agency_code from webhook_endpoint where deleted_at is null",
    )
    .fetch_all(&mut *conn)
    .await?;
    let (top,): (i64,) = sqlx::query_as("select coalesce(max(sequence), 0) from event")
        .fetch_one(&mut *conn)
        .await?;
    let created_at = ts(now);
    for (i, event) in events.iter().enumerate() {
        let sequence = top + 1 + i64::try_from(i).unwrap_or(0);
        let id = EventId::new().into_string();
        sqlx::query(
            "insert into event (sequence, event_id, type, payment_id, notice_id, agency_code, body, created_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(sequence)
        .bind(&id)
        .bind(event.event_type.as_str())
        .bind(&event.payment_id)
        .bind(&event.notice_id)
        .bind(&event.agency_code)
        .bind(body(&id, event, &created_at, Some(sequence))?)
        .bind(&created_at)
        .execute(&mut *conn)
        .await?;
        let order_key = event
            .payment_id
            .clone()
            .or_else(|| event.notice_id.clone())
            .unwrap_or_else(|| id.clone());
        for (endpoint_id, subscribed, agency) in &endpoints {
            let wanted = crate::webhooks::subscription::subscribes(
                endpoint_id,
                subscribed,
                agency.as_deref(),
                event.event_type.as_str(),
                event.agency_code.as_deref(),
            );
            if !wanted {
                continue;
            }
            sqlx::query(
                "insert into delivery (delivery_id, endpoint_id, event_id, event_sequence, event_type, order_key,
                                       status, tries, next_attempt_at, created_at, updated_at)
                 values ($1, $2, $3, $4, $5, $6, 'pending', 0, $7, $7, $7)",
            )
            .bind(DeliveryId::new())
            .bind(endpoint_id)
            .bind(&id)
            .bind(sequence)
            .bind(event.event_type.as_str())
            .bind(&order_key)
            .bind(&created_at)
            .execute(&mut *conn)
            .await?;
        }
    }
    Ok(())
}
