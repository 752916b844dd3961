//! Prefixed, sortable identifiers (`pay_01J…`): the prefix names the type in logs and tickets.

use std::sync::{LazyLock, Mutex, PoisonError};

use ulid::Ulid;

/// The record kinds and their prefixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    Assessment,
    Notice,
    NoticeLine,
    Payment,
    Attempt,
    Event,
    WebhookEndpoint,
    Delivery,
    Reconciliation,
    Refund,
    Callback,
    /// A record of a payment's audit trail.
    Audit,
    /// A sign-in, failure, lock or sign-out of a finance account.
    AccountEvent,
}

impl IdKind {
    pub fn prefix(self) -> &'static str {
        match self {
            Self::Assessment => "asm",
            Self::Notice => "ntc",
            Self::NoticeLine => "ntl",
            Self::Payment => "pay",
            Self::Attempt => "att",
            Self::Event => "evt",
            Self::WebhookEndpoint => "whe",
            Self::Delivery => "dlv",
            Self::Reconciliation => "rec",
            Self::Refund => "rfd",
            Self::Callback => "cbk",
            Self::Audit => "aud",
            Self::AccountEvent => "acc",
        }
    }
}

/// Callback ids come from one monotonic generator per process: the callback log lists
/// callbacks newest first by id, and two callbacks received in the same millisecond keep their
/// order (a plain ULID's random part would order them by chance). Callback ids are not
/// secrets; every other id, some of which are, stays wholly random after its time.
static CALLBACK_IDS: LazyLock<Mutex<ulid::Generator>> =
    LazyLock::new(|| Mutex::new(ulid::Generator::new()));

/// A new id of the given kind: prefix, `_`, and a lower-case ULID (time-ordered).
pub fn new_id(kind: IdKind) -> String {
    let ulid = if kind == IdKind::Callback {
        let mut ids = CALLBACK_IDS.lock().unwrap_or_else(PoisonError::into_inner);
        // Only 2^80 ids in one millisecond overflow it.
        ids.generate().unwrap_or_else(|_| Ulid::new())
    } else {
        Ulid::new()
    };
    format!(
        "{}_{}",
        kind.prefix(),
        ulid.to_string().to_ascii_lowercase()
    )
}

/// Whether `id` looks like an id of `kind`: its prefix, `_`, and 26 lower-case ULID characters
/// (ids are only ever issued in lower case, so any other text names no record).
pub fn has_kind(id: &str, kind: IdKind) -> bool {
    id.strip_prefix(kind.prefix())
        .and_then(|rest| rest.strip_prefix('_'))
        .is_some_and(|rest| {
            rest.len() == 26
                && rest
                    .bytes()
                    .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
        })
}

