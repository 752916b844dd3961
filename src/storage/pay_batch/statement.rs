//! The batch's first statement: every callback's attempt moved, the orders of the moved ones
//! paid, and what became of each callback returned, in one round trip.
//!
//! The compare-and-set and the paying are data-modifying CTEs of one statement. Every part of
//! a statement reads the database as it was when the statement began, so the parts that read
//! what another part wrote read it from that part's `returning` rows: the orders paid from the
//! attempts moved (`mv`), and each paid order's snapshot with its moved attempts as written (the
//! `attempt` table still shows them as they were). An attempt that did not move is read in the
//! same statement, as the statement found it: only its order, gateway and amount are looked at,
//! which no transition changes.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{FromRow, PgConnection, Row};

use super::super::payment_rows::ATTEMPT_COLUMNS;
use super::super::snapshot::{object, paid_columns, paying_ctes, pg_child, PaidLoadRow};
use super::super::transition::{received_detail, MovedAttempt};
use super::super::ts;
use super::super::txops;
use super::Item;
use crate::ids::new_audit_id;

/// What the batch statement made of one callback.
pub(super) struct ItemRow {
    /// The callback's place in the batch.
    pub index: usize,
    /// Its attempt, when it moved to `succeeded`.
    pub moved: Option<MovedAttempt>,
    /// Whether the attempt is the first of its order that moved in the batch: only that one
    /// was offered to the order (a second is applied after it, on its own).
    pub first: bool,
    /// The order paid, with its snapshot and notices, for the first moved attempt of an order
    /// that took the money.
    pub paid: Option<PaidLoadRow>,
    /// For an attempt that did not move: its order, gateway and amount; `None` when no attempt
    /// has the reference.
    pub found: Option<(String, String, i64)>,
}

impl<'r> FromRow<'r, PgRow> for ItemRow {
    fn from_row(row: &'r PgRow) -> Result<Self, sqlx::Error> {
        let ordinal: i64 = row.try_get("item")?;
        let index = usize::try_from(ordinal - 1).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
        let moved_attempt: Option<String> = row.try_get("moved_attempt")?;
        let moved = match moved_attempt {
            Some(attempt_id) => Some(MovedAttempt {
                attempt_id,
                payment_id: row.try_get("moved_payment")?,
                gateway: row.try_get("moved_gateway")?,
            }),
            None => None,
        };
        let is_paid: bool = row.try_get("is_paid")?;
        let found_payment: Option<String> = row.try_get("found_payment")?;
        let found = match found_payment {
            Some(payment_id) => Some((
                payment_id,
                row.try_get("found_gateway")?,
                row.try_get("found_amount")?,
            )),
            None => None,
        };
        Ok(Self {
            index,
            moved,
            first: row.try_get("is_first")?,
            paid: if is_paid {
                Some(PaidLoadRow::from_row(row)?)
            } else {
                None
            },
            found,
        })
    }
}

/// Child rows of an order the statement paid: its attempts are those it moved, as written,
/// and the others as stored; its other children are as stored (paying changes none).
fn batch_child(table: &str, columns: &str, order: &str) -> String {
    if table != "attempt" {
        return pg_child(table, columns, order);
    }
    format!(
        "coalesce((select json_agg({} order by {order}) from
                     (select {columns} from attempt
                      where payment_id = p.payment_id and attempt_id not in (select attempt_id from mv)
                      union all
                      select {columns} from mv where payment_id = p.payment_id) x), '[]')::text",
        object("json_build_object", columns)
    )
}

/// The statement. Each parameter but `$11` (now) is an array with one element per callback,
/// in the batch's order: `$1` reference, `$2` gateway, `$3` gateway transaction number, `$4`
/// bank, `$5` amount, `$6` money at, `$7` audit id, `$8` actor, `$9` the `money.received`
/// record's data without its attempt, `$10` confirmation number. One row per callback, in the
/// batch's order ([`ItemRow`]). Each paid order's snapshot is built once (`s`, materialized:
/// joined as a subquery, its subplans ran again for every callback of the batch).
static MOVE_AND_PAY: LazyLock<String> = LazyLock::new(|| {
    let returned: Vec<String> = ATTEMPT_COLUMNS
        .split(',')
        .map(|c| format!("attempt.{}", c.trim()))
        .collect();
    format!(
        "with c as (select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[],
                                        $7::text[], $8::text[], $9::text[], $10::text[]) with ordinality
                    as c(txn_ref, gateway, txn_no, bank, amount, money_at, audit_id, actor, data, confirmation_no, item)),
         mv as (update attempt set status = 'succeeded', gateway_txn_no = c.txn_no,
                       bank_code = coalesce(c.bank, attempt.bank_code), paid_amount = c.amount,
                       money_at = c.money_at, updated_at = $11
                from c
                where attempt.txn_ref = c.txn_ref and attempt.gateway = c.gateway and attempt.amount = c.amount
                  and attempt.status in {states}
                returning {returned}, c.item),
         u as (select distinct on (mv.payment_id) mv.payment_id, mv.money_at, mv.attempt_id, c.audit_id, c.actor,
                      (c.data::jsonb || jsonb_build_object('attempt_id', mv.attempt_id))::text as data,
                      c.confirmation_no, c.item
               from mv join c on c.item = mv.item
               order by mv.payment_id, mv.item),
         {paying},
         s as materialized (select {columns} from paid p)
         select c.item, mv.attempt_id as moved_attempt, mv.payment_id as moved_payment, mv.gateway as moved_gateway,
                u.item is not null as is_first, s.payment_id is not null as is_paid,
                f.payment_id as found_payment, f.gateway as found_gateway, f.amount as found_amount, s.*
         from c
         left join mv on mv.item = c.item
         left join u on u.item = c.item
         left join attempt f on mv.item is null and f.txn_ref = c.txn_ref
         left join s on s.payment_id = u.payment_id
         order by c.item",
        states = txops::sql_money_states(),
        returned = returned.join(", "),
        paying = paying_ctes("$11"),
        columns = paid_columns(batch_child),
    )
});

/// Runs [`MOVE_AND_PAY`] for the batch: one row per item, in the batch's order.
pub(super) async fn move_and_pay(
    conn: &mut PgConnection,
    items: &[Item],
    now: DateTime<Utc>,
) -> Result<Vec<ItemRow>, sqlx::Error> {
    let column = |f: &dyn Fn(&Item) -> Option<String>| items.iter().map(f).collect::<Vec<_>>();
    sqlx::query_as(MOVE_AND_PAY.as_str())
        .bind(column(&|i| Some(i.result.txn_ref.clone())))
        .bind(column(&|i| Some(i.gateway.clone())))
        .bind(column(&|i| i.result.gateway_txn_no.clone()))
        .bind(column(&|i| i.result.bank_code.clone()))
        .bind(items.iter().map(|i| i.result.amount).collect::<Vec<i64>>())
        .bind(column(&|i| Some(ts(i.result.paid_at.unwrap_or(now)))))
        .bind(column(&|_| Some(new_audit_id().to_string())))
        .bind(column(&|i| Some(i.result.source.clone())))
        .bind(column(&|i| {
            Some(received_detail(&i.result, &i.gateway).to_string())
        }))
        .bind(column(&|_| {
            Some(crate::confirmation::number::new_confirmation_no())
        }))
        .bind(ts(now))
        .fetch_all(&mut *conn)
        .await
}
