//! PostgreSQL: the database goes away (its connections cut, new ones refused; or, worse, it
//! stops answering with its connections left open) and comes back. Meanwhile every request is
//! answered 503 `database_unavailable` with `Retry-After`, within `database.timeout` when the
//! database is silent, and nothing of the database's error in the body; a write retried with
//! its key once the database is back is done, once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use reqwest::Response;
use serde_json::json;
use sqlx::{Connection, PgConnection};

use std::time::{Duration, Instant};

use crate::helpers::{expect_json, lock_waiters};
use crate::relay::{app_through_relay, app_through_relay_with, Cut};

async fn assert_unavailable(res: Response, what: &str) {
    assert_eq!(res.status().as_u16(), 503, "{what}");
    assert_eq!(res.headers()["retry-after"], "1", "{what}");
    let text = res.text().await.unwrap();
    for internal in ["EOF", "sqlx", "bytes", "postgres", "connection"] {
        assert!(!text.contains(internal), "{what}: {text}");
    }
    let body: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["code"], "database_unavailable", "{what}: {body}");
}

#[tokio::test]
async fn while_the_database_is_down_requests_are_told_to_retry_and_nothing_is_half_done() {
    let check = "while_the_database_is_down_requests_are_told_to_retry_and_nothing_is_half_done";
    let Some((relay, app)) = app_through_relay(check, b"no statement is marked", true).await else {
        return;
    };
    let token = app.portal();
    let earlier = app.payment(1_000_000).await;
    let path = format!("/v1/payments/{}", earlier["id"].as_str().unwrap());
    let notice = app.notice("N-DOWN-1", 2_000_000, "2099-12-31").await;
    let body = json!({"agency_code": "HN-VPDKDD", "dossier_code": "D-DOWN-1",
                      "items": [{"notice_id": notice["id"]}], "payer": {"name": "A"}});

    relay.arm(Cut::Everything);
    assert_unavailable(app.get(&path, &token).await, "a read").await;
    let write = app.post_idem("/v1/payments", &token, "down-1", &body).await;
    assert_unavailable(write, "a write").await;
    assert_unavailable(app.get("/v1/events?after=0", &token).await, "the feed").await;

    relay.disarm();
    expect_json(app.get(&path, &token).await, 200).await;
    let created = app.post_idem("/v1/payments", &token, "down-1", &body).await;
    assert!(created.headers().get("idempotent-replayed").is_none());
    let created = expect_json(created, 201).await;
    let again = app.post_idem("/v1/payments", &token, "down-1", &body).await;
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(expect_json(again, 201).await, created);
    let page = expect_json(
        app.get("/v1/payments?dossier_code=D-DOWN-1", &token).await,
        200,
    )
    .await;
    assert_eq!(page["data"].as_array().unwrap().len(), 1, "{page}");
}

/// Asserts that `request` is answered 503 `database_unavailable` within `within`.
async fn unavailable_within(
    request: impl std::future::Future<Output = Response>,
    within: Duration,
    what: &str,
) {
    let res = tokio::time::timeout(within, request)
        .await
        .unwrap_or_else(|_| panic!("{what} waited more than {within:?}"));
    assert_unavailable(res, what).await;
}

