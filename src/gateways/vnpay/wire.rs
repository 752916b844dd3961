//! VNPay 2.1.0 wire format: signed payment URL, signed IPN/return query strings.
//!
//! Signature: take the `vnp_*` parameters except `vnp_SecureHash` and
//! `vnp_SecureHashType`, drop empty values, sort keys ordinally, emit `key=urlencode(value)`
//! joined by `&` with PHP `urlencode` (space → `+`, only `A-Za-z0-9-_.` left bare, upper-case
//! `%XX` of UTF-8 bytes), then lower-case hex HMAC-SHA512 with the hash secret.
//! The payment URL's query is *the same bytes* that were signed.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

use super::codes::{ResponseCode, TransactionStatus};
use crate::gateways::{
    ascii, hmac_sha512_hex, verify_hmac_sha512_hex, GatewayError, GatewayId, SignatureError,
    UTC_PLUS_7,
};

pub const VERSION: &str = "2.1.0";
pub const COMMAND_PAY: &str = "pay";
pub const CURRENCY: &str = "VND";
pub const SANDBOX_PAYMENT_URL: &str = "https://sandbox.vnpayment.vn/paymentv2/vpcpay.html";
pub const SANDBOX_API_URL: &str = "https://sandbox.vnpayment.vn/merchant_webapi/api/transaction";

pub const SECURE_HASH: &str = "vnp_SecureHash";
pub const SECURE_HASH_TYPE: &str = "vnp_SecureHashType";
/// `vnp_OrderInfo` is Alphanumeric[1,255].
pub const ORDER_INFO_MAX_LEN: usize = 255;
/// `vnp_Amount` is Numeric[1,12] in VNPay units (đồng × 100).
const MAX_VNP_AMOUNT: i64 = 999_999_999_999;

// ---------------------------------------------------------------------------------------
// Amounts and dates

/// đồng → VNPay units (× 100). The only place this conversion happens.
pub fn to_vnp_amount(amount_vnd: i64) -> Result<i64, GatewayError> {
    match amount_vnd.checked_mul(100) {
        Some(units) if amount_vnd > 0 && units <= MAX_VNP_AMOUNT => Ok(units),
        // Said as the amount's limits, like every gateway's: the order is too large for
        // VNPay (the payer can choose another gateway), not a gateway that failed.
        _ => Err(GatewayError::AmountOutOfRange {
            gateway: GatewayId::Vnpay,
            amount_vnd,
            min_vnd: 1,
            max_vnd: MAX_VNP_AMOUNT / 100,
        }),
    }
}

/// VNPay units → đồng (÷ 100); rejects non-digits and amounts that are not whole đồng.
pub fn from_vnp_amount(text: &str) -> Result<i64, GatewayError> {
    if text.is_empty() || text.len() > 18 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(GatewayError::invalid("vnp_Amount", "not a decimal integer"));
    }
    let units: i64 = text
        .parse()
        .map_err(|_| GatewayError::invalid("vnp_Amount", "not a decimal integer"))?;
    if units % 100 != 0 {
        return Err(GatewayError::invalid(
            "vnp_Amount",
            "not a multiple of 100 (VND has no minor unit)",
        ));
    }
    Ok(units / 100)
}

/// `yyyyMMddHHmmss` in Vietnam time (GMT+7), as every VNPay date field.
pub fn format_date(at: DateTime<Utc>) -> String {
    at.with_timezone(&UTC_PLUS_7)
        .format("%Y%m%d%H%M%S")
        .to_string()
}

/// Parses a VNPay `yyyyMMddHHmmss` (GMT+7) date.
pub fn parse_date(field: &'static str, text: &str) -> Result<DateTime<Utc>, GatewayError> {
    if text.len() != 14 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(GatewayError::invalid(field, "expected yyyyMMddHHmmss"));
    }
    let naive = NaiveDateTime::parse_from_str(text, "%Y%m%d%H%M%S")
        .map_err(|_| GatewayError::invalid(field, "expected yyyyMMddHHmmss"))?;
    naive
        .and_local_timezone(UTC_PLUS_7)
        .single()
        .map(|at| at.with_timezone(&Utc))
        .ok_or_else(|| GatewayError::invalid(field, "not a valid GMT+7 time"))
}

