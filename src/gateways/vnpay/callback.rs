//! VNPay's IPN and browser return as gateway events: the query is verified (SHA-512 over the
//! exact parameters) with the credentials of the attempt's agency, then `vnp_TmnCode` must be
//! that merchant's.

use super::codes::{IpnAnswer, ResponseCode};
use super::wire::{parse_callback, verify_query, VnpayCallback};
use crate::config::Settings;
use crate::gateways::callback::{
    query_has_nul, query_value, CallbackAdapter, Decision, EventStatus, Failure, GatewayEvent,
    Rejected, Rejection,
};
use crate::gateways::{GatewayError, GatewayId};

const SOURCE: &str = "vnpay.ipn";

/// VNPay's callbacks.
pub struct Callbacks;

impl CallbackAdapter for Callbacks {
    fn gateway(&self) -> GatewayId {
        GatewayId::Vnpay
    }

    fn claimed_reference(&self, payload: &[u8]) -> Option<String> {
        query_value(std::str::from_utf8(payload).ok()?, "vnp_TxnRef")
    }

    fn verify(
        &self,
        settings: &Settings,
        agency: Option<&str>,
        payload: &[u8],
    ) -> Result<GatewayEvent, Rejection> {
        let query =
            std::str::from_utf8(payload).map_err(|_| Rejection::new(Rejected::Malformed, None))?;
        if query_has_nul(query) {
            return Err(Rejection::new(Rejected::Malformed, None));
        }
        let cfg = settings.vnpay_for(agency);
        match parse_callback(query, cfg.hash_secret.expose()) {
            Ok(cb) if cb.tmn_code == cfg.tmn_code => Ok(event_of(&cb)),
            Ok(cb) => Err(Rejection::new(Rejected::WrongMerchant, Some(cb.txn_ref))),
            // Signed, but an amount that is not whole đồng: it cannot be the attempt's amount.
            Err(GatewayError::InvalidField {
                field: "vnp_Amount",
                ..
            }) => {
                let verified =
                    verify_query(query, cfg.hash_secret.expose()).map_err(|e| Rejection::of(&e))?;
                let txn_ref = verified.get("vnp_TxnRef").unwrap_or_default().to_owned();
                if verified.get("vnp_TmnCode") != Some(cfg.tmn_code.as_str()) {
                    return Err(Rejection::new(Rejected::WrongMerchant, Some(txn_ref)));
                }
                Ok(GatewayEvent {
                    gateway: GatewayId::Vnpay,
                    txn_ref,
                    amount: None,
                    status: EventStatus::Pending,
                    gateway_txn_no: None,
                    bank_code: None,
                    paid_at: None,
                    source: SOURCE,
                    signed_by: None,
                })
            }
            Err(e) => Err(Rejection::of(&e)),
        }
    }

    fn answer(&self, decision: Decision) -> String {
        ipn_answer_for(decision).rsp_code
    }

    fn error_answer(&self) -> String {
        IpnAnswer::unknown_error().rsp_code
    }

    fn verify_return(
        &self,
        settings: &Settings,
        agency: Option<&str>,
        query: &str,
    ) -> Option<String> {
        let cfg = settings.vnpay_for(agency);
        parse_callback(query, cfg.hash_secret.expose())
            .ok()
            .map(|cb| cb.txn_ref)
    }

    fn claimed_return_reference(&self, query: &str) -> Option<String> {
        query_value(query, "vnp_TxnRef")
    }
}

/// VNPay's answer to a decided IPN: `00` also for a recorded failed payment and for money
/// recorded on an order that could no longer take it.
fn ipn_answer_for(decision: Decision) -> IpnAnswer {
    match decision {
        Decision::Rejected(Rejected::Malformed) => IpnAnswer::unknown_error(),
        Decision::Rejected(_) => IpnAnswer::invalid_signature(),
        Decision::UnknownReference => IpnAnswer::order_not_found(),
        Decision::AmountMismatch => IpnAnswer::invalid_amount(),
        Decision::AlreadySettled => IpnAnswer::order_already_confirmed(),
        Decision::Accepted => IpnAnswer::confirm_success(),
    }
}

/// The IPN answer whose `RspCode` is `code` (`99` for any code VNPay is never answered with).
pub fn ipn_answer(code: &str) -> IpnAnswer {
    [
        IpnAnswer::confirm_success(),
        IpnAnswer::order_not_found(),
        IpnAnswer::order_already_confirmed(),
        IpnAnswer::invalid_amount(),
        IpnAnswer::invalid_signature(),
    ]
    .into_iter()
    .find(|a| a.rsp_code == code)
    .unwrap_or_else(IpnAnswer::unknown_error)
}

fn event_of(callback: &VnpayCallback) -> GatewayEvent {
    let status = if callback.is_success() {
        EventStatus::Paid
    } else {
        EventStatus::Failed(Some(failure_of(callback)))
    };
    GatewayEvent {
        gateway: GatewayId::Vnpay,
        txn_ref: callback.txn_ref.clone(),
        amount: Some(callback.amount_vnd),
        status,
        // VNPay sends `0` for a payment that never happened.
        gateway_txn_no: Some(callback.transaction_no.clone()).filter(|n| n != "0"),
        bank_code: callback.bank_code.clone(),
        paid_at: callback.pay_date,
        source: SOURCE,
        signed_by: None,
    }
}

/// The response code says why; when it says nothing, the transaction status does.
fn failure_of(callback: &VnpayCallback) -> Failure {
    let (code, vi, en) = if callback.response_code == ResponseCode::Success {
        let s = &callback.transaction_status;
        (s.code(), s.meaning_vi(), s.meaning_en())
    } else {
        let r = &callback.response_code;
        (r.code(), r.meaning_vi(), r.meaning_en())
    };
    Failure {
        code: Some(code.to_owned()),
        reason_vi: vi.to_owned(),
        reason_en: en.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_decision_has_its_ipn_answer_and_back() {
        let answers = [
            (Decision::Accepted, "00"),
            (Decision::UnknownReference, "01"),
            (Decision::AlreadySettled, "02"),
            (Decision::AmountMismatch, "04"),
            (Decision::Rejected(Rejected::BadSignature), "97"),
            (Decision::Rejected(Rejected::WrongMerchant), "97"),
            (Decision::Rejected(Rejected::Malformed), "99"),
        ];
        for (decision, code) in answers {
            assert_eq!(Callbacks.answer(decision), code);
            assert_eq!(ipn_answer(code), ipn_answer_for(decision));
        }
        assert_eq!(Callbacks.error_answer(), "99");
        assert_eq!(ipn_answer("42"), IpnAnswer::unknown_error());
    }
}
