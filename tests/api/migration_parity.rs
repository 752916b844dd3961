//! The two migration folders must build the same schema: each is applied to a fresh database of
//! its backend, both are read back from the databases' own catalogs and compared (tables,
//! column names and nullability, primary keys, indexes, unique constraints, foreign keys and
//! checks; column types differ by design). PostgreSQL is reached at TEST_DATABASE_URL, else on
//! the local default; without it the comparison is skipped, unless LANDPAY_REQUIRE_ALL is set.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};

use landpay::storage::Store;

use crate::helpers::{settings_for, TestDb};
use crate::schema::{self, count_checks, differences, ForeignKey, Index, Schema, Table};

/// How many checks, foreign keys and unique constraints a schema holds in all.
fn constraint_totals(s: &Schema) -> (usize, usize, usize) {
    s.tables.values().fold((0, 0, 0), |(c, f, u), t| {
        (c + t.checks, f + t.foreign_keys.len(), u + t.uniques.len())
    })
}

async fn migrate(db: &TestDb) {
    let settings = settings_for(db, &[]);
    let store = Store::connect(&settings.database).await.unwrap();
    store.migrate().await.unwrap();
    store.close().await;
}

#[tokio::test]
async fn both_migration_folders_build_the_same_schema() {
    let Some(pg) = TestDb::postgres_for("the migration parity check").await else {
        return;
    };
    let lite = TestDb::sqlite();
    migrate(&lite).await;
    migrate(&pg).await;
    let on_sqlite = schema::sqlite(&lite.url).await;
    let on_postgres = schema::postgres(&pg.url).await;
    assert!(on_sqlite.tables.len() > 10, "{on_sqlite:?}");
    // Introspection saw the constraints on both sides (the migrations declare all three kinds).
    for totals in [
        constraint_totals(&on_sqlite),
        constraint_totals(&on_postgres),
    ] {
        assert!(totals.0 > 0 && totals.1 > 0 && totals.2 > 0, "{totals:?}");
    }
    let drift = differences("sqlite", &on_sqlite, "postgres", &on_postgres);
    assert!(
        drift.is_empty(),
        "migrations/sqlite and migrations/postgres disagree:\n{}",
        drift.join("\n")
    );
}

#[tokio::test]
async fn the_comparison_finds_drift_between_two_migrated_databases() {
    let (a, b) = (TestDb::sqlite(), TestDb::sqlite());
    migrate(&a).await;
    migrate(&b).await;
    let before = schema::sqlite(&b.url).await;
    assert_eq!(
        differences("a", &schema::sqlite(&a.url).await, "b", &before),
        Vec::<String>::new()
    );
    let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&b.url)
        .await
        .unwrap();
    for sql in [
        "alter table payment add column drift_probe text",
        "create unique index drift_probe_idx on payment (drift_probe)",
        "create table drift_table (id text primary key, payment_id text not null references payment (id) on delete cascade, n integer check (n > 0), unique (payment_id, n))",
    ] {
        sqlx::Executor::execute(&mut conn, sql).await.unwrap();
    }
    let drift = differences(
        "a",
        &schema::sqlite(&a.url).await,
        "b",
        &schema::sqlite(&b.url).await,
    );
    assert_eq!(
        drift,
        vec![
            "table drift_table only in b".to_owned(),
            "payment.drift_probe only in b".to_owned(),
            "payment: index drift_probe_idx only in b".to_owned(),
        ]
    );
    let after = schema::sqlite(&b.url).await;
    let t = &after.tables["drift_table"];
    assert_eq!(t.primary_key, vec!["id"]);
    assert!(!t.columns["payment_id"], "not null");
    assert!(t.columns["n"], "nullable");
    assert_eq!(t.checks, 1);
    assert!(t
        .uniques
        .contains(&vec!["payment_id".to_owned(), "n".to_owned()]));
    let fk = t.foreign_keys.iter().next().unwrap();
    assert_eq!(
        (fk.table.as_str(), fk.on_delete.as_str()),
        ("payment", "CASCADE")
    );
}

fn table() -> Table {
    Table {
        columns: BTreeMap::from([("id".to_owned(), false), ("note".to_owned(), true)]),
        primary_key: vec!["id".to_owned()],
        indexes: BTreeMap::from([(
            "t_note".to_owned(),
            Index {
                columns: vec!["note".to_owned()],
                unique: false,
                partial: false,
            },
        )]),
        uniques: BTreeSet::new(),
        foreign_keys: BTreeSet::new(),
        checks: 0,
    }
}

#[test]
fn the_comparison_reports_each_kind_of_difference() {
    let a = Schema {
        tables: BTreeMap::from([("t".to_owned(), table())]),
    };
    assert!(differences("a", &a, "b", &a.clone()).is_empty());
    let mut b = a.clone();
    let t = b.tables.get_mut("t").unwrap();
    t.columns.insert("note".to_owned(), false);
    t.indexes.get_mut("t_note").unwrap().unique = true;
    t.uniques.insert(vec!["note".to_owned()]);
    t.foreign_keys.insert(ForeignKey {
        columns: vec!["note".to_owned()],
        table: "u".to_owned(),
        references: vec!["id".to_owned()],
        on_delete: "NO ACTION".to_owned(),
    });
    t.checks = 1;
    t.primary_key = vec!["id".to_owned(), "note".to_owned()];
    b.tables.insert("u".to_owned(), Table::default());
    let drift = differences("a", &a, "b", &b);
    assert_eq!(drift.len(), 7, "{drift:#?}");
    for needle in [
        "table u only in b",
        "t.note is nullable in a but not null in b",
        "t: primary key",
        "t: index t_note is",
        "t: unique [\"note\"] only in b",
        "t: foreign key",
        "t: 0 checks in a but 1 in b",
    ] {
        assert!(
            drift.iter().any(|d| d.contains(needle)),
            "{needle}: {drift:#?}"
        );
    }
}

#[test]
fn checks_are_counted_in_table_definitions() {
    let sql = "create table t (a integer check (a > 0), checked_at text, rechecks integer,
               b text not null, CHECK(b <> ''))";
    assert_eq!(count_checks(sql), 2);
}
