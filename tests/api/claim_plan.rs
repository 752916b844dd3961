//! The delivery worker's claim must stay an index lookup per candidate however the planner sees
//! the table. Counted in rows the plan reads and throws away (deterministic), not in time: the
//! table's statistics are taken while it holds no pending delivery (as autovacuum does on a
//! service that has just started), then 2,000 deliveries fall due, and the claim runs with a
//! generic plan (as a prepared statement gets after five runs). The earlier `not exists` form
//! then read every pending delivery for each candidate (64,000 rows for a claim of 32; under the
//! IPN benchmark, 100–240 ms per claim). With statistics of an empty table, the claim must still
//! walk the due index rather than read and sort every due delivery. PostgreSQL is reached at
//! TEST_DATABASE_URL, else on the local default; without it the check is skipped, unless
//! LANDPAY_REQUIRE_ALL is set.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use landpay::storage::delivery_claim::{claim_sql, CLAIM_PLAN_SETTINGS};
use landpay::storage::{Backend, Store};
use sqlx::Connection;

use crate::helpers::{settings_for, TestDb};

const PENDING: i64 = 2_000;
const CLAIMED: i64 = 32;
/// Pages a claim may touch per delivery it takes: its entry in the due index and its row, the
/// order check's index, the lease (14–20 measured: the lease's own index work varies with the
/// room left on each page). Reading every due delivery took 200 per delivery claimed.
const PAGES_PER_CLAIMED: i64 = 30;

/// Rows every node of a plan read and dropped (by its filter or join filter), in all.
pub(crate) fn rows_dropped(node: &serde_json::Value) -> i64 {
    let own = ["Rows Removed by Filter", "Rows Removed by Join Filter"]
        .iter()
        .filter_map(|k| node[*k].as_i64())
        .sum::<i64>();
    let loops = node["Actual Loops"].as_i64().unwrap_or(1);
    let children = node["Plans"]
        .as_array()
        .map_or(0, |plans| plans.iter().map(rows_dropped).sum());
    own * loops + children
}

/// Rows the plan read from tables and indexes, in all: what each scan returned and what its
/// filter dropped, times its loops (scans of a CTE or sub-query excluded).
pub(crate) fn rows_read(node: &serde_json::Value) -> i64 {
    let own = if node["Relation Name"].is_string() {
        let rows = node["Actual Rows"].as_i64().unwrap_or(0)
            + node["Rows Removed by Filter"].as_i64().unwrap_or(0)
            + node["Rows Removed by Index Recheck"].as_i64().unwrap_or(0);
        rows * node["Actual Loops"].as_i64().unwrap_or(1)
    } else {
        0
    };
    own + node["Plans"]
        .as_array()
        .map_or(0, |plans| plans.iter().map(rows_read).sum())
}

/// How the claim is planned: the plan cache mode, and whether [`CLAIM_PLAN_SETTINGS`] run first
/// (as the store runs it).
#[derive(Clone, Copy)]
struct Planning {
    mode: &'static str,
    pinned: bool,
}

/// A claim's plan, run: the rows it returned, the rows it dropped, the rows it read.
struct Claimed {
    rows: i64,
    dropped: i64,
    read: i64,
    /// Pages the whole plan touched (shared buffers hit or read).
    pages: i64,
}

impl Claimed {
    /// What an `explain (analyze, format json)` of a claim shows.
    fn of(plan: &serde_json::Value) -> Self {
        let top = &plan[0]["Plan"];
        Self {
            rows: top["Actual Rows"].as_i64().unwrap(),
            dropped: rows_dropped(top),
            read: rows_read(top),
            pages: top["Shared Hit Blocks"].as_i64().unwrap_or(0)
                + top["Shared Read Blocks"].as_i64().unwrap_or(0),
        }
    }
}