// ---------------------------------------------------------------------------------------
// Canonical string and signature

/// PHP `urlencode` (what VNPay's PHP sample signs): `A-Za-z0-9-_.` bare, space → `+`,
/// every other UTF-8 byte → upper-case `%XX`.
pub fn urlencode(value: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                out.push(char::from(byte))
            }
            b' ' => out.push('+'),
            _ => {
                out.push('%');
                out.push(char::from(HEX[usize::from(byte >> 4)]));
                out.push(char::from(HEX[usize::from(byte & 0x0F)]));
            }
        }
    }
    out
}

fn is_signed_key(key: &str) -> bool {
    key.starts_with("vnp_") && key != SECURE_HASH && key != SECURE_HASH_TYPE
}

/// The exact string VNPay signs, from (decoded) parameters in any order.
pub fn sign_data<'a, I>(params: I) -> String
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
{
    let sorted: BTreeMap<&str, &str> = params
        .into_iter()
        .filter(|(k, v)| is_signed_key(k) && !v.is_empty())
        .collect();
    let mut out = String::new();
    for (key, value) in sorted {
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(key);
        out.push('=');
        out.push_str(&urlencode(value));
    }
    out
}

/// A signed query string: `sign_data` plus its `vnp_SecureHash`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedQuery {
    pub sign_data: String,
    pub secure_hash: String,
}

impl SignedQuery {
    /// `sign_data&vnp_SecureHash=…` — the bytes that go after `?`.
    pub fn query(&self) -> String {
        format!("{}&{}={}", self.sign_data, SECURE_HASH, self.secure_hash)
    }
}

/// Signs `vnp_*` parameters as VNPay does (used for payment URLs and, in the sandbox, IPNs).
pub fn sign_params<'a, I>(params: I, secret: &str) -> SignedQuery
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
{
    let sign_data = sign_data(params);
    let secure_hash = hmac_sha512_hex(secret.as_bytes(), sign_data.as_bytes());
    SignedQuery {
        sign_data,
        secure_hash,
    }
}

// ---------------------------------------------------------------------------------------
// Payment URL

/// `vnp_Locale`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Locale {
    Vn,
    En,
}

impl Locale {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Vn => "vn",
            Self::En => "en",
        }
    }

    pub fn parse(text: &str) -> Result<Self, GatewayError> {
        match text {
            "vn" => Ok(Self::Vn),
            "en" => Ok(Self::En),
            _ => Err(GatewayError::invalid("vnp_Locale", "expected vn or en")),
        }
    }
}

/// Everything a `vnp_Command=pay` request carries (version, command, currency are fixed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRequest {
    pub tmn_code: String,
    pub amount_vnd: i64,
    /// Our attempt reference; unique per day at VNPay.
    pub txn_ref: String,
    /// Free text; [`build_payment_url`] folds it to `[A-Za-z0-9 ,.:_/#-]`.
    pub order_info: String,
    /// Goods category, e.g. `other`, `billpayment`.
    pub order_type: String,
    pub locale: Locale,
    pub return_url: String,
    /// Payer IP; `::ffff:a.b.c.d` is normalised to `a.b.c.d`.
    pub ip_addr: String,
    pub create_date: DateTime<Utc>,
    pub expire_date: DateTime<Utc>,
    /// `VNPAYQR`, `VNBANK`, `INTCARD` or a bank code; `None` lets the payer choose.
    pub bank_code: Option<String>,
}

/// `::ffff:203.0.113.10` (IPv4-mapped IPv6, what dual-stack sockets report) → `203.0.113.10`.
pub fn normalize_ip(ip: &str) -> &str {
    let trimmed = ip.trim();
    match trimmed.strip_prefix("::ffff:") {
        Some(v4) if v4.contains('.') => v4,
        _ => trimmed,
    }
}

