//! ZaloPay v2 wire format. `key1` signs our requests (create, query); `key2` signs what
//! ZaloPay sends us (callback, redirect). All MACs are lower-case hex HMAC-SHA256.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::gateways::{
    hmac_sha256_hex, verify_hmac_sha256_hex, GatewayError, SignatureError, UTC_PLUS_7,
};

pub const SANDBOX_CREATE_URL: &str = "https://sb-openapi.zalopay.vn/v2/create";
pub const SANDBOX_QUERY_URL: &str = "https://sb-openapi.zalopay.vn/v2/query";
/// ZaloPay limits `app_trans_id` to 40 characters.
pub const APP_TRANS_ID_MAX_LEN: usize = 40;

/// `yyMMdd_<suffix>` with the date of `now` in Vietnam time, as ZaloPay requires.
pub fn app_trans_id(now: DateTime<Utc>, suffix: &str) -> Result<String, GatewayError> {
    let id = format!(
        "{}_{}",
        now.with_timezone(&UTC_PLUS_7).format("%y%m%d"),
        suffix
    );
    let suffix_ok = !suffix.is_empty()
        && suffix
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'));
    if suffix_ok && id.len() <= APP_TRANS_ID_MAX_LEN {
        Ok(id)
    } else {
        Err(GatewayError::invalid(
            "app_trans_id",
            "suffix must be [A-Za-z0-9_-] and the id at most 40 characters",
        ))
    }
}

/// A create-order request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateOrder {
    pub app_id: i64,
    pub app_user: String,
    /// From [`app_trans_id`].
    pub app_trans_id: String,
    pub app_time: DateTime<Utc>,
    pub amount_vnd: i64,
    /// JSON array *string*, `"[]"` if none; signed byte for byte.
    pub item: String,
    /// JSON object *string*, e.g. `{"redirecturl":"…"}`; signed byte for byte.
    pub embed_data: String,
    pub description: String,
    /// `""` lets the payer choose.
    pub bank_code: String,
    pub callback_url: Option<String>,
    pub expire_duration_seconds: Option<i64>,
}

/// The JSON body POSTed to `/v2/create`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateOrderBody {
    pub app_id: i64,
    pub app_user: String,
    pub app_trans_id: String,
    /// Milliseconds since the epoch.
    pub app_time: i64,
    pub amount: i64,
    pub item: String,
    pub embed_data: String,
    pub description: String,
    pub bank_code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub callback_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expire_duration_seconds: Option<i64>,
    pub mac: String,
}

/// Signs a create-order request:
/// `mac = HMAC_SHA256(key1, app_id|app_trans_id|app_user|amount|app_time|embed_data|item)`.
pub fn build_create_order(
    order: &CreateOrder,
    key1: &str,
) -> Result<CreateOrderBody, GatewayError> {
    if order.amount_vnd <= 0 {
        return Err(GatewayError::invalid("amount", "must be positive"));
    }
    let app_time = order.app_time.timestamp_millis();
    let data = format!(
        "{}|{}|{}|{}|{}|{}|{}",
        order.app_id,
        order.app_trans_id,
        order.app_user,
        order.amount_vnd,
        app_time,
        order.embed_data,
        order.item
    );
    Ok(CreateOrderBody {
        app_id: order.app_id,
        app_user: order.app_user.clone(),
        app_trans_id: order.app_trans_id.clone(),
        app_time,
        amount: order.amount_vnd,
        item: order.item.clone(),
        embed_data: order.embed_data.clone(),
        description: order.description.clone(),
        bank_code: order.bank_code.clone(),
        callback_url: order.callback_url.clone(),
        expire_duration_seconds: order.expire_duration_seconds,
        mac: hmac_sha256_hex(key1.as_bytes(), data.as_bytes()),
    })
}

/// ZaloPay's answer to create (unsigned; only the callback or a query counts).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CreateOrderResponse {
    /// 1 success, 2 fail, 3 processing.
    pub return_code: i64,
    pub return_message: String,
    #[serde(default)]
    pub sub_return_code: Option<i64>,
    #[serde(default)]
    pub sub_return_message: Option<String>,
    #[serde(default)]
    pub order_url: Option<String>,
    #[serde(default)]
    pub zp_trans_token: Option<String>,
    #[serde(default)]
    pub qr_code: Option<String>,
}