/// Runs the claim `sql` under `planning` (explained, analysed, rolled back).
async fn claim_with(conn: &mut sqlx::PgConnection, sql: &str, planning: Planning) -> Claimed {
    let mut tx = conn.begin().await.unwrap();
    sqlx::query(&format!("set local plan_cache_mode = {}", planning.mode))
        .execute(&mut *tx)
        .await
        .unwrap();
    if planning.pinned {
        sqlx::query(CLAIM_PLAN_SETTINGS)
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    let plan: serde_json::Value = sqlx::query_scalar(&format!(
        "explain (analyze, buffers, timing off, format json) {sql}"
    ))
    .bind("2026-12-02T07:00:00.000000Z")
    .bind("2026-12-02T07:01:00.000000Z")
    .bind(CLAIMED)
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    tx.rollback().await.unwrap();
    Claimed::of(&plan)
}

/// A migrated PostgreSQL database and a connection to it; `None` (the check skipped) without
/// PostgreSQL.
pub(crate) async fn migrated(check: &str) -> Option<(TestDb, sqlx::PgConnection)> {
    let db = TestDb::postgres_for(check).await?;
    let store = Store::connect(&settings_for(&db, &[]).database)
        .await
        .unwrap();
    store.migrate().await.unwrap();
    store.close().await;
    let conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
    Some((db, conn))
}

/// Inserts `n` deliveries to one endpoint, each of its own payment, due at 06:00 on 2026-12-02.
pub(crate) async fn insert_deliveries(
    conn: &mut sqlx::PgConnection,
    status: &str,
    prefix: &str,
    n: i64,
) {
    sqlx::query(
        "insert into delivery (delivery_id, endpoint_id, event_id, event_sequence, event_type, order_key,
                               status, tries, next_attempt_at, created_at, updated_at)
         select $1 || g, 'whe_1', 'evt_' || g, g, 'payment.paid', 'pay_' || g, $2, 0,
                '2026-12-02T06:00:00.' || lpad(g::text, 6, '0') || 'Z', '2026-12-02', '2026-12-02'
         from generate_series(1, $3) g",
    )
    .bind(prefix)
    .bind(status)
    .bind(n)
    .execute(conn)
    .await
    .unwrap();
}

/// Takes the delivery table's statistics now, and keeps autovacuum from taking new ones.
pub(crate) async fn freeze_statistics(conn: &mut sqlx::PgConnection) {
    for sql in [
        "alter table delivery set (autovacuum_enabled = false)",
        "vacuum analyze delivery",
    ] {
        sqlx::query(sql).execute(&mut *conn).await.unwrap();
    }
}

#[tokio::test]
async fn the_claim_looks_up_each_candidate_through_the_index_whatever_the_statistics() {
    let Some((_db, mut conn)) = migrated("the claim plan check").await else {
        return;
    };
    // Statistics taken while nothing is pending; autovacuum kept from taking new ones.
    insert_deliveries(&mut conn, "delivered", "dlx_", 50).await;
    freeze_statistics(&mut conn).await;
    insert_deliveries(&mut conn, "pending", "dlv_", PENDING).await;

    let claim = claim_sql(Backend::Postgres);
    let generic = Planning {
        mode: "force_generic_plan",
        pinned: false,
    };
    let c = claim_with(&mut conn, &claim, generic).await;
    assert_eq!(c.rows, CLAIMED);
    assert!(
        c.dropped < PENDING,
        "the claim read and dropped {} rows to claim {CLAIMED} of {PENDING}",
        c.dropped
    );

    // The same count catches the anti-join form the claim had before.
    let anti_join = claim.replace(
        "d.event_sequence = (select min(e.event_sequence) from delivery e
                                   where e.endpoint_id = d.endpoint_id and e.order_key = d.order_key
                                     and e.status = 'pending')",
        "not exists (select 1 from delivery e where e.endpoint_id = d.endpoint_id and e.order_key = d.order_key
                                   and e.status = 'pending' and e.event_sequence < d.event_sequence)",
    );
    assert_ne!(anti_join, claim);
    let old = claim_with(&mut conn, &anti_join, generic).await;
    assert_eq!(old.rows, CLAIMED);
    assert!(
        old.dropped >= PENDING,
        "the anti-join dropped only {} rows: the check would not catch it",
        old.dropped
    );
}