fn check_txn_ref(txn_ref: &str) -> Result<(), GatewayError> {
    let ok = (1..=100).contains(&txn_ref.len())
        && txn_ref
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(GatewayError::invalid(
            "vnp_TxnRef",
            "1-100 characters of [A-Za-z0-9-_.]",
        ))
    }
}

impl PaymentRequest {
    /// The `vnp_*` parameters as sent (order info sanitised, amount × 100).
    pub fn to_params(&self) -> Result<Vec<(&'static str, String)>, GatewayError> {
        check_txn_ref(&self.txn_ref)?;
        let order_info = ascii::sanitize(&self.order_info, ORDER_INFO_MAX_LEN);
        if order_info.is_empty() {
            return Err(GatewayError::invalid(
                "vnp_OrderInfo",
                "empty after sanitising",
            ));
        }
        if self.expire_date <= self.create_date {
            return Err(GatewayError::invalid(
                "vnp_ExpireDate",
                "not after vnp_CreateDate",
            ));
        }
        let mut params = vec![
            ("vnp_Version", VERSION.to_owned()),
            ("vnp_Command", COMMAND_PAY.to_owned()),
            ("vnp_TmnCode", self.tmn_code.clone()),
            ("vnp_Amount", to_vnp_amount(self.amount_vnd)?.to_string()),
            ("vnp_CurrCode", CURRENCY.to_owned()),
            ("vnp_TxnRef", self.txn_ref.clone()),
            ("vnp_OrderInfo", order_info),
            ("vnp_OrderType", self.order_type.clone()),
            ("vnp_Locale", self.locale.as_str().to_owned()),
            ("vnp_ReturnUrl", self.return_url.clone()),
            ("vnp_IpAddr", normalize_ip(&self.ip_addr).to_owned()),
            ("vnp_CreateDate", format_date(self.create_date)),
            ("vnp_ExpireDate", format_date(self.expire_date)),
        ];
        if let Some(bank_code) = self.bank_code.as_ref().filter(|c| !c.is_empty()) {
            params.push(("vnp_BankCode", bank_code.clone()));
        }
        Ok(params)
    }

    /// Signs the request; the query of the payment URL is `signed.query()`.
    pub fn sign(&self, secret: &str) -> Result<SignedQuery, GatewayError> {
        let params = self.to_params()?;
        Ok(sign_params(
            params.iter().map(|(k, v)| (*k, v.as_str())),
            secret,
        ))
    }
}

/// `{payment_page}?{sorted encoded params}&vnp_SecureHash={hmac}`.
pub fn build_payment_url(
    payment_page: &str,
    request: &PaymentRequest,
    secret: &str,
) -> Result<String, GatewayError> {
    let signed = request.sign(secret)?;
    Ok(format!("{}?{}", payment_page, signed.query()))
}

// ---------------------------------------------------------------------------------------
// Inbound verification (IPN and return URL)

/// Query parameters whose VNPay signature has been checked. Only [`verify_query`] makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedParams(BTreeMap<String, String>);

impl VerifiedParams {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    pub(crate) fn required(&self, key: &'static str) -> Result<&str, GatewayError> {
        self.get(key)
            .filter(|v| !v.is_empty())
            .ok_or(GatewayError::MissingField(key))
    }