/// The outer callback body: `data` is a JSON *string*, signed as received.
#[derive(Debug, Clone, Deserialize)]
struct CallbackEnvelope {
    data: String,
    mac: String,
    #[serde(rename = "type", default)]
    kind: Option<i64>,
}

/// The fields of a callback's `data` (sent only for successful payments).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ZalopayCallback {
    pub app_id: i64,
    pub app_trans_id: String,
    /// Milliseconds since the epoch.
    pub app_time: i64,
    pub app_user: String,
    #[serde(rename = "amount")]
    pub amount_vnd: i64,
    pub embed_data: String,
    pub item: String,
    pub zp_trans_id: i64,
    /// Milliseconds since the epoch.
    pub server_time: i64,
    pub channel: i64,
    pub merchant_user_id: String,
    #[serde(default)]
    pub user_fee_amount: i64,
    #[serde(default)]
    pub discount_amount: i64,
    /// The envelope's `type`: 1 order, 2 agreement.
    #[serde(skip)]
    pub callback_type: Option<i64>,
}

impl ZalopayCallback {
    pub fn server_time_utc(&self) -> Option<DateTime<Utc>> {
        DateTime::from_timestamp_millis(self.server_time)
    }
}

/// Verifies a callback body — `mac = HMAC_SHA256(key2, data)` over the exact `data` string,
/// constant time — and only then parses `data`.
pub fn parse_callback(body: &[u8], key2: &str) -> Result<ZalopayCallback, GatewayError> {
    let envelope: CallbackEnvelope =
        serde_json::from_slice(body).map_err(|e| GatewayError::Json(e.to_string()))?;
    if envelope.mac.is_empty() {
        return Err(SignatureError::Missing.into());
    }
    verify_hmac_sha256_hex(key2.as_bytes(), envelope.data.as_bytes(), &envelope.mac)?;
    let mut callback: ZalopayCallback =
        serde_json::from_str(&envelope.data).map_err(|e| GatewayError::Json(e.to_string()))?;
    callback.callback_type = envelope.kind;
    Ok(callback)
}

/// Our answer to a callback: `{"return_code":1,"return_message":"success"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallbackAnswer {
    pub return_code: i64,
    pub return_message: String,
}

impl CallbackAnswer {
    fn new(return_code: i64, return_message: &str) -> Self {
        Self {
            return_code,
            return_message: return_message.to_owned(),
        }
    }
    /// `1`: recorded.
    pub fn success() -> Self {
        Self::new(1, "success")
    }
    /// `2`: this `zp_trans_id` was already processed.
    pub fn duplicate() -> Self {
        Self::new(2, "duplicate")
    }
    /// `-1`: MAC check failed.
    pub fn bad_mac() -> Self {
        Self::new(-1, "mac not equal")
    }
    /// `0`: internal error; ZaloPay calls back again (at most 3 times).
    pub fn retry() -> Self {
        Self::new(0, "internal error")
    }
}

/// The browser redirect query (display only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZalopayRedirect {
    pub app_id: String,
    pub app_trans_id: String,
    pub pmc_id: String,
    pub bank_code: String,
    pub amount_vnd: i64,
    pub discount_amount: i64,
    /// `1` success.
    pub status: i64,
}

const REDIRECT_FIELDS: [&str; 7] = [
    "appid",
    "apptransid",
    "pmcid",
    "bankcode",
    "amount",
    "discountamount",
    "status",
];

