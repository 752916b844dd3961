//! A payment read by its id must not be planned afresh at every execution once the database has
//! grown. PostgreSQL's plan cache compares one generic plan, made at a prepared statement's sixth
//! execution, with the five plans made for the first five; when the generic one looked dearer it
//! plans afresh at every execution and never prices the generic plan again. Here the first five
//! reads run while the payment has no attempt, then 100,000 attempts arrive without statistics
//! (their rows estimated by a default selectivity) before the sixth, then `ANALYZE` puts the
//! statistics right, and twenty more reads follow. Counted in plans, from
//! `pg_prepared_statements` on the reading connection (deterministic), not in time. PostgreSQL is
//! reached at TEST_DATABASE_URL, else on the local default; without it the check is skipped,
//! unless LANDPAY_REQUIRE_ALL is set.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use landpay::storage::snapshot::PG_LOAD;
use landpay::storage::Store;
use sqlx::{Connection, Executor};

use crate::helpers::{settings_for, TestDb};

const LATER_READS: i64 = 20;

/// Runs `sql` on `conn`.
async fn run(conn: &mut sqlx::PgConnection, sql: &str) {
    conn.execute(sql).await.unwrap();
}

/// A payment `pay_<n>` for each of `from..=to`.
fn payments(from: i64, to: i64) -> String {
    format!(
        "insert into payment (payment_id, status, amount, payer, locale, created_by, expires_at, created_at, updated_at)
         select 'pay_' || g, 'pending', 1000, '{{}}', 'vi', 'portal', '2026-12-04', '2026-12-03', '2026-12-03'
         from generate_series({from}, {to}) g"
    )
}

/// The tables the read touches, with autovacuum kept from taking statistics on its own.
async fn small_database(conn: &mut sqlx::PgConnection) {
    for table in ["payment", "payment_line", "attempt", "payment_flag"] {
        run(
            conn,
            &format!("alter table {table} set (autovacuum_enabled = false)"),
        )
        .await;
    }
    run(conn, &payments(1, 1)).await;
    run(conn, "analyze").await;
}

/// The growth between the fifth and the sixth read: payments and their attempts, no statistics.
async fn grow(conn: &mut sqlx::PgConnection) {
    run(conn, &payments(2, 10_000)).await;
    run(
        conn,
        "insert into attempt (attempt_id, payment_id, gateway, txn_ref, status, amount, expires_at, created_at, updated_at)
         select 'att_' || g, 'pay_' || (1 + g % 10000), 'vnpay', 'T' || g, 'failed', 1000, '2026-12-04', '2026-12-03', '2026-12-03'
         from generate_series(1, 100000) g",
    )
    .await;
}

/// How the read's prepared statement on `conn` was planned: (generic, custom).
async fn plans(conn: &mut sqlx::PgConnection) -> (i64, i64) {
    sqlx::query_as(
        "select generic_plans, custom_plans from pg_prepared_statements where statement = $1",
    )
    .bind(PG_LOAD.as_str())
    .fetch_one(conn)
    .await
    .unwrap()
}

/// The read as the store prepares it, on `conn`.
async fn read(conn: &mut sqlx::PgConnection) {
    let found: Option<(String,)> = sqlx::query_as(PG_LOAD.as_str())
        .bind("pay_1")
        .fetch_optional(conn)
        .await
        .unwrap();
    assert_eq!(found.unwrap().0, "pay_1");
}

/// The scenario on a connection of PostgreSQL's default plan cache: reads, growth, a read,
/// statistics, reads. Returns the read's (generic, custom) plans.
async fn default_plan_cache(url: &str, setup: &mut sqlx::PgConnection) -> (i64, i64) {
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    for _ in 0..5 {
        read(&mut conn).await;
    }
    grow(setup).await;
    read(&mut conn).await;
    run(setup, "analyze").await;
    for _ in 0..LATER_READS {
        read(&mut conn).await;
    }
    plans(&mut conn).await
}

#[tokio::test]
async fn a_payment_read_keeps_its_generic_plan_after_the_database_grows() {
    let Some(db) = TestDb::postgres_for("the plan cache check").await else {
        return;
    };
    // A main pool of 2 gives a lookup pool of one connection: every read below is on it.
    let store =
        Store::connect(&settings_for(&db, &[("LANDPAY__DATABASE__MAX_CONNECTIONS", "2")]).database)
            .await
            .unwrap();
    store.migrate().await.unwrap();
    let mut setup = sqlx::PgConnection::connect(&db.url).await.unwrap();
    small_database(&mut setup).await;

    // PostgreSQL's default: the scenario leaves the connection planning the read at every
    // execution after the sixth, statistics right or not. This is what the check must catch.
    let (generic, custom) = default_plan_cache(&db.url, &mut setup).await;
    assert_eq!(
        (generic, custom),
        (0, 6 + LATER_READS),
        "the scenario no longer leaves the default plan cache planning afresh: the check below could not fail"
    );
    run(&mut setup, "delete from attempt").await;
    run(
        &mut setup,
        "delete from payment where payment_id <> 'pay_1'",
    )
    .await;
    run(&mut setup, "vacuum analyze").await;

    // The store's read, the same scenario.
    for _ in 0..5 {
        assert!(store.payment("pay_1").await.unwrap().is_some());
    }
    grow(&mut setup).await;
    assert!(store.payment("pay_1").await.unwrap().is_some());
    run(&mut setup, "analyze").await;
    for _ in 0..LATER_READS {
        assert!(store.payment("pay_1").await.unwrap().is_some());
    }
    // The connection the reads kept (each read took the one the read before it kept).
    let mut conn = store.lookup_connection().await.unwrap().unwrap();
    let (generic, custom) = plans(&mut conn).await;
    assert_eq!(
        custom, 0,
        "the store's payment read was planned afresh {custom} times (generic {generic})"
    );
    assert_eq!(generic, 6 + LATER_READS);
    drop(conn);
    store.close().await;
}
