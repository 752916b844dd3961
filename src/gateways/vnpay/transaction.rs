//! VNPay `querydr` and `refund`: JSON bodies whose `vnp_SecureHash` is the
//! HMAC-SHA512 of the raw (unencoded) values joined by `|` in a fixed order per message.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::codes::{ApiResponseCode, TransactionStatus};
use super::wire::{format_date, from_vnp_amount, parse_date, to_vnp_amount, SECURE_HASH, VERSION};
use crate::gateways::{
    ascii, hmac_sha512_hex, json_object, json_scalar_text, verify_hmac_sha512_hex, GatewayError,
    SignatureError,
};

pub const COMMAND_QUERYDR: &str = "querydr";
pub const COMMAND_REFUND: &str = "refund";

pub const QUERYDR_REQUEST_FIELDS: [&str; 9] = [
    "vnp_RequestId",
    "vnp_Version",
    "vnp_Command",
    "vnp_TmnCode",
    "vnp_TxnRef",
    "vnp_TransactionDate",
    "vnp_CreateDate",
    "vnp_IpAddr",
    "vnp_OrderInfo",
];
pub const REFUND_REQUEST_FIELDS: [&str; 13] = [
    "vnp_RequestId",
    "vnp_Version",
    "vnp_Command",
    "vnp_TmnCode",
    "vnp_TransactionType",
    "vnp_TxnRef",
    "vnp_Amount",
    "vnp_TransactionNo",
    "vnp_TransactionDate",
    "vnp_CreateBy",
    "vnp_CreateDate",
    "vnp_IpAddr",
    "vnp_OrderInfo",
];
/// Refund responses sign the first 13 of these; querydr responses all 15.
pub const QUERYDR_RESPONSE_FIELDS: [&str; 15] = [
    "vnp_ResponseId",
    "vnp_Command",
    "vnp_ResponseCode",
    "vnp_Message",
    "vnp_TmnCode",
    "vnp_TxnRef",
    "vnp_Amount",
    "vnp_BankCode",
    "vnp_PayDate",
    "vnp_TransactionNo",
    "vnp_TransactionType",
    "vnp_TransactionStatus",
    "vnp_OrderInfo",
    "vnp_PromotionCode",
    "vnp_PromotionAmount",
];
pub const REFUND_RESPONSE_FIELDS: [&str; 13] = [
    "vnp_ResponseId",
    "vnp_Command",
    "vnp_ResponseCode",
    "vnp_Message",
    "vnp_TmnCode",
    "vnp_TxnRef",
    "vnp_Amount",
    "vnp_BankCode",
    "vnp_PayDate",
    "vnp_TransactionNo",
    "vnp_TransactionType",
    "vnp_TransactionStatus",
    "vnp_OrderInfo",
];
const MESSAGE_MAX_LEN: usize = 255;

