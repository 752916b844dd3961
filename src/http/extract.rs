//! Request-body extraction with problem+json errors that name the field.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use futures_util::StreamExt;
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::http::state::AppState;

/// A JSON body parsed into `T`, with the raw bytes kept for fingerprints. Malformed JSON is 400;
/// JSON of the wrong shape is 422 naming the path of the offending field.
pub struct JsonBody<T> {
    pub value: T,
    pub raw: web::Bytes,
}

impl<T: DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = req
            .app_data::<web::Data<AppState>>()
            .map(|s| s.settings.server.max_body_bytes)
            .unwrap_or(1 << 20);
        let content_type_ok = match req.headers().get(header::CONTENT_TYPE) {
            None => true,
            Some(v) => v
                .to_str()
                .map(|ct| {
                    let ct = ct.to_ascii_lowercase();
                    ct.starts_with("application/json") || ct.contains("+json")
                })
                .unwrap_or(false),
        };
        let mut payload = payload.take();
        Box::pin(async move {
            if !content_type_ok {
                return Err(ApiError::UnsupportedMediaType(
                    "send the body as application/json".into(),
                ));
            }
            let raw = read_limited(&mut payload, limit).await?;
            let value = parse_json(&raw)?;
            Ok(JsonBody { value, raw })
        })
    }
}

/// The typed id a path segment names. A segment of another shape names no record, so it is
/// answered as an unknown id is: 404, `what` and the segment as sent.
pub fn path_id<T>(raw: &str, parse: fn(&str) -> Option<T>, what: &str) -> Result<T, ApiError> {
    parse(raw).ok_or_else(|| ApiError::NotFound(format!("{what} {raw}")))
}

/// Reads a whole body, refusing more than `limit` bytes.
pub async fn read_limited(payload: &mut Payload, limit: usize) -> Result<web::Bytes, ApiError> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| {
            if crate::http::guard::is_timeout(&e) {
                ApiError::RequestTimeout
            } else {
                ApiError::bad_request("body", format!("could not be read: {e}"))
            }
        })?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// Parses JSON into `T`, naming the path of a field of the wrong shape.
pub fn parse_json<T: DeserializeOwned>(raw: &[u8]) -> Result<T, ApiError> {
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request("body", "a JSON body is required"));
    }
    // A forbidden character can reach a string only as an escape or as a raw DEL (a raw
    // control character is not valid JSON): a body with neither needs no look.
    let may_hide_control = memchr::memchr2(b'\\', 0x7f, raw).is_some();
    if let Some(value) = may_hide_control
        .then(|| serde_json::from_slice::<serde_json::Value>(raw).ok())
        .flatten()
    {
        if let Some(field) = control_char_at(&value, String::new()) {
            let field = if field.is_empty() {
                "body".to_owned()
            } else {
                field
            };
            return Err(ApiError::invalid_field(
                field,
                "must not contain control characters",
            ));
        }
    }
    // Parsed as is first; only a body that fails is parsed again to find the path it fails at
    // (keeping the path on every body costs a sixth of a quote's parse).
    if let Ok(v) = serde_json::from_slice::<T>(raw) {
        return Ok(v);
    }
    let mut de = serde_json::Deserializer::from_slice(raw);
    match serde_path_to_error::deserialize::<_, T>(&mut de) {
        // Whole and of the right shape, yet refused above: something follows the value.
        Ok(_) => Err(match de.end() {
            Err(inner) => ApiError::bad_request("body", format!("is not valid JSON: {inner}")),
            Ok(()) => ApiError::bad_request("body", "is not valid JSON"),
        }),
        Err(e) => {
            let path = e.path().to_string();
            let inner = e.into_inner();
            if inner.is_syntax() || inner.is_eof() {
                Err(ApiError::bad_request(
                    "body",
                    format!("is not valid JSON: {inner}"),
                ))
            } else {
                Err(ApiError::invalid(vec![crate::wording::field_error(
                    &path,
                    &inner.to_string(),
                )]))
            }
        }
    }
}

