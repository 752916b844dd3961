//! The deliveries-by-status tally behind `landpay_webhook_deliveries{state}`: kept by the
//! database as deliveries are written, tried, given up, delivered again and removed, it always
//! equals a count of the `delivery` table — with several instances recording at once, and from
//! the deliveries a database already held when the tally was added.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use serde_json::json;
use sqlx::error::BoxDynError;
use sqlx::migrate::{Migration, MigrationSource, Migrator};

use crate::helpers::{
    expect_json, settings_for, spawn_app_driven, spawn_app_driven_on, Receiver, TestApp, TestDb,
};

type Counts = BTreeMap<String, i64>;

/// What the operator's gauge reads: the tally, zeros left out.
async fn tallied(store: &landpay::storage::Store) -> Counts {
    let figures = store.ops_figures().await.unwrap();
    figures
        .deliveries
        .into_iter()
        .filter(|(_, n)| *n != 0)
        .collect()
}

/// The truth: the `delivery` table counted.
async fn counted(db: &TestDb) -> Counts {
    let rows: Vec<(String, i64)> = db
        .rows("select status, count(*) from delivery group by status")
        .await;
    rows.into_iter().collect()
}

fn counts(pairs: &[(&str, i64)]) -> Counts {
    pairs.iter().map(|(s, n)| ((*s).to_owned(), *n)).collect()
}

/// The tally equals the table's count, and the count is `expected`.
async fn agree(app: &TestApp, expected: &[(&str, i64)], when: &str) {
    // On PostgreSQL deliveries are written when their events are numbered, after they commit.
    app.store().catch_up_events().await.unwrap();
    let truth = counted(&app.db).await;
    assert_eq!(truth, counts(expected), "the table, {when}");
    assert_eq!(tallied(app.store()).await, truth, "the tally, {when}");
}

