//! Writing events (the outbox) inside the state change's transaction, and their deliveries.
//!
//! SQLite has one writer: an event takes the next sequence at insert, with its deliveries, and
//! no other transaction can write meanwhile. PostgreSQL writers insert events without a
//! sequence and commit in parallel; [`super::sequencer`] numbers them once they are committed
//! and writes their deliveries then.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, SqliteConnection};

use std::sync::LazyLock;

use super::ts;
use super::txops::Decision;
use crate::events::NewEvent;
use crate::ids::{DeliveryId, EventId};

/// The feed (`$1` after, `$2` type or null, `$3` agency or null, `$4` limit): `sequence > $1`
/// reads numbered events only, through `event_sequence_key` (which holds no other).
pub const FEED_SQL: &str =
    "select sequence, body from event where sequence > $1 and ($2 is null or type = $2)
   and ($3 is null or agency_code = $3) order by sequence limit $4";

/// A payment's numbered events, in order (`$1` the payment), through `event_payment_idx`.
pub const PAYMENT_EVENTS_SQL: &str =
    "select body, sequence from event where payment_id = $1 and sequence is not null order by sequence";

/// The highest number given so far, through `event_sequence_key`.
pub const HIGHEST_SEQUENCE_SQL: &str =
    "select coalesce(max(sequence), 0) from event where sequence is not null";

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

/// An event's body as served: PostgreSQL stores `"sequence":null` and numbers the row after
/// commit, so the number is put into the body when it is read. The first `"sequence":` is the
/// body's own field: it comes after `id`, `type` and `created_at`, whose values hold no quote,
/// and before `data`. A body that has its number (SQLite numbers at insert) is unchanged.
pub fn with_sequence(body: String, sequence: Option<i64>) -> String {
    const FIELD: &str = "\"sequence\":";
    let Some(n) = sequence else { return body };
    match body.find(FIELD).map(|at| at + FIELD.len()) {
        Some(value) if body[value..].starts_with("null") => {
            let mut served = String::with_capacity(body.len() + 8);
            served.push_str(&body[..value]);
            served.push_str(&n.to_string());
            served.push_str(&body[value + "null".len()..]);
            served
        }
        _ => body,
    }
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

/// The CTE `ev` (to follow `with` or a comma) that writes events, with the statement's
/// parameters from `$first`: ids, types, payment ids, notice ids, agencies, bodies (arrays, in
/// event order), then now; bound by [`bind_pg_events`]. Their deliveries are written when the
/// events are numbered ([`pg_deliveries_cte`]).
pub(super) fn pg_events_ctes(first: usize) -> String {
    let [ids, types, pids, nids, agencies, bodies, now] =
        std::array::from_fn::<String, 7, _>(|i| format!("${}", first + i));
    format!(
        "ev as (
           insert into event (event_id, type, payment_id, notice_id, agency_code, body, created_at)
           select u.id, u.type, u.pid, u.nid, u.agency, u.body, {now}
           from unnest({ids}::text[], {types}::text[], {pids}::text[], {nids}::text[], {agencies}::text[], {bodies}::text[])
                with ordinality as u(id, type, pid, nid, agency, body, n)
           order by u.n
         )"
    )
}

/// The CTE `dl` (PostgreSQL) that writes the deliveries of the events of a CTE `ev` as they
/// are numbered — `ev` returns each event's `event_id`, `type`, `agency_code`, `order_key`,
/// `sequence` and `created_at` — one per live endpoint that takes the event, numbered
/// already and due from the event's time. A delivery id is the event id's time part and a
/// digest of endpoint and event, so ids sort by time and the same pair always has the same
/// id: a delivery an earlier version of the service wrote with the event is kept, not doubled.
/// That one is looked up (`not exists`) rather than left to `on conflict do nothing`: a
/// speculative insert writes an extra WAL record for every delivery, and the lookup is safe
/// here because numbering runs one at a time and an earlier version wrote a delivery in its
/// event's own transaction, so it is visible whenever its event is.
pub(super) fn pg_deliveries_cte() -> String {
    format!(
        "dl as (
           insert into delivery (delivery_id, endpoint_id, event_id, event_sequence, event_type, order_key,
                                 status, tries, next_attempt_at, created_at, updated_at)
           select k.id, w.endpoint_id, ev.event_id, ev.sequence, ev.type, ev.order_key, 'pending', 0,
                  ev.created_at, ev.created_at, ev.created_at
           from ev join webhook_endpoint w on {SUBSCRIBED}
                cross join lateral (select 'dlv_' || substr(ev.event_id, 5, 16) || substr(md5(w.endpoint_id || ev.event_id), 1, 10) as id) k
           where not exists (select 1 from delivery o where o.delivery_id = k.id)
           order by ev.sequence
         )"
    )
}

