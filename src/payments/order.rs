//! The payment order and attempt state machines. Pure: the store enforces each
//! transition with compare-and-set on the status these functions name as expected.

use serde::{Deserialize, Serialize};

/// Order statuses. `failed` is an attempt status, never an order status. Stored as text.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema, sqlx::Type,
)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum PaymentStatus {
    Pending,
    Processing,
    Paid,
    Expired,
    Cancelled,
    PartiallyRefunded,
    Refunded,
}

impl PaymentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Processing => "processing",
            Self::Paid => "paid",
            Self::Expired => "expired",
            Self::Cancelled => "cancelled",
            Self::PartiallyRefunded => "partially_refunded",
            Self::Refunded => "refunded",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "pending" => Self::Pending,
            "processing" => Self::Processing,
            "paid" => Self::Paid,
            "expired" => Self::Expired,
            "cancelled" => Self::Cancelled,
            "partially_refunded" => Self::PartiallyRefunded,
            "refunded" => Self::Refunded,
            _ => return None,
        })
    }

    /// Whether the order can still take money through a new attempt.
    pub fn is_payable(self) -> bool {
        matches!(self, Self::Pending | Self::Processing)
    }

    /// Whether money was received for the order.
    pub fn has_money(self) -> bool {
        matches!(self, Self::Paid | Self::PartiallyRefunded | Self::Refunded)
    }
}

/// Attempt statuses. Stored as text.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema, sqlx::Type,
)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum AttemptStatus {
    Redirected,
    Succeeded,
    Failed,
    Expired,
    Unknown,
}

impl AttemptStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Redirected => "redirected",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Expired => "expired",
            Self::Unknown => "unknown",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "redirected" => Self::Redirected,
            "succeeded" => Self::Succeeded,
            "failed" => Self::Failed,
            "expired" => Self::Expired,
            "unknown" => Self::Unknown,
            _ => return None,
        })
    }

    /// The states still waiting for the gateway's word.
    pub const OPEN: [AttemptStatus; 2] = [Self::Redirected, Self::Unknown];

    /// Still waiting for the gateway's word.
    pub fn is_open(self) -> bool {
        Self::OPEN.contains(&self)
    }
}

impl std::fmt::Display for PaymentStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Display for AttemptStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Refund statuses: reserved (`pending`) before the gateway is asked, then settled. Stored as
/// text; shown as text in the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, sqlx::Type)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum RefundStatus {
    Pending,
    Succeeded,
    Failed,
}

impl RefundStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
        }
    }
}

/// The status of a flag on an order. Stored as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, sqlx::Type)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum FlagStatus {
    Open,
    Resolved,
}

impl FlagStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Resolved => "resolved",
        }
    }
}

/// What can happen to an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderEvent {
    /// An attempt was sent to a gateway.
    AttemptStarted,
    /// An attempt failed and no other is open.
    AttemptsFailed,
    /// A gateway confirmed the money.
    MoneyReceived,
    Cancel,
    Expire,
    /// A refund that leaves money on the order.
    PartialRefund,
    /// A refund that returns everything.
    FullRefund,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a {from:?} order cannot take {event:?}")]
pub struct InvalidTransition {
    pub from: PaymentStatus,
    pub event: OrderEvent,
}

/// The order's next status, or why the event does not apply.
pub fn next(from: PaymentStatus, event: OrderEvent) -> Result<PaymentStatus, InvalidTransition> {
    use OrderEvent as E;
    use PaymentStatus as S;
    let to = match (from, event) {
        (S::Pending | S::Processing, E::AttemptStarted) => S::Processing,
        (S::Processing, E::AttemptsFailed) => S::Pending,
        (S::Pending | S::Processing, E::MoneyReceived) => S::Paid,
        (S::Pending, E::Cancel) => S::Cancelled,
        (S::Pending | S::Processing, E::Expire) => S::Expired,
        (S::Paid | S::PartiallyRefunded, E::PartialRefund) => S::PartiallyRefunded,
        (S::Paid | S::PartiallyRefunded, E::FullRefund) => S::Refunded,
        _ => return Err(InvalidTransition { from, event }),
    };
    Ok(to)
}

/// The order statuses from which `event` applies (the compare-and-set's expected set).
pub fn sources(event: OrderEvent) -> Vec<PaymentStatus> {
    ALL_STATUSES
        .iter()
        .copied()
        .filter(|s| next(*s, event).is_ok())
        .collect()
}