/// `v1|v2|…` over the raw values in `order`; absent fields count as empty strings.
pub fn pipe_data(map: &Map<String, Value>, order: &[&'static str]) -> Result<String, GatewayError> {
    let mut values = Vec::with_capacity(order.len());
    for field in order {
        let text = json_scalar_text(map.get(*field))
            .ok_or_else(|| GatewayError::invalid(field, "expected a string or number"))?;
        values.push(text);
    }
    Ok(values.join("|"))
}

/// A JSON object of `fields` plus its `vnp_SecureHash` (fields are signed in slice order).
pub fn signed_body(fields: &[(&'static str, String)], secret: &str) -> Value {
    let data = fields
        .iter()
        .map(|(_, v)| v.as_str())
        .collect::<Vec<_>>()
        .join("|");
    let mut map: Map<String, Value> = fields
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Value::from(v.as_str())))
        .collect();
    map.insert(
        SECURE_HASH.to_owned(),
        Value::from(hmac_sha512_hex(secret.as_bytes(), data.as_bytes())),
    );
    Value::Object(map)
}

/// Parses a JSON body and verifies its `vnp_SecureHash` (constant time) over `order`.
pub fn verify_body(
    body: &[u8],
    order: &[&'static str],
    secret: &str,
) -> Result<Map<String, Value>, GatewayError> {
    let map = json_object(body)?;
    let signature = match map.get(SECURE_HASH) {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        _ => return Err(SignatureError::Missing.into()),
    };
    let data = pipe_data(&map, order)?;
    verify_hmac_sha512_hex(secret.as_bytes(), data.as_bytes(), &signature)?;
    Ok(map)
}

pub(crate) fn text(map: &Map<String, Value>, field: &'static str) -> Option<String> {
    json_scalar_text(map.get(field)).filter(|s| !s.is_empty())
}

pub(crate) fn required(
    map: &Map<String, Value>,
    field: &'static str,
) -> Result<String, GatewayError> {
    text(map, field).ok_or(GatewayError::MissingField(field))
}

pub(crate) fn expect_command(map: &Map<String, Value>, command: &str) -> Result<(), GatewayError> {
    if required(map, "vnp_Command")? == command {
        Ok(())
    } else {
        Err(GatewayError::invalid(
            "vnp_Command",
            format!("expected {command}"),
        ))
    }
}

/// A `querydr` request: "what happened to payment `txn_ref` created at `transaction_date`?"
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryDrRequest {
    /// Unique per day; Alphanumeric[1,32].
    pub request_id: String,
    pub tmn_code: String,
    pub txn_ref: String,
    /// `vnp_CreateDate` of the original payment.
    pub transaction_date: DateTime<Utc>,
    /// Now.
    pub create_date: DateTime<Utc>,
    /// Our server's IP.
    pub ip_addr: String,
    pub order_info: String,
}

impl QueryDrRequest {
    fn to_fields(&self) -> Vec<(&'static str, String)> {
        vec![
            ("vnp_RequestId", self.request_id.clone()),
            ("vnp_Version", VERSION.to_owned()),
            ("vnp_Command", COMMAND_QUERYDR.to_owned()),
            ("vnp_TmnCode", self.tmn_code.clone()),
            ("vnp_TxnRef", self.txn_ref.clone()),
            ("vnp_TransactionDate", format_date(self.transaction_date)),
            ("vnp_CreateDate", format_date(self.create_date)),
            ("vnp_IpAddr", self.ip_addr.clone()),
            (
                "vnp_OrderInfo",
                ascii::sanitize(&self.order_info, MESSAGE_MAX_LEN),
            ),
        ]
    }
}

/// The signed JSON body to POST to VNPay's transaction API.
pub fn build_querydr_request(request: &QueryDrRequest, secret: &str) -> Value {
    signed_body(&request.to_fields(), secret)
}

/// `vnp_TransactionType` of a refund.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundType {
    /// `02`
    Full,
    /// `03`
    Partial,
}

impl RefundType {
    pub fn code(self) -> &'static str {
        match self {
            Self::Full => "02",
            Self::Partial => "03",
        }
    }
}

/// A `refund` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundRequest {
    pub request_id: String,
    pub tmn_code: String,
    pub refund_type: RefundType,
    pub txn_ref: String,
    pub amount_vnd: i64,
    /// VNPay's transaction number; `None` sends `0` (official Node sample).
    pub transaction_no: Option<String>,
    pub transaction_date: DateTime<Utc>,
    /// Operator who asked for the refund.
    pub create_by: String,
    pub create_date: DateTime<Utc>,
    pub ip_addr: String,
    pub order_info: String,
}

/// The signed JSON body of a refund request.
pub fn build_refund_request(request: &RefundRequest, secret: &str) -> Result<Value, GatewayError> {
    let fields = vec![
        ("vnp_RequestId", request.request_id.clone()),
        ("vnp_Version", VERSION.to_owned()),
        ("vnp_Command", COMMAND_REFUND.to_owned()),
        ("vnp_TmnCode", request.tmn_code.clone()),
        ("vnp_TransactionType", request.refund_type.code().to_owned()),
        ("vnp_TxnRef", request.txn_ref.clone()),
        ("vnp_Amount", to_vnp_amount(request.amount_vnd)?.to_string()),
        (
            "vnp_TransactionNo",
            request
                .transaction_no
                .clone()
                .unwrap_or_else(|| "0".to_owned()),
        ),
        ("vnp_TransactionDate", format_date(request.transaction_date)),
        ("vnp_CreateBy", request.create_by.clone()),
        ("vnp_CreateDate", format_date(request.create_date)),
        ("vnp_IpAddr", request.ip_addr.clone()),
        (
            "vnp_OrderInfo",
            ascii::sanitize(&request.order_info, MESSAGE_MAX_LEN),
        ),
    ];
    Ok(signed_body(&fields, secret))
}

