//! The delivery worker records a pass's tries in one statement; it must find each delivery by its
//! key however the planner sees the table. The delivery table's statistics are taken while no
//! delivery is pending (the usual state: each is delivered a moment after its event), then 2,000
//! fall due and are leased. Checking `status = 'pending'` in the statement let the planner reach
//! the rows through the partial indexes of pending deliveries, which such statistics make look
//! like a row or two, and read and hash every pending delivery to record 32. Counted in rows the
//! plan reads (deterministic), not in time. PostgreSQL is reached at TEST_DATABASE_URL, else on
//! the local default; without it the check is skipped, unless LANDPAY_REQUIRE_ALL is set.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use landpay::storage::delivery_record::PG_RECORD_TRIES;
use sqlx::Connection;

use crate::claim_plan::{freeze_statistics, insert_deliveries, migrated, rows_read};

const PENDING: i64 = 2_000;
const RECORDED: usize = 32;
const LEASE: &str = "2026-12-02T07:01:00.000000Z";

/// Records tries of `dlv_1`… `dlv_32` with `sql` under `mode` (explained, analysed, rolled
/// back): the tries recorded and the rows the plan read.
async fn record_with(conn: &mut sqlx::PgConnection, sql: &str, mode: &str) -> (i64, i64) {
    let ids: Vec<String> = (1..=RECORDED).map(|i| format!("dlv_{i}")).collect();
    let text = |v: &str| vec![v.to_owned(); RECORDED];
    let mut tx = conn.begin().await.unwrap();
    sqlx::query(&format!("set local plan_cache_mode = {mode}"))
        .execute(&mut *tx)
        .await
        .unwrap();
    let plan: serde_json::Value =
        sqlx::query_scalar(&format!("explain (analyze, timing off, format json) {sql}"))
            .bind(ids)
            .bind(text("delivered"))
            .bind(text("2026-12-02T07:00:30.000000Z"))
            .bind(text("2026-12-02T07:00:30.000000Z"))
            .bind(text(LEASE))
            .bind(vec![1_i64; RECORDED])
            .bind(vec![Some(200_i64); RECORDED])
            .bind(vec![None::<String>; RECORDED])
            .bind(vec![12_i64; RECORDED])
            .fetch_one(&mut *tx)
            .await
            .unwrap();
    tx.rollback().await.unwrap();
    let top = &plan[0]["Plan"];
    (top["Actual Rows"].as_i64().unwrap(), rows_read(top))
}

#[tokio::test]
async fn recording_a_pass_finds_each_delivery_by_its_key_with_statistics_of_no_pending_delivery() {
    let Some((_db, mut conn)) = migrated("the record plan check").await else {
        return;
    };
    insert_deliveries(&mut conn, "delivered", "dlx_", PENDING).await;
    freeze_statistics(&mut conn).await;
    insert_deliveries(&mut conn, "pending", "dlv_", PENDING).await;
    sqlx::query("update delivery set locked_until = $1 where status = 'pending'")
        .bind(LEASE)
        .execute(&mut conn)
        .await
        .unwrap();

    let recorded = i64::try_from(RECORDED).unwrap();
    for mode in ["force_generic_plan", "force_custom_plan"] {
        let (rows, read) = record_with(&mut conn, PG_RECORD_TRIES, mode).await;
        assert_eq!(rows, recorded, "{mode}");
        // The update, its key lookups and the insert: a row each per try.
        assert!(
            read <= 4 * recorded,
            "with {mode}, recording {RECORDED} tries read {read} rows ({PENDING} pending)"
        );
    }

    // With the status checked as well, the same count catches the hash of every pending one.
    let checked = PG_RECORD_TRIES.replace(
        "d.locked_until = r.locked_until",
        "d.locked_until = r.locked_until and d.status = 'pending'",
    );
    assert_ne!(checked, PG_RECORD_TRIES);
    let (rows, read) = record_with(&mut conn, &checked, "force_generic_plan").await;
    assert_eq!(rows, recorded);
    assert!(
        read >= PENDING,
        "with the status checked, recording read only {read} rows: the check would not catch it"
    );
}
