//! One error type for every handler, rendered as `application/problem+json`.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

/// One problem with one field of the input, named by its JSON path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// The stable machine codes of the problem bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    ValidationFailed,
    Unauthorized,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    Conflict,
    PayloadTooLarge,
    UnsupportedMediaType,
    IdempotencyKeyReused,
    IdempotencyKeyInUse,
    InvalidState,
    RateLimited,
    GatewayUnavailable,
    Internal,
    RequestTimeout,
}

impl ErrorCode {
    /// Every code, in the order `/docs/errors` explains them.
    pub const ALL: [ErrorCode; 15] = [
        Self::ValidationFailed,
        Self::Unauthorized,
        Self::Forbidden,
        Self::NotFound,
        Self::MethodNotAllowed,
        Self::Conflict,
        Self::PayloadTooLarge,
        Self::UnsupportedMediaType,
        Self::IdempotencyKeyReused,
        Self::IdempotencyKeyInUse,
        Self::InvalidState,
        Self::RateLimited,
        Self::GatewayUnavailable,
        Self::Internal,
        Self::RequestTimeout,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ValidationFailed => "validation_failed",
            Self::Unauthorized => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::Conflict => "conflict",
            Self::PayloadTooLarge => "payload_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::IdempotencyKeyReused => "idempotency_key_reused",
            Self::IdempotencyKeyInUse => "idempotency_key_in_use",
            Self::InvalidState => "invalid_state",
            Self::RateLimited => "rate_limited",
            Self::GatewayUnavailable => "gateway_unavailable",
            Self::Internal => "internal",
            Self::RequestTimeout => "request_timeout",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Self::ValidationFailed => "The request is not valid",
            Self::Unauthorized => "Authentication is required",
            Self::Forbidden => "This caller may not do that",
            Self::NotFound => "Not found",
            Self::MethodNotAllowed => "Method not allowed",
            Self::Conflict => "Conflict with the current state",
            Self::PayloadTooLarge => "The request body is too large",
            Self::UnsupportedMediaType => "Unsupported content type",
            Self::IdempotencyKeyReused => "Idempotency key reused with a different request",
            Self::IdempotencyKeyInUse => "A request with this idempotency key is in progress",
            Self::InvalidState => "Not allowed in the current state",
            Self::RateLimited => "Too many requests",
            Self::GatewayUnavailable => "The payment gateway is unavailable",
            Self::Internal => "Internal error",
            Self::RequestTimeout => "The request body did not arrive in time",
        }
    }
}

/// The problem+json body.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(example = json!({
    "type": "http://localhost:8080/docs/errors#validation_failed", "title": "The request is not valid",
    "status": 422, "code": "validation_failed", "detail": "payer: is required",
    "errors": [{"field": "payer", "message": "is required"}],
    "request_id": "01kbf6b3m0d5n6d2cq1w3v9hzx"}))]
pub struct Problem {
    /// `<public_base_url>/docs/errors#<code>`: a page of this service explaining the code.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub code: String,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Equal to the `X-Request-Id` response header: quote it when asking for support.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// The only error type handlers return.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("validation failed: {detail}")]
    Validation {
        status: StatusCode,
        detail: String,
        errors: Vec<FieldError>,
    },
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("payload too large")]
    PayloadTooLarge(usize),
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    #[error("idempotency key reused")]
    IdempotencyKeyReused,
    #[error("idempotency key in use")]
    IdempotencyKeyInUse,
    #[error("invalid state: {0}")]
    InvalidState(String),
    #[error("gateway unavailable: {0}")]
    GatewayUnavailable(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
    /// Over a rate limit; the client may retry after this many seconds.
    #[error("rate limited")]
    RateLimited(u64),
    #[error("request body timed out")]
    RequestTimeout,
}

impl ApiError {
    /// 422 with one entry per field.
    pub fn invalid(errors: Vec<FieldError>) -> Self {
        let detail = summarize(&errors);
        Self::Validation {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            detail,
            errors,
        }
    }

