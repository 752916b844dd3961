//! A gateway's callback as the payments use cases see it: every gateway's adapter turns the raw
//! bytes it sent (an IPN, a notification, a signed browser return) into one verified
//! [`GatewayEvent`] — signature and merchant checked, amount in whole đồng — or a
//! [`Rejection`], and names the answer its gateway expects for each [`Decision`]. Pure: the
//! credentials come from the settings, nothing is read from the store.

use chrono::{DateTime, Utc};

use super::GatewayId;
use crate::config::Settings;

/// A callback's verified word on one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayEvent {
    pub gateway: GatewayId,
    /// The attempt's reference (`vnp_TxnRef`, `orderId`, `app_trans_id`, `MaThamChieu`).
    pub txn_ref: String,
    /// Whole đồng; `None` when the signed amount is not a whole number of đồng (then it is
    /// never the attempt's amount).
    pub amount: Option<i64>,
    pub status: EventStatus,
    pub gateway_txn_no: Option<String>,
    pub bank_code: Option<String>,
    pub paid_at: Option<DateTime<Utc>>,
    /// Where the word came from, as the audit trail names it (`vnpay.ipn`, …).
    pub source: &'static str,
    /// The merchant account whose key signed it, where the gateway has several keys and the
    /// account must still be matched to the attempt's order (the DVCQG platform).
    pub signed_by: Option<String>,
}

/// What the gateway says became of the payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventStatus {
    Paid,
    Failed(Option<Failure>),
    /// Not final yet: the callback is only noted.
    Pending,
}

/// Why the gateway says a payment did not go through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub code: Option<String>,
    pub reason_vi: String,
    pub reason_en: String,
}

/// Why a callback was not believed; its verdict in the callback log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejected {
    BadSignature,
    Malformed,
    /// Signed, but for a merchant account that is not the one the attempt's order uses.
    WrongMerchant,
}

impl Rejected {
    pub fn verdict(self) -> &'static str {
        match self {
            Self::BadSignature => "bad_signature",
            Self::Malformed => "malformed",
            Self::WrongMerchant => "wrong_merchant",
        }
    }

    /// A wire error's rejection: a failed signature check, or a message that cannot be read.
    pub fn of(error: &super::GatewayError) -> Self {
        if error.is_signature() {
            Self::BadSignature
        } else {
            Self::Malformed
        }
    }
}

/// A callback that was not believed, with the reference it names (unverified unless the
/// rejection is [`Rejected::WrongMerchant`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub why: Rejected,
    pub reference: Option<String>,
    /// The account whose key signed it, when it verified but belongs to another merchant.
    pub signed_by: Option<String>,
}

impl Rejection {
    pub fn new(why: Rejected, reference: Option<String>) -> Self {
        Self {
            why,
            reference,
            signed_by: None,
        }
    }

    /// The rejection of a wire error (nothing in the message is known).
    pub fn of(error: &super::GatewayError) -> Self {
        Self::new(Rejected::of(error), None)
    }

    /// The reference worth logging: only a signed one (a wrong merchant's).
    pub fn logged_reference(&self) -> Option<&str> {
        match self.why {
            Rejected::WrongMerchant => self.reference.as_deref(),
            _ => None,
        }
    }
}

/// How a callback was decided, in the terms every gateway's answer codes distinguish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Rejected(Rejected),
    UnknownReference,
    AmountMismatch,
    AlreadySettled,
    /// Recorded: applied, or noted while the payment is pending.
    Accepted,
}

impl Decision {
    /// The verdict the callback log keeps for this decision.
    pub fn verdict(self) -> &'static str {
        match self {
            Decision::Rejected(why) => why.verdict(),
            Decision::UnknownReference => "unknown_reference",
            Decision::AmountMismatch => "amount_mismatch",
            Decision::AlreadySettled => "already_settled",
            Decision::Accepted => "valid",
        }
    }
}

