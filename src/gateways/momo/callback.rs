//! MoMo's IPN and browser return as gateway events: the body is verified (HMAC-SHA256 over
//! MoMo's field order) with the credentials of the attempt's agency, then `partnerCode` must
//! be that merchant's. MoMo is answered with an HTTP status alone.

use super::wire::{parse_ipn, parse_redirect, MomoIpn};
use crate::config::Settings;
use crate::gateways::callback::{
    body_has_nul, query_value, CallbackAdapter, Decision, EventStatus, Failure, GatewayEvent,
    Rejected, Rejection,
};
use crate::gateways::GatewayId;

/// `204`: recorded.
pub const RECORDED: &str = "204";
/// `400`: refused (unverified, or an unknown reference).
pub const REFUSED: &str = "400";

/// MoMo's callbacks.
pub struct Callbacks;

impl CallbackAdapter for Callbacks {
    fn gateway(&self) -> GatewayId {
        GatewayId::Momo
    }

    fn claimed_reference(&self, payload: &[u8]) -> Option<String> {
        let value: serde_json::Value = serde_json::from_slice(payload).ok()?;
        value["orderId"].as_str().map(str::to_owned)
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
        let cfg = settings.momo_for(agency);
        let ipn = parse_ipn(payload, cfg.access_key.expose(), cfg.secret_key.expose())
            .map_err(|e| Rejection::of(&e))?;
        if ipn.partner_code != cfg.partner_code {
            return Err(Rejection::new(Rejected::WrongMerchant, Some(ipn.order_id)));
        }
        Ok(event_of(&ipn))
    }

    fn answer(&self, decision: Decision) -> String {
        match decision {
            Decision::Rejected(_) | Decision::UnknownReference => REFUSED,
            _ => RECORDED,
        }
        .to_owned()
    }

    fn error_answer(&self) -> String {
        "500".to_owned()
    }

    fn verify_return(
        &self,
        settings: &Settings,
        agency: Option<&str>,
        query: &str,
    ) -> Option<String> {
        let cfg = settings.momo_for(agency);
        parse_redirect(query, cfg.access_key.expose(), cfg.secret_key.expose())
            .ok()
            .map(|r| r.order_id)
    }

    fn claimed_return_reference(&self, query: &str) -> Option<String> {
        query_value(query, "orderId")
    }
}

fn event_of(ipn: &MomoIpn) -> GatewayEvent {
    let status = if ipn.is_pending() {
        EventStatus::Pending
    } else if ipn.is_success() {
        EventStatus::Paid
    } else {
        EventStatus::Failed(Some(Failure {
            code: Some(ipn.result_code.to_string()),
            reason_vi: ipn.message.clone(),
            reason_en: ipn.message.clone(),
        }))
    };
    GatewayEvent {
        gateway: GatewayId::Momo,
        txn_ref: ipn.order_id.clone(),
        amount: Some(ipn.amount_vnd),
        status,
        gateway_txn_no: Some(ipn.trans_id.to_string()),
        bank_code: Some(ipn.pay_type.clone()).filter(|p| !p.is_empty()),
        paid_at: Some(ipn.response_time),
        source: "momo.ipn",
        signed_by: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn momo_is_refused_only_what_is_unverified_or_unknown() {
        assert_eq!(Callbacks.answer(Decision::Accepted), "204");
        assert_eq!(Callbacks.answer(Decision::AlreadySettled), "204");
        assert_eq!(Callbacks.answer(Decision::AmountMismatch), "204");
        assert_eq!(Callbacks.answer(Decision::UnknownReference), "400");
        assert_eq!(
            Callbacks.answer(Decision::Rejected(Rejected::WrongMerchant)),
            "400"
        );
        assert_eq!(Callbacks.error_answer(), "500");
    }
}
