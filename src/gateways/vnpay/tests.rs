use chrono::{DateTime, TimeZone, Utc};

use super::codes::{IpnAnswer, ResponseCode, TransactionStatus};
use super::sandbox::{parse_payment_request, sign_callback, sign_callback_for};
use super::transaction::{build_refund_request, parse_querydr_response, RefundRequest, RefundType};
use super::wire::{
    build_payment_url, format_date, from_vnp_amount, normalize_ip, parse_callback, parse_date,
    sign_data, to_vnp_amount, urlencode, Locale, PaymentRequest, VnpayCallback,
};
use crate::gateways::{hmac_sha512_hex, GatewayError, SignatureError};

const SECRET: &str = "LANDTESTSECRET0123456789ABCDEFGH";

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s).single().unwrap()
}

fn request() -> PaymentRequest {
    PaymentRequest {
        tmn_code: "LANDVN01".to_owned(),
        amount_vnd: 45_171_500,
        txn_ref: "att_01JHQ8X".to_owned(),
        order_info: "Nộp tiền hồ sơ 000.00.12.H26-261120-0001 (Nguyễn Văn Đức)".to_owned(),
        order_type: "billpayment".to_owned(),
        locale: Locale::Vn,
        return_url: "http://localhost:8080/callbacks/vnpay/return".to_owned(),
        ip_addr: "::ffff:203.0.113.10".to_owned(),
        create_date: utc(2026, 11, 20, 16, 50, 0),
        expire_date: utc(2026, 11, 20, 16, 59, 59),
        bank_code: None,
    }
}

fn callback() -> VnpayCallback {
    VnpayCallback {
        tmn_code: "LANDVN01".to_owned(),
        txn_ref: "att_01JHQ8X".to_owned(),
        amount_vnd: 45_171_500,
        response_code: ResponseCode::Success,
        transaction_status: TransactionStatus::Success,
        transaction_no: "14826301".to_owned(),
        bank_code: Some("NCB".to_owned()),
        bank_tran_no: Some("VNP14826301".to_owned()),
        card_type: Some("ATM".to_owned()),
        pay_date: Some(utc(2026, 11, 20, 16, 55, 12)),
        order_info: Some("Nop tien ho so 000.00.12.H26-261120-0001".to_owned()),
    }
}