/// One gateway's callbacks: how they are verified and parsed, and what the gateway is answered.
pub trait CallbackAdapter: Send + Sync {
    fn gateway(&self) -> GatewayId;

    /// The reference an unverified callback names: it only chooses whose credentials (which
    /// agency's) verify it. `None` when the gateway's keys do not depend on the agency.
    fn claimed_reference(&self, payload: &[u8]) -> Option<String>;

    /// Verifies `payload` with `agency`'s credentials (the defaults for `None`), then parses it.
    fn verify(
        &self,
        settings: &Settings,
        agency: Option<&str>,
        payload: &[u8],
    ) -> Result<GatewayEvent, Rejection>;

    /// The answer to a decided callback, as the callback log records it.
    fn answer(&self, decision: Decision) -> String;

    /// The answer when no decision could be made (the gateway calls again where it can).
    fn error_answer(&self) -> String;

    /// Verifies a browser return (display only: it changes nothing) and gives the reference of
    /// its attempt; `None` when it does not verify. `claimed_reference` chose `agency`.
    fn verify_return(
        &self,
        settings: &Settings,
        agency: Option<&str>,
        query: &str,
    ) -> Option<String>;

    /// The reference an unverified browser return names (to choose the credentials).
    fn claimed_return_reference(&self, query: &str) -> Option<String> {
        let _ = query;
        None
    }
}

/// The callback adapter of a gateway; `None` for VietQR, whose money arrives by bank statement.
pub fn adapter(gateway: GatewayId) -> Option<&'static dyn CallbackAdapter> {
    match gateway {
        GatewayId::Vnpay => Some(&super::vnpay::callback::Callbacks),
        GatewayId::Momo => Some(&super::momo::callback::Callbacks),
        GatewayId::Zalopay => Some(&super::zalopay::callback::Callbacks),
        GatewayId::Dvcqg => Some(&super::dvcqg::callback::Callbacks),
        GatewayId::Paygov => Some(&super::paygov::callback::Callbacks),
        GatewayId::Vietqr => None,
    }
}

/// A JSON body holding NUL, raw or escaped (`\u0000`, also inside ZaloPay's nested `data`):
/// refused as malformed, since PostgreSQL text cannot hold it.
pub fn body_has_nul(body: &[u8]) -> bool {
    body.contains(&0) || body.windows(6).any(|w| w.eq_ignore_ascii_case(b"\\u0000"))
}

/// A query string one of whose decoded names or values holds NUL.
pub fn query_has_nul(query: &str) -> bool {
    form_urlencoded::parse(query.as_bytes()).any(|(k, v)| k.contains('\0') || v.contains('\0'))
}

/// One parameter of a query, unverified.
pub fn query_value(query: &str, name: &str) -> Option<String> {
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_is_found_raw_escaped_and_in_queries() {
        assert!(body_has_nul(br#"{"orderId":"x\u0000"}"#));
        assert!(body_has_nul(b"{\"a\":\"\0\"}"));
        assert!(!body_has_nul(br#"{"orderId":"x"}"#));
        assert!(query_has_nul("vnp_TxnRef=a%00b"));
        assert!(!query_has_nul("vnp_TxnRef=ab"));
    }

    #[test]
    fn only_a_wrong_merchant_logs_its_reference() {
        let r = |why| Rejection::new(why, Some("REF".into()));
        assert_eq!(r(Rejected::WrongMerchant).logged_reference(), Some("REF"));
        assert_eq!(r(Rejected::BadSignature).logged_reference(), None);
        assert_eq!(r(Rejected::Malformed).logged_reference(), None);
    }

    #[test]
    fn every_gateway_but_vietqr_has_a_callback_adapter() {
        for id in GatewayId::ALL {
            let found = adapter(id).map(CallbackAdapter::gateway);
            let expected = (id != GatewayId::Vietqr).then_some(id);
            assert_eq!(found, expected);
        }
    }
}
