//! Connections that the reads by key keep between uses, so that giving one back costs nothing.
//!
//! sqlx's pool tries every connection given back with a ping — a round trip to the server,
//! made before another task may take the connection — whatever the use before it was. A read
//! by key is one round trip of its own, so the ping doubled the server's round trips per read.
//! Measured with the benchmark on two cores, runs of the two builds alternated on PostgreSQL:
//! `GET /v1/payments/{id}` went from 7,795 and 7,696 requests a second (0.21 ms of machine CPU
//! a read) to 10,262 and 10,562 (0.17 ms).
//!
//! [`Kept`] wraps such a pool. A connection whose use went through is kept in its own list
//! ([`Held::keep`]) and taken again from there; one whose use failed or was abandoned (an error,
//! a time-out, a request that went away) is given back to the pool as before, which tries it
//! and closes it if it is broken. No connection is kept longer than [`KEEP_FOR`], so the pool's
//! own lifetime rules still apply. The service uses the pool through [`Kept`] only: a
//! connection kept here is one the pool counts as taken, so a use that went to the pool
//! directly could wait for one that only this list would ever give.

use std::ops::{Deref, DerefMut};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use sqlx::pool::PoolConnection;
use sqlx::{PgConnection, PgPool, Postgres};
use tokio::sync::{Semaphore, SemaphorePermit};

/// PostgreSQL, inside an `async` block: runs `$body` (a `Result`) with `$conn` bound to a
/// connection of the reads by key, kept for the next read when `$body` succeeds and given back
/// to the pool otherwise ([`Kept`]); a connection of `$pg` when the store has no such pool.
macro_rules! on_pg_lookup {
    ($store:expr, $pg:expr, $conn:ident => $body:expr) => {
        match &$store.lookups {
            Some(kept) => {
                let mut held = kept.acquire().await?;
                let done = {
                    let $conn = &mut *held;
                    $body
                };
                if done.is_ok() {
                    held.keep();
                }
                done
            }
            None => {
                let mut held = $pg.acquire().await?;
                let $conn = &mut *held;
                $body
            }
        }
    };
}
pub(crate) use on_pg_lookup;

/// Runs a read by key, `$body` (a `Result`), with `$conn` bound to a connection: on
/// PostgreSQL, one of the pool of [`lookup_options`], kept for the next read when `$body`
/// succeeds ([`Kept`]).
macro_rules! on_lookup_conn {
    ($store:expr, $conn:ident => $body:expr) => {
        match &$store.db {
            $crate::storage::Db::Sqlite(pools) => {
                ::tracing::Instrument::instrument(
                    async {
                        let mut held = pools.read.acquire().await?;
                        let $conn = &mut *held;
                        $body
                    },
                    $crate::storage::db_span("sqlite"),
                )
                .await
            }
            $crate::storage::Db::Postgres(pg) => {
                $crate::storage::deadline::bounded(
                    $store.timeout,
                    ::tracing::Instrument::instrument(
                        async { $crate::storage::kept::on_pg_lookup!($store, pg, $conn => $body) },
                        $crate::storage::db_span("postgresql"),
                    ),
                )
                .await
            }
        }
    };
}
pub(crate) use on_lookup_conn;

/// The longest a connection is kept between uses before it goes back to the pool, which then
/// applies its own lifetime and idle rules to it.
pub const KEEP_FOR: Duration = Duration::from_secs(10 * 60);

/// The kept connections, each with when it was taken from the pool; `None` once closed.
type Idle = Option<Vec<(PoolConnection<Postgres>, Instant)>>;

/// A pool whose connections are kept between successful uses ([`Held::keep`]).
#[derive(Debug)]
pub struct Kept {
    pool: PgPool,
    idle: Mutex<Idle>,
    /// As many as the pool's connections: a use that finds no kept connection then always
    /// finds one in the pool, or one the pool is trying.
    users: Semaphore,
}

/// A connection taken from [`Kept`]; dropped without [`Held::keep`], it goes back to the pool.
#[derive(Debug)]
pub struct Held<'k> {
    conn: PoolConnection<Postgres>,
    since: Instant,
    kept: &'k Kept,
    _user: SemaphorePermit<'k>,
}

