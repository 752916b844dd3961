//! The VNPay side of the protocol, for the local sandbox simulator: it receives
//! our payment URL, signs IPN/return notifications exactly as VNPay does, and answers
//! `querydr`. Refused in production by the service, not here.

use serde_json::Value;

use super::transaction::{
    expect_command, required, signed_body, text, verify_body, QueryDrRequest, TransactionResponse,
    COMMAND_QUERYDR, QUERYDR_REQUEST_FIELDS,
};
use super::wire::{
    from_vnp_amount, parse_date, sign_params, verify_query, Locale, PaymentRequest, VerifiedParams,
    VnpayCallback, COMMAND_PAY, CURRENCY, VERSION,
};
use crate::gateways::GatewayError;

fn expect(params: &VerifiedParams, field: &'static str, value: &str) -> Result<(), GatewayError> {
    if params.required(field)? == value {
        Ok(())
    } else {
        Err(GatewayError::invalid(field, format!("expected {value}")))
    }
}

/// Verifies the signature of a payment-URL query (ours) and reads the request back.
pub fn parse_payment_request(query: &str, secret: &str) -> Result<PaymentRequest, GatewayError> {
    let p = verify_query(query, secret)?;
    expect(&p, "vnp_Version", VERSION)?;
    expect(&p, "vnp_Command", COMMAND_PAY)?;
    expect(&p, "vnp_CurrCode", CURRENCY)?;
    Ok(PaymentRequest {
        tmn_code: p.required("vnp_TmnCode")?.to_owned(),
        amount_vnd: from_vnp_amount(p.required("vnp_Amount")?)?,
        txn_ref: p.required("vnp_TxnRef")?.to_owned(),
        order_info: p.required("vnp_OrderInfo")?.to_owned(),
        order_type: p.required("vnp_OrderType")?.to_owned(),
        locale: Locale::parse(p.required("vnp_Locale")?)?,
        return_url: p.required("vnp_ReturnUrl")?.to_owned(),
        ip_addr: p.required("vnp_IpAddr")?.to_owned(),
        create_date: parse_date("vnp_CreateDate", p.required("vnp_CreateDate")?)?,
        expire_date: parse_date("vnp_ExpireDate", p.required("vnp_ExpireDate")?)?,
        bank_code: p.optional("vnp_BankCode"),
    })
}

/// Signs notification parameters as VNPay does and returns the query string
/// (`…sorted encoded params…&vnp_SecureHash=…`) to append to the IPN or return URL.
pub fn sign_callback(params: &[(&str, &str)], secret: &str) -> String {
    sign_params(params.iter().copied(), secret).query()
}

/// [`sign_callback`] for a typed notification.
pub fn sign_callback_for(callback: &VnpayCallback, secret: &str) -> String {
    let params = callback.to_params();
    sign_params(params.iter().map(|(k, v)| (*k, v.as_str())), secret).query()
}

/// Verifies an incoming `querydr` body (constant time) and reads it.
pub fn parse_querydr_request(body: &[u8], secret: &str) -> Result<QueryDrRequest, GatewayError> {
    let map = verify_body(body, &QUERYDR_REQUEST_FIELDS, secret)?;
    expect_command(&map, COMMAND_QUERYDR)?;
    Ok(QueryDrRequest {
        request_id: required(&map, "vnp_RequestId")?,
        tmn_code: required(&map, "vnp_TmnCode")?,
        txn_ref: required(&map, "vnp_TxnRef")?,
        transaction_date: parse_date(
            "vnp_TransactionDate",
            &required(&map, "vnp_TransactionDate")?,
        )?,
        create_date: parse_date("vnp_CreateDate", &required(&map, "vnp_CreateDate")?)?,
        ip_addr: required(&map, "vnp_IpAddr")?,
        order_info: text(&map, "vnp_OrderInfo").unwrap_or_default(),
    })
}

/// The signed JSON body answering a `querydr` (all 15 signed fields; absent ones as `""`).
/// `command` is forced to `querydr`.
pub fn build_querydr_response(
    response: &TransactionResponse,
    secret: &str,
) -> Result<Value, GatewayError> {
    let mut fields = response.to_fields()?;
    for (key, value) in fields.iter_mut() {
        if *key == "vnp_Command" {
            COMMAND_QUERYDR.clone_into(value);
        }
    }
    Ok(signed_body(&fields, secret))
}
