//! Reading a payment with its lines, attempts and flags in one query: the child rows come back
//! as JSON arrays built by the database (`json_agg` on PostgreSQL, `json_group_array` on
//! SQLite), so a read, and the snapshot an event carries, is one round trip instead of four.

use std::sync::LazyLock;

use super::payment_rows::{
    AttemptRow, FlagRow, PaymentLineRow, PaymentRecord, PaymentRow, ATTEMPT_COLUMNS, FLAG_COLUMNS,
    LINE_COLUMNS, PAYMENT_COLUMNS,
};

/// `f('a', a, 'b', b, …)` for a column list.
pub fn object(f: &str, columns: &str) -> String {
    let pairs: Vec<String> = columns
        .split(',')
        .map(str::trim)
        .map(|c| format!("'{c}', {c}"))
        .collect();
    format!("{f}({})", pairs.join(", "))
}

/// (table, columns, order) of the child rows, in the order of [`PaymentLoadRow`]'s fields.
const CHILDREN: [(&str, &str, &str); 3] = [
    ("payment_line", LINE_COLUMNS, "position"),
    ("attempt", ATTEMPT_COLUMNS, "created_at, attempt_id"),
    ("payment_flag", FLAG_COLUMNS, "created_at, flag"),
];

const NAMES: [&str; 3] = ["lines_json", "attempts_json", "flags_json"];

/// The filters and order of a page of payments (`$1`…`$7`: agency, dossier code, status,
/// created from, created before, after this id, limit), for [`PG_LIST`] and [`SQLITE_LIST`].
const LIST_TAIL: &str =
    "where ($1 is null or agency_code = $1) and ($2 is null or dossier_code = $2)
       and ($3 is null or status = $3) and ($4 is null or created_at >= $4)
       and ($5 is null or created_at < $5) and payment_id > $6
     order by payment_id limit $7";

fn load_sql(child: impl Fn(&str, &str, &str) -> String) -> String {
    select_sql(child, "where payment_id = $1")
}

fn select_sql(child: impl Fn(&str, &str, &str) -> String, tail: &str) -> String {
    format!(
        "select {PAYMENT_COLUMNS}, {} from payment p {tail}",
        children(child)
    )
}

/// The three child arrays of a payment row aliased `p`, named as [`PaymentLoadRow`]'s fields.
fn children(child: impl Fn(&str, &str, &str) -> String) -> String {
    let children: Vec<String> = CHILDREN
        .iter()
        .zip(NAMES)
        .map(|((table, columns, order), name)| {
            format!("{} as {name}", child(table, columns, order))
        })
        .collect();
    children.join(", ")
}

/// PostgreSQL: pays orders with everything paying writes, in one statement. Each parameter but
/// `$4` (now) is an array with one element per order, in the same order: `$1` payment, `$2`
/// paid at, `$3` attempt, `$5` audit id, `$6` actor, `$7` audit data, `$8` confirmation
/// number. Writes what [`paying_ctes`] writes and returns a row per paid order (its snapshot
/// and notices, [`paid_columns`]); no row for an order that could not take the money. The
/// orders must be distinct.
pub static PG_PAY: LazyLock<String> = LazyLock::new(|| {
    format!(
        "with u as (select * from unnest($1::text[], $2::text[], $3::text[], $5::text[], $6::text[], $7::text[], $8::text[])
                    as u(payment_id, money_at, attempt_id, audit_id, actor, data, confirmation_no)),
         {}
         select {} from paid p",
        paying_ctes("$4"),
        paid_columns(pg_child)
    )
});

/// The CTEs that pay the orders of a CTE `u` (one row per order: `payment_id`, `money_at`,
/// `attempt_id`, `audit_id`, `actor`, `data`, `confirmation_no`), `now` being the parameter that
/// holds the time. For each order: the `money.received` audit record (written even when the
/// order cannot take the money), the order (`paid` holds the orders paid, as written), its
/// notice lines, their notices (`n`; a notice is paid when no line is unpaid besides those this
/// statement pays; its row lock orders its events) and, when the payer gave an e-mail address,
/// the confirmation's mail (an order without one has nothing to send: no outbox row, no work
/// for the mail worker).
pub fn paying_ctes(now: &str) -> String {
    format!(
        "a as (insert into audit (audit_id, payment_id, type, actor, data, created_at)
               select audit_id, payment_id, 'money.received', actor, data, {now} from u),
         paid as (update payment set status = 'paid', paid_at = u.money_at, paid_attempt_id = u.attempt_id,
                                     updated_at = {now}, confirmation_no = u.confirmation_no
                  from u where payment.payment_id = u.payment_id and payment.status in {}
                  returning payment.*),
         nl as (update notice_line set status = 'paid', paid_by = paid.payment_id, paid_at = paid.paid_at
                from payment_line pl join paid on paid.payment_id = pl.payment_id
                where pl.kind = 'notice_line' and notice_line.notice_line_id = pl.notice_line_id
                  and notice_line.status = 'unpaid'
                returning notice_line.notice_line_id),
         n as (update notice set updated_at = {now},
                      status = case when exists (select 1 from notice_line l where l.notice_id = notice.notice_id
                                                   and l.status = 'unpaid' and l.notice_line_id not in (select notice_line_id from nl))
                                    then 'partially_paid' else 'paid' end
               where notice_id in ({NOTICES_OF} in (select payment_id from paid))
               returning notice_id, agency_code, status),
         m as (insert into mail_outbox (payment_id, kind, status, tries, next_attempt_at, created_at, updated_at)
               select payment_id, 'confirmation', 'pending', 0, {now}, {now}, {now} from paid
               where paid.payer::jsonb ->> 'email' <> ''
               on conflict do nothing)",
        crate::payments::order::sql_sources(crate::payments::order::OrderEvent::MoneyReceived),
    )
}