    pub(crate) fn optional(&self, key: &str) -> Option<String> {
        self.get(key).filter(|v| !v.is_empty()).map(str::to_owned)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

/// Decodes a raw query string (with or without a leading `?`); a repeated key is refused
/// rather than letting "first" or "last" wins differ between verifier and parser.
pub fn decode_query(query: &str) -> Result<BTreeMap<String, String>, GatewayError> {
    let query = query.strip_prefix('?').unwrap_or(query);
    let mut map = BTreeMap::new();
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        let key = key.into_owned();
        if map.contains_key(&key) {
            return Err(GatewayError::DuplicateField { field: key });
        }
        map.insert(key, value.into_owned());
    }
    Ok(map)
}

/// Verifies a VNPay-signed query string (IPN, return URL, or — in the sandbox — our own
/// payment URL) in constant time, over exactly what VNPay signs, before anything is parsed.
pub fn verify_query(query: &str, secret: &str) -> Result<VerifiedParams, GatewayError> {
    let params = decode_query(query)?;
    let signature = params
        .get(SECURE_HASH)
        .ok_or(GatewayError::Signature(SignatureError::Missing))?;
    let data = sign_data(params.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    verify_hmac_sha512_hex(secret.as_bytes(), data.as_bytes(), signature)?;
    Ok(VerifiedParams(params))
}

/// A verified IPN or return-URL notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VnpayCallback {
    pub tmn_code: String,
    pub txn_ref: String,
    pub amount_vnd: i64,
    pub response_code: ResponseCode,
    pub transaction_status: TransactionStatus,
    /// VNPay's transaction number; `"0"` when no transaction was created.
    pub transaction_no: String,
    pub bank_code: Option<String>,
    pub bank_tran_no: Option<String>,
    pub card_type: Option<String>,
    pub pay_date: Option<DateTime<Utc>>,
    pub order_info: Option<String>,
}

impl VnpayCallback {
    /// Paid: `vnp_ResponseCode == 00` **and** `vnp_TransactionStatus == 00` (official PHP sample).
    pub fn is_success(&self) -> bool {
        self.response_code == ResponseCode::Success
            && self.transaction_status == TransactionStatus::Success
    }

    /// The `vnp_*` parameters VNPay would send for this notification (unsigned).
    pub fn to_params(&self) -> Vec<(&'static str, String)> {
        let mut params = vec![
            ("vnp_TmnCode", self.tmn_code.clone()),
            ("vnp_TxnRef", self.txn_ref.clone()),
            (
                "vnp_Amount",
                self.amount_vnd.saturating_mul(100).to_string(),
            ),
            ("vnp_ResponseCode", self.response_code.code().to_owned()),
            (
                "vnp_TransactionStatus",
                self.transaction_status.code().to_owned(),
            ),
            ("vnp_TransactionNo", self.transaction_no.clone()),
        ];
        let optional = [
            ("vnp_BankCode", self.bank_code.clone()),
            ("vnp_BankTranNo", self.bank_tran_no.clone()),
            ("vnp_CardType", self.card_type.clone()),
            ("vnp_PayDate", self.pay_date.map(format_date)),
            ("vnp_OrderInfo", self.order_info.clone()),
        ];
        params.extend(optional.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))));
        params
    }
}

impl TryFrom<&VerifiedParams> for VnpayCallback {
    type Error = GatewayError;

    fn try_from(p: &VerifiedParams) -> Result<Self, Self::Error> {
        Ok(Self {
            tmn_code: p.required("vnp_TmnCode")?.to_owned(),
            txn_ref: p.required("vnp_TxnRef")?.to_owned(),
            amount_vnd: from_vnp_amount(p.required("vnp_Amount")?)?,
            response_code: ResponseCode::from_code(p.required("vnp_ResponseCode")?),
            // Always sent by 2.1.0; when absent, the response code alone decides (as older samples do).
            transaction_status: match p.optional("vnp_TransactionStatus") {
                Some(status) => TransactionStatus::from_code(&status),
                None => TransactionStatus::from_code(if p.required("vnp_ResponseCode")? == "00" {
                    "00"
                } else {
                    "02"
                }),
            },
            transaction_no: p
                .optional("vnp_TransactionNo")
                .unwrap_or_else(|| "0".to_owned()),
            bank_code: p.optional("vnp_BankCode"),
            bank_tran_no: p.optional("vnp_BankTranNo"),
            card_type: p.optional("vnp_CardType"),
            pay_date: p
                .optional("vnp_PayDate")
                .map(|d| parse_date("vnp_PayDate", &d))
                .transpose()?,
            order_info: p.optional("vnp_OrderInfo"),
        })
    }
}

/// Verifies (constant time, first) then parses an IPN or return-URL query string.
pub fn parse_callback(query: &str, secret: &str) -> Result<VnpayCallback, GatewayError> {
    let verified = verify_query(query, secret)?;
    VnpayCallback::try_from(&verified)
}
