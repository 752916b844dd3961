//! The callback decision without a database: each gateway's raw callback becomes one verified
//! event or a rejection, the event what is applied, and every decision its verdict and answer.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{TimeZone, Utc};

use super::*;
use crate::config::{ConfigSources, Settings};
use crate::gateways::callback::Failure;
use crate::gateways::vnpay::codes::{ResponseCode, TransactionStatus};
use crate::gateways::vnpay::sandbox::sign_callback_for;
use crate::gateways::vnpay::wire::VnpayCallback;

fn settings() -> Settings {
    let sources = ConfigSources {
        dir: std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/config")),
        environment: "local".to_owned(),
        extra_file: None,
    };
    Settings::load_with_env(&sources, &[]).unwrap()
}

fn vnpay_callback(tmn_code: &str, response: &str, amount_vnd: i64) -> VnpayCallback {
    let paid = response == "00";
    VnpayCallback {
        tmn_code: tmn_code.to_owned(),
        txn_ref: "REF1".into(),
        amount_vnd,
        response_code: ResponseCode::from_code(response),
        transaction_status: TransactionStatus::from_code(if paid { "00" } else { "02" }),
        transaction_no: if paid { "14123456" } else { "0" }.into(),
        bank_code: Some("NCB".into()),
        bank_tran_no: None,
        card_type: None,
        pay_date: Some(Utc.with_ymd_and_hms(2026, 12, 2, 2, 30, 0).unwrap()),
        order_info: Some("Thanh toan".into()),
    }
}

fn verify_vnpay(s: &Settings, query: &str) -> Result<GatewayEvent, Rejection> {
    adapter(GatewayId::Vnpay)
        .unwrap()
        .verify(s, None, query.as_bytes())
}

#[test]
fn a_signed_vnpay_ipn_becomes_a_paid_event_in_dong() {
    let s = settings();
    let cfg = s.vnpay_for(None);
    let query = sign_callback_for(
        &vnpay_callback(&cfg.tmn_code, "00", 1_250_000),
        cfg.hash_secret.expose(),
    );
    let event = verify_vnpay(&s, &query).unwrap();
    assert_eq!(event.txn_ref, "REF1");
    assert_eq!(event.amount, Some(1_250_000));
    assert_eq!(event.status, EventStatus::Paid);
    let result = gateway_result(&event).unwrap();
    assert!(result.success);
    assert_eq!(result.amount, 1_250_000);
    assert_eq!(result.gateway_txn_no.as_deref(), Some("14123456"));
    assert_eq!(result.source, "vnpay.ipn");
    assert!(result.failure.is_none());
}

#[test]
fn a_declined_vnpay_ipn_is_a_failure_that_says_why() {
    let s = settings();
    let cfg = s.vnpay_for(None);
    let query = sign_callback_for(
        &vnpay_callback(&cfg.tmn_code, "24", 1_000),
        cfg.hash_secret.expose(),
    );
    let result = gateway_result(&verify_vnpay(&s, &query).unwrap()).unwrap();
    assert!(!result.success);
    // `0` is VNPay's "no transaction", never a transaction number.
    assert_eq!(result.gateway_txn_no, None);
    assert_eq!(result.failure.unwrap().code.as_deref(), Some("24"));
}

#[test]
fn vnpay_rejects_a_bad_signature_another_merchant_and_nul() {
    let s = settings();
    let cfg = s.vnpay_for(None);
    let secret = cfg.hash_secret.expose();
    let query = sign_callback_for(&vnpay_callback(&cfg.tmn_code, "00", 5_000), secret);
    let tampered = query.replace("vnp_Amount=500000", "vnp_Amount=100");
    assert_ne!(tampered, query);
    let why = |q: &str| verify_vnpay(&s, q).unwrap_err();
    assert_eq!(why(&tampered).why, Rejected::BadSignature);
    assert_eq!(why(&tampered).logged_reference(), None);
    let other = sign_callback_for(&vnpay_callback("OTHER001", "00", 5_000), secret);
    assert_eq!(why(&other).why, Rejected::WrongMerchant);
    assert_eq!(why(&other).logged_reference(), Some("REF1"));
    assert_eq!(why(&format!("{query}&x=%00")).why, Rejected::Malformed);
}

fn event(amount: Option<i64>, status: EventStatus) -> GatewayEvent {
    GatewayEvent {
        gateway: GatewayId::Momo,
        txn_ref: "REF2".into(),
        amount,
        status,
        gateway_txn_no: Some("77".into()),
        bank_code: None,
        paid_at: None,
        source: "momo.ipn",
        signed_by: None,
    }
}

#[test]
fn a_pending_payment_or_an_amount_not_in_whole_dong_is_only_noted() {
    assert!(gateway_result(&event(Some(10), EventStatus::Pending)).is_none());
    assert!(gateway_result(&event(None, EventStatus::Paid)).is_none());
    let failure = Failure {
        code: Some("1006".into()),
        reason_vi: "Người dùng từ chối".into(),
        reason_en: "Declined".into(),
    };
    let failed = gateway_result(&event(Some(10), EventStatus::Failed(Some(failure)))).unwrap();
    assert!(!failed.success);
    assert_eq!(failed.amount, 10);
    assert_eq!(failed.failure.unwrap().code.as_deref(), Some("1006"));
}

