//! Pure wire-protocol layer for the payment gateways (VNPay, MoMo, ZaloPay, VietQR, the DVCQG
//! payment platform, PayGov).
//!
//! Nothing here does I/O: it builds signed requests, verifies signed callbacks and parses
//! them into typed values. Secrets are always parameters and never appear in errors or
//! `Debug` output.

pub mod adapters;
pub mod ascii;
pub mod callback;
pub mod dvcqg;
pub mod momo;
pub mod paygov;
pub mod vietqr;
pub mod vnpay;
pub mod zalopay;

use std::fmt;
use std::str::FromStr;

use chrono::FixedOffset;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Sha256, Sha512};

/// The gateways landpay speaks to; serialised and stored in lower case (`"vnpay"`, …) as on
/// the wire.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, sqlx::Type,
)]
#[serde(rename_all = "lowercase")]
#[sqlx(type_name = "text", rename_all = "lowercase")]
pub enum GatewayId {
    Vnpay,
    Momo,
    Zalopay,
    Vietqr,
    Dvcqg,
    Paygov,
}

impl GatewayId {
    pub const ALL: [GatewayId; 6] = [
        Self::Vnpay,
        Self::Momo,
        Self::Zalopay,
        Self::Vietqr,
        Self::Dvcqg,
        Self::Paygov,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Vnpay => "vnpay",
            Self::Momo => "momo",
            Self::Zalopay => "zalopay",
            Self::Vietqr => "vietqr",
            Self::Dvcqg => "dvcqg",
            Self::Paygov => "paygov",
        }
    }
}

impl fmt::Display for GatewayId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for GatewayId {
    type Err = GatewayError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|g| g.as_str() == s)
            .ok_or(GatewayError::UnknownGateway)
    }
}

/// Why a signature check failed. Deliberately carries no signature bytes or secrets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("signature missing")]
    Missing,
    #[error("signature is not valid hex")]
    Malformed,
    #[error("signature does not match")]
    Mismatch,
}

/// Errors of the gateway wire layer. Messages name fields, never secrets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GatewayError {
    #[error("invalid signature: {0}")]
    Signature(#[from] SignatureError),
    #[error("missing field `{0}`")]
    MissingField(&'static str),
    #[error("field `{field}` appears more than once")]
    DuplicateField { field: String },
    #[error("invalid field `{field}`: {reason}")]
    InvalidField { field: &'static str, reason: String },
    #[error("amount {amount_vnd} VND is outside {gateway}'s limits ({min_vnd}..={max_vnd} VND)")]
    AmountOutOfRange {
        gateway: GatewayId,
        amount_vnd: i64,
        min_vnd: i64,
        max_vnd: i64,
    },
    #[error("malformed JSON body: {0}")]
    Json(String),
    #[error("unknown gateway")]
    UnknownGateway,
}

impl GatewayError {
    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::InvalidField {
            field,
            reason: reason.into(),
        }
    }

    /// True when the error is a failed signature check (as opposed to a malformed message).
    pub fn is_signature(&self) -> bool {
        matches!(self, Self::Signature(_))
    }
}

/// Vietnam time (ICT, UTC+7, no DST): every gateway's dates are in it.
pub const UTC_PLUS_7: FixedOffset = match FixedOffset::east_opt(7 * 3600) {
    Some(offset) => offset,
    None => panic!("UTC+7 is a valid offset"),
};

fn hmac_sha512(key: &[u8]) -> Hmac<Sha512> {
    match <Hmac<Sha512> as Mac>::new_from_slice(key) {
        Ok(mac) => mac,
        // HMAC accepts keys of any length (RFC 2104 hashes long keys); this arm is dead.
        Err(_) => unreachable!("HMAC accepts keys of any length"),
    }
}

fn hmac_sha256(key: &[u8]) -> Hmac<Sha256> {
    match <Hmac<Sha256> as Mac>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts keys of any length"),
    }
}

/// Lower-case hex HMAC-SHA512 (VNPay).
pub fn hmac_sha512_hex(key: &[u8], message: &[u8]) -> String {
    let mut mac = hmac_sha512(key);
    mac.update(message);
    hex::encode(mac.finalize().into_bytes())
}