#[tokio::test]
async fn a_database_that_stops_answering_is_waited_on_for_its_timeout_and_its_connections_left() {
    let check =
        "a_database_that_stops_answering_is_waited_on_for_its_timeout_and_its_connections_left";
    // Pools of one or two connections: a connection kept after the silence would be the pool.
    let settings = [
        ("LANDPAY__DATABASE__TIMEOUT", "1s"),
        ("LANDPAY__DATABASE__MAX_CONNECTIONS", "2"),
    ];
    let Some((relay, app)) =
        app_through_relay_with(check, b"no statement is marked", true, &settings).await
    else {
        return;
    };
    let token = app.portal();
    let earlier = app.payment(1_000_000).await;
    let id = earlier["id"].as_str().unwrap();
    let path = format!("/v1/payments/{id}");
    expect_json(app.get(&path, &token).await, 200).await;
    let attempt = app.attempt(id, "vnpay").await;
    let params = app.ipn_params(attempt["reference"].as_str().unwrap(), 1_000_000, "00");
    let secret = app.vnpay_secret();
    let notice = app.notice("N-SILENT-1", 2_000_000, "2099-12-31").await;
    let body = json!({"agency_code": "HN-VPDKDD", "dossier_code": "D-SILENT-1",
                      "items": [{"notice_id": notice["id"]}], "payer": {"name": "A"}});

    // Every connection back in its pool first: one that is being handed back (tried with a
    // ping) as the database falls silent waits until the operating system gives up on it.
    let idle_by = Instant::now() + Duration::from_secs(5);
    let all_idle = || {
        let (open, idle) = app.state.store.pool_stats();
        usize::try_from(open).is_ok_and(|open| idle >= open)
    };
    while !all_idle() {
        assert!(
            Instant::now() < idle_by,
            "{:?}",
            app.state.store.pool_stats()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    relay.fall_silent();
    // One wait of 1 s, or two for a write that tries a batch, then alone; not ten minutes.
    let bound = Duration::from_secs(5);
    unavailable_within(app.get(&path, &token), bound, "a read").await;
    let write = app.post_idem("/v1/payments", &token, "silent-1", &body);
    unavailable_within(write, bound, "a write").await;
    let answer = tokio::time::timeout(bound, app.ipn(&params, &secret))
        .await
        .expect("the IPN is answered in time");
    assert_eq!(answer["RspCode"], "99", "{answer}");

    // The database answers again, on new connections: the service uses them, not the dead ones.
    relay.answer_again();
    let back_by = Instant::now() + Duration::from_secs(10);
    loop {
        let res = app.get(&path, &token).await;
        if res.status().as_u16() == 200 {
            break;
        }
        let status = res.status();
        assert!(
            Instant::now() < back_by,
            "the service did not come back: {status} {} {:?}",
            res.text().await.unwrap(),
            app.state.store.pool_stats()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let created = app
        .post_idem("/v1/payments", &token, "silent-1", &body)
        .await;
    assert!(created.headers().get("idempotent-replayed").is_none());
    let created = expect_json(created, 201).await;
    let again = app
        .post_idem("/v1/payments", &token, "silent-1", &body)
        .await;
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(expect_json(again, 201).await, created);
    let answer = app.ipn(&params, &secret).await;
    assert_eq!(answer["RspCode"], "00", "{answer}");
    assert_eq!(app.payment_status(id).await["status"], "paid");
}

/// A session of its own that holds `table` locked, every other session's reads included, from
/// when this returns until `held` later.
async fn lock_for(url: &str, table: &str, held: Duration) -> tokio::task::JoinHandle<()> {
    let mut holder = PgConnection::connect(url).await.unwrap();
    sqlx::query("begin").execute(&mut holder).await.unwrap();
    sqlx::query(&format!("lock table {table} in access exclusive mode"))
        .execute(&mut holder)
        .await
        .unwrap();
    tokio::spawn(async move {
        tokio::time::sleep(held).await;
        sqlx::query("rollback").execute(&mut holder).await.unwrap();
    })
}

#[tokio::test]
async fn a_statement_the_service_gave_up_on_is_cancelled_by_the_server_too() {
    let check = "a_statement_the_service_gave_up_on_is_cancelled_by_the_server_too";
    let Some(db) = crate::helpers::TestDb::postgres_for(check).await else {
        return;
    };
    let url = db.url.clone();
    let settings = [("LANDPAY__DATABASE__TIMEOUT", "200ms")];
    let app = crate::helpers::spawn_app_driven_on(std::sync::Arc::new(db), &settings).await;
    let token = app.portal();
    let payment = app.payment(1_000_000).await;
    let path = format!("/v1/payments/{}", payment["id"].as_str().unwrap());
    let mut watcher = PgConnection::connect(&url).await.unwrap();
    let held = Duration::from_secs(20);
    let holder = lock_for(&url, "payment", held).await;

    let asked = Instant::now();
    unavailable_within(
        app.get(&path, &token),
        Duration::from_secs(5),
        "a read behind a lock",
    )
    .await;
    // The service has given up; its statement still waits on the server, holding its session.
    let waiting = lock_waiters(&mut watcher).await;
    assert_eq!(
        waiting, 1,
        "the abandoned read should still be waiting on the lock"
    );
    // Until the server's own bound, a little past the service's, cancels it: long before the
    // lock is let go.
    loop {
        let waiting = lock_waiters(&mut watcher).await;
        if waiting == 0 {
            break;
        }
        assert!(
            asked.elapsed() < held / 2,
            "{waiting} abandoned statement(s) still waiting on the lock {:?} after the request",
            asked.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Never before the service's own bound, and a margin past it.
    assert!(
        asked.elapsed() >= Duration::from_millis(1_200),
        "{:?}",
        asked.elapsed()
    );
    holder.abort();
    drop(watcher);
    // The connection the server cancelled the statement of was not left unusable.
    let deadline = Instant::now() + Duration::from_secs(10);
    while app.get(&path, &token).await.status().as_u16() != 200 {
        assert!(
            Instant::now() < deadline,
            "reads did not recover after the lock went"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn the_retention_pass_a_long_report_and_migrations_are_not_held_to_the_requests_timeout() {
    let check =
        "the_retention_pass_a_long_report_and_migrations_are_not_held_to_the_requests_timeout";
    let Some(db) = crate::helpers::TestDb::postgres_for(check).await else {
        return;
    };
    let url = db.url.clone();
    // The service gives up after 100 ms, the server on a statement 1.1 s in.
    let settings = [("LANDPAY__DATABASE__TIMEOUT", "100ms")];
    let app = crate::helpers::spawn_app_driven_on(std::sync::Arc::new(db), &settings).await;
    // Decades-old closed orders, each with one paid line: far more than 100 ms of work.
    const ORDERS: i64 = 200_000;
    // Seeded on a session of the test's own: the service's connections are bounded.
    let mut seeder = PgConnection::connect(&url).await.unwrap();
    sqlx::query(
        "insert into payment (payment_id, agency_code, status, amount, payer, locale, created_by,
                              expires_at, paid_at, created_at, updated_at)
         select 'pay_old_' || n, 'HN-VPDKDD', 'paid', 1000, '{\"name\":\"A\"}', 'vi', 'test',
                '2000-01-01T00:00:00Z', '2000-01-01T00:00:00Z', '2000-01-01T00:00:00Z',
                '2000-01-01T00:00:00Z'
         from generate_series(1, $1) n",
    )
    .bind(ORDERS)
    .execute(&mut seeder)
    .await
    .unwrap();
    sqlx::query(
        "insert into payment_line (payment_id, position, kind, source, name, amount)
         select 'pay_old_' || n, 1, 'fee', 'fee', 'Phí', 1000 from generate_series(1, $1) n",
    )
    .bind(ORDERS)
    .execute(&mut seeder)
    .await
    .unwrap();

    // Each waits on a lock for longer than the server's bound of the requests' connections.
    let held = Duration::from_millis(1_600);
    let holder = lock_for(&url, "payment_line", held).await;
    let started = Instant::now();
    let mut lines = 0_i64;
    let from = chrono::DateTime::parse_from_rfc3339("1999-12-31T00:00:00Z").unwrap();
    let to = chrono::DateTime::parse_from_rfc3339("2000-01-02T00:00:00Z").unwrap();
    app.state
        .store
        .paid_lines(from.into(), to.into(), None, &mut |_| lines += 1)
        .await
        .unwrap();
    assert_eq!(lines, ORDERS);
    let report_took = started.elapsed();
    holder.await.unwrap();

    let holder = lock_for(&url, "payment", held).await;
    let started = Instant::now();
    landpay::workers::retention_sweep(&app.state).await.unwrap();
    let sweep_took = started.elapsed();
    holder.await.unwrap();
    let (left,): (i64,) =
        sqlx::query_as("select count(*) from payment where payer not like '%anonymised%'")
            .fetch_one(&mut seeder)
            .await
            .unwrap();
    assert_eq!(left, 0);
    // The point: each took longer than the server's bound of the requests' connections, and
    // was neither abandoned nor cancelled.
    assert!(
        report_took >= held && sweep_took >= held,
        "the locks held nothing up: report {report_took:?}, sweep {sweep_took:?}"
    );

    // Migrations (here none left to apply) wait as long as they must: behind the lock, the
    // migrator's read of what is applied.
    let holder = lock_for(&url, "_sqlx_migrations", held).await;
    let started = Instant::now();
    app.state.store.migrate().await.unwrap();
    assert!(started.elapsed() >= held, "{:?}", started.elapsed());
    holder.await.unwrap();
}