/// Defines a newtype for the ids of one kind: made only by `new` (a fresh id) or `parse` (text
/// that carries the kind's prefix); stored and serialized as its text.
macro_rules! prefixed_id {
    ($(#[$doc:meta])* $name:ident => $kind:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize, sqlx::Type)]
        #[serde(transparent)]
        #[sqlx(transparent)]
        pub struct $name(String);

        impl $name {
            pub const KIND: IdKind = $kind;

            /// A fresh id of this kind.
            #[allow(clippy::new_without_default)]
            pub fn new() -> Self {
                Self(new_id(Self::KIND))
            }

            /// The id `text` names, when it carries this kind's prefix.
            pub fn parse(text: &str) -> Option<Self> {
                has_kind(text, Self::KIND).then(|| Self(text.to_owned()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }
    };
}

prefixed_id!(
    /// A payment order (`pay_…`).
    PaymentId => IdKind::Payment
);
prefixed_id!(
    /// An attempt at a gateway (`att_…`).
    AttemptId => IdKind::Attempt
);
prefixed_id!(
    /// A gateway callback as received (`cbk_…`).
    CallbackId => IdKind::Callback
);
prefixed_id!(
    /// A record of a payment's audit trail (`aud_…`).
    AuditId => IdKind::Audit
);
prefixed_id!(
    /// An event of the feed (`evt_…`).
    EventId => IdKind::Event
);
prefixed_id!(
    /// A webhook delivery (`dlv_…`).
    DeliveryId => IdKind::Delivery
);
prefixed_id!(
    /// A webhook endpoint (`whe_…`).
    WebhookEndpointId => IdKind::WebhookEndpoint
);
prefixed_id!(
    /// A refund (`rfd_…`).
    RefundId => IdKind::Refund
);
prefixed_id!(
    /// A payment notice (`ntc_…`).
    NoticeId => IdKind::Notice
);
prefixed_id!(
    /// A line of a payment notice (`ntl_…`).
    NoticeLineId => IdKind::NoticeLine
);
prefixed_id!(
    /// A record of a finance account's sign-ins and changes (`acc_…`).
    AccountEventId => IdKind::AccountEvent
);

/// A fresh audit record id (`aud_…`).
pub fn new_audit_id() -> AuditId {
    AuditId::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_carry_their_prefix_and_sort_by_time() {
        let a = new_id(IdKind::Payment);
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = new_id(IdKind::Payment);
        assert!(a.starts_with("pay_"));
        assert!(has_kind(&a, IdKind::Payment));
        assert!(!has_kind(&a, IdKind::Notice));
        assert!(a < b);
    }

    #[test]
    fn callback_ids_keep_their_order_within_a_millisecond() {
        let ids: Vec<String> = (0..2_000).map(|_| new_id(IdKind::Callback)).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
        assert!(ids.iter().all(|id| has_kind(id, IdKind::Callback)));
    }

    #[test]
    fn typed_ids_parse_only_their_own_kind() {
        let audit = AuditId::new();
        assert!(audit.as_str().starts_with("aud_"));
        assert_eq!(AuditId::parse(audit.as_str()), Some(audit.clone()));
        assert_eq!(CallbackId::parse(audit.as_str()), None);
        assert!(AccountEventId::new().as_str().starts_with("acc_"));
        let payment = PaymentId::new();
        assert_eq!(PaymentId::parse(payment.as_str()), Some(payment.clone()));
        assert_eq!(AttemptId::parse(payment.as_str()), None);
        assert_eq!(
            serde_json::to_string(&payment).unwrap_or_default(),
            format!("\"{payment}\"")
        );
    }

    #[test]
    fn parse_refuses_another_prefix_length_or_case() {
        let ulid = "01jd0000000000000000000000";
        let cases = [
            (format!("pay_{ulid}"), true),
            (format!("ntc_{ulid}"), false),
            (format!("pay{ulid}"), false),
            (format!("pay_{}", &ulid[1..]), false),
            (format!("pay_{ulid}0"), false),
            (format!("pay_{}", ulid.to_ascii_uppercase()), false),
            (format!("PAY_{ulid}"), false),
            (format!("pay_{}-", &ulid[1..]), false),
            (String::new(), false),
        ];
        for (text, ok) in &cases {
            assert_eq!(PaymentId::parse(text).is_some(), *ok, "{text}");
        }
        assert!(NoticeId::parse(&format!("ntc_{ulid}")).is_some());
        assert!(RefundId::parse(&format!("rfd_{ulid}")).is_some());
        assert!(AttemptId::parse(&format!("att_{ulid}")).is_some());
        assert!(AttemptId::parse(&format!("pay_{ulid}")).is_none());
        let endpoint = WebhookEndpointId::new();
        assert!(endpoint.as_str().starts_with("whe_"));
        assert_eq!(
            WebhookEndpointId::parse(endpoint.as_str()),
            Some(endpoint.clone())
        );
        assert!(WebhookEndpointId::parse(&format!("whe_{}", ulid.to_ascii_uppercase())).is_none());
        assert!(DeliveryId::parse(endpoint.as_str()).is_none());
    }
}
