//! What is refused before or instead of an answer: a callback over its sender's limit, a
//! disabled gateway, a callback that could not be decided.

use actix_web::HttpResponse;

use crate::payments::callbacks::ReceiveError;

/// The answer for a callback that got none: 429 when it was over the limit (stored nowhere),
/// else `fallback`.
pub fn failed(e: &ReceiveError, what: &str, fallback: HttpResponse) -> HttpResponse {
    if let ReceiveError::Limited(secs) = e {
        return actix_web::ResponseError::error_response(&crate::error::ApiError::RateLimited(
            *secs,
        ));
    }
    tracing::error!(error = ?e, "{what} failed");
    fallback
}

/// 404 for the routes of a gateway that is not enabled: nothing is read or stored.
pub fn disabled() -> HttpResponse {
    actix_web::ResponseError::error_response(&crate::error::ApiError::NotFound(
        "this gateway is not enabled".into(),
    ))
}