#[test]
fn amounts_are_multiplied_and_divided_by_100() {
    assert_eq!(to_vnp_amount(1_500_000).unwrap(), 150_000_000);
    assert_eq!(to_vnp_amount(1).unwrap(), 100);
    assert!(to_vnp_amount(0).is_err());
    assert!(to_vnp_amount(-5).is_err());
    assert!(to_vnp_amount(i64::MAX).is_err());
    assert!(to_vnp_amount(10_000_000_000).is_err()); // 13 digits once ×100
    assert_eq!(from_vnp_amount("150000000").unwrap(), 1_500_000);
    assert_eq!(from_vnp_amount("100").unwrap(), 1);
    for bad in ["150000050", "99", "", "-100", "1e5", "15 00", "+100"] {
        assert!(from_vnp_amount(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn dates_are_formatted_in_utc_plus_7_across_midnight() {
    assert_eq!(format_date(utc(2025, 1, 15, 3, 30, 0)), "20250115103000");
    assert_eq!(format_date(utc(2025, 1, 15, 17, 30, 0)), "20250116003000");
    assert_eq!(format_date(utc(2024, 12, 31, 16, 59, 59)), "20241231235959");
    assert_eq!(format_date(utc(2024, 12, 31, 17, 0, 0)), "20250101000000");
    assert_eq!(
        parse_date("vnp_PayDate", "20250101000000").unwrap(),
        utc(2024, 12, 31, 17, 0, 0)
    );
    for bad in [
        "2025010100000",
        "20251301000000",
        "2025-01-01 00:",
        "20250230120000",
    ] {
        assert!(parse_date("vnp_PayDate", bad).is_err(), "{bad}");
    }
}

#[test]
fn encoder_is_php_urlencode() {
    assert_eq!(urlencode("a b*~()!'"), "a+b%2A%7E%28%29%21%27");
    assert_eq!(urlencode("-_.AZaz09"), "-_.AZaz09");
    assert_eq!(urlencode("đ/:?="), "%C4%91%2F%3A%3F%3D");
}

#[test]
fn sign_data_sorts_and_drops_empty_and_foreign_parameters() {
    let data = sign_data([
        ("vnp_TxnRef", "1"),
        ("vnp_Amount", "100"),
        ("vnp_BankCode", ""),
        ("src", "web"),
        ("vnp_SecureHash", "ab"),
        ("vnp_SecureHashType", "HmacSHA512"),
    ]);
    assert_eq!(data, "vnp_Amount=100&vnp_TxnRef=1");
}

#[test]
fn payment_url_round_trips_through_the_sandbox() {
    let url = build_payment_url("https://sandbox.example/vpcpay.html", &request(), SECRET).unwrap();
    let query = url.split_once('?').unwrap().1;
    assert!(query.contains("vnp_Amount=4517150000&"));
    assert!(query.contains("vnp_CreateDate=20261120235000&"));
    assert!(query.contains("vnp_ExpireDate=20261120235959&"));
    assert!(query.contains("vnp_IpAddr=203.0.113.10&"));
    assert!(!query.contains("vnp_BankCode"));
    let back = parse_payment_request(query, SECRET).unwrap();
    assert_eq!(
        back.order_info,
        "Nop tien ho so 000.00.12.H26-261120-0001 Nguyen Van Duc"
    );
    assert_eq!(back.amount_vnd, 45_171_500);
    assert_eq!(back.create_date, request().create_date);
    assert_eq!(back.ip_addr, "203.0.113.10");
}

#[test]
fn tampered_or_wrongly_keyed_queries_are_refused() {
    let url = build_payment_url("https://x/p", &request(), SECRET).unwrap();
    let query = url.split_once('?').unwrap().1;
    let tampered = query.replace("vnp_Amount=4517150000", "vnp_Amount=100");
    let mismatch = Err(GatewayError::Signature(SignatureError::Mismatch));
    assert_eq!(parse_payment_request(&tampered, SECRET), mismatch);
    assert_eq!(parse_payment_request(query, "another-secret"), mismatch);
    let unsigned = query.split("&vnp_SecureHash=").next().unwrap();
    assert_eq!(
        parse_payment_request(unsigned, SECRET),
        Err(GatewayError::Signature(SignatureError::Missing))
    );
    // An added parameter is signed too.
    let added = format!("{query}&vnp_BankCode=NCB");
    assert_eq!(parse_payment_request(&added, SECRET), mismatch);
    // Upper-case hex is accepted (case-insensitive comparison of the decoded bytes).
    let (head, hash) = query.split_once("&vnp_SecureHash=").unwrap();
    let upper = format!("{head}&vnp_SecureHash={}", hash.to_uppercase());
    assert!(parse_payment_request(&upper, SECRET).is_ok());
    // A repeated key is refused outright.
    let repeated = format!("vnp_Amount=100&{query}");
    assert!(matches!(
        parse_payment_request(&repeated, SECRET),
        Err(GatewayError::DuplicateField { .. })
    ));
}

#[test]
fn callback_round_trips_and_failures_are_still_callbacks() {
    let query = sign_callback_for(&callback(), SECRET);
    assert_eq!(parse_callback(&query, SECRET).unwrap(), callback());
    assert!(parse_callback(&format!("?{query}"), SECRET).is_ok());
    assert!(parse_callback(&query, "wrong").unwrap_err().is_signature());
    let tampered = query.replace("vnp_ResponseCode=00", "vnp_ResponseCode=24");
    assert!(parse_callback(&tampered, SECRET)
        .unwrap_err()
        .is_signature());

    let mut failed = callback();
    failed.response_code = ResponseCode::CancelledByCustomer;
    failed.transaction_status = TransactionStatus::Error;
    failed.transaction_no = "0".to_owned();
    failed.bank_tran_no = None;
    let parsed = parse_callback(&sign_callback_for(&failed, SECRET), SECRET).unwrap();
    assert!(!parsed.is_success());
    assert_eq!(parsed, failed);
}

#[test]
fn a_signed_but_fractional_amount_is_refused_after_verification() {
    let query = sign_callback(
        &[
            ("vnp_TmnCode", "LANDVN01"),
            ("vnp_TxnRef", "x"),
            ("vnp_Amount", "150000050"),
            ("vnp_ResponseCode", "00"),
            ("vnp_TransactionStatus", "00"),
            ("vnp_TransactionNo", "1"),
        ],
        SECRET,
    );
    let err = parse_callback(&query, SECRET).unwrap_err();
    assert!(!err.is_signature());
    assert_eq!(IpnAnswer::for_error(&err), IpnAnswer::unknown_error());
}

#[test]
fn ipn_answers_serialise_exactly() {
    let cases = [
        (IpnAnswer::confirm_success(), "00", "Confirm Success"),
        (IpnAnswer::order_not_found(), "01", "Order not found"),
        (
            IpnAnswer::order_already_confirmed(),
            "02",
            "Order already confirmed",
        ),
        (IpnAnswer::invalid_amount(), "04", "invalid amount"),
        (IpnAnswer::invalid_signature(), "97", "Invalid signature"),
        (IpnAnswer::unknown_error(), "99", "Unknow error"),
    ];
    for (answer, code, message) in cases {
        let expected = format!("{{\"RspCode\":\"{code}\",\"Message\":\"{message}\"}}");
        assert_eq!(answer.to_json(), expected);
        assert_eq!(serde_json::to_string(&answer).unwrap(), expected);
        assert_eq!(answer.is_final(), matches!(code, "00" | "02"));
    }
}

#[test]
fn refund_converts_amount_and_defaults_transaction_no() {
    let body = build_refund_request(
        &RefundRequest {
            request_id: "RF1".to_owned(),
            tmn_code: "LANDVN01".to_owned(),
            refund_type: RefundType::Partial,
            txn_ref: "att_1".to_owned(),
            amount_vnd: 50_000,
            transaction_no: None,
            transaction_date: utc(2025, 1, 15, 3, 30, 0),
            create_by: "finance".to_owned(),
            create_date: utc(2025, 1, 16, 2, 0, 0),
            ip_addr: "203.0.113.20".to_owned(),
            order_info: "Hoàn tiền".to_owned(),
        },
        SECRET,
    )
    .unwrap();
    assert_eq!(body["vnp_Amount"], "5000000");
    assert_eq!(body["vnp_TransactionNo"], "0");
    assert_eq!(body["vnp_TransactionType"], "03");
    assert_eq!(body["vnp_OrderInfo"], "Hoan tien");
}

#[test]
fn querydr_response_accepts_numeric_json_values() {
    let data = "r1|querydr|91|Not found|LANDVN01|att_1|||||||||";
    let hash = hmac_sha512_hex(SECRET.as_bytes(), data.as_bytes());
    let body = serde_json::json!({
        "vnp_ResponseId": "r1", "vnp_Command": "querydr", "vnp_ResponseCode": 91,
        "vnp_Message": "Not found", "vnp_TmnCode": "LANDVN01", "vnp_TxnRef": "att_1",
        "vnp_SecureHash": hash,
    });
    let parsed = parse_querydr_response(body.to_string().as_bytes(), SECRET).unwrap();
    assert_eq!(parsed.response_code.code(), "91");
    assert_eq!(parsed.amount_vnd, None);
}

#[test]
fn secrets_never_appear_in_errors() {
    let secret = "SUPERSECRETVALUE";
    let err = parse_callback("vnp_Amount=1&vnp_SecureHash=00", secret).unwrap_err();
    assert!(!format!("{err} {err:?}").contains(secret));
    let err = parse_payment_request("vnp_SecureHash=zz", secret).unwrap_err();
    assert!(!format!("{err} {err:?}").contains(secret));
}

#[test]
fn ipv4_mapped_addresses_are_normalised() {
    assert_eq!(normalize_ip("::ffff:203.0.113.10"), "203.0.113.10");
    assert_eq!(normalize_ip(" 203.0.113.10 "), "203.0.113.10");
    assert_eq!(normalize_ip("2001:db8::1"), "2001:db8::1");
}