/// `('pending', 'processing')`: the statuses `event` applies from, for the store's
/// compare-and-set, so that the database enforces exactly this table.
pub fn sql_sources(event: OrderEvent) -> String {
    let names: Vec<String> = sources(event)
        .iter()
        .map(|s| format!("'{}'", s.as_str()))
        .collect();
    format!("({})", names.join(", "))
}

/// The status an event leads to (from any status it applies to; every event has one target).
pub fn target(event: OrderEvent) -> Option<PaymentStatus> {
    sources(event).first().and_then(|s| next(*s, event).ok())
}

pub const ALL_STATUSES: [PaymentStatus; 7] = [
    PaymentStatus::Pending,
    PaymentStatus::Processing,
    PaymentStatus::Paid,
    PaymentStatus::Expired,
    PaymentStatus::Cancelled,
    PaymentStatus::PartiallyRefunded,
    PaymentStatus::Refunded,
];

#[cfg(test)]
mod tests {
    use super::*;
    use OrderEvent as E;
    use PaymentStatus as S;

    #[test]
    fn the_full_transition_table() {
        let events = [
            E::AttemptStarted,
            E::AttemptsFailed,
            E::MoneyReceived,
            E::Cancel,
            E::Expire,
            E::PartialRefund,
            E::FullRefund,
        ];
        let expected: &[(S, E, S)] = &[
            (S::Pending, E::AttemptStarted, S::Processing),
            (S::Processing, E::AttemptStarted, S::Processing),
            (S::Processing, E::AttemptsFailed, S::Pending),
            (S::Pending, E::MoneyReceived, S::Paid),
            (S::Processing, E::MoneyReceived, S::Paid),
            (S::Pending, E::Cancel, S::Cancelled),
            (S::Pending, E::Expire, S::Expired),
            (S::Processing, E::Expire, S::Expired),
            (S::Paid, E::PartialRefund, S::PartiallyRefunded),
            (S::PartiallyRefunded, E::PartialRefund, S::PartiallyRefunded),
            (S::Paid, E::FullRefund, S::Refunded),
            (S::PartiallyRefunded, E::FullRefund, S::Refunded),
        ];
        for from in ALL_STATUSES {
            for event in events {
                let want = expected
                    .iter()
                    .find(|(f, e, _)| *f == from && *e == event)
                    .map(|t| t.2);
                assert_eq!(next(from, event).ok(), want, "{from:?} + {event:?}");
            }
        }
    }

    #[test]
    fn a_processing_order_cannot_be_cancelled_and_final_states_stay_final() {
        assert!(next(S::Processing, E::Cancel).is_err());
        for s in [S::Expired, S::Cancelled, S::Refunded] {
            assert!(next(s, E::MoneyReceived).is_err());
            assert!(next(s, E::Cancel).is_err());
        }
        assert_eq!(sources(E::Cancel), vec![S::Pending]);
        assert_eq!(sources(E::MoneyReceived), vec![S::Pending, S::Processing]);
    }

    #[test]
    fn sql_lists_follow_the_table() {
        assert_eq!(sql_sources(E::MoneyReceived), "('pending', 'processing')");
        assert_eq!(sql_sources(E::Cancel), "('pending')");
        assert_eq!(sql_sources(E::AttemptsFailed), "('processing')");
        assert_eq!(target(E::Expire), Some(S::Expired));
        assert_eq!(target(E::FullRefund), Some(S::Refunded));
    }

    #[test]
    fn names_round_trip() {
        for s in ALL_STATUSES {
            assert_eq!(PaymentStatus::parse(s.as_str()), Some(s));
        }
        for a in [
            AttemptStatus::Redirected,
            AttemptStatus::Succeeded,
            AttemptStatus::Failed,
            AttemptStatus::Expired,
            AttemptStatus::Unknown,
        ] {
            assert_eq!(AttemptStatus::parse(a.as_str()), Some(a));
        }
    }

    #[test]
    fn only_redirected_and_unknown_attempts_are_open() {
        for (status, open) in [
            ("redirected", true),
            ("unknown", true),
            ("succeeded", false),
            ("failed", false),
            ("expired", false),
            ("REDIRECTED", false),
            ("", false),
        ] {
            assert_eq!(
                AttemptStatus::parse(status).is_some_and(AttemptStatus::is_open),
                open,
                "{status}"
            );
        }
    }
}