/// Statistics taken while the table was empty (a fresh install, or `VACUUM` had just emptied it)
/// say few deliveries are ever due: the planner then reads every due delivery, checks its order
/// and sorts them all to claim 32, unless [`CLAIM_PLAN_SETTINGS`] leave it the walk of the due
/// index. Pinned, the claim reads about its own size in rows under either plan the cache may
/// hold; the same count, unpinned, shows what the settings prevent.
#[tokio::test]
async fn the_claim_walks_the_due_index_even_with_statistics_of_an_empty_table() {
    let Some((_db, mut conn)) = migrated("the pinned claim plan check").await else {
        return;
    };
    freeze_statistics(&mut conn).await;
    insert_deliveries(&mut conn, "delivered", "dlx_", PENDING).await;
    insert_deliveries(&mut conn, "pending", "dlv_", PENDING).await;
    let claim = claim_sql(Backend::Postgres);
    for mode in ["force_generic_plan", "force_custom_plan"] {
        let pinned = claim_with(&mut conn, &claim, Planning { mode, pinned: true }).await;
        assert_eq!(pinned.rows, CLAIMED, "{mode}");
        assert!(
            pinned.read <= 4 * CLAIMED && pinned.pages <= PAGES_PER_CLAIMED * CLAIMED,
            "with {mode}, the claim read {} rows and touched {} pages to claim {CLAIMED} of {PENDING}",
            pinned.read,
            pinned.pages
        );
        let loose = claim_with(
            &mut conn,
            &claim,
            Planning {
                mode,
                pinned: false,
            },
        )
        .await;
        assert_eq!(loose.rows, CLAIMED, "{mode}");
        assert!(
            loose.read >= PENDING,
            "with {mode} and unpinned, the claim read only {} rows: the check would not catch a lost pin",
            loose.read
        );
    }
}

/// A connection keeps the claim's plan from its first runs: when those ran on an empty table, the
/// kept plan believes the table holds a row or two. Pinned, it must still walk the due index and
/// lease its rows by their place (`ctid`; joined on the id, the lease once walked the whole
/// primary key for each claim: 87 ms with 4,000 deliveries, `auto_explain` under the IPN
/// benchmark).
#[tokio::test]
async fn a_claim_plan_kept_from_an_empty_table_reads_about_its_own_size() {
    let Some((_db, mut conn)) = migrated("the kept claim plan check").await else {
        return;
    };
    freeze_statistics(&mut conn).await;
    let claim = claim_sql(Backend::Postgres);
    sqlx::query("set plan_cache_mode = force_generic_plan")
        .execute(&mut conn)
        .await
        .unwrap();
    for name in ["pinned", "loose"] {
        sqlx::query(&format!("prepare {name} (text, text, bigint) as {claim}"))
            .execute(&mut conn)
            .await
            .unwrap();
    }
    let run = |name: &'static str| {
        format!(
            "explain (analyze, buffers, timing off, format json) execute {name} \
             ('2026-12-02T07:00:00.000000Z', '2026-12-02T07:01:00.000000Z', {CLAIMED})"
        )
    };
    async fn explained(conn: &mut sqlx::PgConnection, sql: &str, pinned: bool) -> Claimed {
        let mut tx = conn.begin().await.unwrap();
        if pinned {
            sqlx::query(CLAIM_PLAN_SETTINGS)
                .execute(&mut *tx)
                .await
                .unwrap();
        }
        let plan: serde_json::Value = sqlx::query_scalar(sql).fetch_one(&mut *tx).await.unwrap();
        tx.rollback().await.unwrap();
        Claimed::of(&plan)
    }
    // The plans are made now, on the empty table, and kept.
    assert_eq!(explained(&mut conn, &run("pinned"), true).await.rows, 0);
    assert_eq!(explained(&mut conn, &run("loose"), false).await.rows, 0);
    insert_deliveries(&mut conn, "delivered", "dlx_", PENDING).await;
    insert_deliveries(&mut conn, "pending", "dlv_", PENDING).await;

    let pinned = explained(&mut conn, &run("pinned"), true).await;
    let loose = explained(&mut conn, &run("loose"), false).await;
    assert_eq!(pinned.rows, CLAIMED);
    assert!(
        pinned.read <= 4 * CLAIMED,
        "the kept plan read {} rows to claim {CLAIMED} of {PENDING}",
        pinned.read
    );
    assert!(
        pinned.pages <= PAGES_PER_CLAIMED * CLAIMED,
        "the kept plan touched {} pages to claim {CLAIMED} of {PENDING}",
        pinned.pages
    );
    assert!(
        loose.read >= PENDING,
        "unpinned, the kept plan read only {} rows: the check would not catch a lost pin",
        loose.read
    );
}

