//! Inbound idempotency: a key scoped to the caller's subject and agency, a fingerprint of the request,
//! replay of the stored response, and refusal of a reused key or a concurrent duplicate.

use std::future::Future;
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use sha2::{Digest, Sha256};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::http::state::AppState;

pub const HEADER: &str = "Idempotency-Key";
pub const REPLAYED_HEADER: &str = "Idempotent-Replayed";

/// How long an in-flight claim holds before another request may take it over (its holder died).
const IN_FLIGHT_LOCK: Duration = Duration::from_secs(60);

/// A client-chosen key: 1 to 255 visible ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        let ok = !raw.is_empty() && raw.len() <= 255 && raw.bytes().all(|b| b.is_ascii_graphic());
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(ApiError::bad_request(
                HEADER,
                "must be 1 to 255 visible ASCII characters",
            ))
        }
    }

    /// The key of a request, if it sent one; `required` makes its absence a 400.
    pub fn from_request(req: &HttpRequest, required: bool) -> Result<Option<Self>, ApiError> {
        match req.headers().get(HEADER) {
            None if required => Err(ApiError::bad_request(
                HEADER,
                "this request requires an Idempotency-Key header",
            )),
            None => Ok(None),
            Some(v) => {
                let text = v
                    .to_str()
                    .map_err(|_| ApiError::bad_request(HEADER, "must be visible ASCII"))?;
                Self::parse(text).map(Some)
            }
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A successful JSON answer of a mutating endpoint: what is stored and replayed.
pub struct JsonReply {
    pub status: StatusCode,
    pub body: serde_json::Value,
}

impl JsonReply {
    pub fn created(body: impl serde::Serialize) -> Result<Self, ApiError> {
        Self::with_status(StatusCode::CREATED, body)
    }
    pub fn ok(body: impl serde::Serialize) -> Result<Self, ApiError> {
        Self::with_status(StatusCode::OK, body)
    }
    pub fn with_status(status: StatusCode, body: impl serde::Serialize) -> Result<Self, ApiError> {
        let body = serde_json::to_value(body).map_err(|e| ApiError::Internal(e.into()))?;
        Ok(Self { status, body })
    }
}

/// The fingerprint of a request: method, path and body.
pub fn fingerprint(req: &HttpRequest, body: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(req.method().as_str().as_bytes());
    h.update(b" ");
    h.update(req.path().as_bytes());
    h.update(b"\n");
    h.update(body);
    hex::encode(h.finalize())
}

/// Runs `work` at most once per (caller, key). Without a key it simply runs. Only successful
/// answers are stored: a refused request changed nothing, so the client may correct and retry.
pub async fn run<F, Fut>(
    state: &AppState,
    caller: &Caller,
    key: Option<IdempotencyKey>,
    fingerprint: String,
    work: F,
) -> Result<HttpResponse, ApiError>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<JsonReply, ApiError>>,
{
    let Some(key) = key else {
        let reply = work().await?;
        return Ok(respond(&reply.status, reply.body.to_string(), false));
    };
    let scope = scope_of(caller);
    let now = state.clock.now();
    let lock_until = now + chrono::Duration::from_std(IN_FLIGHT_LOCK).unwrap_or_default();
    let claim = state
        .store
        .claim_idempotency_key(&scope, key.as_str(), &fingerprint, now, lock_until)
        .await?;
    match claim {
        crate::storage::idempotency::Claim::Mismatch => Err(ApiError::IdempotencyKeyReused),
        crate::storage::idempotency::Claim::InFlight => Err(ApiError::IdempotencyKeyInUse),
        crate::storage::idempotency::Claim::Done { status, body } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            Ok(respond(&status, body, true))
        }
        crate::storage::idempotency::Claim::Acquired => match work().await {
            Ok(reply) => {
                let body = reply.body.to_string();
                state
                    .store
                    .complete_idempotency_key(&scope, key.as_str(), reply.status.as_u16(), &body)
                    .await?;
                Ok(respond(&reply.status, body, false))
            }
            Err(e) => {
                if let Err(release) = state
                    .store
                    .release_idempotency_key(&scope, key.as_str())
                    .await
                {
                    tracing::warn!(error = %release, "could not release an idempotency key");
                }
                Err(e)
            }
        },
    }
}

/// The owner of a key: the token's `sub` and `agency` together, written as a JSON array so that
/// no pair of values can spell another pair.
fn scope_of(caller: &Caller) -> String {
    serde_json::json!([caller.sub, caller.agency]).to_string()
}

fn respond(status: &StatusCode, body: String, replayed: bool) -> HttpResponse {
    let mut builder = HttpResponse::build(*status);
    builder.content_type("application/json");
    if replayed {
        builder.insert_header((REPLAYED_HEADER, "true"));
    }
    builder.body(body)
}
