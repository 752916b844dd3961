//! The steps of a transition that PostgreSQL does in one statement where SQLite takes several:
//! paying the order with its audit record, notice lines, notices and mail, returning the
//! snapshot its `payment.paid` event carries (built by the statement that wrote it, not read
//! back), and logging a callback with its decision and its audit record. SQLite runs the same steps as single statements, which are
//! in-process calls on its one writer.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use sqlx::{Database, Encode, Executor, IntoArguments, PgConnection, SqliteConnection, Type};

use super::callback_log::CALLBACK_INSERT;
use super::outbox::PgQuery;
use super::payment_rows::PaymentRecord;
use super::snapshot::{PaidLoadRow, PG_PAY};
use super::ts;
use super::txops::{self, DbOf, Decision, PaidNotices, Paying, TxConn};
use crate::ids::new_audit_id;
use crate::payments::order::{self, OrderEvent};

/// Pays the order (takes its row lock) with its lines, notices and mail in one statement
/// ([`PG_PAY`], with arrays of one), and returns its snapshot and the notices it completed;
/// `None` when the order can no longer take money.
pub async fn pg_pay_order(
    conn: &mut PgConnection,
    p: &Paying<'_>,
    now: DateTime<Utc>,
) -> Result<Option<(PaymentRecord, PaidNotices)>, sqlx::Error> {
    let row: Option<PaidLoadRow> = sqlx::query_as(PG_PAY.as_str())
        .bind([p.payment_id])
        .bind([ts(p.money_at)])
        .bind([p.attempt_id])
        .bind(ts(now))
        .bind([new_audit_id().to_string()])
        .bind([p.source])
        .bind([p.detail.to_string()])
        .bind([crate::confirmation::number::new_confirmation_no()])
        .fetch_optional(&mut *conn)
        .await?;
    row.map(|row| {
        let (record, notices) = row.into_parts()?;
        Ok((record, fully_paid(notices)))
    })
    .transpose()
}

/// SQLite: the same steps as single statements (in-process calls on its one writer).
pub async fn sqlite_pay_order(
    conn: &mut SqliteConnection,
    p: &Paying<'_>,
    now: DateTime<Utc>,
) -> Result<Option<(PaymentRecord, PaidNotices)>, sqlx::Error> {
    txops::audit(
        conn,
        p.payment_id,
        "money.received",
        p.source,
        p.detail,
        now,
    )
    .await?;
    let paid: Option<(String,)> = sqlx::query_as(&format!(
        "update payment set status = 'paid', paid_at = $2, paid_attempt_id = $3, updated_at = $4,
                confirmation_no = $5
         where payment_id = $1 and status in {} returning payment_id",
        order::sql_sources(OrderEvent::MoneyReceived)
    ))
    .bind(p.payment_id)
    .bind(ts(p.money_at))
    .bind(p.attempt_id)
    .bind(ts(now))
    .bind(crate::confirmation::number::new_confirmation_no())
    .fetch_optional(&mut *conn)
    .await?;
    if paid.is_none() {
        return Ok(None);
    }
    let notices = sqlite_mark_lines_paid(&mut *conn, p.payment_id, p.money_at, now).await?;
    // The confirmation's e-mail waits in the mail outbox, committed with the money, when the
    // payer gave an address to send it to.
    sqlx::query(
        "insert into mail_outbox (payment_id, kind, status, tries, next_attempt_at, created_at, updated_at)
         select payment_id, 'confirmation', 'pending', 0, $2, $2, $2 from payment
         where payment_id = $1 and json_extract(payer, '$.email') <> ''
         on conflict do nothing",
    )
    .bind(p.payment_id)
    .bind(ts(now))
    .execute(&mut *conn)
    .await?;
    let record = txops::load_payment(&mut *conn, p.payment_id)
        .await?
        .ok_or(sqlx::Error::RowNotFound)?;
    Ok(Some((record, notices)))
}

/// The CTEs `d` and `c` and the main statement that write callbacks with their decisions to the
/// log and to their payments' audit trails, to follow `with` (or a comma after other CTEs):
/// parameters from `$first` are arrays with one element per callback (callback, verdict,
/// answer, payment, audit id, actor, audit data, reference, payload, its size and digest; bound
/// by [`bind_pg_decisions`]), and `now`, the parameter that holds the time.
pub(super) fn pg_decision_sql(first: usize, now: &str) -> String {
    let [callback, verdict, answer, payment, audit_id, actor, data, txn_ref, payload, bytes, sha] =
        std::array::from_fn::<String, 11, _>(|i| format!("${}", first + i));
    format!(
        "d as (select * from unnest({callback}::text[], {verdict}::text[], {answer}::text[], {payment}::text[],
                                    {audit_id}::text[], {actor}::text[], {data}::text[], {txn_ref}::text[],
                                    {payload}::text[], {bytes}::bigint[], {sha}::text[])
                 as d(callback_id, verdict, answer, payment_id, audit_id, actor, data, txn_ref, payload,
                      payload_bytes, payload_sha256)),
         c as ({CALLBACK_INSERT}
               select callback_id, actor, txn_ref, payment_id, verdict, answer, payload, payload_bytes,
                      payload_sha256, {now} from d)
         insert into audit (audit_id, payment_id, type, actor, data, created_at)
         select audit_id, payment_id, 'callback.received', actor, data, {now} from d
         where payment_id is not null"
    )
}

