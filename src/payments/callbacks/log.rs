//! The callback log: every callback received, with its verdict and the answer sent. A verified
//! callback is kept whole; one that failed verification keeps its first 2,048 bytes; size and
//! digest always describe the whole payload, and NUL is never stored.

use sha2::{Digest, Sha256};

use crate::app::Services;
use crate::gateways::GatewayId;
use crate::ids::{new_id, IdKind};
use crate::storage::payments::CallbackRecord;

pub use crate::storage::callback_log::{CallbackFilter, CallbackRow};

/// How much of a callback that failed verification is kept.
pub const UNVERIFIED_KEPT_BYTES: usize = 2048;

/// One callback to log.
pub struct Entry<'a> {
    pub gateway: GatewayId,
    pub txn_ref: Option<&'a str>,
    pub verdict: &'a str,
    pub answer: &'a str,
    pub payload: &'a [u8],
    pub verified: bool,
}

/// Commits a callback to the log in its own statement; returns its id.
pub async fn record(state: &Services, entry: &Entry<'_>) -> anyhow::Result<String> {
    let id = new_id(IdKind::Callback);
    record_as(state, &id, entry).await?;
    Ok(id)
}

/// Commits a callback to the log under `id` (see [`crate::storage::Store::record_callback`]).
async fn record_as(state: &Services, id: &str, entry: &Entry<'_>) -> anyhow::Result<()> {
    let kept = Kept::of(entry.payload, entry.verified);
    let record = CallbackRecord {
        callback_id: id,
        gateway: entry.gateway.as_str(),
        txn_ref: entry.txn_ref,
        verdict: entry.verdict,
        answer: entry.answer,
        payload: &kept.text,
        payload_bytes: kept.bytes,
        payload_sha256: &kept.sha256,
    };
    state
        .store
        .record_callback(&record, state.clock.now())
        .await?;
    Ok(())
}

/// Logs a callback whose decision failed, under the id its decision used, with the error
/// answer it is sent: should that decision have committed after all, its row takes the answer
/// sent. A failure here is only traced (the gateway, answered with an error, sends the
/// callback again).
pub async fn record_error(state: &Services, id: &str, entry: &Entry<'_>) {
    if let Err(e) = record_as(state, id, entry).await {
        tracing::error!(error = ?e, gateway = entry.gateway.as_str(), "could not log a callback whose decision failed");
    }
}

/// The log for finance, newest first, before the callback `before`.
pub async fn list(
    state: &Services,
    filter: &CallbackFilter<'_>,
    before: Option<&str>,
    limit: i64,
) -> Result<Vec<CallbackRow>, sqlx::Error> {
    state.store.callback_log(filter, before, limit).await
}

/// What the log keeps of a payload: its text, and the size and SHA-256 of the bytes received.
pub struct Kept {
    pub text: String,
    pub bytes: i64,
    pub sha256: String,
}

impl Kept {
    pub fn of(payload: &[u8], verified: bool) -> Self {
        Self {
            text: kept_text(payload, !verified),
            bytes: i64::try_from(payload.len()).unwrap_or(i64::MAX),
            sha256: sha256_hex(payload),
        }
    }
}

/// The text kept of `payload`: whole when verified, else its first 2,048 bytes; as UTF-8 with
/// invalid sequences and NUL replaced by U+FFFD (PostgreSQL text cannot hold NUL).
pub fn kept_text(payload: &[u8], unverified: bool) -> String {
    let bytes = if unverified && payload.len() > UNVERIFIED_KEPT_BYTES {
        &payload[..UNVERIFIED_KEPT_BYTES]
    } else {
        payload
    };
    String::from_utf8_lossy(bytes).replace('\0', "\u{fffd}")
}

/// Lower-case hex SHA-256 of the whole payload.
pub fn sha256_hex(payload: &[u8]) -> String {
    hex::encode(Sha256::digest(payload))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unverified_payloads_are_cut_at_2048_bytes_and_nul_is_replaced() {
        let big = vec![b'a'; 65_000];
        assert_eq!(kept_text(&big, true).len(), 2048);
        assert_eq!(kept_text(&big, false).len(), 65_000);
        assert_eq!(kept_text(b"a\0b", false), "a\u{fffd}b");
        assert_eq!(sha256_hex(b"").len(), 64);
    }
}
