//! The DVCQG payment platform's result message and browser return as gateway events.
//! `MaXacThuc` is checked in constant time against the service's key and every agency's; the
//! event names the partner account whose key signed it, which must still be the account of
//! the attempt's order.

use super::keys;
use super::wire::{self, ResultMessage};
use crate::config::Settings;
use crate::gateways::callback::{
    body_has_nul, query_has_nul, CallbackAdapter, Decision, EventStatus, Failure, GatewayEvent,
    Rejected, Rejection,
};
use crate::gateways::GatewayId;

/// The platform's callbacks.
pub struct Callbacks;

impl CallbackAdapter for Callbacks {
    fn gateway(&self) -> GatewayId {
        GatewayId::Dvcqg
    }

    /// Every key is tried: the agency does not choose it.
    fn claimed_reference(&self, _payload: &[u8]) -> Option<String> {
        None
    }

    fn verify(
        &self,
        settings: &Settings,
        _agency: Option<&str>,
        payload: &[u8],
    ) -> Result<GatewayEvent, Rejection> {
        if body_has_nul(payload) {
            return Err(Rejection::new(Rejected::Malformed, None));
        }
        let msg = ResultMessage::parse(payload).map_err(|e| Rejection::of(&e))?;
        let Some(partner) = verified_partner(settings, &msg) else {
            return Err(Rejection::new(Rejected::BadSignature, Some(msg.reference)));
        };
        Ok(event_of(&msg, partner))
    }

    fn answer(&self, decision: Decision) -> String {
        match decision {
            Decision::Rejected(_) | Decision::UnknownReference => wire::REFUSED,
            _ => wire::OK,
        }
        .to_owned()
    }

    fn error_answer(&self) -> String {
        wire::REFUSED.to_owned()
    }

    /// The signed result again, as query parameters.
    fn verify_return(
        &self,
        settings: &Settings,
        _agency: Option<&str>,
        query: &str,
    ) -> Option<String> {
        if query_has_nul(query) {
            return None;
        }
        let map: serde_json::Map<String, serde_json::Value> =
            form_urlencoded::parse(query.as_bytes())
                .map(|(k, v)| (k.into_owned(), serde_json::Value::from(v.into_owned())))
                .collect();
        let body = serde_json::Value::Object(map).to_string();
        let msg = ResultMessage::parse(body.as_bytes()).ok()?;
        verified_partner(settings, &msg).map(|_| msg.reference)
    }
}

/// The partner code whose key signed `msg`, if any. A message without `MaDoiTac` is tried
/// with each partner code in turn (each one is part of what is signed).
pub fn verified_partner(settings: &Settings, msg: &ResultMessage) -> Option<String> {
    keys(settings)
        .into_iter()
        .filter(|(partner, _)| msg.partner_code.is_empty() || *partner == msg.partner_code)
        .find(|(partner, key)| {
            let mut m = msg.clone();
            m.partner_code.clone_from(partner);
            m.verify(key).is_ok()
        })
        .map(|(partner, _)| partner)
}

fn event_of(msg: &ResultMessage, partner: String) -> GatewayEvent {
    let status = if msg.code == wire::OK {
        EventStatus::Paid
    } else {
        let code: String = msg.code.chars().take(16).collect();
        EventStatus::Failed(Some(Failure {
            reason_vi: format!("Cổng DVCQG báo giao dịch không thành công (mã {code})"),
            reason_en: format!(
                "The DVCQG payment platform reports that the payment did not go through (code {code})"
            ),
            code: Some(code),
        }))
    };
    GatewayEvent {
        gateway: GatewayId::Dvcqg,
        txn_ref: msg.reference.clone(),
        amount: msg.amount_vnd(),
        status,
        gateway_txn_no: Some(msg.transaction_no.clone()).filter(|n| !n.is_empty()),
        bank_code: Some(msg.bank_code.clone()).filter(|b| !b.is_empty()),
        paid_at: wire::parse_time(&msg.time),
        source: "dvcqg.result",
        signed_by: Some(partner),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_platform_is_refused_only_what_is_unverified_or_unknown() {
        assert_eq!(Callbacks.answer(Decision::Accepted), "00");
        assert_eq!(Callbacks.answer(Decision::AlreadySettled), "00");
        assert_eq!(Callbacks.answer(Decision::AmountMismatch), "00");
        assert_eq!(Callbacks.answer(Decision::UnknownReference), "99");
        assert_eq!(
            Callbacks.answer(Decision::Rejected(Rejected::BadSignature)),
            "99"
        );
        assert_eq!(Callbacks.error_answer(), "99");
    }

    #[test]
    fn a_failed_result_keeps_at_most_16_characters_of_its_code() {
        let msg = ResultMessage {
            code: "X".repeat(40),
            amount: "10.5".into(),
            ..ResultMessage::default()
        };
        let event = event_of(&msg, "P".into());
        assert_eq!(event.amount, None);
        let EventStatus::Failed(Some(f)) = event.status else {
            panic!("a failure")
        };
        assert_eq!(f.code.as_deref().map(str::len), Some(16));
    }
}