#[test]
fn every_outcome_has_one_decision_and_verdict() {
    let cases = [
        (CallbackOutcome::UnknownReference, "unknown_reference"),
        (CallbackOutcome::AmountMismatch, "amount_mismatch"),
        (CallbackOutcome::AlreadySettled, "already_settled"),
        (CallbackOutcome::Noted, "valid"),
        (CallbackOutcome::Applied(ResultApplied::Paid), "valid"),
        (
            CallbackOutcome::Applied(ResultApplied::Flagged("duplicate_payment".into())),
            "valid",
        ),
    ];
    for (outcome, verdict) in cases {
        assert_eq!(decision_of(&outcome).verdict(), verdict);
        // The log's verdict is the store's own.
        assert_eq!(outcome.verdict(), verdict);
    }
    for why in [
        Rejected::BadSignature,
        Rejected::Malformed,
        Rejected::WrongMerchant,
    ] {
        assert_eq!(Decision::Rejected(why).verdict(), why.verdict());
    }
}

#[test]
fn each_gateway_answers_the_same_decision_its_own_way() {
    let answer = |g| adapter(g).unwrap().answer(Decision::UnknownReference);
    assert_eq!(answer(GatewayId::Vnpay), "01");
    assert_eq!(answer(GatewayId::Momo), "400");
    assert_eq!(answer(GatewayId::Zalopay), "0");
    assert_eq!(answer(GatewayId::Dvcqg), "99");
    assert_eq!(answer(GatewayId::Paygov), "unknown_reference");
}

#[test]
fn a_signed_zalopay_callback_is_paid_and_a_bad_mac_is_rejected() {
    let s = settings();
    let key2 = s.zalopay_for(None).key2.expose().to_owned();
    let data = serde_json::json!({
        "app_id": 2553, "app_trans_id": "261202_REF3", "app_time": 1_764_640_000_000_i64,
        "app_user": "landpay", "amount": 75_000, "embed_data": "{}", "item": "[]",
        "zp_trans_id": 240_000_123, "server_time": 1_764_640_100_000_i64, "channel": 38,
        "merchant_user_id": "m", "user_fee_amount": 0, "discount_amount": 0,
    })
    .to_string();
    let body = |mac: &str| serde_json::json!({"data": data, "mac": mac, "type": 1}).to_string();
    let zalopay = adapter(GatewayId::Zalopay).unwrap();
    let mac = crate::gateways::hmac_sha256_hex(key2.as_bytes(), data.as_bytes());
    let event = zalopay.verify(&s, None, body(&mac).as_bytes()).unwrap();
    assert_eq!(event.txn_ref, "261202_REF3");
    let result = gateway_result(&event).unwrap();
    assert!(result.success);
    assert_eq!(result.amount, 75_000);
    assert_eq!(result.gateway_txn_no.as_deref(), Some("240000123"));
    let forged = zalopay.verify(&s, None, body(&"0".repeat(64)).as_bytes());
    assert_eq!(forged.unwrap_err().why, Rejected::BadSignature);
    let decision = Decision::Rejected(Rejected::BadSignature);
    assert_eq!(zalopay.answer(decision), "-1");
}

#[test]
fn a_dvcqg_result_names_the_account_that_signed_it() {
    use crate::gateways::dvcqg::wire::ResultMessage;
    let s = settings();
    let cfg = &s.gateways.dvcqg;
    let msg = ResultMessage {
        message_type: cfg.message_types.result.clone(),
        code: "00".into(),
        partner_code: cfg.partner_code.clone(),
        reference: "REF4".into(),
        amount: "2500000".into(),
        currency: "VND".into(),
        transaction_no: "DVC1".into(),
        bank_code: "NCB".into(),
        time: "20261202093000".into(),
        description: "Thanh toan".into(),
        mac: String::new(),
    };
    let dvcqg = adapter(GatewayId::Dvcqg).unwrap();
    let signed = msg
        .clone()
        .sign(cfg.hash_key.expose())
        .to_json()
        .to_string();
    let event = dvcqg.verify(&s, None, signed.as_bytes()).unwrap();
    assert_eq!(event.signed_by.as_deref(), Some(cfg.partner_code.as_str()));
    assert_eq!(gateway_result(&event).unwrap().amount, 2_500_000);
    let unsigned = msg.sign("another key").to_json().to_string();
    let rejection = dvcqg.verify(&s, None, unsigned.as_bytes()).unwrap_err();
    assert_eq!(rejection.why, Rejected::BadSignature);
    // The reply echoes the reference it named, but the log does not believe it.
    assert_eq!(rejection.reference.as_deref(), Some("REF4"));
    assert_eq!(rejection.logged_reference(), None);
}
