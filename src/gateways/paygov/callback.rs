//! PayGov's browser return as a gateway event, where a return checksum is configured
//! (`return_checksum_fields`): SHA-256 of `secret_key` then those fields' values. Without one,
//! a return proves nothing and is no event.

use std::collections::HashMap;

use super::return_verified;
use crate::config::Settings;
use crate::gateways::callback::{
    CallbackAdapter, Decision, EventStatus, Failure, GatewayEvent, Rejected, Rejection,
};
use crate::gateways::GatewayId;

/// PayGov's returns.
pub struct Callbacks;

fn params(query: &str) -> HashMap<String, String> {
    form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

impl CallbackAdapter for Callbacks {
    fn gateway(&self) -> GatewayId {
        GatewayId::Paygov
    }

    fn claimed_reference(&self, _payload: &[u8]) -> Option<String> {
        None
    }

    fn verify(
        &self,
        settings: &Settings,
        _agency: Option<&str>,
        payload: &[u8],
    ) -> Result<GatewayEvent, Rejection> {
        let query =
            std::str::from_utf8(payload).map_err(|_| Rejection::new(Rejected::Malformed, None))?;
        let params = params(query);
        let get = |k: &str| params.get(k).cloned().unwrap_or_default();
        match return_verified(&settings.gateways.paygov, |k| params.get(k).cloned()) {
            Some(Ok(())) => Ok(event_of(&get)),
            _ => Err(Rejection::new(Rejected::BadSignature, Some(get("orderId")))),
        }
    }

    /// PayGov reads no answer: the log keeps the verdict.
    fn answer(&self, decision: Decision) -> String {
        decision.verdict().to_owned()
    }

    fn error_answer(&self) -> String {
        "error".to_owned()
    }

    fn verify_return(
        &self,
        settings: &Settings,
        agency: Option<&str>,
        query: &str,
    ) -> Option<String> {
        self.verify(settings, agency, query.as_bytes())
            .ok()
            .map(|e| e.txn_ref)
    }
}

/// Whether returns carry a checksum that can prove them.
pub fn returns_are_signed(settings: &Settings) -> bool {
    !settings.gateways.paygov.return_checksum_fields.is_empty()
}

fn event_of(get: &dyn Fn(&str) -> String) -> GatewayEvent {
    let code = get("errorCode");
    let amount = Some(get("amount"))
        .filter(|a| !a.is_empty() && a.len() < 19 && a.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|a| a.parse::<i64>().ok());
    let status = if code == "00" {
        EventStatus::Paid
    } else {
        EventStatus::Failed(Some(Failure {
            code: Some(code.chars().take(16).collect()),
            reason_vi: "PayGov báo giao dịch không thành công".into(),
            reason_en: "PayGov reports that the payment did not go through".into(),
        }))
    };
    GatewayEvent {
        gateway: GatewayId::Paygov,
        txn_ref: get("orderId"),
        amount,
        status,
        gateway_txn_no: Some(get("transactionNo")).filter(|n| !n.is_empty()),
        bank_code: Some(get("paygate")).filter(|n| !n.is_empty()),
        paid_at: None,
        source: "paygov.return",
        signed_by: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_return_amount_is_whole_dong_or_none() {
        let with = |amount: &'static str| {
            move |k: &str| match k {
                "amount" => amount.to_owned(),
                "errorCode" => "00".to_owned(),
                _ => String::new(),
            }
        };
        assert_eq!(event_of(&with("150000")).amount, Some(150_000));
        assert_eq!(event_of(&with("150000.5")).amount, None);
        assert_eq!(event_of(&with("")).amount, None);
        assert_eq!(event_of(&with("-5")).amount, None);
        assert_eq!(event_of(&with("150000")).status, EventStatus::Paid);
    }
}
