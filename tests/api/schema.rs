//! What a migrated database holds, read back from the database itself (SQLite's `sqlite_master`
//! and pragmas, PostgreSQL's catalogs), in one form for both backends so that the two migration
//! folders can be compared: tables, columns (name and nullability; types differ by design),
//! primary keys, indexes, unique constraints, foreign keys and the number of checks.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};

use sqlx::{Connection, PgConnection, Row, SqliteConnection};

/// The tables of one database, by name (the migration bookkeeping table left out).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Schema {
    pub tables: BTreeMap<String, Table>,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Table {
    /// Column name → nullable (a primary key column is never nullable).
    pub columns: BTreeMap<String, bool>,
    pub primary_key: Vec<String>,
    /// Indexes made by `create index`, by name.
    pub indexes: BTreeMap<String, Index>,
    /// Column lists of `unique` constraints.
    pub uniques: BTreeSet<Vec<String>>,
    pub foreign_keys: BTreeSet<ForeignKey>,
    pub checks: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Index {
    /// Key columns in order; an expression is `<expr>`.
    pub columns: Vec<String>,
    pub unique: bool,
    pub partial: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ForeignKey {
    pub columns: Vec<String>,
    pub table: String,
    pub references: Vec<String>,
    /// `NO ACTION`, `RESTRICT`, `CASCADE`, `SET NULL` or `SET DEFAULT`.
    pub on_delete: String,
}

const BOOKKEEPING: &str = "_sqlx_migrations";

/// Every difference between `a` (named `a_name`) and `b`, one line each; empty when they agree.
pub fn differences(a_name: &str, a: &Schema, b_name: &str, b: &Schema) -> Vec<String> {
    let mut out = Vec::new();
    for name in a.tables.keys().filter(|t| !b.tables.contains_key(*t)) {
        out.push(format!("table {name} only in {a_name}"));
    }
    for name in b.tables.keys().filter(|t| !a.tables.contains_key(*t)) {
        out.push(format!("table {name} only in {b_name}"));
    }
    for (name, ta) in &a.tables {
        if let Some(tb) = b.tables.get(name) {
            table_differences(name, a_name, ta, b_name, tb, &mut out);
        }
    }
    out
}

fn table_differences(t: &str, an: &str, a: &Table, bn: &str, b: &Table, out: &mut Vec<String>) {
    for (col, nullable) in &a.columns {
        match b.columns.get(col) {
            None => out.push(format!("{t}.{col} only in {an}")),
            Some(other) if other != nullable => out.push(format!(
                "{t}.{col} is {} in {an} but {} in {bn}",
                null_word(*nullable),
                null_word(*other)
            )),
            Some(_) => {}
        }
    }
    for col in b.columns.keys().filter(|c| !a.columns.contains_key(*c)) {
        out.push(format!("{t}.{col} only in {bn}"));
    }
    if a.primary_key != b.primary_key {
        out.push(format!(
            "{t}: primary key {:?} in {an} but {:?} in {bn}",
            a.primary_key, b.primary_key
        ));
    }
    for (name, ia) in &a.indexes {
        match b.indexes.get(name) {
            None => out.push(format!("{t}: index {name} only in {an}")),
            Some(ib) if ib != ia => out.push(format!(
                "{t}: index {name} is {ia:?} in {an} but {ib:?} in {bn}"
            )),
            Some(_) => {}
        }
    }
    for name in b.indexes.keys().filter(|i| !a.indexes.contains_key(*i)) {
        out.push(format!("{t}: index {name} only in {bn}"));
    }
    for u in a.uniques.difference(&b.uniques) {
        out.push(format!("{t}: unique {u:?} only in {an}"));
    }
    for u in b.uniques.difference(&a.uniques) {
        out.push(format!("{t}: unique {u:?} only in {bn}"));
    }
    for fk in a.foreign_keys.difference(&b.foreign_keys) {
        out.push(format!("{t}: foreign key {fk:?} only in {an}"));
    }
    for fk in b.foreign_keys.difference(&a.foreign_keys) {
        out.push(format!("{t}: foreign key {fk:?} only in {bn}"));
    }
    if a.checks != b.checks {
        out.push(format!(
            "{t}: {} checks in {an} but {} in {bn}",
            a.checks, b.checks
        ));
    }
}

fn null_word(nullable: bool) -> &'static str {
    if nullable {
        "nullable"
    } else {
        "not null"
    }
}

/// How many `check (` constraints a `create table` statement holds.
pub fn count_checks(sql: &str) -> usize {
    let sql = sql.to_ascii_lowercase();
    let bytes = sql.as_bytes();
    sql.match_indices("check")
        .filter(|(at, _)| {
            let before_ok = *at == 0 || {
                let c = bytes[at - 1];
                !(c.is_ascii_alphanumeric() || c == b'_')
            };
            let after = sql[at + 5..].trim_start();
            before_ok && after.starts_with('(')
        })
        .count()
}

/// Reads the schema of the SQLite database at `url`.
pub async fn sqlite(url: &str) -> Schema {
    let mut conn = SqliteConnection::connect(url).await.unwrap();
    let tables: Vec<(String, String)> = sqlx::query_as(
        "select name, sql from sqlite_master where type = 'table' and name not like 'sqlite_%' and name <> ?",
    )
    .bind(BOOKKEEPING)
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let mut schema = Schema::default();
    for (name, sql) in tables {
        let table = sqlite_table(&mut conn, &name, &sql).await;
        schema.tables.insert(name, table);
    }
    schema
}

async fn sqlite_table(conn: &mut SqliteConnection, name: &str, sql: &str) -> Table {
    let mut table = Table {
        checks: count_checks(sql),
        ..Table::default()
    };
    let cols = sqlx::query("select name, \"notnull\", pk from pragma_table_info(?) order by cid")
        .bind(name)
        .fetch_all(&mut *conn)
        .await
        .unwrap();
    let mut pk: Vec<(i64, String)> = Vec::new();
    for c in cols {
        let (col, notnull, in_pk): (String, i64, i64) = (c.get(0), c.get(1), c.get(2));
        if in_pk > 0 {
            pk.push((in_pk, col.clone()));
        }
        table.columns.insert(col, notnull == 0 && in_pk == 0);
    }
    pk.sort();
    table.primary_key = pk.into_iter().map(|(_, c)| c).collect();
    let indexes = sqlx::query("select name, \"unique\", origin, partial from pragma_index_list(?)")
        .bind(name)
        .fetch_all(&mut *conn)
        .await
        .unwrap();
    for i in indexes {
        let (index, unique, origin, partial): (String, i64, String, i64) =
            (i.get(0), i.get(1), i.get(2), i.get(3));
        let columns: Vec<Option<String>> =
            sqlx::query_scalar("select name from pragma_index_info(?) order by seqno")
                .bind(&index)
                .fetch_all(&mut *conn)
                .await
                .unwrap();
        let columns: Vec<String> = columns
            .into_iter()
            .map(|c| c.unwrap_or_else(|| "<expr>".to_owned()))
            .collect();
        match origin.as_str() {
            "pk" => {}
            "u" => {
                table.uniques.insert(columns);
            }
            _ => {
                let index_def = Index {
                    columns,
                    unique: unique != 0,
                    partial: partial != 0,
                };
                table.indexes.insert(index, index_def);
            }
        }
    }
    table.foreign_keys = sqlite_foreign_keys(conn, name).await;
    table
}

async fn sqlite_foreign_keys(conn: &mut SqliteConnection, name: &str) -> BTreeSet<ForeignKey> {
    let rows = sqlx::query(
        "select id, \"table\", \"from\", \"to\", on_delete from pragma_foreign_key_list(?) order by id, seq",
    )
    .bind(name)
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    let mut by_id: BTreeMap<i64, ForeignKey> = BTreeMap::new();
    for r in rows {
        let (id, table, from, to, on_delete): (i64, String, String, Option<String>, String) =
            (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4));
        let fk = by_id.entry(id).or_insert_with(|| ForeignKey {
            columns: Vec::new(),
            table: table.clone(),
            references: Vec::new(),
            on_delete: on_delete.to_ascii_uppercase(),
        });
        fk.columns.push(from);
        fk.references.push(to.unwrap_or_default());
    }
    let mut out = BTreeSet::new();
    for mut fk in by_id.into_values() {
        // `references t` without columns names the primary key of t.
        if fk.references.iter().any(String::is_empty) {
            let pk: Vec<String> = sqlx::query_scalar(
                "select name from pragma_table_info(?) where pk > 0 order by pk",
            )
            .bind(&fk.table)
            .fetch_all(&mut *conn)
            .await
            .unwrap();
            fk.references = pk;
        }
        out.insert(fk);
    }
    out
}

