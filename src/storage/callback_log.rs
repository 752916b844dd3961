//! Reading the callback log: every callback received, with the verdict and the answer sent.

use serde::Serialize;

use super::{on_pool, Store};

/// The columns a callback is written with, in the order every writer binds them: the PostgreSQL
/// decision's CTE and the SQLite log row (`storage::paying`), and a callback logged on its own
/// (`Store::record_callback`).
pub(super) const CALLBACK_INSERT: &str =
    "insert into callback (callback_id, gateway, txn_ref, payment_id, verdict, answer, payload, payload_bytes, payload_sha256, received_at)";

#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct CallbackRow {
    #[serde(rename = "id")]
    pub callback_id: String,
    pub gateway: String,
    pub received_at: String,
    pub txn_ref: Option<String>,
    pub payment_id: Option<String>,
    /// What the callback was decided to be (`valid`, `already_settled`, …, `error` when the
    /// decision failed). `received` appears only on rows of versions that logged a callback
    /// before deciding it, whose decision never finished.
    pub verdict: String,
    /// What the gateway was answered; empty until then.
    pub answer: String,
    pub payload_bytes: i64,
    pub payload_sha256: String,
    pub payload: String,
}

/// Filters of the callback log; `None` means any.
#[derive(Debug, Default)]
pub struct CallbackFilter<'a> {
    pub gateway: Option<&'a str>,
    pub txn_ref: Option<&'a str>,
    pub payment_id: Option<&'a str>,
    pub verdict: Option<&'a str>,
    /// Only callbacks of this agency's payments.
    pub agency: Option<&'a str>,
}

impl Store {
    /// Callbacks newest first, before `before` (a callback id).
    pub async fn callback_log(
        &self,
        f: &CallbackFilter<'_>,
        before: Option<&str>,
        limit: i64,
    ) -> Result<Vec<CallbackRow>, sqlx::Error> {
        let mut rows: Vec<CallbackRow> = on_pool!(self, pool => {
            sqlx::query_as(
                "select c.callback_id, c.gateway, c.received_at, c.txn_ref, c.payment_id, c.verdict, c.answer,
                        c.payload_bytes, c.payload_sha256, c.payload
                 from callback c
                 where ($1 is null or c.gateway = $1) and ($2 is null or c.txn_ref = $2)
                   and ($3 is null or c.payment_id = $3) and ($4 is null or c.verdict = $4)
                   and ($5 is null or c.payment_id in (select payment_id from payment where agency_code = $5))
                   and ($6 is null or c.callback_id < $6)
                 order by c.callback_id desc limit $7",
            )
            .bind(f.gateway)
            .bind(f.txn_ref)
            .bind(f.payment_id)
            .bind(f.verdict)
            .bind(f.agency)
            .bind(before)
            .bind(limit)
            .fetch_all(pool)
            .await
        })?;
        for row in &mut rows {
            // Rows logged before sizes and digests were kept: their payload is whole.
            if row.payload_sha256.is_empty() {
                use sha2::Digest;
                row.payload_sha256 = hex::encode(sha2::Sha256::digest(row.payload.as_bytes()));
                row.payload_bytes = i64::try_from(row.payload.len()).unwrap_or(i64::MAX);
            }
        }
        Ok(rows)
    }
}
