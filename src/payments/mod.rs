//! Payment orders: created from notice lines and assessment fee lines, paid through attempts at
//! gateways, moved only by compare-and-set in the store.

pub mod attempts;
pub mod callbacks;
pub mod create;
pub mod credentials;
pub mod facts;
pub mod flags;
pub mod holds;
pub mod items;
pub mod janitor;
pub mod link;
pub mod order;
pub mod orders;
pub mod rails;
pub mod refund;
pub mod sandbox;
pub mod service;
pub mod story;
pub mod vietqr_view;

use serde::{Deserialize, Serialize};

use crate::storage::payments::PaymentRecord;

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PayerInput {
    pub name: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
}

/// One thing to pay: a whole notice, one notice line, or one fee line of an assessment.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemInput {
    #[serde(default)]
    pub notice_id: Option<String>,
    #[serde(default)]
    pub notice_line_id: Option<String>,
    #[serde(default)]
    pub assessment_id: Option<String>,
    /// With `assessment_id`: the line's obligation code (`appraisal_fee`, `certificate_fee`).
    #[serde(default)]
    pub line: Option<String>,
}

/// `POST /v1/payments` body.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentInput {
    #[serde(default)]
    pub agency_code: Option<String>,
    #[serde(default)]
    pub dossier_code: Option<String>,
    pub items: Vec<ItemInput>,
    pub payer: PayerInput,
    #[serde(default)]
    pub return_url: Option<String>,
    #[serde(default)]
    pub locale: Option<String>,
}

/// `POST /v1/payments/{id}/attempts` body.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttemptInput {
    pub gateway: String,
    #[serde(default)]
    pub bank_code: Option<String>,
    #[serde(default)]
    pub client_ip: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PaymentLine {
    pub kind: String,
    pub source: String,
    pub name: String,
    pub sub_item: Option<String>,
    pub amount: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notice_line_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub days: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due_date: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Flag {
    pub flag: String,
    pub status: String,
    pub detail: Option<String>,
    pub note: Option<String>,
    pub created_at: String,
    pub resolved_at: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Attempt {
    pub id: String,
    pub gateway: String,
    pub status: String,
    pub amount: i64,
    pub reference: String,
    pub redirect_url: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub qr: Option<serde_json::Value>,
    pub expires_at: String,
    pub created_at: String,
    pub gateway_txn_no: Option<String>,
    pub paid_at: Option<String>,
    /// Whole đồng the gateway or the bank reported as received on this attempt (null when none).
    pub paid_amount: Option<i64>,
    /// Whole đồng of this attempt's money refunded so far.
    pub refunded_amount: i64,
}

/// The payment resource.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Payment {
    pub id: String,
    pub status: String,
    /// Whole đồng: the sum of the lines.
    pub amount: i64,
    pub currency: String,
    pub agency_code: Option<String>,
    pub dossier_code: Option<String>,
    #[schema(value_type = Object)]
    pub payer: serde_json::Value,
    pub return_url: Option<String>,
    pub locale: String,
    pub lines: Vec<PaymentLine>,
    pub flags: Vec<Flag>,
    pub refunded_amount: i64,
    pub pay_url: Option<String>,
    pub expires_at: String,
    pub created_at: String,
    pub paid_at: Option<String>,
    /// The number of the payer's confirmation (`XN-…`), given when the order is paid; its
    /// public check is `GET /verify/{confirmation_no}`.
    pub confirmation_no: Option<String>,
    pub attempts: Vec<Attempt>,
}

impl PaymentRecord {
    /// The resource; `pay_url` only where a link is shown to the caller (not in event snapshots).
    pub fn to_resource(&self, pay_url: Option<String>) -> Payment {
        let p = &self.payment;
        Payment {
            id: p.payment_id.clone(),
            status: p.status.as_str().into(),
            amount: p.amount,
            currency: "VND".into(),
            agency_code: p.agency_code.clone(),
            dossier_code: p.dossier_code.clone(),
            payer: serde_json::from_str(&p.payer).unwrap_or(serde_json::Value::Null),
            return_url: p.return_url.clone(),
            locale: p.locale.clone(),
            lines: self
                .lines
                .iter()
                .map(|l| PaymentLine {
                    kind: l.kind.as_str().into(),
                    source: l.source.clone(),
                    name: l.name.clone(),
                    sub_item: l.sub_item.clone(),
                    amount: l.amount,
                    notice_line_id: l.notice_line_id.clone(),
                    line: l.assessment_line.clone(),
                    days: l.days,
                    due_date: l.due_date.clone(),
                })
                .collect(),
            flags: self
                .flags
                .iter()
                .map(|f| Flag {
                    flag: f.flag.clone(),
                    status: f.status.as_str().into(),
                    detail: f.detail.clone(),
                    note: f.note.clone(),
                    created_at: f.created_at.clone(),
                    resolved_at: f.resolved_at.clone(),
                })
                .collect(),
            refunded_amount: p.refunded_amount,
            pay_url,
            expires_at: p.expires_at.clone(),
            created_at: p.created_at.clone(),
            paid_at: p.paid_at.clone(),
            confirmation_no: p.confirmation_no.clone(),
            attempts: self
                .attempts
                .iter()
                .map(|a| Attempt {
                    id: a.attempt_id.clone(),
                    gateway: a.gateway.as_str().into(),
                    status: a.status.as_str().into(),
                    amount: a.amount,
                    reference: a.txn_ref.clone(),
                    redirect_url: a.redirect_url.clone(),
                    qr: a.qr.as_deref().and_then(|q| serde_json::from_str(q).ok()),
                    expires_at: a.expires_at.clone(),
                    created_at: a.created_at.clone(),
                    gateway_txn_no: a.gateway_txn_no.clone(),
                    paid_at: a.money_at.clone(),
                    paid_amount: a.paid_amount,
                    refunded_amount: a.refunded_amount,
                })
                .collect(),
        }
    }

    /// The event snapshot of this payment.
    pub fn snapshot(&self) -> serde_json::Value {
        let payment = self.to_resource(None);
        serde_json::json!({
            "payment": payment,
            "dossier_code": self.payment.dossier_code,
            "agency_code": self.payment.agency_code,
        })
    }
}