/// Reads the schema (`public`) of the PostgreSQL database at `url`.
pub async fn postgres(url: &str) -> Schema {
    let mut conn = PgConnection::connect(url).await.unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        "select table_name::text from information_schema.tables
         where table_schema = 'public' and table_type = 'BASE TABLE' and table_name <> $1",
    )
    .bind(BOOKKEEPING)
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let mut schema = Schema::default();
    for name in tables {
        let table = postgres_table(&mut conn, &name).await;
        schema.tables.insert(name, table);
    }
    schema
}

/// The names of an array of attribute numbers of relation `rel`, in order (0 = `<expr>`).
const ATTNAMES: &str = "array(select coalesce(a.attname::text, '<expr>') from unnest({keys}::int2[]) with ordinality as key_(n, ord)
     left join pg_attribute a on a.attrelid = {rel} and a.attnum = key_.n order by key_.ord)";

fn attnames(keys: &str, rel: &str) -> String {
    ATTNAMES.replace("{keys}", keys).replace("{rel}", rel)
}

async fn postgres_table(conn: &mut PgConnection, name: &str) -> Table {
    let mut table = Table::default();
    let cols: Vec<(String, String)> = sqlx::query_as(
        "select column_name::text, is_nullable::text from information_schema.columns
         where table_schema = 'public' and table_name = $1",
    )
    .bind(name)
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    for (col, nullable) in cols {
        table.columns.insert(col, nullable == "YES");
    }
    let index_sql = format!(
        "select c.relname::text, i.indisunique, i.indpred is not null, i.indisprimary,
                exists(select 1 from pg_constraint k where k.conindid = i.indexrelid and k.contype = 'u'),
                {}
         from pg_index i join pg_class c on c.oid = i.indexrelid
         where i.indrelid = $1::regclass",
        attnames("i.indkey", "i.indrelid")
    );
    let rows = sqlx::query(&index_sql)
        .bind(name)
        .fetch_all(&mut *conn)
        .await
        .unwrap();
    for r in rows {
        let (index, unique, partial, primary, constraint, columns): (
            String,
            bool,
            bool,
            bool,
            bool,
            Vec<String>,
        ) = (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5));
        if primary {
            table.primary_key = columns;
        } else if constraint {
            table.uniques.insert(columns);
        } else {
            let index_def = Index {
                columns,
                unique,
                partial,
            };
            table.indexes.insert(index, index_def);
        }
    }
    table.foreign_keys = postgres_foreign_keys(conn, name).await;
    table.checks = sqlx::query_scalar::<_, i64>(
        "select count(*) from pg_constraint where contype = 'c' and conrelid = $1::regclass",
    )
    .bind(name)
    .fetch_one(&mut *conn)
    .await
    .unwrap()
    .try_into()
    .unwrap();
    table
}

async fn postgres_foreign_keys(conn: &mut PgConnection, name: &str) -> BTreeSet<ForeignKey> {
    let sql = format!(
        "select {}, f.relname::text, {}, k.confdeltype::text
         from pg_constraint k join pg_class f on f.oid = k.confrelid
         where k.contype = 'f' and k.conrelid = $1::regclass",
        attnames("k.conkey", "k.conrelid"),
        attnames("k.confkey", "k.confrelid")
    );
    let rows = sqlx::query(&sql)
        .bind(name)
        .fetch_all(&mut *conn)
        .await
        .unwrap();
    rows.into_iter()
        .map(|r| {
            let action: String = r.get(3);
            ForeignKey {
                columns: r.get(0),
                table: r.get(1),
                references: r.get(2),
                on_delete: match action.as_str() {
                    "r" => "RESTRICT",
                    "c" => "CASCADE",
                    "n" => "SET NULL",
                    "d" => "SET DEFAULT",
                    _ => "NO ACTION",
                }
                .to_owned(),
            }
        })
        .collect()
}
