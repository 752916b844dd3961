//! Writing a new order on SQLite: one statement each for the order, its lines, its holds and
//! its `payment.created` audit record, in its write transaction. PostgreSQL writes them, with
//! the event and the idempotency key, in one statement for one or several orders
//! ([`super::create_batch`]).

use chrono::{DateTime, Utc};

use super::payment_rows::NewPayment;

use super::ts;
use crate::ids::new_audit_id;

/// SQLite: the order's rows, one statement each (in-process calls on the one writer).
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
