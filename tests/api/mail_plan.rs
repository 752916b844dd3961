//! The mail outbox's claim and skip pass must read the due confirmations once, however the
//! planner sees the outbox. Its statistics are usually taken while no confirmation is pending
//! (every one sent or skipped a moment after its payment); then a burst of payments, or a mail
//! server down for a while, leaves thousands pending. Joined to its due list by key, the skip
//! pass then scanned the whole due list again for each pending row: 1.2 s to skip 500 of 11,000
//! (5.5 million rows read and dropped). Counted in rows dropped from `explain (analyze, format
//! json)` (deterministic), not in time. PostgreSQL is reached at TEST_DATABASE_URL, else on the
//! local default; without it the check is skipped, unless LANDPAY_REQUIRE_ALL is set.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use landpay::storage::confirmation::{pg_claim_sql, pg_skip_sql};
use landpay::storage::Store;
use sqlx::{Connection, Executor};

use crate::claim_plan::rows_dropped;
use crate::helpers::{settings_for, TestDb};

const PENDING: i64 = 11_000;
const SKIPPED_BEFORE: i64 = 2_500;

/// Confirmations `<prefix><n>` for `n` in 1..=`count`, in `status`, due at 19:00 (each a
/// microsecond after the last).
fn confirmations(prefix: &str, status: &str, count: i64) -> String {
    format!(
        "insert into mail_outbox (payment_id, kind, status, tries, next_attempt_at, created_at, updated_at)
         select '{prefix}' || g, 'confirmation', '{status}', 0,
                '2026-12-03T19:00:00.' || lpad(g::text, 6, '0') || 'Z', '2026-12-03', '2026-12-03'
         from generate_series(1, {count}) g"
    )
}

/// The rows `sql` (`$1` now, `$2` text, `$3` limit) drops, explained and analysed, rolled back;
/// and the rows it changed.
async fn explained(conn: &mut sqlx::PgConnection, sql: &str, two: &str, limit: i64) -> (i64, i64) {
    let mut tx = conn.begin().await.unwrap();
    let plan: serde_json::Value =
        sqlx::query_scalar(&format!("explain (analyze, timing off, format json) {sql}"))
            .bind("2026-12-03T20:00:00.000000Z")
            .bind(two)
            .bind(limit)
            .fetch_one(&mut *tx)
            .await
            .unwrap();
    tx.rollback().await.unwrap();
    let top = &plan[0]["Plan"];
    let changed = top["Plans"]
        .as_array()
        .and_then(|p| p.iter().find(|n| n["Parent Relationship"] == "Outer"))
        .map_or(0, |n| n["Actual Rows"].as_i64().unwrap_or(0));
    (rows_dropped(top), changed)
}

#[tokio::test]
async fn the_mail_outbox_reads_its_due_list_once_with_statistics_of_no_pending_mail() {
    let Some(db) = TestDb::postgres_for("the mail outbox plan check").await else {
        return;
    };
    let store = Store::connect(&settings_for(&db, &[]).database)
        .await
        .unwrap();
    store.migrate().await.unwrap();
    store.close().await;
    let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
    for sql in [
        // The confirmations stand alone here: no payments behind them.
        "alter table mail_outbox drop constraint mail_outbox_payment_id_fkey",
        "alter table mail_outbox set (autovacuum_enabled = false)",
        &confirmations("pay_done_", "skipped", SKIPPED_BEFORE),
        "vacuum analyze mail_outbox",
        &confirmations("pay_due_", "pending", PENDING),
    ] {
        conn.execute(sql).await.unwrap();
    }

    let (dropped, skipped) = explained(&mut conn, &pg_skip_sql(), "no mail server", 500).await;
    assert_eq!(skipped, 500);
    assert!(
        dropped < PENDING,
        "the skip pass read and dropped {dropped} rows to skip 500 of {PENDING}"
    );
    let (dropped, claimed) =
        explained(&mut conn, &pg_claim_sql(), "2026-12-03T20:30:00Z", 20).await;
    assert_eq!(claimed, 20);
    assert!(
        dropped < PENDING,
        "the claim read and dropped {dropped} rows to lease 20 of {PENDING}"
    );

    // The join by key the skip pass had before: the same count catches it.
    let by_key = "with due as (select payment_id from mail_outbox
         where kind = 'confirmation' and status = 'pending' and next_attempt_at <= $1
         order by next_attempt_at, payment_id limit $3)
         update mail_outbox set status = 'skipped', tries = tries + 1, last_error = $2, updated_at = $1
         from due where mail_outbox.payment_id = due.payment_id and mail_outbox.kind = 'confirmation'
           and mail_outbox.status = 'pending'";
    let (dropped, skipped) = explained(&mut conn, by_key, "no mail server", 500).await;
    assert_eq!(skipped, 500);
    assert!(
        dropped >= PENDING,
        "the join by key dropped only {dropped} rows: the check would not catch it"
    );
}
