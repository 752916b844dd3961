//! The store: one small API over two backends, SQLite (embedded default) and PostgreSQL.
//!
//! Each capability has its own file of store functions. Where the SQL is the same on both
//! backends (parameters are `$1`, `$2`, … on both), one text serves both through [`on_pool!`];
//! where the dialects differ, each arm has its own. Every write that reads first runs in a
//! write transaction (`BEGIN IMMEDIATE` on SQLite), opened and committed inside the method.

pub mod accounts;
pub mod assessments;
pub mod attempts;
pub mod backup;
pub mod callback_log;
pub mod collections;
pub mod confirmation;
pub mod create_batch;
pub mod deadline;
pub mod delivery_claim;
pub mod delivery_record;
pub mod dialects;
pub mod findings;
pub mod flags;
pub mod group;
pub mod idempotency;
pub mod inserting;
pub mod kept;
pub mod notices;
pub mod ops_figures;
pub mod orders;
pub mod outbox;
pub mod pay_batch;
pub mod paying;
pub mod payment_rows;
pub mod payments;
pub mod reconciliation;
pub mod refunds;
pub mod retention;
pub mod run_discard;
pub mod sandbox;
pub mod sequencer;
pub mod snapshot;
pub mod transition;
pub mod txops;
pub mod webhooks;

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::config::{sqlite_path, DatabaseSettings};

/// The span of one database call (exported with the request's trace when traces are on).
pub fn db_span(system: &'static str) -> tracing::Span {
    tracing::info_span!("db.query", db.system = system, otel.kind = "client")
}

/// Runs `$body` with `$pool` bound to a pool for reads: SQLite's readers, or on PostgreSQL
/// `$pg_pool` (an expression of the main pool `$pg`).
macro_rules! read_on {
    ($store:expr, $pg:ident => $pg_pool:expr, $pool:ident => $body:expr) => {
        match &$store.db {
            $crate::storage::Db::Sqlite(pools) => {
                let $pool = &pools.read;
                ::tracing::Instrument::instrument(
                    async { $body },
                    $crate::storage::db_span("sqlite"),
                )
                .await
            }
            $crate::storage::Db::Postgres($pg) => {
                let $pool = $pg_pool;
                $crate::storage::deadline::bounded(
                    $store.timeout,
                    ::tracing::Instrument::instrument(
                        async { $body },
                        $crate::storage::db_span("postgresql"),
                    ),
                )
                .await
            }
        }
    };
}
pub(crate) use read_on;

/// Runs `$body` with `$pool` bound to the store's pool for reads.
macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        $crate::storage::read_on!($store, pg => pg, $pool => $body)
    };
}
pub(crate) use on_pool;

/// Runs a single-statement write with `$pool` bound to the store's pool for writes (SQLite's
/// one writer connection; PostgreSQL's pool).
macro_rules! on_writer {
    ($store:expr, $pool:ident => $body:expr) => {
        match &$store.db {
            $crate::storage::Db::Sqlite(pools) => {
                let $pool = &pools.write;
                ::tracing::Instrument::instrument(
                    async { $body },
                    $crate::storage::db_span("sqlite"),
                )
                .await
            }
            $crate::storage::Db::Postgres($pool) => {
                $crate::storage::deadline::bounded(
                    $store.timeout,
                    ::tracing::Instrument::instrument(
                        async { $body },
                        $crate::storage::db_span("postgresql"),
                    ),
                )
                .await
            }
        }
    };
}
pub(crate) use on_writer;

/// Runs `$body` inside a write transaction bound to `$tx`; `$body` must commit it, and gives
/// the outcome (a `Result`; a `?` in it ends the transaction, not the function around it). The
/// body is written once and compiled for each backend: statements that differ take the
/// transaction's connection (`&mut *tx`) as a [`txops::TxConn`]. On PostgreSQL the whole
/// transaction is bounded by `database.timeout` ([`deadline`]).
macro_rules! in_write_tx {
    ($store:expr, $tx:ident => $body:expr) => {
        match &$store.db {
            $crate::storage::Db::Sqlite(pools) => {
                async {
                    #[allow(unused_mut)]
                    let mut $tx = pools.write.begin_with("BEGIN IMMEDIATE").await?;
                    $body
                }
                .await
            }
            $crate::storage::Db::Postgres(pool) => {
                $crate::storage::deadline::bounded($store.timeout, async {
                    #[allow(unused_mut)]
                    let mut $tx = pool.begin().await?;
                    $body
                })
                .await
            }
        }
    };
}
pub(crate) use in_write_tx;

