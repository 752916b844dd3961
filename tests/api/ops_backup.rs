//! `landpay backup` while the service writes, and `landpay restore` of that copy.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use sqlx::Connection;

use crate::helpers::{config_dir, spawn_app_on, TestDb};

fn landpay(db_url: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_landpay"));
    c.env("LANDPAY_CONFIG_DIR", config_dir())
        .env("LANDPAY_ENV", "test");
    for (k, _) in std::env::vars() {
        if k.starts_with("LANDPAY__") {
            c.env_remove(k);
        }
    }
    c.env("LANDPAY__DATABASE__URL", db_url);
    c
}

async fn paid_ids(path: &Path) -> Vec<String> {
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}?mode=ro", path.display()))
        .await
        .unwrap();
    let (verdict,): (String,) = sqlx::query_as("pragma integrity_check")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(verdict, "ok", "{}", path.display());
    let rows: Vec<(String,)> =
        sqlx::query_as("select payment_id from payment where status = 'paid'")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    rows.into_iter().map(|(id,)| id).collect()
}

#[tokio::test]
async fn a_backup_taken_while_writing_restores_every_committed_payment() {
    // SQLite's own command: this test runs on an SQLite file whatever the suite's backend.
    let dir = tempfile::tempdir().unwrap();
    let live = dir.path().join("live.db");
    let live_url = format!("sqlite://{}", live.display());
    let app = Arc::new(
        spawn_app_on(
            Arc::new(TestDb::new().await),
            &[("LANDPAY__DATABASE__URL", &live_url)],
        )
        .await,
    );
    // A writer pays orders one after another until told to stop.
    let committed = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (app, committed, stop) = (app.clone(), committed.clone(), stop.clone());
        tokio::spawn(async move {
            while !stop.load(Ordering::SeqCst) {
                let id = app.paid_payment(150_000).await;
                committed.lock().unwrap().push(id);
            }
        })
    };
    while committed.lock().unwrap().len() < 5 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let before: Vec<String> = committed.lock().unwrap().clone();
    let backup = dir.path().join("backup.db");
    let out = {
        let (url, backup) = (live_url.clone(), backup.clone());
        tokio::task::spawn_blocking(move || {
            landpay(&url)
                .args(["backup", "--to"])
                .arg(&backup)
                .output()
                .unwrap()
        })
        .await
        .unwrap()
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after_backup = committed.lock().unwrap().len();
    // The writer kept going during the copy; a few more payments after it.
    while committed.lock().unwrap().len() < after_backup + 3 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    stop.store(true, Ordering::SeqCst);
    writer.await.unwrap();

    let in_backup = paid_ids(&backup).await;
    for id in &before {
        assert!(
            in_backup.contains(id),
            "{id} committed before the backup is missing"
        );
    }
    // A second backup to the same file is refused (nothing is overwritten).
    let out = landpay(&live_url)
        .args(["backup", "--to"])
        .arg(&backup)
        .output()
        .unwrap();
    assert!(!out.status.success());

    // Restoring over the live database, which holds data, needs --force.
    let out = landpay(&live_url)
        .args(["restore", "--from"])
        .arg(&backup)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--force"));

    // Restore into a fresh database: it passes the integrity check, holds every payment the
    // backup held, and serves.
    let restored = dir.path().join("restored").join("landpay.db");
    let restored_url = format!("sqlite://{}", restored.display());
    let out = landpay(&restored_url)
        .args(["restore", "--from"])
        .arg(&backup)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let in_restored = paid_ids(&restored).await;
    for id in &before {
        assert!(in_restored.contains(id), "{id} missing after restore");
    }
    assert_eq!(in_restored.len(), in_backup.len());
    let again = spawn_app_on(
        Arc::new(TestDb::new().await),
        &[("LANDPAY__DATABASE__URL", &restored_url)],
    )
    .await;
    let p = again.payment_status(&before[0]).await;
    assert_eq!(p["status"], "paid");

    // A damaged backup is refused before anything is replaced.
    let broken = dir.path().join("broken.db");
    let mut bytes = std::fs::read(&backup).unwrap();
    bytes.truncate(bytes.len() / 2);
    for b in bytes.iter_mut().skip(4096).take(4096) {
        *b = 0xA5;
    }
    std::fs::write(&broken, bytes).unwrap();
    let out = landpay(&restored_url)
        .args(["restore", "--force", "--from"])
        .arg(&broken)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert_eq!(paid_ids(&restored).await.len(), in_restored.len());
}

#[test]
fn postgres_backup_points_to_pg_dump() {
    let out = landpay("postgres://postgres@127.0.0.1:5432/none")
        .args(["backup", "--to", "/tmp/never-written.db"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("pg_dump"));
}