impl Kept {
    pub fn new(pool: PgPool) -> Self {
        let users = usize::try_from(pool.options().get_max_connections()).unwrap_or(1);
        Self {
            pool,
            idle: Mutex::new(Some(Vec::new())),
            users: Semaphore::new(users.max(1)),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Idle> {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A connection: the last one kept, or one from the pool.
    pub async fn acquire(&self) -> Result<Held<'_>, sqlx::Error> {
        let user = self
            .users
            .acquire()
            .await
            .map_err(|_| sqlx::Error::PoolClosed)?;
        loop {
            let kept = self.lock().as_mut().and_then(Vec::pop);
            match kept {
                Some((conn, since)) if since.elapsed() < KEEP_FOR => {
                    return Ok(self.held(conn, since, user))
                }
                Some(old) => drop(old), // back to the pool, which applies its own rules
                None => {
                    let conn = self.pool.acquire().await?;
                    return Ok(self.held(conn, Instant::now(), user));
                }
            }
        }
    }

    fn held<'k>(
        &'k self,
        conn: PoolConnection<Postgres>,
        since: Instant,
        user: SemaphorePermit<'k>,
    ) -> Held<'k> {
        Held {
            conn,
            since,
            kept: self,
            _user: user,
        }
    }

    /// The pool's open connections.
    pub fn size(&self) -> u32 {
        self.pool.size()
    }

    /// Connections not in use: those kept here and those idle in the pool.
    pub fn num_idle(&self) -> usize {
        let kept = self.lock().as_ref().map_or(0, Vec::len);
        self.pool.num_idle() + kept
    }

    /// The pool itself, for tests that run a batch on connections of its kind.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Gives the kept connections back and closes the pool; a connection in use goes back to
    /// the pool when its use ends, and the pool closes it.
    pub async fn close(&self) {
        self.users.close();
        let kept = self.lock().take();
        drop(kept);
        self.pool.close().await;
    }
}

impl Held<'_> {
    /// The use went through: the connection is kept for the next use (unless it has been kept
    /// for [`KEEP_FOR`] already, or the pool is closing).
    pub fn keep(self) {
        let Held {
            conn, since, kept, ..
        } = self;
        if since.elapsed() >= KEEP_FOR {
            return;
        }
        if let Some(idle) = kept.lock().as_mut() {
            idle.push((conn, since));
        }
    }
}

impl Deref for Held<'_> {
    type Target = PgConnection;

    fn deref(&self) -> &PgConnection {
        &self.conn
    }
}

impl DerefMut for Held<'_> {
    fn deref_mut(&mut self) -> &mut PgConnection {
        &mut self.conn
    }
}

/// The connection options of the pool that reads a payment or a notice by its id: the plan
/// cache always uses a statement's generic plan (`plan_cache_mode = force_generic_plan`).
///
/// By default PostgreSQL plans a prepared statement afresh for its first five executions, then
/// compares the cost of one generic plan, made at the sixth, with the average of those five, and
/// keeps making a new plan at every execution whenever the generic one looked dearer. That cost
/// is not worked out again while the connection keeps planning afresh, so a generic plan made
/// while a table had grown past its statistics (its rows estimated from a default selectivity)
/// against five plans made when it was nearly empty leaves the connection planning the statement
/// at every execution for as long as it lives, long after `ANALYZE` has put the statistics
/// right. Measured under the benchmark: the payment read planned at every call in some runs
/// (0.11 ms of planning against 0.06 ms of execution), the notice read of `POST /v1/payments` in
/// three runs of five. These statements find one row by its primary key and its child rows by
/// their parent's key: every value of the parameter gets the same plan, so a plan made afresh
/// buys nothing. A generic plan is made again when the statistics of a table it reads change.
pub fn lookup_options(
    options: sqlx::postgres::PgConnectOptions,
) -> sqlx::postgres::PgConnectOptions {
    options.options([("plan_cache_mode", "force_generic_plan")])
}