/// Lower-case hex HMAC-SHA256 (MoMo, ZaloPay, our own outbound webhooks).
pub fn hmac_sha256_hex(key: &[u8], message: &[u8]) -> String {
    let mut mac = hmac_sha256(key);
    mac.update(message);
    hex::encode(mac.finalize().into_bytes())
}

fn decode_signature(signature_hex: &str) -> Result<Vec<u8>, SignatureError> {
    let trimmed = signature_hex.trim();
    if trimmed.is_empty() {
        return Err(SignatureError::Missing);
    }
    // `hex` accepts both cases, so comparison is case-insensitive on the hex text.
    hex::decode(trimmed).map_err(|_| SignatureError::Malformed)
}

/// Constant-time check of a hex HMAC-SHA512 signature (`Mac::verify_slice`).
pub fn verify_hmac_sha512_hex(
    key: &[u8],
    message: &[u8],
    signature_hex: &str,
) -> Result<(), SignatureError> {
    let expected = decode_signature(signature_hex)?;
    let mut mac = hmac_sha512(key);
    mac.update(message);
    mac.verify_slice(&expected)
        .map_err(|_| SignatureError::Mismatch)
}

/// Constant-time check of a hex HMAC-SHA256 signature (`Mac::verify_slice`).
pub fn verify_hmac_sha256_hex(
    key: &[u8],
    message: &[u8],
    signature_hex: &str,
) -> Result<(), SignatureError> {
    let expected = decode_signature(signature_hex)?;
    let mut mac = hmac_sha256(key);
    mac.update(message);
    mac.verify_slice(&expected)
        .map_err(|_| SignatureError::Mismatch)
}

/// Parses a JSON body into an object map (the gateways' bodies are all JSON objects).
pub(crate) fn json_object(
    body: &[u8],
) -> Result<serde_json::Map<String, serde_json::Value>, GatewayError> {
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(serde_json::Value::Object(map)) => Ok(map),
        Ok(_) => Err(GatewayError::Json("expected a JSON object".to_owned())),
        Err(e) => Err(GatewayError::Json(e.to_string())),
    }
}

/// Renders a JSON scalar the way the gateways put it in their signature strings:
/// strings raw, numbers as plain decimal, absent/null as the empty string.
/// `None` for arrays and objects, which no signature string contains.
pub(crate) fn json_scalar_text(value: Option<&serde_json::Value>) -> Option<String> {
    match value {
        None | Some(serde_json::Value::Null) => Some(String::new()),
        Some(serde_json::Value::String(s)) => Some(s.clone()),
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        Some(serde_json::Value::Bool(b)) => Some(b.to_string()),
        Some(_) => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn gateway_id_serde_is_lower_case() {
        for id in GatewayId::ALL {
            let json = serde_json::to_string(&id).unwrap();
            assert_eq!(json, format!("\"{}\"", id.as_str()));
            assert_eq!(serde_json::from_str::<GatewayId>(&json).unwrap(), id);
            assert_eq!(id.as_str().parse::<GatewayId>().unwrap(), id);
        }
        assert!("paypal".parse::<GatewayId>().is_err());
    }

    #[test]
    fn hmac_verification_is_case_insensitive_and_rejects_garbage() {
        let sig = hmac_sha256_hex(b"k", b"m");
        assert!(verify_hmac_sha256_hex(b"k", b"m", &sig).is_ok());
        assert!(verify_hmac_sha256_hex(b"k", b"m", &sig.to_uppercase()).is_ok());
        assert_eq!(
            verify_hmac_sha256_hex(b"k2", b"m", &sig),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_hmac_sha256_hex(b"k", b"m", "zz"),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify_hmac_sha256_hex(b"k", b"m", ""),
            Err(SignatureError::Missing)
        );
        assert_eq!(
            verify_hmac_sha512_hex(b"k", b"m", &sig),
            Err(SignatureError::Mismatch)
        );
    }
}