/// The JSON path of the first string (or key) holding a NUL or another control character.
fn control_char_at(value: &serde_json::Value, path: String) -> Option<String> {
    use crate::http::guard::is_forbidden_char;
    match value {
        serde_json::Value::String(s) => s.chars().any(is_forbidden_char).then_some(path),
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| control_char_at(v, format!("{path}[{i}]"))),
        serde_json::Value::Object(map) => map.iter().find_map(|(k, v)| {
            let at = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            if k.chars().any(is_forbidden_char) {
                Some(if path.is_empty() {
                    "body".to_owned()
                } else {
                    path.clone()
                })
            } else {
                control_char_at(v, at)
            }
        }),
        _ => None,
    }
}

/// Query parameters parsed into `T`; a value of the wrong type is a 400 naming the parameter.
pub struct Query<T>(pub T);

impl<T> std::ops::Deref for Query<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> Query<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: DeserializeOwned> FromRequest for Query<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(parse_query(req.query_string()).map(Query))
    }
}

/// Parses a query string into `T`, naming the parameter at fault.
pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let pairs = form_urlencoded::parse(query.as_bytes());
    let de = serde_urlencoded::Deserializer::new(pairs);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let error = crate::wording::field_error(&path, &e.into_inner().to_string());
        let field = if error.field == "body" {
            "query".to_owned()
        } else {
            error.field
        };
        ApiError::bad_request(field, error.message)
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// The field a refused body names, or `None` when it parsed.
    fn refused_field(raw: &[u8]) -> Option<String> {
        parse_json::<serde_json::Value>(raw)
            .err()
            .map(|e| e.field_errors()[0].field.clone())
    }

    #[test]
    fn a_value_followed_by_anything_is_refused_and_a_bad_field_is_named() {
        assert_eq!(
            refused_field(br#"{"a": 1} {"b": 2}"#).as_deref(),
            Some("body")
        );
        assert_eq!(refused_field(br#"{"a": 1} x"#).as_deref(), Some("body"));
        assert_eq!(refused_field(b"{\"a\": 1}  \r\n"), None);
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Order {
            lines: Vec<Line>,
        }
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Line {
            amount: i64,
        }
        let e = parse_json::<Order>(br#"{"lines": [{"amount": 1}, {"amount": "x"}]}"#).unwrap_err();
        assert_eq!(e.field_errors()[0].field, "lines[1].amount");
        assert!(parse_json::<Order>(br#"{"lines": [{"amount": 1}]}"#).is_ok());
    }

    #[test]
    fn a_control_character_is_found_however_it_is_written() {
        // Escaped, in nested values and keys, and as a raw DEL (which JSON allows unescaped).
        let at = |raw: &[u8]| refused_field(raw);
        assert_eq!(
            at(br#"{"a": {"b": ["ok", "x\u0000"]}}"#).as_deref(),
            Some("a.b[1]")
        );
        assert_eq!(at(br#"{"a": "\b"}"#).as_deref(), Some("a"));
        assert_eq!(at(br#"{"a": "\u007f"}"#).as_deref(), Some("a"));
        assert_eq!(at(b"{\"a\": {\"b\": \"x\x7fy\"}}").as_deref(), Some("a.b"));
        assert_eq!(at(br#"{"k\u0001": 1}"#).as_deref(), Some("body"));
        assert_eq!(at(br#""\u0000""#).as_deref(), Some("body"));
        // Allowed escapes, plain text and Vietnamese pass.
        assert_eq!(at(br#"{"a": "line\nnext\ttab \"q\" \\"}"#), None);
        assert_eq!(
            at("{\"a\": \"Lệ phí trước bạ\", \"n\": [1, 2]}".as_bytes()),
            None
        );
        // A raw control character is not JSON at all.
        assert_eq!(at(b"{\"a\": \"x\x01\"}").as_deref(), Some("body"));
    }
}