#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePools),
    Postgres(PgPool),
}

/// SQLite has one writer at a time: writes queue for one connection in the pool (first come,
/// first served) instead of spinning on the busy handler; reads use the others.
#[derive(Clone, Debug)]
pub struct SqlitePools {
    pub read: SqlitePool,
    pub write: SqlitePool,
}

/// A cloneable handle to the database.
#[derive(Clone, Debug)]
pub struct Store {
    pub(crate) db: Db,
    /// PostgreSQL: the pool of [`Store::payment`] and [`Store::notice`], whose connections
    /// always use the generic plan of a prepared statement ([`lookup_options`]) and are kept
    /// between successful reads ([`kept`]).
    lookups: Option<std::sync::Arc<kept::Kept>>,
    sequencer: std::sync::Arc<sequencer::Sequencer>,
    /// PostgreSQL: success callbacks decided several to a transaction ([`pay_batch`]).
    pay_batch: Option<std::sync::Arc<pay_batch::PayBatch>>,
    /// PostgreSQL: new orders written several to a statement ([`create_batch`]).
    create_batch: Option<std::sync::Arc<create_batch::CreateBatch>>,
    /// PostgreSQL: the pool of the operations that may run for [`deadline::LONG`] ([`Self::long`]),
    /// whose connections the server bounds accordingly; opened as they are needed.
    long: Option<PgPool>,
    /// PostgreSQL: how long an operation waits for the database's answer ([`deadline`]).
    pub(crate) timeout: Duration,
}

/// Which backend a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The page cache of each SQLite reader (`PRAGMA cache_size`; negative: KiB), a quarter of
/// SQLite's default. Reads by key across the whole file fill every reader's cache, and the pages
/// they miss come from the operating system's file cache. Measured with `GET /v1/payments/{id}`
/// over 90,000 random payments of a 900 MB file, four readers: the service grew by 31–34 MB with
/// the default and by 2–4 MB with 512 KiB, at the same rate.
const READER_CACHE: &str = "-512";

