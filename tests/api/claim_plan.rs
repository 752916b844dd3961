//! The delivery worker's claim must stay an index lookup per candidate however the planner sees
//! the table. Counted in rows the plan reads and throws away (deterministic), not in time: the
//! table's statistics are taken while it holds no pending delivery (as autovacuum does on a
//! service that has just started), then 2,000 deliveries fall due, and the claim runs with a
//! generic plan (as a prepared statement gets after five runs). The earlier `not exists` form
//! then read every pending delivery for each candidate (64,000 rows for a claim of 32; under the
//! IPN benchmark, 100–240 ms per claim). PostgreSQL is reached at TEST_DATABASE_URL, else on
//! the local default; without it the check is skipped, unless LANDPAY_REQUIRE_ALL is set.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use landpay::storage::webhooks::claim_sql;
use landpay::storage::{Backend, Store};
use sqlx::Connection;

use crate::helpers::{settings_for, TestDb};

const PENDING: i64 = 2_000;
const CLAIMED: i64 = 32;

/// Rows every node of a plan read and dropped (by its filter or join filter), in all.
fn rows_dropped(node: &serde_json::Value) -> i64 {
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

/// The rows the claim `sql` returns and the rows its plan dropped on the way.
async fn claim_with_generic_plan(conn: &mut sqlx::PgConnection, sql: &str) -> (i64, i64) {
    let mut tx = conn.begin().await.unwrap();
    sqlx::query("set local plan_cache_mode = force_generic_plan")
        .execute(&mut *tx)
        .await
        .unwrap();
    let plan: serde_json::Value =
        sqlx::query_scalar(&format!("explain (analyze, timing off, format json) {sql}"))
            .bind("2026-12-02T07:00:00.000000Z")
            .bind("2026-12-02T07:01:00.000000Z")
            .bind(CLAIMED)
            .fetch_one(&mut *tx)
            .await
            .unwrap();
    tx.rollback().await.unwrap();
    let top = &plan[0]["Plan"];
    (top["Actual Rows"].as_i64().unwrap(), rows_dropped(top))
}

/// A migrated PostgreSQL database and a connection to it; `None` (the check skipped) without
/// PostgreSQL.
async fn migrated(check: &str) -> Option<(TestDb, sqlx::PgConnection)> {
    let db = TestDb::postgres_for(check).await?;
    let store = Store::connect(&settings_for(&db, &[]).database)
        .await
        .unwrap();
    store.migrate().await.unwrap();
    store.close().await;
    let conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
    Some((db, conn))
}

#[tokio::test]
async fn the_claim_looks_up_each_candidate_through_the_index_whatever_the_statistics() {
    let Some((_db, mut conn)) = migrated("the claim plan check").await else {
        return;
    };
    let insert = |status: &'static str, prefix: &'static str, n: i64| {
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
    };
    // Statistics taken while nothing is pending; autovacuum kept from taking new ones.
    sqlx::query("alter table delivery set (autovacuum_enabled = false)")
        .execute(&mut conn)
        .await
        .unwrap();
    insert("delivered", "dlx_", 50)
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query("vacuum analyze delivery")
        .execute(&mut conn)
        .await
        .unwrap();
    insert("pending", "dlv_", PENDING)
        .execute(&mut conn)
        .await
        .unwrap();

    let (claimed, dropped) =
        claim_with_generic_plan(&mut conn, &claim_sql(Backend::Postgres)).await;
    assert_eq!(claimed, CLAIMED);
    assert!(
        dropped < PENDING,
        "the claim read and dropped {dropped} rows to claim {claimed} of {PENDING}"
    );

    // The same count catches the anti-join form the claim had before.
    let anti_join = claim_sql(Backend::Postgres).replace(
        "d.event_sequence = (select min(e.event_sequence) from delivery e
                                   where e.endpoint_id = d.endpoint_id and e.order_key = d.order_key
                                     and e.status = 'pending')",
        "not exists (select 1 from delivery e where e.endpoint_id = d.endpoint_id and e.order_key = d.order_key
                                   and e.status = 'pending' and e.event_sequence < d.event_sequence)",
    );
    assert_ne!(anti_join, claim_sql(Backend::Postgres));
    let (old_claimed, old_dropped) = claim_with_generic_plan(&mut conn, &anti_join).await;
    assert_eq!(old_claimed, CLAIMED);
    assert!(
        old_dropped >= PENDING,
        "the anti-join dropped only {old_dropped} rows: the check would not catch it"
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
