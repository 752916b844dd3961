//! Prefixed, sortable identifiers (`pay_01J…`): the prefix names the type in logs and tickets.

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
        }
    }
}

/// A new id of the given kind: prefix, `_`, and a lower-case ULID (time-ordered).
pub fn new_id(kind: IdKind) -> String {
    format!(
        "{}_{}",
        kind.prefix(),
        Ulid::new().to_string().to_ascii_lowercase()
    )
}

/// Whether `id` looks like an id of `kind` (used to answer 404 without a database trip).
pub fn has_kind(id: &str, kind: IdKind) -> bool {
    id.strip_prefix(kind.prefix())
        .and_then(|rest| rest.strip_prefix('_'))
        .is_some_and(|rest| rest.len() == 26 && rest.chars().all(|c| c.is_ascii_alphanumeric()))
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
}
