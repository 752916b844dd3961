//! Framework-level failures (unknown routes, wrong methods, bad path or query) as problem+json.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::ServiceResponse;
use actix_web::http::header;
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{error, web, HttpRequest, HttpResponse};

use crate::error::ApiError;

/// Default service: an unknown path.
pub async fn not_found(req: HttpRequest) -> HttpResponse {
    actix_web::ResponseError::error_response(&ApiError::NotFound(format!(
        "no route for {}",
        req.path()
    )))
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
            problem.insert(
                "type".into(),
                crate::error::problem_type(base_url, &code).into(),
            );
            problem.insert("request_id".into(), request_id.into());
            serde_json::to_vec(&problem).map_or(bytes, web::Bytes::from)
        }
        _ => bytes,
    };
    ServiceResponse::new(req, response.set_body(BoxBody::new(stamped)))
}
