//! MoMo AIO v2 wire format. Signatures are lower-case hex HMAC-SHA256 (secretKey) over a
//! *raw* (not URL-encoded, UTF-8) `key=value&…` string with keys in a fixed order.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::gateways::{
    hmac_sha256_hex, json_object, json_scalar_text, verify_hmac_sha256_hex, GatewayError,
    GatewayId, SignatureError,
};

pub const SANDBOX_CREATE_URL: &str = "https://test-payment.momo.vn/v2/gateway/api/create";
pub const SANDBOX_QUERY_URL: &str = "https://test-payment.momo.vn/v2/gateway/api/query";
pub const REQUEST_TYPE_CAPTURE_WALLET: &str = "captureWallet";
/// captureWallet limits in đồng. Land obligations can exceed the maximum.
pub const MIN_AMOUNT_VND: i64 = 1_000;
pub const MAX_AMOUNT_VND: i64 = 50_000_000;
/// MoMo expects HTTP 204 No Content for a recorded IPN, within 15 s.
pub const IPN_ANSWER_STATUS: u16 = 204;

/// Signed fields of the create request, in signing order (`accessKey` comes from config).
pub const CREATE_SIGNATURE_FIELDS: [&str; 10] = [
    "accessKey",
    "amount",
    "extraData",
    "ipnUrl",
    "orderId",
    "orderInfo",
    "partnerCode",
    "redirectUrl",
    "requestId",
    "requestType",
];
/// Signed fields of the IPN and of the redirect query, in signing order.
pub const IPN_SIGNATURE_FIELDS: [&str; 13] = [
    "accessKey",
    "amount",
    "extraData",
    "message",
    "orderId",
    "orderInfo",
    "orderType",
    "partnerCode",
    "payType",
    "requestId",
    "responseTime",
    "resultCode",
    "transId",
];
pub const QUERY_SIGNATURE_FIELDS: [&str; 4] = ["accessKey", "orderId", "partnerCode", "requestId"];

/// `k1=v1&k2=v2…` with raw values; fields missing from `values` render as `k=`.
pub fn raw_signature(order: &[&str], values: &Map<String, Value>) -> Result<String, GatewayError> {
    let mut parts = Vec::with_capacity(order.len());
    for key in order {
        let value = json_scalar_text(values.get(*key)).ok_or_else(|| {
            GatewayError::invalid("signature field", format!("{key} is not a scalar"))
        })?;
        parts.push(format!("{key}={value}"));
    }
    Ok(parts.join("&"))
}

/// `vi` / `en`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    Vi,
    En,
}

/// A captureWallet payment request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateRequest {
    pub partner_code: String,
    /// Unique per request (MoMo's idempotency key).
    pub request_id: String,
    /// `^[0-9a-zA-Z]([-_.]*[0-9a-zA-Z]+)*$`, at most 200 characters.
    pub order_id: String,
    pub amount_vnd: i64,
    /// Signed raw; keep it free of `&` and `=` (see [`crate::gateways::ascii::sanitize`]).
    pub order_info: String,
    pub redirect_url: String,
    pub ipn_url: String,
    /// `""` or base64(JSON).
    pub extra_data: String,
    pub lang: Lang,
}

/// The JSON body POSTed to `/v2/gateway/api/create`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateRequestBody {
    pub partner_code: String,
    pub request_id: String,
    pub amount: i64,
    pub order_id: String,
    pub order_info: String,
    pub redirect_url: String,
    pub ipn_url: String,
    pub request_type: String,
    pub extra_data: String,
    pub lang: Lang,
    pub signature: String,
}

/// Refuses amounts outside captureWallet's limits.
pub fn check_amount(amount_vnd: i64) -> Result<(), GatewayError> {
    if (MIN_AMOUNT_VND..=MAX_AMOUNT_VND).contains(&amount_vnd) {
        Ok(())
    } else {
        Err(GatewayError::AmountOutOfRange {
            gateway: GatewayId::Momo,
            amount_vnd,
            min_vnd: MIN_AMOUNT_VND,
            max_vnd: MAX_AMOUNT_VND,
        })
    }
}

