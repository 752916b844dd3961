//! Writing a new order: PostgreSQL writes the order, its lines, its holds, its
//! `payment.created` audit record and its events in one statement (arrays); SQLite in one
//! statement each, in its write transaction.

use chrono::{DateTime, Utc};

use super::payment_rows::NewPayment;
use std::sync::LazyLock;

use super::idempotency::KeyAnswer;
use super::outbox::{bind_pg_events, pg_events_ctes};
use super::ts;
use crate::events::NewEvent;
use crate::ids::new_audit_id;

/// PostgreSQL: the order, its lines, its holds, its `payment.created` audit record (`$1`…`$24`),
/// its events (`$25`…`$31`; their deliveries follow when they are numbered) and, when the
/// request carried an idempotency key, the key with its answer (`$32`…`$36`; all null without
/// a key).
static PG_CREATE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "with p as (
           insert into payment (payment_id, agency_code, dossier_code, status, amount, refunded_amount, payer,
                                return_url, locale, created_by, expires_at, created_at, updated_at)
           values ($1, $2, $3, 'pending', $4, 0, $5, $6, $7, $8, $9, $10, $10) returning payment_id),
         l as (
           insert into payment_line (payment_id, position, kind, source, notice_line_id, assessment_line,
                                     sub_item, name, amount, days, due_date)
           select p.payment_id, u.* from p, unnest($11::bigint[], $12::text[], $13::text[], $14::text[], $15::text[],
                                                    $16::text[], $17::text[], $18::bigint[], $19::bigint[], $20::text[]) as u),
         h as (
           insert into payment_hold (item_key, payment_id, created_at)
           select k, p.payment_id, $21 from p, unnest($22::text[]) as k),
         a as (
           insert into audit (audit_id, payment_id, type, actor, data, created_at)
           select $23, p.payment_id, 'payment.created', $8, $24, $21 from p),
         k as (
           insert into idempotency_key (client_id, idem_key, request_hash, state, response_status,
                                        response_body, locked_until, created_at)
           select $32, $33, $34, 'done', $35, $36, $21, $21 where $32::text is not null),
         {}
         select 1",
        pg_events_ctes(25)
    )
});

/// PostgreSQL: the order, its lines, its holds, its `payment.created` audit record and its
/// events, in one statement that is its own transaction (one round trip, one commit): lines
/// and holds as arrays, so its text never changes and it is prepared once.
/// A held item fails the whole statement with the holds' unique violation.
pub async fn pg_create_order(
    pool: &sqlx::PgPool,
    new: &NewPayment,
    audit: &serde_json::Value,
    events: &[NewEvent],
    answer: Option<&KeyAnswer>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let p = &new.row;
    let l = &new.lines;
    let positions: Vec<i64> = (0..l.len())
        .map(|i| i64::try_from(i).unwrap_or(i64::MAX))
        .collect();
    let query = sqlx::query(PG_CREATE.as_str())
        .bind(&p.payment_id)
        .bind(&p.agency_code)
        .bind(&p.dossier_code)
        .bind(p.amount)
        .bind(&p.payer)
        .bind(&p.return_url)
        .bind(&p.locale)
        .bind(&p.created_by)
        .bind(&p.expires_at)
        .bind(&p.created_at)
        .bind(positions)
        .bind(l.iter().map(|l| l.kind.as_str()).collect::<Vec<_>>())
        .bind(l.iter().map(|l| l.source.as_str()).collect::<Vec<_>>())
        .bind(
            l.iter()
                .map(|l| l.notice_line_id.as_deref())
                .collect::<Vec<_>>(),
        )
        .bind(
            l.iter()
                .map(|l| l.assessment_line.as_deref())
                .collect::<Vec<_>>(),
        )
        .bind(l.iter().map(|l| l.sub_item.as_deref()).collect::<Vec<_>>())
        .bind(l.iter().map(|l| l.name.as_str()).collect::<Vec<_>>())
        .bind(l.iter().map(|l| l.amount).collect::<Vec<_>>())
        .bind(l.iter().map(|l| l.days).collect::<Vec<_>>())
        .bind(l.iter().map(|l| l.due_date.as_deref()).collect::<Vec<_>>())
        .bind(ts(now))
        .bind(&new.holds)
        .bind(new_audit_id())
        .bind(audit.to_string());
    bind_pg_events(query, events, now)?
        .bind(answer.map(|a| a.client.as_str()))
        .bind(answer.map(|a| a.key.as_str()))
        .bind(answer.map(|a| a.hash.as_str()))
        .bind(answer.map(|a| i64::from(a.status)))
        .bind(answer.map(|a| a.body.as_str()))
        .execute(pool)
        .await?;
    Ok(())
}

/// SQLite: the same rows, one statement each (in-process calls on the one writer).
pub async fn sqlite_insert_order(
    conn: &mut sqlx::SqliteConnection,
    new: &NewPayment,
    audit: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let p = &new.row;
    sqlx::query(
        "insert into payment (payment_id, agency_code, dossier_code, status, amount, refunded_amount, payer,
                              return_url, locale, created_by, expires_at, created_at, updated_at)
         values ($1, $2, $3, 'pending', $4, 0, $5, $6, $7, $8, $9, $10, $10)",
    )
    .bind(&p.payment_id)
    .bind(&p.agency_code)
    .bind(&p.dossier_code)
    .bind(p.amount)
    .bind(&p.payer)
    .bind(&p.return_url)
    .bind(&p.locale)
    .bind(&p.created_by)
    .bind(&p.expires_at)
    .bind(&p.created_at)
    .execute(&mut *conn)
    .await?;
    for (i, l) in new.lines.iter().enumerate() {
        sqlx::query(
            "insert into payment_line (payment_id, position, kind, source, notice_line_id, assessment_line,
                                       sub_item, name, amount, days, due_date)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(&p.payment_id)
        .bind(i64::try_from(i).unwrap_or(i64::MAX))
        .bind(l.kind.as_str())
        .bind(&l.source)
        .bind(&l.notice_line_id)
        .bind(&l.assessment_line)
        .bind(&l.sub_item)
        .bind(&l.name)
        .bind(l.amount)
        .bind(l.days)
        .bind(&l.due_date)
        .execute(&mut *conn)
        .await?;
    }
    for key in &new.holds {
        sqlx::query(
            "insert into payment_hold (item_key, payment_id, created_at) values ($1, $2, $3)",
        )
        .bind(key)
        .bind(&p.payment_id)
        .bind(ts(now))
        .execute(&mut *conn)
        .await?;
    }
    sqlx::query("insert into audit (audit_id, payment_id, type, actor, data, created_at) values ($1, $2, 'payment.created', $3, $4, $5)")
        .bind(new_audit_id())
        .bind(&p.payment_id)
        .bind(&p.created_by)
        .bind(audit.to_string())
        .bind(ts(now))
        .execute(&mut *conn)
        .await?;
    Ok(())
}