/// A PostgreSQL statement being bound.
pub(super) type PgQuery<'q> = sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>;

/// Binds the parameters of [`pg_events_ctes`], in its order.
pub(super) fn bind_pg_events<'q>(
    query: PgQuery<'q>,
    events: &[NewEvent],
    now: DateTime<Utc>,
) -> Result<PgQuery<'q>, sqlx::Error> {
    let created_at = ts(now);
    let mut ids = Vec::with_capacity(events.len());
    let mut bodies = Vec::with_capacity(events.len());
    for event in events {
        let id = EventId::new().into_string();
        bodies.push(body(&id, event, &created_at, None)?);
        ids.push(id);
    }
    let column = |f: fn(&NewEvent) -> Option<String>| events.iter().map(f).collect::<Vec<_>>();
    Ok(query
        .bind(ids)
        .bind(column(|e| Some(e.event_type.as_str().to_owned())))
        .bind(column(|e| e.payment_id.clone()))
        .bind(column(|e| e.notice_id.clone()))
        .bind(column(|e| e.agency_code.clone()))
        .bind(bodies)
        .bind(created_at))
}

/// Events and deliveries.
static PG_EVENTS: LazyLock<String> =
    LazyLock::new(|| format!("with {} select 1", pg_events_ctes(1)));

/// Events and deliveries, and callbacks with their decisions (from `$8`; see
/// [`super::paying::pg_decision_sql`]).
static PG_EVENTS_AND_LOG: LazyLock<String> = LazyLock::new(|| {
    format!(
        "with {}, {}",
        pg_events_ctes(1),
        super::paying::pg_decision_sql(8, "$7")
    )
});

/// PostgreSQL: the events in one statement whose text never changes with the number of events
/// (arrays, not a VALUES list), so it is prepared once per connection. The sequencer writes
/// their deliveries when it numbers them ([`super::sequencer`]).
///
/// The same statement also writes the callbacks of `log` with their decisions to the log and
/// their payments' audit trails (see [`super::paying::pg_log_decision`]).
pub async fn pg_insert_events(
    conn: &mut PgConnection,
    events: &[NewEvent],
    log: &[&Decision<'_>],
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let query = sqlx::query(if log.is_empty() {
        PG_EVENTS.as_str()
    } else {
        PG_EVENTS_AND_LOG.as_str()
    });
    let mut query = bind_pg_events(query, events, now)?;
    if !log.is_empty() {
        query = super::paying::bind_pg_decisions(query, log);
    }
    query.execute(&mut *conn).await?;
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
    let (top,): (i64,) = sqlx::query_as(HIGHEST_SEQUENCE_SQL)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_number_goes_into_the_bodys_own_field_only() {
        let event = NewEvent {
            event_type: crate::events::EventType::PaymentPaid,
            payment_id: Some("pay_1".into()),
            notice_id: None,
            agency_code: None,
            data: serde_json::json!({"note": "\"sequence\":null", "sequence": null}),
        };
        let stored = body("evt_1", &event, "2026-12-02T00:00:00Z", None).unwrap();
        let served: serde_json::Value =
            serde_json::from_str(&with_sequence(stored.clone(), Some(42))).unwrap();
        assert_eq!(served["sequence"], 42);
        assert_eq!(served["data"]["note"], "\"sequence\":null");
        assert_eq!(served["data"]["sequence"], serde_json::Value::Null);
        // Not yet numbered, or numbered at insert: unchanged.
        assert_eq!(with_sequence(stored.clone(), None), stored);
        let numbered = body("evt_1", &event, "2026-12-02T00:00:00Z", Some(7)).unwrap();
        assert_eq!(with_sequence(numbered.clone(), Some(7)), numbered);
    }
}