static SQLITE_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl Store {
    /// Connects without migrating. A SQLite file and its folder are created when missing.
    pub async fn connect(settings: &DatabaseSettings) -> anyhow::Result<Self> {
        let url = settings.url.expose();
        if url.starts_with("sqlite:") {
            if let Some(path) = sqlite_path(url) {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).with_context(|| {
                        format!("creating the database folder {}", dir.display())
                    })?;
                }
            }
            let options = SqliteConnectOptions::from_str(url)
                .context("database.url is not a valid SQLite URL")?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // FULL: a commit that was answered survives a power cut, not only a crash.
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(settings.busy_timeout.0);
            let write = SqlitePoolOptions::new()
                .max_connections(1)
                .acquire_timeout(Duration::from_secs(30))
                .connect_with(options.clone())
                .await
                .context("opening the SQLite database")?;
            // Readers beyond twice the cores only add memory (page and statement caches).
            let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
            let readers = settings
                .max_connections
                .min(u32::try_from(cores * 2).unwrap_or(4))
                .max(1);
            let read = SqlitePoolOptions::new()
                .max_connections(readers)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options.pragma("cache_size", READER_CACHE))
                .await
                .context("opening the SQLite database")?;
            Ok(Self {
                db: Db::Sqlite(SqlitePools { read, write }),
                lookups: None,
                sequencer: sequencer::Sequencer::new(),
                pay_batch: None,
                create_batch: None,
                long: None,
                timeout: settings.timeout.0,
            })
        } else {
            // Every statement is short and prepared once per connection: compiling a plan to
            // machine code (JIT, on by default from PostgreSQL 12 above a cost estimate) would
            // cost more than running it, and a generic plan's estimate can cross that line.
            let unbounded = sqlx::postgres::PgConnectOptions::from_str(url)
                .context("reading database.url")?
                .options([("jit", "off")]);
            // The server gives up on a statement soon after the service has ([`deadline`]).
            let options = deadline::server_bounds(unbounded.clone(), settings.timeout.0);
            let long = pg_pool_options(LONG_CONNECTIONS)
                .connect_lazy_with(deadline::server_bounds(unbounded, deadline::LONG));
            // No ping before each acquire: a dead connection fails its statement and is dropped.
            let pool = pg_pool_options(settings.max_connections)
                .connect_with(options.clone())
                .await
                .context("connecting to PostgreSQL")?;
            // Opened as reads need them: half the main pool's size, on top of it.
            let lookups = pg_pool_options(settings.max_connections.div_ceil(2))
                .connect_lazy_with(lookup_options(options.clone()));
            Ok(Self {
                db: Db::Postgres(pool),
                lookups: Some(std::sync::Arc::new(kept::Kept::new(lookups))),
                sequencer: sequencer::Sequencer::new(),
                pay_batch: Some(pay_batch::PayBatch::new(
                    options.clone(),
                    settings.timeout.0,
                )),
                create_batch: Some(create_batch::CreateBatch::new(options, settings.timeout.0)),
                long: Some(long),
                timeout: settings.timeout.0,
            })
        }
    }

    /// The same store for an operation that may rightly run for up to [`deadline::LONG`] (the
    /// retention sweep's pass, a collections report's stream) instead of `database.timeout`: on
    /// PostgreSQL, on connections of their own that the server bounds to match.
    pub(crate) fn long(&self) -> Self {
        let db = match (&self.db, &self.long) {
            (Db::Postgres(_), Some(long)) => Db::Postgres(long.clone()),
            (db, _) => db.clone(),
        };
        Self {
            db,
            timeout: deadline::LONG,
            ..self.clone()
        }
    }

    pub fn backend(&self) -> Backend {
        match self.db {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// Applies the backend's migrations. Safe to run from several instances at once.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        match &self.db {
            Db::Sqlite(pools) => SQLITE_MIGRATOR.run(&pools.write).await,
            Db::Postgres(pool) => deadline::migrate_unbounded(pool, &POSTGRES_MIGRATOR).await,
        }
        .context("applying migrations")
    }

    /// Ready: the database answers and every migration of this build is applied.
    pub async fn is_ready(&self) -> anyhow::Result<()> {
        let expected = match &self.db {
            Db::Sqlite(_) => SQLITE_MIGRATOR.iter().count(),
            Db::Postgres(_) => POSTGRES_MIGRATOR.iter().count(),
        };
        let (applied,): (i64,) = on_pool!(self, pool => {
            sqlx::query_as("select count(*) from _sqlx_migrations where success")
                .fetch_one(pool)
                .await
        })
        .context("reading the migration table")?;
        let expected = i64::try_from(expected).unwrap_or(i64::MAX);
        anyhow::ensure!(
            applied >= expected,
            "{applied} of {expected} migrations applied"
        );
        Ok(())
    }

    /// Connection-pool figures for `/metrics`: (open connections, idle connections).
    pub fn pool_stats(&self) -> (u32, usize) {
        match &self.db {
            Db::Sqlite(p) => (
                p.read.size() + p.write.size(),
                p.read.num_idle() + p.write.num_idle(),
            ),
            Db::Postgres(pool) => {
                let (size, idle) = self
                    .lookups
                    .as_ref()
                    .map_or((0, 0), |l| (l.size(), l.num_idle()));
                (pool.size() + size, pool.num_idle() + idle)
            }
        }
    }

    /// PostgreSQL: the pool of reads by key ([`lookup_options`]); the main pool when there is
    /// none. For tests: the service takes its connections through [`kept::Kept`] only.
    pub fn lookup_pool(&self) -> Option<&PgPool> {
        match &self.db {
            Db::Sqlite(_) => None,
            Db::Postgres(pool) => Some(self.lookups.as_ref().map_or(pool, |kept| kept.pool())),
        }
    }

    /// PostgreSQL: a connection of the reads by key, the one the last read kept when there is
    /// one ([`kept`]).
    pub async fn lookup_connection(&self) -> Option<Result<kept::Held<'_>, sqlx::Error>> {
        Some(self.lookups.as_ref()?.acquire().await)
    }

    /// Returns once every event committed before the call has its feed sequence (PostgreSQL
    /// numbers events after commit; SQLite numbers them at insert).
    pub async fn catch_up_events(&self) -> Result<(), sqlx::Error> {
        match &self.db {
            Db::Sqlite(_) => Ok(()),
            Db::Postgres(pool) => {
                deadline::bounded(self.timeout, self.sequencer.catch_up(pool)).await
            }
        }
    }

    pub async fn close(&self) {
        match &self.db {
            Db::Sqlite(p) => {
                p.write.close().await;
                p.read.close().await;
            }
            Db::Postgres(pool) => {
                if let Some(lookups) = &self.lookups {
                    lookups.close().await;
                }
                if let Some(batch) = &self.pay_batch {
                    batch.close().await;
                }
                if let Some(batch) = &self.create_batch {
                    batch.close().await;
                }
                pool.close().await;
            }
        }
    }
}

