//! ZaloPay's callback and browser return as gateway events: `mac = HMAC-SHA256(key2, data)`
//! over the exact `data` string, verified before `data` is read. ZaloPay calls back for
//! successful payments only.

use super::wire::{parse_callback, parse_redirect, CallbackAnswer};
use crate::config::Settings;
use crate::gateways::callback::{
    body_has_nul, query_value, CallbackAdapter, Decision, EventStatus, GatewayEvent, Rejected,
    Rejection,
};
use crate::gateways::GatewayId;

/// ZaloPay's callbacks.
pub struct Callbacks;

impl CallbackAdapter for Callbacks {
    fn gateway(&self) -> GatewayId {
        GatewayId::Zalopay
    }

    fn claimed_reference(&self, payload: &[u8]) -> Option<String> {
        let value: serde_json::Value = serde_json::from_slice(payload).ok()?;
        let data: serde_json::Value = serde_json::from_str(value["data"].as_str()?).ok()?;
        data["app_trans_id"].as_str().map(str::to_owned)
    }

    fn verify(
        &self,
        settings: &Settings,
        agency: Option<&str>,
        payload: &[u8],
    ) -> Result<GatewayEvent, Rejection> {
        if body_has_nul(payload) {
            return Err(Rejection::new(Rejected::Malformed, None));
        }
        let cfg = settings.zalopay_for(agency);
        let cb = parse_callback(payload, cfg.key2.expose()).map_err(|e| Rejection::of(&e))?;
        Ok(GatewayEvent {
            gateway: GatewayId::Zalopay,
            amount: Some(cb.amount_vnd),
            status: EventStatus::Paid,
            gateway_txn_no: Some(cb.zp_trans_id.to_string()),
            bank_code: None,
            paid_at: cb.server_time_utc(),
            source: "zalopay.callback",
            signed_by: None,
            txn_ref: cb.app_trans_id,
        })
    }

    fn answer(&self, decision: Decision) -> String {
        answer_for(decision).return_code.to_string()
    }

    fn error_answer(&self) -> String {
        CallbackAnswer::retry().return_code.to_string()
    }

    fn verify_return(
        &self,
        settings: &Settings,
        agency: Option<&str>,
        query: &str,
    ) -> Option<String> {
        let cfg = settings.zalopay_for(agency);
        parse_redirect(query, cfg.key2.expose())
            .ok()
            .map(|r| r.app_trans_id)
    }

    fn claimed_return_reference(&self, query: &str) -> Option<String> {
        query_value(query, "apptransid")
    }
}

/// ZaloPay's answer to a decided callback (`0` makes it call again).
fn answer_for(decision: Decision) -> CallbackAnswer {
    match decision {
        Decision::Rejected(_) => CallbackAnswer::bad_mac(),
        Decision::AlreadySettled => CallbackAnswer::duplicate(),
        Decision::UnknownReference => CallbackAnswer::retry(),
        Decision::AmountMismatch | Decision::Accepted => CallbackAnswer::success(),
    }
}

/// The answer whose `return_code` is `code` (`0`, call again, for any other).
pub fn callback_answer(code: &str) -> CallbackAnswer {
    [
        CallbackAnswer::success(),
        CallbackAnswer::duplicate(),
        CallbackAnswer::bad_mac(),
    ]
    .into_iter()
    .find(|a| a.return_code.to_string() == code)
    .unwrap_or_else(CallbackAnswer::retry)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_decision_has_its_answer_and_back() {
        let answers = [
            (Decision::Accepted, "1"),
            (Decision::AmountMismatch, "1"),
            (Decision::AlreadySettled, "2"),
            (Decision::UnknownReference, "0"),
            (Decision::Rejected(Rejected::BadSignature), "-1"),
            (Decision::Rejected(Rejected::Malformed), "-1"),
        ];
        for (decision, code) in answers {
            assert_eq!(Callbacks.answer(decision), code);
            assert_eq!(callback_answer(code), answer_for(decision));
        }
        assert_eq!(Callbacks.error_answer(), "0");
    }
}
