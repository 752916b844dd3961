//! Edge guards for every request: control characters in the path and query refused naming the
//! field, a deadline on reading the body, and the security and caching headers of the answers.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web::{self, Bytes};
use actix_web::HttpMessage;
use futures_util::Stream;

use crate::error::ApiError;
use crate::http::state::AppState;

pub use crate::wording::is_forbidden_char;

/// The name of the path segment at `index` in `pattern` (`{id}` → `id`), else `path`.
fn segment_name(pattern: Option<&str>, index: usize) -> String {
    pattern
        .and_then(|p| p.split('/').nth(index))
        .and_then(|s| s.strip_prefix('{'))
        .and_then(|s| s.strip_suffix('}'))
        .map(|s| s.split(':').next().unwrap_or(s).to_owned())
        .unwrap_or_else(|| "path".to_owned())
}

/// The first path segment or query value holding a forbidden character, named.
fn control_in_target(req: &ServiceRequest) -> Option<ApiError> {
    let raw_path = req.uri().path();
    // Only a `%XX` escape or a raw byte can carry a control character: most targets have
    // neither and need no decoding.
    let plain = |text: &str| !text.bytes().any(|b| b == b'%' || b < b' ' || b == 0x7f);
    if plain(raw_path) && plain(req.query_string()) {
        return None;
    }
    for (i, segment) in raw_path.split('/').enumerate() {
        let decoded = percent_decode(segment);
        if decoded.chars().any(is_forbidden_char) {
            let pattern = req.request().match_pattern();
            return Some(ApiError::bad_request(
                segment_name(pattern.as_deref(), i),
                "must not contain control characters",
            ));
        }
    }
    for (key, value) in form_urlencoded::parse(req.query_string().as_bytes()) {
        if key.chars().chain(value.chars()).any(is_forbidden_char) {
            let field = if key.chars().any(is_forbidden_char) {
                "query".to_owned()
            } else {
                key.into_owned()
            };
            return Some(ApiError::bad_request(
                field,
                "must not contain control characters",
            ));
        }
    }
    None
}

fn percent_decode(segment: &str) -> String {
    // form_urlencoded decodes `%XX` (and `+`, which cannot hide a control character).
    form_urlencoded::parse(format!("x={segment}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// A body stream that ends with a timeout error once the server has waited `limit` in total for
/// the client's bytes: a body trickled a byte at a time runs out of time as surely as one that
/// stalls. Only waiting counts, so a handler that processes slowly between chunks is never
/// counted against the client.
struct Deadline {
    inner: Payload,
    /// Waiting time left.
    left: Duration,
    /// Since when the reader has been waiting, with the timer for what is left.
    waiting: Option<(tokio::time::Instant, Pin<Box<tokio::time::Sleep>>)>,
    fired: bool,
}

impl Deadline {
    fn new(inner: Payload, limit: Duration) -> Self {
        Self {
            inner,
            left: limit,
            waiting: None,
            fired: false,
        }
    }
}

impl Stream for Deadline {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.fired {
            return Poll::Ready(None);
        }
        if let Poll::Ready(item) = Pin::new(&mut self.inner).poll_next(cx) {
            if let Some((since, _)) = self.waiting.take() {
                self.left = self.left.saturating_sub(since.elapsed());
            }
            return Poll::Ready(item);
        }
        let left = self.left;
        let (_, sleep) = self.waiting.get_or_insert_with(|| {
            let now = tokio::time::Instant::now();
            (now, Box::pin(tokio::time::sleep_until(now + left)))
        });
        if sleep.as_mut().poll(cx).is_ready() {
            self.fired = true;
            let e = std::io::Error::new(std::io::ErrorKind::TimedOut, "body_timeout");
            return Poll::Ready(Some(Err(PayloadError::Io(e))));
        }
        Poll::Pending
    }
}

/// Whether a body read failed because its deadline passed.
pub fn is_timeout(e: &PayloadError) -> bool {
    matches!(e, PayloadError::Io(io) if io.kind() == std::io::ErrorKind::TimedOut)
}

/// Middleware: refuses control characters in the target (callbacks answer in their own
/// protocol instead), bounds the body's reading time, and adds the answer headers.
pub async fn guard(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    if !req.path().starts_with("/callbacks/") {
        if let Some(e) = control_in_target(&req) {
            let res = req.error_response(e);
            return Ok(with_headers(&state, res));
        }
    }
    let limit: Duration = state.settings.server.body_timeout.0;
    let inner = req.take_payload();
    let deadline = Deadline::new(inner, limit);
    let boxed: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> = Box::pin(deadline);
    req.set_payload(Payload::from(boxed));
    let res = next.call(req).await?.map_into_boxed_body();
    Ok(with_headers(&state, res))
}

fn with_headers(state: &AppState, mut res: ServiceResponse<BoxBody>) -> ServiceResponse<BoxBody> {
    let path = res.request().path().to_owned();
    let https = state
        .settings
        .server
        .public_base_url
        .starts_with("https://");
    let headers = res.headers_mut();
    if https {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    if path.starts_with("/v1/") {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if path == "/docs" || path.starts_with("/docs/") {
        // Swagger UI's page runs an inline bootstrap script and inline styles.
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
            ),
        );
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_named_by_the_route_pattern() {
        assert_eq!(segment_name(Some("/v1/payments/{id}"), 3), "id");
        assert_eq!(segment_name(Some("/pay/{id}"), 2), "id");
        assert_eq!(segment_name(Some("/docs/{_:.*}"), 2), "_");
        assert_eq!(segment_name(None, 2), "path");
        assert!(is_forbidden_char('\0') && is_forbidden_char('\u{1b}'));
        assert!(!is_forbidden_char('\n') && !is_forbidden_char('đ'));
        assert_eq!(percent_decode("a%00b"), "a\0b");
    }
}