/// MoMo's `orderId` rule: `^[0-9a-zA-Z]([-_.]*[0-9a-zA-Z]+)*$`, length 1..=200.
pub fn is_valid_order_id(order_id: &str) -> bool {
    let bytes = order_id.as_bytes();
    let separator = |b: u8| matches!(b, b'-' | b'_' | b'.');
    (1..=200).contains(&bytes.len())
        && bytes
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || separator(b))
        && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
        && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
}

/// Validates and signs a create request.
pub fn build_create_request(
    request: &CreateRequest,
    access_key: &str,
    secret_key: &str,
) -> Result<CreateRequestBody, GatewayError> {
    check_amount(request.amount_vnd)?;
    if !is_valid_order_id(&request.order_id) {
        return Err(GatewayError::invalid(
            "orderId",
            "must match ^[0-9a-zA-Z]([-_.]*[0-9a-zA-Z]+)*$",
        ));
    }
    if request.request_id.is_empty() || request.request_id.len() > 50 {
        return Err(GatewayError::invalid("requestId", "1..=50 characters"));
    }
    let mut values = Map::new();
    values.insert("accessKey".into(), access_key.into());
    values.insert("amount".into(), request.amount_vnd.into());
    values.insert("extraData".into(), request.extra_data.as_str().into());
    values.insert("ipnUrl".into(), request.ipn_url.as_str().into());
    values.insert("orderId".into(), request.order_id.as_str().into());
    values.insert("orderInfo".into(), request.order_info.as_str().into());
    values.insert("partnerCode".into(), request.partner_code.as_str().into());
    values.insert("redirectUrl".into(), request.redirect_url.as_str().into());
    values.insert("requestId".into(), request.request_id.as_str().into());
    values.insert("requestType".into(), REQUEST_TYPE_CAPTURE_WALLET.into());
    let raw = raw_signature(&CREATE_SIGNATURE_FIELDS, &values)?;
    Ok(CreateRequestBody {
        partner_code: request.partner_code.clone(),
        request_id: request.request_id.clone(),
        amount: request.amount_vnd,
        order_id: request.order_id.clone(),
        order_info: request.order_info.clone(),
        redirect_url: request.redirect_url.clone(),
        ipn_url: request.ipn_url.clone(),
        request_type: REQUEST_TYPE_CAPTURE_WALLET.to_owned(),
        extra_data: request.extra_data.clone(),
        lang: request.lang,
        signature: hmac_sha256_hex(secret_key.as_bytes(), raw.as_bytes()),
    })
}

/// MoMo's answer to create (fields beyond these are ignored; the response signature's
/// field set is not documented reliably, so it is not verified — only the IPN counts).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateResponse {
    pub partner_code: String,
    pub order_id: String,
    pub request_id: String,
    pub amount: i64,
    pub result_code: i64,
    pub message: String,
    #[serde(default)]
    pub pay_url: Option<String>,
    #[serde(default)]
    pub deeplink: Option<String>,
    #[serde(default)]
    pub qr_code_url: Option<String>,
}

/// A verified IPN (or redirect) notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MomoIpn {
    pub partner_code: String,
    pub order_id: String,
    pub request_id: String,
    pub amount_vnd: i64,
    pub order_info: String,
    pub order_type: String,
    /// MoMo's transaction id.
    pub trans_id: i64,
    /// `0` success; see [`result_meaning`].
    pub result_code: i64,
    pub message: String,
    pub pay_type: String,
    pub response_time: DateTime<Utc>,
    pub extra_data: String,
}

impl MomoIpn {
    /// Final success (`0`), or authorised (`9000`, which auto-capture turns into success).
    pub fn is_success(&self) -> bool {
        matches!(self.result_code, 0 | 9000)
    }