/// Verifies the redirect `checksum = HMAC_SHA256(key2, appid|apptransid|pmcid|bankcode|amount|discountamount|status)`.
pub fn parse_redirect(query: &str, key2: &str) -> Result<ZalopayRedirect, GatewayError> {
    let query = query.strip_prefix('?').unwrap_or(query);
    let mut values: std::collections::BTreeMap<String, String> = Default::default();
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        let key = key.into_owned();
        if values.contains_key(&key) {
            return Err(GatewayError::DuplicateField { field: key });
        }
        values.insert(key, value.into_owned());
    }
    let get = |k: &str| values.get(k).map(String::as_str).unwrap_or_default();
    let checksum = get("checksum");
    if checksum.is_empty() {
        return Err(SignatureError::Missing.into());
    }
    let data = REDIRECT_FIELDS.map(get).join("|");
    verify_hmac_sha256_hex(key2.as_bytes(), data.as_bytes(), checksum)?;
    let number = |field: &'static str| {
        get(field)
            .parse::<i64>()
            .map_err(|_| GatewayError::invalid(field, "expected an integer"))
    };
    Ok(ZalopayRedirect {
        app_id: get("appid").to_owned(),
        app_trans_id: get("apptransid").to_owned(),
        pmc_id: get("pmcid").to_owned(),
        bank_code: get("bankcode").to_owned(),
        amount_vnd: number("amount")?,
        discount_amount: number("discountamount")?,
        status: number("status")?,
    })
}

/// The JSON (or form) body POSTed to `/v2/query`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueryRequestBody {
    pub app_id: i64,
    pub app_trans_id: String,
    pub mac: String,
}

/// `mac = HMAC_SHA256(key1, app_id|app_trans_id|key1)` — key1 is both key and data.
pub fn build_query_request(app_id: i64, app_trans_id: &str, key1: &str) -> QueryRequestBody {
    let data = format!("{app_id}|{app_trans_id}|{key1}");
    QueryRequestBody {
        app_id,
        app_trans_id: app_trans_id.to_owned(),
        mac: hmac_sha256_hex(key1.as_bytes(), data.as_bytes()),
    }
}

/// `/v2/query` answer (unsigned): `return_code` 1 paid, 2 failed, 3 pending/processing.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct QueryResponse {
    pub return_code: i64,
    pub return_message: String,
    #[serde(default)]
    pub sub_return_code: Option<i64>,
    #[serde(default)]
    pub sub_return_message: Option<String>,
    #[serde(default)]
    pub is_processing: Option<bool>,
    #[serde(default)]
    pub amount: Option<i64>,
    #[serde(default)]
    pub zp_trans_id: Option<i64>,
    #[serde(default)]
    pub server_time: Option<i64>,
    #[serde(default)]
    pub discount_amount: Option<i64>,
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn app_trans_id_uses_the_vietnam_date_across_midnight() {
        let late_utc = Utc
            .with_ymd_and_hms(2025, 1, 14, 17, 0, 0)
            .single()
            .unwrap();
        assert_eq!(app_trans_id(late_utc, "NVTC1").unwrap(), "250115_NVTC1");
        let before = Utc
            .with_ymd_and_hms(2025, 1, 14, 16, 59, 59)
            .single()
            .unwrap();
        assert_eq!(app_trans_id(before, "NVTC1").unwrap(), "250114_NVTC1");
        assert!(app_trans_id(before, "").is_err());
        assert!(app_trans_id(before, "a b").is_err());
        assert!(app_trans_id(before, &"x".repeat(34)).is_err());
        assert!(app_trans_id(before, &"x".repeat(33)).is_ok());
    }

    #[test]
    fn answers_serialise_as_zalopay_expects() {
        let json = |a: CallbackAnswer| serde_json::to_string(&a).unwrap();
        assert_eq!(
            json(CallbackAnswer::success()),
            r#"{"return_code":1,"return_message":"success"}"#
        );
        assert_eq!(
            json(CallbackAnswer::bad_mac()),
            r#"{"return_code":-1,"return_message":"mac not equal"}"#
        );
        assert_eq!(CallbackAnswer::duplicate().return_code, 2);
    }

    #[test]
    fn callback_without_mac_is_refused() {
        let body = br#"{"data":"{}","mac":"","type":1}"#;
        assert_eq!(
            parse_callback(body, "k2"),
            Err(GatewayError::Signature(SignatureError::Missing))
        );
    }
}