#[tokio::test]
async fn the_tally_follows_every_delivery_written_tried_given_up_and_redelivered() {
    // One retry, an hour after the first try; then the delivery is dead.
    let app = spawn_app_driven(&[("LANDPAY__WEBHOOKS__RETRY_SCHEDULE", r#"["1h"]"#)]).await;
    agree(&app, &[], "before any endpoint").await;
    let ok = Receiver::start(&[200]).await;
    let failing = Receiver::start(&[500]).await;
    app.subscribe(&ok.url, &["payment.created"]).await;
    let broken = app.subscribe(&failing.url, &["payment.created"]).await;
    for amount in [1_000_000, 2_000_000, 3_000_000] {
        app.payment(amount).await;
    }
    agree(&app, &[("pending", 6)], "written").await;
    assert_eq!(app.deliver_all().await, 6);
    agree(&app, &[("delivered", 3), ("pending", 3)], "tried once").await;
    assert_eq!(app.retry(1).await, 3);
    agree(&app, &[("dead", 3), ("delivered", 3)], "given up").await;

    // Redelivered to the endpoint that failed, now healthy: three new deliveries.
    failing.set_script(&[200]);
    let broken_id = broken["id"].as_str().unwrap();
    let feed = expect_json(app.get("/v1/events?limit=100", &app.admin()).await, 200).await;
    let events: Vec<String> = feed["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "payment.created")
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(events.len(), 3, "{feed}");
    for event_id in &events {
        let res = app
            .post_json(
                &format!("/v1/events/{event_id}/redeliver"),
                &app.admin(),
                &json!({"endpoint_id": broken_id}),
            )
            .await;
        assert_eq!(expect_json(res, 202).await["deliveries"], 1);
    }
    agree(
        &app,
        &[("dead", 3), ("delivered", 3), ("pending", 3)],
        "redelivered",
    )
    .await;
    assert_eq!(app.deliver_all().await, 3);
    agree(&app, &[("dead", 3), ("delivered", 6)], "delivered again").await;

    // Deliveries removed by hand (an operator's clean-up) leave the tally too.
    let delete = [
        "delete from delivery_try where delivery_id in (select delivery_id from delivery where status = 'dead')",
        "delete from delivery where status = 'dead'",
    ];
    for sql in delete {
        app.db.execute(sql).await;
    }
    agree(&app, &[("delivered", 6)], "removed").await;
}

#[tokio::test]
async fn the_tally_holds_when_instances_write_and_record_deliveries_at_once() {
    let first = spawn_app_driven(&[]).await;
    let second = spawn_app_driven_on(Arc::clone(&first.db), &[]).await;
    let third = spawn_app_driven_on(Arc::clone(&first.db), &[]).await;
    let receiver = Receiver::start(&[200]).await;
    first
        .subscribe(&receiver.url, &["payment.created", "payment.paid"])
        .await;
    // Orders paid through all three instances at once, each delivery pass racing the others.
    let mut total = 0;
    for round in 0..3_i64 {
        let (a, b, c) = tokio::join!(
            first.paid_payment(1_000_000 + round),
            second.paid_payment(2_000_000 + round),
            third.paid_payment(3_000_000 + round),
        );
        assert!(!a.is_empty() && !b.is_empty() && !c.is_empty());
        let (x, y, z) = tokio::join!(first.deliver(), second.deliver(), third.deliver());
        total += x + y + z;
    }
    for _ in 0..100 {
        let (x, y, z) = tokio::join!(first.deliver(), second.deliver(), third.deliver());
        if x + y + z == 0 {
            break;
        }
        total += x + y + z;
    }
    // Nine orders, each created and paid: eighteen deliveries, each tried once.
    assert_eq!(total, 18);
    agree(&first, &[("delivered", 18)], "after the race").await;
}

/// The migrations of a backend up to and including `last`, read from the folder.
#[derive(Debug)]
struct UpTo {
    folder: &'static str,
    last: i64,
}

impl<'s> MigrationSource<'s> for UpTo {
    fn resolve(self) -> BoxFuture<'s, Result<Vec<Migration>, BoxDynError>> {
        Box::pin(async move {
            let all = std::path::Path::new(self.folder).resolve().await?;
            Ok(all.into_iter().filter(|m| m.version <= self.last).collect())
        })
    }
}

#[tokio::test]
async fn the_tally_starts_from_the_deliveries_a_database_already_holds() {
    let db = TestDb::new().await;
    let insert =
        "insert into delivery (delivery_id, endpoint_id, event_id, event_sequence, event_type,
                      order_key, status, tries, next_attempt_at, created_at, updated_at)
                  values ($1, 'whe_x', $2, $3, 'payment.paid', $2, $4, 1, '2026-01-01T00:00:00Z',
                          '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')";
    let rows = [
        "pending",
        "pending",
        "delivered",
        "delivered",
        "delivered",
        "dead",
    ];
    // The schema as it was before the tally (migration 0026), holding six deliveries.
    let folder = if db.is_postgres() {
        concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/postgres")
    } else {
        concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite")
    };
    let before = Migrator::new(UpTo { folder, last: 26 }).await.unwrap();
    macro_rules! fill {
        ($pool:expr) => {{
            let pool = $pool;
            before.run(&pool).await.unwrap();
            for (i, status) in rows.iter().enumerate() {
                let n = i64::try_from(i).unwrap();
                sqlx::query(insert)
                    .bind(format!("dlv_{n}"))
                    .bind(format!("evt_{n}"))
                    .bind(n + 1)
                    .bind(*status)
                    .execute(&pool)
                    .await
                    .unwrap();
            }
            pool.close().await;
        }};
    }
    if db.is_postgres() {
        fill!(sqlx::PgPool::connect(&db.url).await.unwrap());
    } else {
        let options = <sqlx::sqlite::SqliteConnectOptions as std::str::FromStr>::from_str(&db.url)
            .unwrap()
            .create_if_missing(true);
        fill!(sqlx::SqlitePool::connect_with(options).await.unwrap());
    }
    // The service's own migrations take it from there.
    let settings = settings_for(&db, &[]);
    let store = landpay::storage::Store::connect(&settings.database)
        .await
        .unwrap();
    store.migrate().await.unwrap();
    assert_eq!(
        tallied(&store).await,
        counts(&[("dead", 1), ("delivered", 3), ("pending", 2)])
    );
    store.close().await;
    assert_eq!(
        counted(&db).await,
        counts(&[("dead", 1), ("delivered", 3), ("pending", 2)])
    );
}