    /// Still in flight: must not be treated as a failure.
    pub fn is_pending(&self) -> bool {
        matches!(self.result_code, 1000 | 7000 | 7002 | 8000)
    }
}

fn verify_map(
    values: &Map<String, Value>,
    access_key: &str,
    secret_key: &str,
) -> Result<(), GatewayError> {
    let signature = match values.get("signature") {
        Some(Value::String(s)) if !s.is_empty() => s.as_str(),
        _ => return Err(SignatureError::Missing.into()),
    };
    let mut with_key = values.clone();
    with_key.insert("accessKey".into(), access_key.into());
    let raw = raw_signature(&IPN_SIGNATURE_FIELDS, &with_key)?;
    verify_hmac_sha256_hex(secret_key.as_bytes(), raw.as_bytes(), signature)?;
    Ok(())
}

fn string(values: &Map<String, Value>, key: &'static str) -> Result<String, GatewayError> {
    match values.get(key) {
        Some(Value::String(s)) => Ok(s.clone()),
        None | Some(Value::Null) => Ok(String::new()),
        Some(_) => Err(GatewayError::invalid(key, "expected a string")),
    }
}

fn integer(values: &Map<String, Value>, key: &'static str) -> Result<i64, GatewayError> {
    match values.get(key) {
        Some(Value::Number(n)) => n
            .as_i64()
            .ok_or_else(|| GatewayError::invalid(key, "expected an integer")),
        // The redirect query carries the same fields as text.
        Some(Value::String(s)) => s
            .parse()
            .map_err(|_| GatewayError::invalid(key, "expected an integer")),
        _ => Err(GatewayError::MissingField(key)),
    }
}

fn parse_ipn_map(values: &Map<String, Value>) -> Result<MomoIpn, GatewayError> {
    let response_ms = integer(values, "responseTime")?;
    Ok(MomoIpn {
        partner_code: string(values, "partnerCode")?,
        order_id: string(values, "orderId")?,
        request_id: string(values, "requestId")?,
        amount_vnd: integer(values, "amount")?,
        order_info: string(values, "orderInfo")?,
        order_type: string(values, "orderType")?,
        trans_id: integer(values, "transId")?,
        result_code: integer(values, "resultCode")?,
        message: string(values, "message")?,
        pay_type: string(values, "payType")?,
        response_time: DateTime::from_timestamp_millis(response_ms)
            .ok_or_else(|| GatewayError::invalid("responseTime", "out of range"))?,
        extra_data: string(values, "extraData")?,
    })
}

/// Verifies an IPN body (constant time, over the documented field order, with `accessKey`
/// from config) and parses it. Numbers are signed as they appear in the body.
pub fn parse_ipn(body: &[u8], access_key: &str, secret_key: &str) -> Result<MomoIpn, GatewayError> {
    let values = json_object(body)?;
    verify_map(&values, access_key, secret_key)?;
    parse_ipn_map(&values)
}

/// Verifies and parses the browser redirect query (same fields and signature as the IPN).
/// Display only.
pub fn parse_redirect(
    query: &str,
    access_key: &str,
    secret_key: &str,
) -> Result<MomoIpn, GatewayError> {
    let query = query.strip_prefix('?').unwrap_or(query);
    let mut values = Map::new();
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        let key = key.into_owned();
        if values.contains_key(&key) {
            return Err(GatewayError::DuplicateField { field: key });
        }
        values.insert(key, Value::String(value.into_owned()));
    }
    verify_map(&values, access_key, secret_key)?;
    parse_ipn_map(&values)
}

/// The JSON body POSTed to `/v2/gateway/api/query`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryRequestBody {
    pub partner_code: String,
    pub request_id: String,
    pub order_id: String,
    pub lang: Lang,
    pub signature: String,
}

