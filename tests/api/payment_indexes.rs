//! The order table's partial indexes still serve the statements that read through them: the
//! janitor's open orders past their expiry, the confirmation number's lookup, and payments by
//! time paid. Each index holds only the rows its readers can ask for (open orders; orders paid,
//! with a confirmation number), so paying or closing an order, or creating one, writes fewer
//! index entries — but only while each reader's condition still implies its index's. Checked
//! with the backend's own plan, on whichever backend this run uses; on PostgreSQL with
//! sequential scans turned off, so the plan names the index whenever one can serve.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use landpay::storage::confirmation::BY_CONFIRMATION;
use landpay::storage::payments::overdue_sql;
use landpay::storage::Store;
use sqlx::Connection;

use crate::helpers::{settings_for, TestDb};

const BY_PAID_AT: &str = "select payment_id from payment where paid_at >= $1 and paid_at < $2";

/// The second parameter of a statement: a time, a row limit, or none.
#[derive(Clone, Copy)]
enum Second {
    Time,
    Limit,
    Nothing,
}

/// The plan of `sql` with a time as its first parameter, as text.
async fn plan(db: &TestDb, sql: &str, second: Second) -> String {
    let (a, b) = ("2026-12-01T00:00:00Z", "2026-12-02T00:00:00Z");
    if db.is_postgres() {
        let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
        let mut tx = conn.begin().await.unwrap();
        sqlx::query("set local enable_seqscan = off")
            .execute(&mut *tx)
            .await
            .unwrap();
        let explained = format!("explain (format json) {sql}");
        let q = sqlx::query_scalar::<_, serde_json::Value>(&explained).bind(a);
        let q = match second {
            Second::Time => q.bind(b),
            Second::Limit => q.bind(10_i64),
            Second::Nothing => q,
        };
        q.fetch_one(&mut *tx).await.unwrap().to_string()
    } else {
        let mut conn = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
        let explained = format!("explain query plan {sql}");
        let q = sqlx::query_as::<_, (i64, i64, i64, String)>(&explained).bind(a);
        let q = match second {
            Second::Time => q.bind(b),
            Second::Limit => q.bind(10_i64),
            Second::Nothing => q,
        };
        let rows = q.fetch_all(&mut conn).await.unwrap();
        rows.into_iter().map(|r| r.3).collect::<Vec<_>>().join("\n")
    }
}

/// A fresh database of this run's backend, migrated.
async fn migrated() -> TestDb {
    let db = TestDb::new().await;
    let store = Store::connect(&settings_for(&db, &[]).database)
        .await
        .unwrap();
    store.migrate().await.unwrap();
    store.close().await;
    db
}

#[tokio::test]
async fn each_reader_of_a_partial_order_index_is_planned_through_it() {
    let db = migrated().await;
    for (sql, second, index) in [
        (overdue_sql(), Second::Limit, "payment_status_expires_idx"),
        (
            BY_CONFIRMATION.to_owned(),
            Second::Nothing,
            "payment_confirmation_no_key",
        ),
        (BY_PAID_AT.to_owned(), Second::Time, "payment_paid_at_idx"),
    ] {
        let plan = plan(&db, &sql, second).await;
        assert!(
            plan.contains(index),
            "{sql}\nis not planned through {index}:\n{plan}"
        );
    }
}

#[tokio::test]
async fn the_partial_indexes_hold_only_the_orders_their_readers_ask_for() {
    let db = migrated().await;
    let definitions: Vec<(String, String)> = if db.is_postgres() {
        let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
        sqlx::query_as("select indexname, indexdef from pg_indexes where tablename = 'payment'")
            .fetch_all(&mut conn)
            .await
            .unwrap()
    } else {
        let mut conn = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
        sqlx::query_as(
            "select name, sql from sqlite_master where type = 'index' and tbl_name = 'payment' and sql is not null",
        )
        .fetch_all(&mut conn)
        .await
        .unwrap()
    };
    let condition = |name: &str| {
        let def = &definitions.iter().find(|(n, _)| n == name).unwrap().1;
        def.to_lowercase()
            .split_once("where")
            .map(|(_, c)| c.to_owned())
            .unwrap_or_default()
    };
    assert!(condition("payment_status_expires_idx").contains("pending"));
    assert!(condition("payment_status_expires_idx").contains("processing"));
    assert!(!condition("payment_status_expires_idx").contains("paid"));
    assert!(condition("payment_paid_at_idx").contains("paid_at is not null"));
    assert!(condition("payment_confirmation_no_key").contains("confirmation_no is not null"));
}
