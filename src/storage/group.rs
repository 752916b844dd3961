//! PostgreSQL group commit: writes of one kind that arrive together are gathered and written
//! by one statement or transaction, one commit for the lot.
//!
//! On a small machine most of a short write's cost is per statement and per commit (setting up
//! the execution, opening each table and index it writes, the round trip, the commit's WAL
//! flush), not per row. A writer hands its work to the group and waits; whichever works are
//! waiting when a batch starts are written together.
//!
//! Nothing waits for a batch to fill: a batch starts as soon as a slot is free and takes what
//! is queued (at most [`Work::MAX`]); under light load a batch is one work. [`Work::SLOTS`]
//! batches run at once, each on its own connection of the group's pool, so batches commit concurrently like
//! any other writers. A batch runs in a task of its own: a request that goes away while it
//! waits does not cancel the batch the others wait for.
//!
//! The batches run on a thread of their own ([`BATCHES`]), not on the HTTP worker that queued
//! their first work. A batch is a few round trips to the database; on a worker thread, each
//! reply waited until the worker had finished the requests it was parsing and verifying, and
//! the database's connection sat idle in its transaction meanwhile. Measured with the IPN
//! benchmark on two cores (alternated runs of the two builds), first-time IPNs went from 1,798
//! and 1,843 a second to 1,954 and 1,963, with less machine CPU per IPN (0.85 ms against 0.88);
//! running the batches on the main runtime instead, which the background workers share, was no
//! faster than on the HTTP workers.

use std::future::Future;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};
use std::time::Duration;

use sqlx::PgPool;
use tokio::sync::{oneshot, OwnedSemaphorePermit, Semaphore};

/// A kind of work written in batches.
pub trait Work: Send + Sync + 'static {
    type Item: Send + 'static;
    type Outcome: Send + 'static;
    /// Batches in flight at once.
    const SLOTS: usize;
    /// Works in one batch at most.
    const MAX: usize;

    /// The outcome of each item of a batch abandoned after `database.timeout`
    /// ([`super::deadline`]): it may or may not have been written.
    fn unanswered() -> Self::Outcome;

    /// Writes one batch; one outcome per item, in the items' order.
    fn run(
        pool: &PgPool,
        items: Vec<Self::Item>,
    ) -> impl Future<Output = Vec<Self::Outcome>> + Send;
}

/// The runtime of the batches: one thread that runs nothing else, so a batch woken by the
/// database's reply goes on at once. It lives as long as the process; without it (a thread
/// that could not be started) batches run on the runtime that queued them.
static BATCHES: LazyLock<Option<tokio::runtime::Runtime>> = LazyLock::new(|| {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("landpay-batches")
        .enable_all()
        .build()
        .map_err(|e| tracing::warn!(error = %e, "no thread of their own for the batches"))
        .ok()
});

type Waiting<W> = (<W as Work>::Item, oneshot::Sender<<W as Work>::Outcome>);

/// The queue of a kind of work and the batches that write it.
pub struct Group<W: Work> {
    queue: Mutex<Vec<Waiting<W>>>,
    slots: Arc<Semaphore>,
    max: usize,
    /// [`Work::SLOTS`] connections whose prepared statements always use their generic plan: the
    /// batches' statements take arrays, whose custom plans would be made afresh at every call.
    pool: PgPool,
    /// How long a batch waits for the database (`database.timeout`).
    timeout: Duration,
}

impl<W: Work> std::fmt::Debug for Group<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Group")
            .field("max", &self.max)
            .finish_non_exhaustive()
    }
}

impl<W: Work> Group<W> {
    /// A group of [`Work::SLOTS`] batches of at most [`Work::MAX`] works each, on a pool of as
    /// many connections, opened as they are needed; a batch is abandoned after `timeout`.
    pub fn new(options: sqlx::postgres::PgConnectOptions, timeout: Duration) -> Arc<Self> {
        let (slots, max) = (W::SLOTS.max(1), W::MAX.max(1));
        let pool = super::pg_pool_options(u32::try_from(slots).unwrap_or(2))
            .connect_lazy_with(super::lookup_options(options));
        Arc::new(Self {
            queue: Mutex::new(Vec::new()),
            slots: Arc::new(Semaphore::new(slots)),
            max,
            pool,
            timeout,
        })
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Queues a work and waits for its batch's outcome; `None` when the batch's task ended
    /// before it told (it panicked, or its runtime is shutting down).
    pub async fn submit(self: &Arc<Self>, item: W::Item) -> Option<W::Outcome> {
        let (done, outcome) = oneshot::channel();
        self.lock().push((item, done));
        self.start();
        outcome.await.ok()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Waiting<W>>> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Starts a batch in a free slot, if there is one; a busy slot takes the queue when its
    /// batch ends.
    fn start(self: &Arc<Self>) {
        if let Ok(slot) = Arc::clone(&self.slots).try_acquire_owned() {
            let drain = Arc::clone(self).drain(slot);
            match &*BATCHES {
                Some(batches) => {
                    batches.spawn(drain);
                }
                None => {
                    tokio::spawn(drain);
                }
            }
        }
    }

    /// Runs batches until the queue is empty. A work queued after the last look, while every
    /// slot was busy, is seen by the slot that frees first: it looks again after it is free.
    async fn drain(self: Arc<Self>, slot: OwnedSemaphorePermit) {
        loop {
            let (items, dones): (Vec<_>, Vec<_>) = {
                let mut queue = self.lock();
                let n = queue.len().min(self.max);
                queue.drain(..n).unzip()
            };
            if items.is_empty() {
                break;
            }
            let count = items.len();
            let outcomes = super::deadline::within(self.timeout, W::run(&self.pool, items))
                .await
                .unwrap_or_else(|| (0..count).map(|_| W::unanswered()).collect());
            for (done, outcome) in dones.into_iter().zip(outcomes) {
                // A request that went away no longer waits; its work is done all the same.
                let _ = done.send(outcome);
            }
        }
        drop(slot);
        if !self.lock().is_empty() {
            self.start();
        }
    }
}
