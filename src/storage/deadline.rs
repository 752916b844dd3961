//! PostgreSQL: how long the service waits for the database's answer (`database.timeout`).
//!
//! A database that stops answering without closing its connections — its host gone, a network
//! partition, a failover to another machine behind the same name — would otherwise hold each
//! request that reaches it until the operating system gives up on the connection, a quarter of
//! an hour later, and with it a connection of the pool. So:
//!
//! - each operation (a statement, or a transaction with its statements, as the store's macros
//!   run them; a batch of the group commits) is given `database.timeout`; past it, it is
//!   abandoned and fails as the database being unavailable (`503 database_unavailable`, or
//!   the gateway's retry answer), exactly as when the connection is lost: a write whose answer
//!   did not come may have been committed, and every such write is safe to retry (the caller's
//!   idempotency key, the gateway's resend);
//! - a connection given back after an abandoned operation is tried before it goes back to its
//!   pool ([`after_release`]): one that does not answer within [`RELEASE_PING`] is closed, not
//!   kept, so that once the database answers again (at the same address or a new one) the pool
//!   opens fresh connections instead of waiting on dead ones;
//! - the server gives up too ([`server_bounds`]): dropping an operation stops the service
//!   waiting, not the statement, which would otherwise run on — or wait on a lock, holding its
//!   own — until it finished, long after its answer could matter. Every connection is opened
//!   with `statement_timeout` and `idle_in_transaction_session_timeout` a little past its
//!   operations' bound, so PostgreSQL cancels a statement, or ends a session left inside a
//!   transaction, that the service has given up on. The service's own bound always comes first:
//!   a statement is never cancelled under an operation still waiting for it.
//!
//! SQLite runs in the process: its waits are bounded by `database.busy_timeout`.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;
use sqlx::pool::PoolConnectionMetadata;
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection};

/// The bound of the operations that may legitimately run long: the retention sweep's pass and
/// a collections report's stream.
pub const LONG: Duration = Duration::from_secs(30 * 60);

/// How much longer than its operations' bound PostgreSQL lets a statement run, or a session sit
/// idle inside a transaction, on a connection ([`server_bounds`]).
const SERVER_MARGIN: Duration = Duration::from_secs(1);

/// How long a connection given back after an abandoned operation may take to answer a ping.
const RELEASE_PING: Duration = Duration::from_secs(1);

/// For how long after an operation was abandoned each connection given back is tried: the
/// database may have stopped answering on connections other than the one that was abandoned.
const SUSPECT_FOR: Duration = Duration::from_secs(60);

static STARTED: LazyLock<Instant> = LazyLock::new(Instant::now);

/// When the last operation was abandoned, in milliseconds after [`STARTED`] (0: never).
static LAST_ABANDONED: AtomicU64 = AtomicU64::new(0);

fn millis_since_start() -> u64 {
    u64::try_from(STARTED.elapsed().as_millis())
        .unwrap_or(u64::MAX)
        .max(1)
}

fn abandoned() {
    LAST_ABANDONED.store(millis_since_start(), Ordering::Relaxed);
}

/// Whether an operation was abandoned within [`SUSPECT_FOR`].
fn suspect() -> bool {
    let last = LAST_ABANDONED.load(Ordering::Relaxed);
    last != 0
        && millis_since_start().saturating_sub(last)
            <= u64::try_from(SUSPECT_FOR.as_millis()).unwrap_or(u64::MAX)
}

/// The error of an operation abandoned after `database.timeout`: an I/O time-out, which the
/// API answers as the database being unavailable.
pub fn timed_out() -> sqlx::Error {
    sqlx::Error::Io(std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        "PostgreSQL did not answer within database.timeout",
    ))
}

/// The outcome of an operation that can stand for its abandonment.
pub trait Abandonable {
    fn abandoned() -> Self;
}

impl<T, E: From<sqlx::Error>> Abandonable for Result<T, E> {
    fn abandoned() -> Self {
        Err(timed_out().into())
    }
}

/// Runs `operation`, abandoned (dropped, and its connection tried on release) after `limit`.
pub async fn bounded<R: Abandonable>(limit: Duration, operation: impl Future<Output = R>) -> R {
    within(limit, operation).await.unwrap_or_else(R::abandoned)
}

/// Runs `operation` for `limit` at most; `None` when it was abandoned.
pub async fn within<F: Future>(limit: Duration, operation: F) -> Option<F::Output> {
    let operation = std::pin::pin!(operation);
    match tokio::time::timeout(limit, operation).await {
        Ok(outcome) => Some(outcome),
        Err(_) => {
            // Noted before the operation (which holds the connection) is dropped, at the end of
            // this function: its connection is given back then.
            abandoned();
            tracing::warn!(
                timeout_ms = u64::try_from(limit.as_millis()).unwrap_or(u64::MAX),
                "PostgreSQL did not answer in time; the operation was abandoned"
            );
            None
        }
    }
}

/// `options` with the server-side bounds of connections whose operations are abandoned after
/// `limit`: PostgreSQL cancels a statement (a lock wait included) that runs longer than `limit`
/// and [`SERVER_MARGIN`], and ends a session idle that long inside a transaction.
pub fn server_bounds(options: PgConnectOptions, limit: Duration) -> PgConnectOptions {
    let bound = format!("{}ms", (limit + SERVER_MARGIN).as_millis());
    options.options([
        ("statement_timeout", bound.as_str()),
        ("idle_in_transaction_session_timeout", bound.as_str()),
    ])
}

/// Applies PostgreSQL's migrations on a connection of their own, which the server does not
/// bound: building an index over a large table may rightly take longer than any operation.
pub async fn migrate_unbounded(
    pool: &sqlx::PgPool,
    migrator: &sqlx::migrate::Migrator,
) -> Result<(), sqlx::migrate::MigrateError> {
    let mut conn = pool.acquire().await?.detach();
    sqlx::query("select set_config('statement_timeout', '0', false), set_config('idle_in_transaction_session_timeout', '0', false)")
        .execute(&mut conn)
        .await?;
    let applied = migrator.run(&mut conn).await;
    // Closed, not given back: its session has no bounds.
    let _ = conn.close().await;
    applied
}

/// The pools' test of a connection given back: while an operation was abandoned lately, it must
/// answer a ping within [`RELEASE_PING`] to go back to its pool; otherwise it is closed.
pub fn after_release(
    conn: &mut PgConnection,
    _: PoolConnectionMetadata,
) -> BoxFuture<'_, Result<bool, sqlx::Error>> {
    Box::pin(async move {
        if !suspect() {
            return Ok(true);
        }
        match tokio::time::timeout(RELEASE_PING, conn.ping()).await {
            Ok(answered) => answered.map(|()| true),
            // An error closes it at once, without a goodbye it would wait on.
            Err(_) => Err(timed_out()),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_operation_past_its_limit_is_abandoned_as_a_time_out() {
        let quick: Result<u8, sqlx::Error> = bounded(Duration::from_secs(5), async { Ok(7) }).await;
        assert_eq!(quick.unwrap(), 7);
        let slow: Result<u8, sqlx::Error> = bounded(Duration::from_millis(20), async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            Ok(7)
        })
        .await;
        let Err(sqlx::Error::Io(e)) = slow else {
            panic!("{slow:?}")
        };
        assert_eq!(e.kind(), std::io::ErrorKind::TimedOut);
        assert!(suspect());
    }
}
