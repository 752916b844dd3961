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
use crate::storage::idempotency::{Claim, KeyAnswer};

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
        Claim::Acquired => match work().await {
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
        known => settled(known),
    }
}

/// A reply as sent: its status and its exact body (what a replay sends again).
pub struct Sent {
    pub status: StatusCode,
    pub body: String,
}

impl Sent {
    pub fn json(reply: JsonReply) -> Self {
        Self {
            status: reply.status,
            body: reply.body.to_string(),
        }
    }
}

/// A key not yet stored, for work that stores it with its answer ([`run_answered`]).
pub struct Pending {
    client: String,
    key: String,
    hash: String,
}

impl Pending {
    /// The row to write, in the work's transaction, for `sent`.
    pub fn answer(&self, sent: &Sent) -> KeyAnswer {
        KeyAnswer {
            client: self.client.clone(),
            key: self.key.clone(),
            hash: self.hash.clone(),
            status: sent.status.as_u16(),
            body: sent.body.clone(),
        }
    }
}

/// Like [`run`], for work that writes the key and its answer in its own transaction, with
/// the state change they answer: one commit, and no moment at which the work is done but its
/// answer unknown. The key is looked up first (a stored answer is replayed, another
/// request's fingerprint refused); the work gets the key to store with its answer. A
/// concurrent duplicate is held by the key's unique index until the first commits, and is then
/// refused as in use (`409`; its retry replays the stored answer); a failure stores nothing, so
/// the client may correct and retry.
pub async fn run_answered<F, Fut>(
    state: &AppState,
    caller: &Caller,
    key: Option<IdempotencyKey>,
    fingerprint: String,
    work: F,
) -> Result<HttpResponse, ApiError>
where
    F: FnOnce(Option<Pending>) -> Fut,
    Fut: Future<Output = Result<Sent, ApiError>>,
{
    let Some(key) = key else {
        let sent = work(None).await?;
        return Ok(respond(&sent.status, sent.body, false));
    };
    let client = scope_of(caller);
    let lookup = |now| {
        state
            .store
            .find_idempotency_key(&client, key.as_str(), &fingerprint, now)
    };
    match lookup(state.clock.now()).await? {
        Claim::Acquired => {}
        known => return settled(known),
    }
    let pending = Pending {
        client: client.clone(),
        key: key.as_str().to_owned(),
        hash: fingerprint.clone(),
    };
    match work(Some(pending)).await {
        Ok(sent) => Ok(respond(&sent.status, sent.body, false)),
        // Refused — perhaps because a duplicate running alongside stored the key (or took the
        // items) first: this request was a concurrent duplicate (409, and a retry replays the
        // stored answer), or reused the key for another request (422).
        Err(e) => match lookup(state.clock.now()).await {
            Ok(Claim::Acquired) | Err(_) => Err(e),
            Ok(Claim::Mismatch) => Err(ApiError::IdempotencyKeyReused),
            Ok(Claim::InFlight | Claim::Done { .. }) => Err(ApiError::IdempotencyKeyInUse),
        },
    }
}

/// The answer for a key already known.
fn settled(claim: Claim) -> Result<HttpResponse, ApiError> {
    match claim {
        Claim::Mismatch => Err(ApiError::IdempotencyKeyReused),
        Claim::Acquired | Claim::InFlight => Err(ApiError::IdempotencyKeyInUse),
        Claim::Done { status, body } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            Ok(respond(&status, body, true))
        }
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
