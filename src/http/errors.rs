//! Errors as HTTP answers: the status of each `ApiError`, its `application/problem+json` body,
//! and framework-level failures (unknown routes, wrong methods, bad path or query) in the same shape.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::ServiceResponse;
use actix_web::http::{header, StatusCode};
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{error, web, HttpRequest, HttpResponse, ResponseError};
use serde::Serialize;

use crate::error::{ApiError, FieldError};

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

impl Problem {
    /// The body sent to the client for `err`: never internal detail.
    pub fn of(err: &ApiError) -> Self {
        let code = err.code();
        Self {
            // Made absolute, with the request id added, as the response leaves (`stamp_problem`).
            kind: problem_type("", code.as_str()),
            title: code.title().to_owned(),
            status: status_of(err).as_u16(),
            code: code.as_str().to_owned(),
            detail: err.detail(),
            errors: err.field_errors().to_vec(),
            request_id: None,
        }
    }
}

/// The `type` of a problem: the anchor of its code on this service's `/docs/errors` page.
pub fn problem_type(base_url: &str, code: &str) -> String {
    format!("{}/docs/errors#{code}", base_url.trim_end_matches('/'))
}

/// The HTTP status that answers `err`.
pub fn status_of(err: &ApiError) -> StatusCode {
    match err {
        ApiError::Validation {
            malformed: true, ..
        } => StatusCode::BAD_REQUEST,
        ApiError::Validation {
            malformed: false, ..
        } => StatusCode::UNPROCESSABLE_ENTITY,
        ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
        ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
        ApiError::NotFound(_) => StatusCode::NOT_FOUND,
        ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        ApiError::Conflict(_) | ApiError::IdempotencyKeyInUse | ApiError::InvalidState(_) => {
            StatusCode::CONFLICT
        }
        ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
        ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ApiError::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
        ApiError::GatewayUnavailable(_) => StatusCode::BAD_GATEWAY,
        ApiError::DatabaseUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        ApiError::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
        ApiError::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        status_of(self)
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            // The whole cause chain, once, at the boundary; the request span carries the request id.
            Self::Internal(e) => tracing::error!(error = ?e, "request failed"),
            Self::GatewayUnavailable(cause) => tracing::warn!(%cause, "gateway unavailable"),
            Self::DatabaseUnavailable(cause) => tracing::warn!(%cause, "database unavailable"),
            _ => {}
        }
        let mut res = problem_response(status_of(self), &Problem::of(self));
        let retry_after = match self {
            Self::RateLimited(secs) => Some(*secs),
            Self::DatabaseUnavailable(_) => Some(crate::error::DATABASE_RETRY_AFTER),
            _ => None,
        };
        if let Some(secs) = retry_after {
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

/// Default service: an unknown path.
pub async fn not_found(req: HttpRequest) -> HttpResponse {
    ResponseError::error_response(&ApiError::NotFound(format!("no route for {}", req.path())))
}

/// Replaces an empty framework error body (404, 405, 413) with a problem body; a problem or a
/// payer's error page (HTML) that a handler wrote stays as it is.
pub fn problem_for_framework_error<B>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.starts_with("application/problem+json") || ct.starts_with("text/html")
        });
    if is_problem {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let error = match res.status().as_u16() {
        405 => ApiError::MethodNotAllowed,
        413 => ApiError::PayloadTooLarge(0),
        _ => ApiError::NotFound(format!("no route for {}", res.request().path())),
    };
    let (req, _) = res.into_parts();
    let response = ResponseError::error_response(&error);
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(req, response).map_into_right_body(),
    ))
}

pub fn path_error(err: error::PathError, _: &HttpRequest) -> actix_web::Error {
    ApiError::bad_request("path", err.to_string()).into()
}

pub fn query_error(err: error::QueryPayloadError, _: &HttpRequest) -> actix_web::Error {
    let message = err.to_string();
    // serde_urlencoded names the field in its message: "unknown variant `x` for `group_by`".
    ApiError::bad_request("query", message).into()
}

/// Gives every problem+json body leaving the service its `request_id` (the `X-Request-Id` of
/// the answer) and an absolute `type`: `<public_base_url>/docs/errors#<code>`.
pub async fn stamp_problem<B>(
    res: ServiceResponse<B>,
    request_id: &str,
    base_url: &str,
) -> ServiceResponse<BoxBody>
where
    B: MessageBody + 'static,
{
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/problem+json"));
    if !is_problem {
        return res.map_into_boxed_body();
    }
    let (req, response) = res.into_parts();
    let (response, body) = response.into_parts();
    let bytes = match actix_web::body::to_bytes_limited(body, 1 << 20).await {
        Ok(Ok(bytes)) => bytes,
        _ => return ServiceResponse::new(req, response.set_body(BoxBody::new(()))),
    };
    let stamped = match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(serde_json::Value::Object(mut problem)) => {
            let code = problem
                .get("code")
                .and_then(|c| c.as_str())
                .unwrap_or("internal")
                .to_owned();
            problem.insert("type".into(), problem_type(base_url, &code).into());
            problem.insert("request_id".into(), request_id.into());
            serde_json::to_vec(&problem).map_or(bytes, web::Bytes::from)
        }
        _ => bytes,
    };
    ServiceResponse::new(req, response.set_body(BoxBody::new(stamped)))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn internal_errors_reveal_nothing() {
        let err = ApiError::Internal(anyhow::anyhow!("password=hunter2 at db.internal"));
        let body = serde_json::to_string(&Problem::of(&err)).unwrap();
        assert!(!body.contains("hunter2"));
        assert!(body.contains("\"code\":\"internal\""));
        assert!(body.contains("\"status\":500"));
    }

    #[test]
    fn validation_names_the_field() {
        let p = Problem::of(&ApiError::invalid_field("parcel.area_m2", "must be > 0"));
        assert_eq!(p.status, 422);
        assert_eq!(p.errors[0].field, "parcel.area_m2");
        assert_eq!(p.kind, "/docs/errors#validation_failed");
    }

    #[test]
    fn unreadable_input_is_a_bad_request() {
        let p = Problem::of(&ApiError::bad_request("Idempotency-Key", "is required"));
        assert_eq!(p.status, 400);
        assert_eq!(p.code, "validation_failed");
    }
}