/// Binds the parameters of [`pg_decision_sql`], in its order: each callback with its decision
/// (and its payment, if any: a callback without one gets no audit record).
pub(super) fn bind_pg_decisions<'q>(
    query: PgQuery<'q>,
    decisions: &[&Decision<'_>],
) -> PgQuery<'q> {
    let column =
        |f: &dyn Fn(&Decision<'_>) -> String| decisions.iter().map(|d| f(d)).collect::<Vec<_>>();
    query
        .bind(column(&|d| d.callback_id.to_owned()))
        .bind(column(&|d| d.verdict.to_owned()))
        .bind(column(&|d| d.answer.to_owned()))
        .bind(
            decisions
                .iter()
                .map(|d| d.payment_id.map(str::to_owned))
                .collect::<Vec<_>>(),
        )
        .bind(column(&|_| new_audit_id().to_string()))
        .bind(column(&|d| d.gateway.to_owned()))
        .bind(column(&|d| d.audit.to_string()))
        .bind(column(&|d| d.txn_ref.to_owned()))
        .bind(column(&|d| d.payload.to_owned()))
        .bind(
            decisions
                .iter()
                .map(|d| d.payload_bytes)
                .collect::<Vec<i64>>(),
        )
        .bind(column(&|d| d.payload_sha256.to_owned()))
}

static LOG_ROW: LazyLock<String> =
    LazyLock::new(|| format!("{CALLBACK_INSERT} values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"));

static PG_LOG_DECISION: LazyLock<String> =
    LazyLock::new(|| format!("with {}", pg_decision_sql(1, "$12")));

/// The callback with its decision and, with a payment, the payment's audit record, in one
/// statement.
pub async fn pg_log_decision(
    conn: &mut PgConnection,
    d: &Decision<'_>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    bind_pg_decisions(sqlx::query(PG_LOG_DECISION.as_str()), &[d])
        .bind(ts(now))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn sqlite_log_decision(
    conn: &mut SqliteConnection,
    d: &Decision<'_>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    log_row(&mut *conn, d, now).await?;
    if let Some(pid) = d.payment_id {
        txops::audit(conn, pid, "callback.received", d.gateway, d.audit, now).await?;
    }
    Ok(())
}

/// The callback's log row, with its decision.
async fn log_row<C>(conn: &mut C, d: &Decision<'_>, now: DateTime<Utc>) -> Result<(), sqlx::Error>
where
    C: TxConn,
    for<'c> &'c mut C: Executor<'c, Database = DbOf<C>>,
    for<'q> <DbOf<C> as Database>::Arguments<'q>: IntoArguments<'q, DbOf<C>>,
    for<'q> &'q str: Encode<'q, DbOf<C>> + Type<DbOf<C>>,
    for<'q> Option<&'q str>: Encode<'q, DbOf<C>> + Type<DbOf<C>>,
    for<'q> i64: Encode<'q, DbOf<C>> + Type<DbOf<C>>,
{
    sqlx::query(LOG_ROW.as_str())
        .bind(d.callback_id)
        .bind(d.gateway)
        .bind(d.txn_ref)
        .bind(d.payment_id)
        .bind(d.verdict)
        .bind(d.answer)
        .bind(d.payload)
        .bind(d.payload_bytes)
        .bind(d.payload_sha256)
        .bind(ts(now).as_str())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

const NOTICES_OF_ORDER: &str = "select nl.notice_id from payment_line pl
     join notice_line nl on nl.notice_line_id = pl.notice_line_id
     where pl.payment_id = $1 and pl.kind = 'notice_line'";

pub(super) fn fully_paid(mut notices: Vec<(String, Option<String>, String)>) -> PaidNotices {
    notices.sort();
    notices
        .into_iter()
        .filter(|(_, _, status)| status == "paid")
        .map(|(notice_id, agency, _)| (notice_id, agency))
        .collect()
}

/// Marks the order's notice lines paid, then their notices; returns the notices that became
/// fully paid.
async fn sqlite_mark_lines_paid(
    conn: &mut SqliteConnection,
    payment_id: &str,
    money_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<PaidNotices, sqlx::Error> {
    sqlx::query(
        "update notice_line set status = 'paid', paid_by = $1, paid_at = $2
         where status = 'unpaid' and notice_line_id in
               (select notice_line_id from payment_line where payment_id = $1 and kind = 'notice_line')",
    )
    .bind(payment_id)
    .bind(ts(money_at))
    .execute(&mut *conn)
    .await?;
    let notices: Vec<(String, Option<String>, String)> = sqlx::query_as(&format!(
        "update notice set updated_at = $2,
                status = case when exists (select 1 from notice_line l where l.notice_id = notice.notice_id and l.status = 'unpaid')
                              then 'partially_paid' else 'paid' end
         where notice_id in ({NOTICES_OF_ORDER})
         returning notice_id, agency_code, status"
    ))
    .bind(payment_id)
    .bind(ts(now))
    .fetch_all(&mut *conn)
    .await?;
    Ok(fully_paid(notices))
}
