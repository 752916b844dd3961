//! Framework-level failures (unknown routes, wrong methods, bad path or query) as problem+json.

use actix_web::dev::ServiceResponse;
use actix_web::http::header;
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{error, HttpRequest, HttpResponse};

use crate::error::ApiError;

/// Default service: an unknown path.
pub async fn not_found(req: HttpRequest) -> HttpResponse {
    actix_web::ResponseError::error_response(&ApiError::NotFound(format!(
        "no route for {}",
        req.path()
    )))
}

/// Replaces an empty framework error body (404, 405, 413) with a problem body.
pub fn problem_for_framework_error<B>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/problem+json"));
    if is_problem {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let error = match res.status().as_u16() {
        405 => ApiError::MethodNotAllowed,
        413 => ApiError::PayloadTooLarge(0),
        _ => ApiError::NotFound(format!("no route for {}", res.request().path())),
    };
    let (req, _) = res.into_parts();
    let response = actix_web::ResponseError::error_response(&error);
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
