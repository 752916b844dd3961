//! Idempotency keys: claimed before the work and completed with the response, or — for work
//! that stores its own answer — looked up first and written with the answer in the work's own
//! transaction; swept after retention.

use chrono::{DateTime, Utc};

use super::{in_write_tx, on_pool, on_writer, ts, Store};

/// What a claim found.
#[derive(Debug, PartialEq, Eq)]
pub enum Claim {
    /// The key is new (or its earlier holder died): the caller does the work.
    Acquired,
    /// The same key was used with another request.
    Mismatch,
    /// Another request with this key is still running.
    InFlight,
    /// The work is done: replay this response.
    Done { status: u16, body: String },
}

const INSERT: &str = "insert into idempotency_key (client_id, idem_key, request_hash, state, locked_until, created_at)
     values ($1, $2, $3, 'in_flight', $4, $5)
     on conflict (client_id, idem_key) do nothing";

/// A key with the answer to store for it, in the same transaction as the work it answers.
#[derive(Debug, Clone)]
pub struct KeyAnswer {
    pub client: String,
    pub key: String,
    /// The request's fingerprint.
    pub hash: String,
    pub status: u16,
    pub body: String,
}

/// SQLite: stores `answer` on the write transaction `conn` (a key already there fails it with
/// the key's unique violation).
pub async fn sqlite_store_answer(
    conn: &mut sqlx::SqliteConnection,
    answer: &KeyAnswer,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let now = ts(now);
    sqlx::query(
        "insert into idempotency_key (client_id, idem_key, request_hash, state, response_status,
                                      response_body, locked_until, created_at)
         values ($1, $2, $3, 'done', $4, $5, $6, $6)",
    )
    .bind(&answer.client)
    .bind(&answer.key)
    .bind(&answer.hash)
    .bind(i64::from(answer.status))
    .bind(&answer.body)
    .bind(&now)
    .execute(conn)
    .await?;
    Ok(())
}

/// The stored row of a key.
const SELECT: &str = "select request_hash, state, response_status, response_body, locked_until
     from idempotency_key where client_id = $1 and idem_key = $2";

#[derive(sqlx::FromRow)]
struct Row {
    request_hash: String,
    state: String,
    response_status: Option<i64>,
    response_body: Option<String>,
    locked_until: String,
}

impl Row {
    /// What the stored row answers a request with fingerprint `hash`: another request's key, or
    /// a finished one to replay; an in-flight claim is given back (`Err`) for the caller to judge.
    fn settled(self, hash: &str) -> Result<Claim, Row> {
        if self.request_hash != hash {
            Ok(Claim::Mismatch)
        } else if self.state == "done" {
            Ok(Claim::Done {
                status: self
                    .response_status
                    .and_then(|s| u16::try_from(s).ok())
                    .unwrap_or(200),
                body: self.response_body.unwrap_or_default(),
            })
        } else {
            Err(self)
        }
    }
}

impl Store {
    /// Claims `(client, key)` for a request with fingerprint `hash`. An in-flight claim whose
    /// lock ran out (its process died) may be taken over.
    pub async fn claim_idempotency_key(
        &self,
        client: &str,
        key: &str,
        hash: &str,
        now: DateTime<Utc>,
        lock_until: DateTime<Utc>,
    ) -> Result<Claim, sqlx::Error> {
        let now_s = ts(now);
        let lock_s = ts(lock_until);
        // A new key, the usual case, is one statement outside any transaction; only a key
        // already there is read and maybe taken over, in a transaction.
        let inserted = on_writer!(self, pool => {
            sqlx::query(INSERT).bind(client).bind(key).bind(hash).bind(&lock_s).bind(&now_s)
                .execute(pool).await.map(|r| r.rows_affected())
        })?;
        if inserted == 1 {
            return Ok(Claim::Acquired);
        }
        in_write_tx!(self, tx => {
            let inserted = sqlx::query(INSERT)
            .bind(client)
            .bind(key)
            .bind(hash)
            .bind(&lock_s)
            .bind(&now_s)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if inserted == 1 {
                tx.commit().await?;
                return Ok(Claim::Acquired);
            }
            let row: Row = sqlx::query_as(SELECT)
            .bind(client)
            .bind(key)
            .fetch_one(&mut *tx)
            .await?;
            let claim = match row.settled(hash) {
                Ok(known) => known,
                Err(row) if row.locked_until < now_s => {
                let taken = sqlx::query(
                    "update idempotency_key set locked_until = $3
                     where client_id = $1 and idem_key = $2 and state = 'in_flight' and locked_until = $4",
                )
                .bind(client)
                .bind(key)
                .bind(&lock_s)
                .bind(&row.locked_until)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if taken == 1 { Claim::Acquired } else { Claim::InFlight }
                }
                Err(_) => Claim::InFlight,
            };
            tx.commit().await?;
            Ok(claim)
        })
    }

    /// What is known of `(client, key)` for a request with fingerprint `hash`, without claiming
    /// it: [`Claim::Acquired`] when the key is free — the caller then stores the key with its
    /// answer in the work's own transaction. An in-flight claim whose lock ran out (its process
    /// died) is removed, which frees the key.
    pub async fn find_idempotency_key(
        &self,
        client: &str,
        key: &str,
        hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Claim, sqlx::Error> {
        let row: Option<Row> = on_pool!(self, pool => {
            sqlx::query_as(SELECT).bind(client).bind(key).fetch_optional(pool).await
        })?;
        let Some(row) = row else {
            return Ok(Claim::Acquired);
        };
        let row = match row.settled(hash) {
            Ok(known) => return Ok(known),
            Err(row) => row,
        };
        if row.locked_until >= ts(now) {
            return Ok(Claim::InFlight);
        }
        let removed = on_writer!(self, pool => {
            sqlx::query(
                "delete from idempotency_key
                 where client_id = $1 and idem_key = $2 and state = 'in_flight' and locked_until = $3",
            )
            .bind(client)
            .bind(key)
            .bind(&row.locked_until)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(if removed == 1 {
            Claim::Acquired
        } else {
            Claim::InFlight
        })
    }

    /// Stores the response of a claimed key, so that duplicates replay it.
    pub async fn complete_idempotency_key(
        &self,
        client: &str,
        key: &str,
        status: u16,
        body: &str,
    ) -> Result<(), sqlx::Error> {
        on_writer!(self, pool => {
            sqlx::query(
                "update idempotency_key set state = 'done', response_status = $3, response_body = $4
                 where client_id = $1 and idem_key = $2",
            )
            .bind(client)
            .bind(key)
            .bind(i64::from(status))
            .bind(body)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    /// Forgets a claim whose work failed unexpectedly, so that the client may retry.
    pub async fn release_idempotency_key(
        &self,
        client: &str,
        key: &str,
    ) -> Result<(), sqlx::Error> {
        on_writer!(self, pool => {
            sqlx::query("delete from idempotency_key where client_id = $1 and idem_key = $2 and state = 'in_flight'")
                .bind(client)
                .bind(key)
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    /// Deletes keys created before `cutoff`; returns how many.
    pub async fn sweep_idempotency_keys(&self, cutoff: DateTime<Utc>) -> Result<u64, sqlx::Error> {
        let done = on_writer!(self, pool => {
            sqlx::query("delete from idempotency_key where created_at < $1")
                .bind(ts(cutoff))
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(done)
    }
}
