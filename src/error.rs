//! The service's error: what went wrong, in the domain's terms, with a stable machine code and
//! the fields at fault. How it is answered over HTTP (status, problem+json body, headers) is
//! `http::errors`' business.

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
    DatabaseUnavailable,
    Internal,
    RequestTimeout,
}

impl ErrorCode {
    /// Every code, in the order `/docs/errors` explains them.
    pub const ALL: [ErrorCode; 16] = [
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
        Self::DatabaseUnavailable,
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
            Self::DatabaseUnavailable => "database_unavailable",
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
            Self::DatabaseUnavailable => "The service's database is unavailable",
            Self::Internal => "Internal error",
            Self::RequestTimeout => "The request body did not arrive in time",
        }
    }
}

/// The error use cases and handlers return.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The input is not acceptable. `malformed` when it could not even be read (bad syntax, a
    /// missing header or parameter), otherwise it was read and breaks a rule.
    #[error("validation failed: {detail}")]
    Validation {
        malformed: bool,
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
    /// The database could not be reached, or the connection was lost, or no connection came
    /// free in time: the request may be retried (after [`DATABASE_RETRY_AFTER`] seconds).
    #[error("database unavailable: {0}")]
    DatabaseUnavailable(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
    /// Over a rate limit; the client may retry after this many seconds.
    #[error("rate limited")]
    RateLimited(u64),
    #[error("request body timed out")]
    RequestTimeout,
}

impl ApiError {
    /// Input that was read and breaks a rule, with one entry per field.
    pub fn invalid(errors: Vec<FieldError>) -> Self {
        let detail = summarize(&errors);
        Self::Validation {
            malformed: false,
            detail,
            errors,
        }
    }

    /// Input that breaks a rule, naming one field.
    pub fn invalid_field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::invalid(vec![FieldError::new(field, message)])
    }

    /// Input that could not be read (malformed syntax or a missing header), naming one field.
    pub fn bad_request(field: impl Into<String>, message: impl Into<String>) -> Self {
        let errors = vec![FieldError::new(field, message)];
        Self::Validation {
            malformed: true,
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
            Self::DatabaseUnavailable(_) => ErrorCode::DatabaseUnavailable,
            Self::Internal(_) => ErrorCode::Internal,
            Self::RateLimited(_) => ErrorCode::RateLimited,
            Self::RequestTimeout => ErrorCode::RequestTimeout,
        }
    }

    /// The human explanation a client may see: never internal detail.
    pub fn detail(&self) -> String {
        match self {
            Self::Validation { detail, .. } => detail.clone(),
            Self::Unauthorized(d)
            | Self::Forbidden(d)
            | Self::NotFound(d)
            | Self::Conflict(d)
            | Self::InvalidState(d)
            | Self::UnsupportedMediaType(d) => d.clone(),
            Self::GatewayUnavailable(_) => {
                "the payment gateway did not answer; try again or choose another".to_owned()
            }
            Self::PayloadTooLarge(limit) => format!("the body exceeds {limit} bytes"),
            Self::MethodNotAllowed => "this path does not accept this method".to_owned(),
            Self::IdempotencyKeyReused => {
                "this Idempotency-Key was used with a different request body".to_owned()
            }
            Self::IdempotencyKeyInUse => {
                "a request with this Idempotency-Key is still being processed; retry later"
                    .to_owned()
            }
            Self::DatabaseUnavailable(_) => format!(
                "the service could not reach its database; retry after {DATABASE_RETRY_AFTER} s"
            ),
            Self::Internal(_) => {
                "an internal error occurred; quote the X-Request-Id when reporting it".to_owned()
            }
            Self::RateLimited(secs) => format!("too many requests; retry after {secs} s"),
            Self::RequestTimeout => {
                "the request body stalled and was not read to its end".to_owned()
            }
        }
    }

    /// The fields at fault, if the input was.
    pub fn field_errors(&self) -> &[FieldError] {
        match self {
            Self::Validation { errors, .. } => errors,
            _ => &[],
        }
    }
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

/// Seconds a client is asked to wait before retrying when the database is unavailable.
pub const DATABASE_RETRY_AFTER: u64 = 1;

/// Whether a database error means the database could not be reached or the connection failed
/// (nothing wrong with the request): a refused or lost connection, no connection free in time,
/// or the server refusing connections (SQLSTATE class 08; 57P01–57P03, shutting down or
/// starting; 53300, too many connections).
fn is_unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            code.starts_with("08") || ["57P01", "57P02", "57P03", "53300"].contains(&code.as_ref())
        }),
        _ => false,
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        // PostgreSQL refuses a NUL in text (SQLSTATE 22021). Input is checked for it field by
        // field; one that still reaches the database is the request's fault, not the server's.
        let refused_nul = e
            .as_database_error()
            .and_then(|d| d.code())
            .is_some_and(|code| code == "22021");
        if refused_nul {
            return Self::bad_request("request", "holds a NUL character, which cannot be stored");
        }
        if is_unavailable(&e) {
            return Self::DatabaseUnavailable(e.to_string());
        }
        Self::Internal(anyhow::Error::new(e).context("database"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreachable_database_is_unavailable_and_a_bad_statement_internal() {
        let io = || std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "eof at 10.0.0.5");
        for e in [
            sqlx::Error::Io(io()),
            sqlx::Error::PoolTimedOut,
            sqlx::Error::PoolClosed,
        ] {
            let api = ApiError::from(e);
            assert_eq!(api.code().as_str(), "database_unavailable");
            assert!(!api.detail().contains("10.0.0.5"), "{}", api.detail());
        }
        for e in [
            sqlx::Error::RowNotFound,
            sqlx::Error::Protocol("unexpected message".into()),
            sqlx::Error::ColumnNotFound("x".into()),
        ] {
            assert_eq!(ApiError::from(e).code().as_str(), "internal");
        }
    }

    #[test]
    fn internal_errors_reveal_nothing() {
        let err = ApiError::Internal(anyhow::anyhow!("password=hunter2 at db.internal"));
        assert!(!err.detail().contains("hunter2"));
        assert_eq!(err.code().as_str(), "internal");
    }

    #[test]
    fn validation_names_the_field() {
        let err = ApiError::invalid_field("parcel.area_m2", "must be > 0");
        assert!(matches!(
            err,
            ApiError::Validation {
                malformed: false,
                ..
            }
        ));
        assert_eq!(err.field_errors()[0].field, "parcel.area_m2");
        assert_eq!(err.detail(), "parcel.area_m2: must be > 0");
        let err = ApiError::bad_request("Idempotency-Key", "is required");
        assert!(matches!(
            err,
            ApiError::Validation {
                malformed: true,
                ..
            }
        ));
    }
}
