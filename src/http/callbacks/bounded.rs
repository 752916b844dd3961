//! What is kept of a callback (verified ones whole, the others bounded, NUL never stored) and
//! what is refused (over the limit, a disabled gateway).

use actix_web::HttpResponse;
use sha2::{Digest, Sha256};

/// How much of a callback that failed verification is kept.
pub const UNVERIFIED_KEPT_BYTES: usize = 2048;

/// The text kept of `payload`: whole when verified, else its first 2,048 bytes; as UTF-8 with
/// invalid sequences and NUL replaced by U+FFFD (PostgreSQL text cannot hold NUL).
pub fn kept_text(payload: &[u8], unverified: bool) -> String {
    let bytes = if unverified && payload.len() > UNVERIFIED_KEPT_BYTES {
        &payload[..UNVERIFIED_KEPT_BYTES]
    } else {
        payload
    };
    String::from_utf8_lossy(bytes).replace('\0', "\u{fffd}")
}

/// Lower-case hex SHA-256 of the whole payload.
pub fn sha256_hex(payload: &[u8]) -> String {
    hex::encode(Sha256::digest(payload))
}

/// A JSON body holding NUL, raw or escaped (`\u0000`, also inside ZaloPay's nested `data`).
pub fn body_has_nul(body: &[u8]) -> bool {
    body.contains(&0) || body.windows(6).any(|w| w.eq_ignore_ascii_case(b"\\u0000"))
}

/// A query string one of whose decoded names or values holds NUL.
pub fn query_has_nul(query: &str) -> bool {
    form_urlencoded::parse(query.as_bytes()).any(|(k, v)| k.contains('\0') || v.contains('\0'))
}

/// An unverified callback over its sender's limit: answered 429, stored nowhere.
#[derive(Debug, thiserror::Error)]
#[error("unverified callbacks over the limit; retry after {0} s")]
pub struct Limited(pub u64);

/// The answer for a callback that failed: 429 when it was over the limit, else `fallback`.
pub fn failed(e: &anyhow::Error, what: &str, fallback: HttpResponse) -> HttpResponse {
    if let Some(Limited(secs)) = e.downcast_ref::<Limited>() {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unverified_payloads_are_cut_at_2048_bytes_and_nul_is_replaced() {
        let big = vec![b'a'; 65_000];
        assert_eq!(kept_text(&big, true).len(), 2048);
        assert_eq!(kept_text(&big, false).len(), 65_000);
        assert_eq!(kept_text(b"a\0b", false), "a\u{fffd}b");
        assert_eq!(sha256_hex(b"").len(), 64);
        assert!(body_has_nul(br#"{"orderId":"x\u0000"}"#));
        assert!(body_has_nul(b"{\"a\":\"\0\"}"));
        assert!(!body_has_nul(br#"{"orderId":"x"}"#));
        assert!(query_has_nul("vnp_TxnRef=a%00b"));
        assert!(!query_has_nul("vnp_TxnRef=ab"));
    }
}