    /// 422 naming one field.
    pub fn invalid_field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::invalid(vec![FieldError::new(field, message)])
    }

    /// 400 naming one field (malformed syntax or a missing header).
    pub fn bad_request(field: impl Into<String>, message: impl Into<String>) -> Self {
        let errors = vec![FieldError::new(field, message)];
        Self::Validation {
            status: StatusCode::BAD_REQUEST,
            detail: summarize(&errors),
            errors,
        }
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Validation { .. } => ErrorCode::ValidationFailed,
            Self::Unauthorized(_) => ErrorCode::Unauthorized,
            Self::Forbidden(_) => ErrorCode::Forbidden,
            Self::NotFound(_) => ErrorCode::NotFound,
            Self::MethodNotAllowed => ErrorCode::MethodNotAllowed,
            Self::Conflict(_) => ErrorCode::Conflict,
            Self::PayloadTooLarge(_) => ErrorCode::PayloadTooLarge,
            Self::UnsupportedMediaType(_) => ErrorCode::UnsupportedMediaType,
            Self::IdempotencyKeyReused => ErrorCode::IdempotencyKeyReused,
            Self::IdempotencyKeyInUse => ErrorCode::IdempotencyKeyInUse,
            Self::InvalidState(_) => ErrorCode::InvalidState,
            Self::GatewayUnavailable(_) => ErrorCode::GatewayUnavailable,
            Self::Internal(_) => ErrorCode::Internal,
            Self::RateLimited(_) => ErrorCode::RateLimited,
            Self::RequestTimeout => ErrorCode::RequestTimeout,
        }
    }

    /// The body sent to the client: never internal detail.
    pub fn problem(&self) -> Problem {
        let code = self.code();
        let status = self.status_code();
        let (detail, errors) = match self {
            Self::Validation { detail, errors, .. } => (detail.clone(), errors.clone()),
            Self::Unauthorized(d)
            | Self::Forbidden(d)
            | Self::NotFound(d)
            | Self::Conflict(d)
            | Self::InvalidState(d)
            | Self::UnsupportedMediaType(d) => (d.clone(), Vec::new()),
            Self::GatewayUnavailable(_) => (
                "the payment gateway did not answer; try again or choose another".to_owned(),
                Vec::new(),
            ),
            Self::PayloadTooLarge(limit) => (format!("the body exceeds {limit} bytes"), Vec::new()),
            Self::MethodNotAllowed => (
                "this path does not accept this method".to_owned(),
                Vec::new(),
            ),
            Self::IdempotencyKeyReused => (
                "this Idempotency-Key was used with a different request body".to_owned(),
                Vec::new(),
            ),
            Self::IdempotencyKeyInUse => (
                "a request with this Idempotency-Key is still being processed; retry later"
                    .to_owned(),
                Vec::new(),
            ),
            Self::Internal(_) => (
                "an internal error occurred; quote the X-Request-Id when reporting it".to_owned(),
                Vec::new(),
            ),
            Self::RateLimited(secs) => (
                format!("too many requests; retry after {secs} s"),
                Vec::new(),
            ),
            Self::RequestTimeout => (
                "the request body stalled and was not read to its end".to_owned(),
                Vec::new(),
            ),
        };
        Problem {
            // Made absolute, with the request id added, as the response leaves (http::errors).
            kind: problem_type("", code.as_str()),
            title: code.title().to_owned(),
            status: status.as_u16(),
            code: code.as_str().to_owned(),
            detail,
            errors,
            request_id: None,
        }
    }
}

/// The `type` of a problem: the anchor of its code on this service's `/docs/errors` page.
pub fn problem_type(base_url: &str, code: &str) -> String {
    format!("{}/docs/errors#{code}", base_url.trim_end_matches('/'))
}

fn summarize(errors: &[FieldError]) -> String {
    match errors {
        [] => "the request is not valid".to_owned(),
        [one] => format!("{}: {}", one.field, one.message),
        [first, rest @ ..] => format!(
            "{}: {} (and {} more)",
            first.field,
            first.message,
            rest.len()
        ),
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Validation { status, .. } => *status,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict(_) | Self::IdempotencyKeyInUse | Self::InvalidState(_) => {
                StatusCode::CONFLICT
            }
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            Self::GatewayUnavailable(_) => StatusCode::BAD_GATEWAY,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            // The whole cause chain, once, at the boundary; the request span carries the request id.
            Self::Internal(e) => tracing::error!(error = ?e, "request failed"),
            Self::GatewayUnavailable(cause) => tracing::warn!(%cause, "gateway unavailable"),
            _ => {}
        }
        let mut res = problem_response(self.status_code(), &self.problem());
        if let Self::RateLimited(secs) = self {
            if let Ok(v) = header::HeaderValue::from_str(&secs.to_string()) {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        if matches!(self, Self::RequestTimeout) {
            res.headers_mut().insert(
                header::CONNECTION,
                header::HeaderValue::from_static("close"),
            );
        }
        res
    }
}

/// Renders a problem body with its content type.
pub fn problem_response(status: StatusCode, problem: &Problem) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, "application/problem+json"))
        .body(serde_json::to_string(problem).unwrap_or_else(|_| "{}".to_owned()))
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        Self::Internal(anyhow::Error::new(e).context("database"))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn internal_errors_reveal_nothing() {
        let err = ApiError::Internal(anyhow::anyhow!("password=hunter2 at db.internal"));
        let body = serde_json::to_string(&err.problem()).unwrap();
        assert!(!body.contains("hunter2"));
        assert!(body.contains("\"code\":\"internal\""));
    }

    #[test]
    fn validation_names_the_field() {
        let err = ApiError::invalid_field("parcel.area_m2", "must be > 0");
        let p = err.problem();
        assert_eq!(p.status, 422);
        assert_eq!(p.errors[0].field, "parcel.area_m2");
        assert_eq!(p.kind, "/docs/errors#validation_failed");
    }
}
