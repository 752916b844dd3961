//! Numbering events after they commit (PostgreSQL).
//!
//! The feed promises that `sequence` is gap-free, follows commit order, and that a reader never
//! misses an event that becomes visible later — without making every event writer wait for one
//! shared counter row until its commit, which let only one state change commit at a time.
//!
//! Designs weighed:
//! - a database sequence read with a high-water mark: `nextval` order is not commit order, holes
//!   must be skipped after a timeout, and a transaction slower than that timeout is skipped for
//!   good — the failure that event stores built this way keep reporting;
//! - a transaction-id visibility horizon: nothing is skipped, but the cursor is a pair rather
//!   than a dense integer, and any long transaction in the cluster stalls every reader;
//! - numbering after commit (chosen): writers insert events with no number, in parallel. One
//!   numbering transaction at a time (an advisory lock across instances) gives the committed,
//!   unnumbered rows the next numbers in insert order. Only committed rows get numbers and they
//!   are given serially, so there are no gaps and nothing can later appear below a number a
//!   reader has seen; a long writer delays no one but itself. Per-payment order holds because
//!   every writer of a payment's event holds that payment's row lock when it inserts.
//!
//! The numbering transaction also writes the numbered events' webhook deliveries, one per
//! endpoint that takes the event. The event row is the outbox record, written in the state
//! change's transaction; its deliveries are derived from it atomically with its number, so a
//! committed event cannot lose them (it is numbered with them, or not at all) and none is
//! claimable before its event has its number. Writing them here rather than with the event
//! keeps them off every writer's transaction and writes each delivery once, already numbered,
//! instead of inserting it unnumbered and rewriting it (with an entry in each of its indexes)
//! when the event is numbered; the one numbering transaction at a time writes the new rows at
//! the end of the delivery indexes, where concurrent writers would contend. Changes to the
//! endpoints first number what has committed, so an event committed before an endpoint is
//! added or removed is delivered by the endpoints as they were.
//!
//! Readers of the feed and of deliveries (and the delivery worker) first ask for a run: a run
//! that starts after the call numbers everything committed before it, so a caller reads its
//! own writes. Concurrent callers share runs (group numbering); a writer pays nothing extra.
//! SQLite keeps numbering, and writing deliveries, at insert.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};

use sqlx::PgPool;
use tokio::sync::Mutex;

/// Advisory lock key of the numbering transaction ("landpay events").
const LOCK_KEY: i64 = 0x6c61_6e64_7061_7931;

/// Events numbered per statement at most; a run repeats until none are left.
const BATCH: i64 = 5_000;

#[derive(Debug, Default)]
pub struct Sequencer {
    run: Mutex<()>,
    started: AtomicU64,
    finished: AtomicU64,
}

impl Sequencer {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Returns once every event committed before the call has its number.
    pub async fn catch_up(&self, pool: &PgPool) -> Result<(), sqlx::Error> {
        // Any run that starts from now on sees everything committed before this call.
        let needed = self.started.load(Ordering::SeqCst) + 1;
        let _turn = self.run.lock().await;
        if self.finished.load(Ordering::SeqCst) >= needed {
            return Ok(()); // someone else's run started after our call and has finished
        }
        let this_run = self.started.fetch_add(1, Ordering::SeqCst) + 1;
        while number_batch(pool).await? == BATCH {}
        self.finished.store(this_run, Ordering::SeqCst);
        Ok(())
    }
}

/// The numbering statement (`$1` the insert ids in order): the next numbers, from the highest
/// given ([`super::outbox::HIGHEST_SEQUENCE_SQL`]), and the numbered events' deliveries
/// ([`super::outbox::pg_deliveries_cte`]). `old` numbers deliveries that a version of the
/// service before this one wrote with their event, unnumbered.
static NUMBER_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "with todo as (select id, n from unnest($1::bigint[]) with ordinality as t(id, n)),
         top (top) as ({}),
         ev as (
           update event e set sequence = top.top + todo.n
           from todo, top where e.insert_id = todo.id
           returning e.event_id, e.sequence, e.type, e.agency_code, e.created_at,
                     coalesce(e.payment_id, e.notice_id, e.event_id) as order_key
         ),
         {},
         old as (
           update delivery d set event_sequence = ev.sequence
           from ev where d.event_id = ev.event_id and d.event_sequence is null
         )
         select count(*) from ev",
        super::outbox::HIGHEST_SEQUENCE_SQL,
        super::outbox::pg_deliveries_cte(),
    )
});

/// One numbering transaction: up to [`BATCH`] committed, unnumbered events get the next
/// numbers in insert order, and their deliveries are written. Returns how many.
///
/// Only the `sequence` column is written: the stored body keeps `"sequence":null`, and every
/// reader puts the number in ([`super::outbox::with_sequence`]), so numbering never rewrites
/// (nor re-compresses) a body.
///
/// The ids are read first and the updates join on the id list, so both updates go through the
/// primary key and `delivery_unsequenced_idx` however large `event` and `delivery` have grown
/// (joined on a sub-select, a generic plan sized for a whole batch scanned both tables).
async fn number_batch(pool: &PgPool) -> Result<i64, sqlx::Error> {
    let mut tx = pool.begin().await?;
    // Taken in its own statement: the next statement's snapshot is then taken after the
    // previous run (in any instance) committed, so it sees that run's numbers.
    sqlx::query("select pg_advisory_xact_lock($1)")
        .bind(LOCK_KEY)
        .execute(&mut *tx)
        .await?;
    let todo: Vec<i64> = sqlx::query_scalar(
        "select insert_id from event where sequence is null order by insert_id limit $1",
    )
    .bind(BATCH)
    .fetch_all(&mut *tx)
    .await?;
    if todo.is_empty() {
        tx.commit().await?;
        return Ok(0);
    }
    let (numbered,): (i64,) = sqlx::query_as(NUMBER_SQL.as_str())
        .bind(&todo)
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(numbered)
}