/// Connections of the pool for [`deadline::LONG`] operations: the retention sweep and reports.
const LONG_CONNECTIONS: u32 = 2;

/// The settings every PostgreSQL pool of the store shares, with `max` connections at most: a
/// connection is not pinged when taken (a round trip saved on every operation), a free one is
/// waited for 10 s at most, and after an abandoned operation each connection given back is
/// tried before it is kept ([`deadline::after_release`]).
pub(crate) fn pg_pool_options(max: u32) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(max)
        .test_before_acquire(false)
        .acquire_timeout(Duration::from_secs(10))
        .after_release(deadline::after_release)
}

pub use crate::clock::{parse_ts, ts};
pub use kept::lookup_options;

/// A unique constraint (or primary key, or unique index), as each backend names it when a
/// statement violates it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UniqueKey {
    /// PostgreSQL's constraint or index name.
    pub name: &'static str,
    /// What SQLite reports after `UNIQUE constraint failed: `: `table.column, …`, or
    /// `index 'name'` for an index on expressions.
    pub sqlite: &'static str,
}

/// The unique keys whose violations are expected outcomes.
pub mod unique {
    use super::UniqueKey;

    /// The idempotency key is already stored (its answer written by a concurrent duplicate).
    pub const IDEMPOTENCY_KEY: UniqueKey = UniqueKey {
        name: "idempotency_key_pkey",
        sqlite: "idempotency_key.client_id, idempotency_key.idem_key",
    };
    /// An item is held (paid, or in another live order).
    pub const PAYMENT_HOLD: UniqueKey = UniqueKey {
        name: "payment_hold_item_key_key",
        sqlite: "payment_hold.item_key",
    };
    /// A notice number is already known for the agency.
    pub const NOTICE_NUMBER: UniqueKey = UniqueKey {
        name: "notice_agency_notice_no_key",
        sqlite: "index 'notice_agency_notice_no_key'",
    };
    /// The e-mail address of a finance account is taken.
    pub const FINANCE_USER: UniqueKey = UniqueKey {
        name: "finance_user_pkey",
        sqlite: "finance_user.email",
    };
    /// Another run is already current for the gateway, date and agency.
    pub const CURRENT_RUN: UniqueKey = UniqueKey {
        name: "reconciliation_current_key",
        sqlite: "index 'reconciliation_current_key'",
    };
}

/// Whether a database error is a violation of a unique key, whichever.
pub fn is_some_unique_violation(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .is_some_and(|db| db.is_unique_violation())
}

/// Whether a database error is a violation of the unique key `key` (and not of another one).
pub fn is_unique_violation(error: &sqlx::Error, key: UniqueKey) -> bool {
    let sqlx::Error::Database(db) = error else {
        return false;
    };
    if !db.is_unique_violation() {
        return false;
    }
    match db.constraint() {
        Some(name) => name == key.name,
        None => db
            .message()
            .strip_prefix("UNIQUE constraint failed: ")
            .is_some_and(|what| what == key.sqlite),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::config::{ConfigDuration, Secret};

    #[tokio::test]
    async fn sqlite_readers_keep_a_small_page_cache_and_the_writer_the_default() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::connect(&DatabaseSettings {
            url: Secret::new(format!("sqlite://{}", dir.path().join("t.db").display())),
            max_connections: 4,
            busy_timeout: ConfigDuration(Duration::from_secs(5)),
            timeout: ConfigDuration(Duration::from_secs(10)),
        })
        .await
        .unwrap();
        let Db::Sqlite(pools) = &store.db else {
            panic!("a SQLite store")
        };
        async fn cache(pool: &SqlitePool) -> i64 {
            let size = sqlx::query_scalar("pragma cache_size").fetch_one(pool);
            size.await.unwrap()
        }
        assert_eq!(cache(&pools.read).await.to_string(), READER_CACHE);
        assert_eq!(cache(&pools.write).await, -2000, "SQLite's default");
    }
}