/// Signs a status query for `order_id`.
pub fn build_query_request(
    partner_code: &str,
    request_id: &str,
    order_id: &str,
    lang: Lang,
    access_key: &str,
    secret_key: &str,
) -> Result<QueryRequestBody, GatewayError> {
    let mut values = Map::new();
    values.insert("accessKey".into(), access_key.into());
    values.insert("orderId".into(), order_id.into());
    values.insert("partnerCode".into(), partner_code.into());
    values.insert("requestId".into(), request_id.into());
    let raw = raw_signature(&QUERY_SIGNATURE_FIELDS, &values)?;
    Ok(QueryRequestBody {
        partner_code: partner_code.to_owned(),
        request_id: request_id.to_owned(),
        order_id: order_id.to_owned(),
        lang,
        signature: hmac_sha256_hex(secret_key.as_bytes(), raw.as_bytes()),
    })
}

/// English meaning of a MoMo `resultCode` (details unverified).
pub fn result_meaning(code: i64) -> &'static str {
    match code {
        0 => "Successful",
        9000 => "Authorized (capture or cancel; auto-capture means success)",
        8000 => "Awaiting user re-confirmation",
        7000 => "Processing",
        7002 => "Processing by the payment provider",
        1000 => "Initiated, awaiting user confirmation",
        10 => "System under maintenance",
        11 => "Access denied",
        12 => "API version not supported",
        13 => "Merchant authentication failed",
        20 => "Bad request format",
        21 => "Invalid amount",
        22 => "Amount out of range",
        40 => "Duplicate requestId",
        41 => "Duplicate orderId",
        42 => "Invalid or unknown orderId",
        43 => "Conflicting transaction in progress",
        99 => "Unknown error",
        1001 => "Insufficient funds",
        1002 => "Rejected by the issuer",
        1003 => "Cancelled",
        1004 => "Amount exceeds the payment limit",
        1005 => "URL or QR code expired",
        1006 => "User denied the payment",
        1007 => "Account inactive",
        1017 => "Cancelled by the merchant",
        1026 => "Restricted by promotion rules",
        1080 | 1081 | 1088 => "Refund failed",
        4001 | 4002 | 4100 => "Account restricted",
        _ => "Unknown result code",
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn request(amount_vnd: i64) -> CreateRequest {
        CreateRequest {
            partner_code: "MOMOLAND2025".to_owned(),
            request_id: "att_1-r1".to_owned(),
            order_id: "att_1".to_owned(),
            amount_vnd,
            order_info: "Nop tien".to_owned(),
            redirect_url: "https://x/return".to_owned(),
            ipn_url: "https://x/ipn".to_owned(),
            extra_data: String::new(),
            lang: Lang::Vi,
        }
    }

    #[test]
    fn amounts_outside_capture_wallet_limits_are_refused() {
        assert!(build_create_request(&request(1_000), "ak", "sk").is_ok());
        assert!(build_create_request(&request(50_000_000), "ak", "sk").is_ok());
        for amount in [0, 999, 50_000_001, 2_000_000_000] {
            let err = build_create_request(&request(amount), "ak", "sk").unwrap_err();
            assert!(matches!(err, GatewayError::AmountOutOfRange { .. }));
            assert!(err
                .to_string()
                .contains("momo's limits (1000..=50000000 VND)"));
        }
    }

    #[test]
    fn order_ids_follow_momo_rule() {
        for ok in ["a", "NVTC2025", "att_01-x.y", "a-_b"] {
            assert!(is_valid_order_id(ok), "{ok}");
        }
        for bad in ["", "-a", "a-", "a b", "att#1", "á"] {
            assert!(!is_valid_order_id(bad), "{bad}");
        }
    }

    #[test]
    fn ipn_without_signature_is_refused() {
        let body = br#"{"partnerCode":"P","orderId":"o","amount":1000}"#;
        assert_eq!(
            parse_ipn(body, "ak", "sk"),
            Err(GatewayError::Signature(SignatureError::Missing))
        );
        assert!(matches!(
            parse_ipn(b"not json", "ak", "sk"),
            Err(GatewayError::Json(_))
        ));
    }
}
