//! Events reported to the procedure workflow: written in the same transaction as
//! the change they describe, with a global gap-free `sequence`, and fanned out to the outbox.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub enum EventType {
    #[serde(rename = "payment.created")]
    PaymentCreated,
    #[serde(rename = "payment.processing")]
    PaymentProcessing,
    #[serde(rename = "payment.paid")]
    PaymentPaid,
    #[serde(rename = "payment.expired")]
    PaymentExpired,
    #[serde(rename = "payment.cancelled")]
    PaymentCancelled,
    #[serde(rename = "payment.refunded")]
    PaymentRefunded,
    #[serde(rename = "payment.flagged")]
    PaymentFlagged,
    #[serde(rename = "notice.paid")]
    NoticePaid,
    #[serde(rename = "payment.attempt_failed")]
    PaymentAttemptFailed,
}

pub const ALL_EVENT_TYPES: [EventType; 9] = [
    EventType::PaymentCreated,
    EventType::PaymentProcessing,
    EventType::PaymentPaid,
    EventType::PaymentExpired,
    EventType::PaymentCancelled,
    EventType::PaymentRefunded,
    EventType::PaymentFlagged,
    EventType::NoticePaid,
    EventType::PaymentAttemptFailed,
];

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PaymentCreated => "payment.created",
            Self::PaymentProcessing => "payment.processing",
            Self::PaymentPaid => "payment.paid",
            Self::PaymentExpired => "payment.expired",
            Self::PaymentCancelled => "payment.cancelled",
            Self::PaymentRefunded => "payment.refunded",
            Self::PaymentFlagged => "payment.flagged",
            Self::NoticePaid => "notice.paid",
            Self::PaymentAttemptFailed => "payment.attempt_failed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        ALL_EVENT_TYPES.iter().copied().find(|t| t.as_str() == text)
    }
}

/// An event about to be written; the store gives it its sequence.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub event_type: EventType,
    pub payment_id: Option<String>,
    pub notice_id: Option<String>,
    pub agency_code: Option<String>,
    /// The event's `data` object.
    pub data: serde_json::Value,
}

/// The stored event as readers and receivers see it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Event {
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub created_at: String,
    pub sequence: i64,
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

/// Where a delivery of an event to an endpoint stands. Stored as text; the same text in the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, sqlx::Type)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Waiting for its next try.
    Pending,
    Delivered,
    /// Given up after the last retry (kept, never deleted).
    Dead,
}

impl DeliveryStatus {
    pub const ALL: [DeliveryStatus; 3] = [Self::Pending, Self::Delivered, Self::Dead];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Dead => "dead",
        }
    }
}