/// The columns of an order `p` paid by [`paying_ctes`], as [`PaidLoadRow`] reads them: its
/// snapshot, built from what the statement wrote (`child` gives its child rows), and its
/// notices as `[id, agency, status]` (`notices_json`).
pub fn paid_columns(child: impl Fn(&str, &str, &str) -> String) -> String {
    format!(
        "{PAYMENT_COLUMNS}, {},
         coalesce((select json_agg(json_build_array(notice_id, agency_code, status) order by notice_id)
                   from (select distinct n.notice_id, n.agency_code, n.status
                         from payment_line pl2
                         join notice_line nl2 on nl2.notice_line_id = pl2.notice_line_id
                         join n on n.notice_id = nl2.notice_id
                         where pl2.kind = 'notice_line' and pl2.payment_id = p.payment_id) x), '[]')::text
           as notices_json",
        children(child)
    )
}

/// The notices of the orders whose id is compared by what follows (`in (…)`, `= …`).
const NOTICES_OF: &str = "select nl2.notice_id from payment_line pl2
     join notice_line nl2 on nl2.notice_line_id = pl2.notice_line_id
     where pl2.kind = 'notice_line' and pl2.payment_id";

pub fn pg_child(table: &str, columns: &str, order: &str) -> String {
    format!(
        "coalesce((select json_agg({} order by {order}) from {table} where payment_id = p.payment_id), '[]')::text",
        object("json_build_object", columns)
    )
}

fn sqlite_child(table: &str, columns: &str, order: &str) -> String {
    format!(
        "coalesce((select json_group_array({}) from (select * from {table} where payment_id = p.payment_id order by {order})), '[]')",
        object("json_object", columns)
    )
}

pub static PG_LOAD: LazyLock<String> = LazyLock::new(|| load_sql(pg_child));
pub static SQLITE_LOAD: LazyLock<String> = LazyLock::new(|| load_sql(sqlite_child));

/// A page of payments with their children, in one query (not one read per payment).
pub static PG_LIST: LazyLock<String> = LazyLock::new(|| select_sql(pg_child, LIST_TAIL));
pub static SQLITE_LIST: LazyLock<String> = LazyLock::new(|| select_sql(sqlite_child, LIST_TAIL));

#[derive(sqlx::FromRow)]
pub struct PaymentLoadRow {
    #[sqlx(flatten)]
    payment: PaymentRow,
    lines_json: String,
    attempts_json: String,
    flags_json: String,
}

/// The row of [`PG_PAY`]: the paid order and its notices.
#[derive(sqlx::FromRow)]
pub struct PaidLoadRow {
    #[sqlx(flatten)]
    pub order: PaymentLoadRow,
    pub notices_json: String,
}

impl PaidLoadRow {
    /// The order's snapshot and its notices as (id, agency, status).
    #[allow(clippy::type_complexity)]
    pub fn into_parts(
        self,
    ) -> Result<(PaymentRecord, Vec<(String, Option<String>, String)>), sqlx::Error> {
        Ok((self.order.into_record()?, decode(&self.notices_json)?))
    }
}

fn decode<T: serde::de::DeserializeOwned>(json: &str) -> Result<T, sqlx::Error> {
    serde_json::from_str(json).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

impl PaymentLoadRow {
    pub fn into_record(self) -> Result<PaymentRecord, sqlx::Error> {
        let lines: Vec<PaymentLineRow> = decode(&self.lines_json)?;
        let attempts: Vec<AttemptRow> = decode(&self.attempts_json)?;
        let flags: Vec<FlagRow> = decode(&self.flags_json)?;
        Ok(PaymentRecord {
            payment: self.payment,
            lines,
            attempts,
            flags,
        })
    }
}
