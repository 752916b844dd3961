//! `landpay backup` and `landpay restore` for the embedded SQLite database.
//!
//! A backup is `VACUUM INTO`: one read transaction copies a consistent snapshot while the service
//! keeps serving (WAL readers do not block writers). A restore checks the copy
//! (`PRAGMA integrity_check`), refuses to overwrite a database that holds data unless forced,
//! then writes a fresh file beside the target and renames it into place. PostgreSQL is backed up
//! with its own tools (`pg_dump`; see the README).

use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::{bail, Context};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Connection, SqliteConnection};

use crate::config::{sqlite_path, DatabaseSettings};

fn sqlite_file(settings: &DatabaseSettings) -> anyhow::Result<PathBuf> {
    let url = settings.url.expose();
    if url.starts_with("postgres") {
        bail!(
            "landpay backup/restore copy the embedded SQLite database; back up PostgreSQL with pg_dump (see the README)"
        );
    }
    sqlite_path(url)
        .map(Path::to_path_buf)
        .context("database.url must name a SQLite file")
}

async fn open(path: &Path, read_only: bool) -> anyhow::Result<SqliteConnection> {
    let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))?
        .read_only(read_only)
        .create_if_missing(false)
        .busy_timeout(std::time::Duration::from_secs(30));
    SqliteConnection::connect_with(&options)
        .await
        .with_context(|| format!("opening {}", path.display()))
}

/// `VACUUM INTO` does not take parameters; the path is quoted as an SQL string literal.
fn sql_string(path: &Path) -> anyhow::Result<String> {
    let text = path.to_str().context("the path must be valid UTF-8")?;
    if text.contains('\0') {
        bail!("the path must not contain NUL");
    }
    Ok(format!("'{}'", text.replace('\'', "''")))
}

/// Copies the live database to `to` (which must not exist yet); returns the copy's size.
pub async fn backup(settings: &DatabaseSettings, to: &Path) -> anyhow::Result<u64> {
    let source = sqlite_file(settings)?;
    if to.exists() {
        bail!("{} already exists; give a new file", to.display());
    }
    let mut conn = open(&source, false).await?;
    sqlx::query(&format!("vacuum into {}", sql_string(to)?))
        .execute(&mut conn)
        .await
        .context("copying the database (VACUUM INTO)")?;
    conn.close().await?;
    check_integrity(to).await?;
    Ok(std::fs::metadata(to)?.len())
}

/// `PRAGMA integrity_check` of a database file.
pub async fn check_integrity(path: &Path) -> anyhow::Result<()> {
    let mut conn = open(path, true).await?;
    let (verdict,): (String,) = sqlx::query_as("pragma integrity_check")
        .fetch_one(&mut conn)
        .await?;
    conn.close().await?;
    if verdict != "ok" {
        bail!("{} fails the integrity check: {verdict}", path.display());
    }
    Ok(())
}

/// Whether a database file holds data: any notice, payment or webhook endpoint (a database with
/// only the schema is empty); a file that is not a landpay database counts as holding data.
async fn holds_data(path: &Path) -> anyhow::Result<bool> {
    if !path.exists() || std::fs::metadata(path)?.len() == 0 {
        return Ok(false);
    }
    let mut conn = open(path, true).await?;
    let tables: Vec<(String,)> =
        sqlx::query_as("select name from sqlite_master where type = 'table'")
            .fetch_all(&mut conn)
            .await?;
    let names: Vec<&str> = tables.iter().map(|(n,)| n.as_str()).collect();
    if names.is_empty() {
        return Ok(false);
    }
    let mut rows = 0_i64;
    for table in ["notice", "payment", "webhook_endpoint"] {
        if !names.contains(&table) {
            return Ok(true);
        }
        let (n,): (i64,) = sqlx::query_as(&format!("select count(*) from {table}"))
            .fetch_one(&mut conn)
            .await?;
        rows += n;
    }
    conn.close().await?;
    Ok(rows > 0)
}

/// Replaces the configured database with the backup `from`. Stop the service first.
pub async fn restore(settings: &DatabaseSettings, from: &Path, force: bool) -> anyhow::Result<()> {
    let target = sqlite_file(settings)?;
    check_integrity(from)
        .await
        .with_context(|| format!("checking the backup {}", from.display()))?;
    if holds_data(&target).await? && !force {
        bail!(
            "{} already holds data; add --force to replace it with the backup",
            target.display()
        );
    }
    let dir = target
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let staging = dir.join(format!(
        ".{}.restoring",
        target
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("landpay.db")
    ));
    let _ = std::fs::remove_file(&staging);
    let mut conn = open(from, true).await?;
    sqlx::query(&format!("vacuum into {}", sql_string(&staging)?))
        .execute(&mut conn)
        .await
        .context("copying the backup")?;
    conn.close().await?;
    // The copy is a rollback-journal file; the service switches it to WAL when it opens it.
    for suffix in ["-wal", "-shm"] {
        let side = PathBuf::from(format!("{}{suffix}", target.display()));
        if side.exists() {
            std::fs::remove_file(&side)?;
        }
    }
    std::fs::rename(&staging, &target)?;
    check_integrity(&target).await
}