/// A verified `querydr` or `refund` response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionResponse {
    pub response_id: String,
    /// `querydr` or `refund`.
    pub command: String,
    pub response_code: ApiResponseCode,
    pub message: String,
    pub tmn_code: String,
    pub txn_ref: String,
    pub amount_vnd: Option<i64>,
    pub bank_code: Option<String>,
    pub pay_date: Option<DateTime<Utc>>,
    pub transaction_no: Option<String>,
    /// `01` payment, `02` full refund, `03` partial refund.
    pub transaction_type: Option<String>,
    pub transaction_status: Option<TransactionStatus>,
    pub order_info: Option<String>,
    pub promotion_code: Option<String>,
    pub promotion_amount: Option<String>,
}

impl TransactionResponse {
    fn from_map(map: &Map<String, Value>) -> Result<Self, GatewayError> {
        Ok(Self {
            response_id: text(map, "vnp_ResponseId").unwrap_or_default(),
            command: required(map, "vnp_Command")?,
            response_code: ApiResponseCode::from_code(&required(map, "vnp_ResponseCode")?),
            message: text(map, "vnp_Message").unwrap_or_default(),
            tmn_code: text(map, "vnp_TmnCode").unwrap_or_default(),
            txn_ref: text(map, "vnp_TxnRef").unwrap_or_default(),
            amount_vnd: text(map, "vnp_Amount")
                .map(|a| from_vnp_amount(&a))
                .transpose()?,
            bank_code: text(map, "vnp_BankCode"),
            pay_date: text(map, "vnp_PayDate")
                .map(|d| parse_date("vnp_PayDate", &d))
                .transpose()?,
            transaction_no: text(map, "vnp_TransactionNo"),
            transaction_type: text(map, "vnp_TransactionType"),
            transaction_status: text(map, "vnp_TransactionStatus")
                .map(|s| TransactionStatus::from_code(&s)),
            order_info: text(map, "vnp_OrderInfo"),
            promotion_code: text(map, "vnp_PromotionCode"),
            promotion_amount: text(map, "vnp_PromotionAmount"),
        })
    }

    pub(crate) fn to_fields(&self) -> Result<Vec<(&'static str, String)>, GatewayError> {
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        Ok(vec![
            ("vnp_ResponseId", self.response_id.clone()),
            ("vnp_Command", self.command.clone()),
            ("vnp_ResponseCode", self.response_code.code().to_owned()),
            ("vnp_Message", self.message.clone()),
            ("vnp_TmnCode", self.tmn_code.clone()),
            ("vnp_TxnRef", self.txn_ref.clone()),
            (
                "vnp_Amount",
                self.amount_vnd
                    .map(to_vnp_amount)
                    .transpose()?
                    .map(|a| a.to_string())
                    .unwrap_or_default(),
            ),
            ("vnp_BankCode", opt(&self.bank_code)),
            (
                "vnp_PayDate",
                self.pay_date.map(format_date).unwrap_or_default(),
            ),
            ("vnp_TransactionNo", opt(&self.transaction_no)),
            ("vnp_TransactionType", opt(&self.transaction_type)),
            (
                "vnp_TransactionStatus",
                self.transaction_status
                    .as_ref()
                    .map(|s| s.code().to_owned())
                    .unwrap_or_default(),
            ),
            ("vnp_OrderInfo", opt(&self.order_info)),
            ("vnp_PromotionCode", opt(&self.promotion_code)),
            ("vnp_PromotionAmount", opt(&self.promotion_amount)),
        ])
    }
}

/// Verifies (constant time) and reads a `querydr` response. An unsigned response is refused:
/// nothing unsigned may drive a state change.
pub fn parse_querydr_response(
    body: &[u8],
    secret: &str,
) -> Result<TransactionResponse, GatewayError> {
    let map = verify_body(body, &QUERYDR_RESPONSE_FIELDS, secret)?;
    expect_command(&map, COMMAND_QUERYDR)?;
    TransactionResponse::from_map(&map)
}

/// Verifies (constant time) and reads a `refund` response.
pub fn parse_refund_response(
    body: &[u8],
    secret: &str,
) -> Result<TransactionResponse, GatewayError> {
    let map = verify_body(body, &REFUND_RESPONSE_FIELDS, secret)?;
    expect_command(&map, COMMAND_REFUND)?;
    TransactionResponse::from_map(&map)
}