/// The index a generic plan of `query` (an `explain (format json)` of a statement, bound) reads
/// first, by name.
async fn index_of_generic_plan(
    conn: &mut sqlx::PgConnection,
    query: sqlx::query::QueryScalar<
        '_,
        sqlx::Postgres,
        serde_json::Value,
        sqlx::postgres::PgArguments,
    >,
) -> String {
    let mut tx = conn.begin().await.unwrap();
    sqlx::query("set local plan_cache_mode = force_generic_plan")
        .execute(&mut *tx)
        .await
        .unwrap();
    let plan = query.fetch_one(&mut *tx).await.unwrap();
    tx.rollback().await.unwrap();
    fn first_index(node: &serde_json::Value) -> Option<String> {
        node["Index Name"].as_str().map(str::to_owned).or_else(|| {
            node["Plans"]
                .as_array()
                .and_then(|plans| plans.iter().find_map(first_index))
        })
    }
    first_index(&plan[0]["Plan"]).unwrap_or_else(|| format!("no index: {plan}"))
}

/// The event indexes hold numbered events only (migration 0024); the feed, a payment's history
/// and the highest number given must still read through them, with a generic plan, on a table
/// far larger than a page.
#[tokio::test]
async fn the_feed_and_a_payments_history_read_the_numbered_events_indexes() {
    use landpay::storage::outbox::{FEED_SQL, HIGHEST_SEQUENCE_SQL, PAYMENT_EVENTS_SQL};
    let Some((_db, mut conn)) = migrated("the event index check").await else {
        return;
    };
    sqlx::query(
        "insert into event (sequence, event_id, type, payment_id, body, created_at)
         select case when g > 20000 then null else g end, 'evt_' || g, 'payment.paid', 'pay_' || (g / 3),
                '{}', '2026-12-02'
         from generate_series(1, 20050) g",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    sqlx::query("analyze event")
        .execute(&mut conn)
        .await
        .unwrap();
    let explain = |sql: &str| format!("explain (format json) {sql}");
    let (feed, history, top) = (
        explain(FEED_SQL),
        explain(PAYMENT_EVENTS_SQL),
        explain(HIGHEST_SEQUENCE_SQL),
    );
    let feed = sqlx::query_scalar(&feed)
        .bind(19_000_i64)
        .bind("payment.paid")
        .bind("HN")
        .bind(100_i64);
    assert_eq!(
        index_of_generic_plan(&mut conn, feed).await,
        "event_sequence_key"
    );
    let history = sqlx::query_scalar(&history).bind("pay_7");
    assert_eq!(
        index_of_generic_plan(&mut conn, history).await,
        "event_payment_idx"
    );
    assert_eq!(
        index_of_generic_plan(&mut conn, sqlx::query_scalar(&top)).await,
        "event_sequence_key"
    );
}
