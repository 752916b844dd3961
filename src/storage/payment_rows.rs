//! The rows of a payment order as stored: the order, its lines, attempts and flags, and the
//! column lists that read them.

use crate::gateways::GatewayId;
use crate::obligations::line::LineKind;
use crate::payments::order::{AttemptStatus, FlagStatus, PaymentStatus};

pub const PAYMENT_COLUMNS: &str =
    "payment_id, agency_code, dossier_code, status, amount, refunded_amount, payer, \
     return_url, locale, created_by, expires_at, paid_at, paid_attempt_id, created_at, \
     confirmation_no";
pub const LINE_COLUMNS: &str =
    "kind, source, notice_line_id, assessment_line, sub_item, name, amount, days, due_date";
pub const ATTEMPT_COLUMNS: &str =
    "attempt_id, payment_id, gateway, txn_ref, status, amount, redirect_url, qr, \
     expires_at, gateway_txn_no, paid_amount, money_at, refunded_amount, created_at";
pub const FLAG_COLUMNS: &str = "flag, status, detail, note, created_at, resolved_at";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PaymentRow {
    pub payment_id: String,
    pub agency_code: Option<String>,
    pub dossier_code: Option<String>,
    pub status: PaymentStatus,
    pub amount: i64,
    pub refunded_amount: i64,
    pub payer: String,
    pub return_url: Option<String>,
    pub locale: String,
    pub created_by: String,
    pub expires_at: String,
    pub paid_at: Option<String>,
    pub paid_attempt_id: Option<String>,
    pub created_at: String,
    /// Given in the transaction that pays the order; unique across the service.
    pub confirmation_no: Option<String>,
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Deserialize)]
pub struct PaymentLineRow {
    pub kind: LineKind,
    pub source: String,
    pub notice_line_id: Option<String>,
    pub assessment_line: Option<String>,
    pub sub_item: Option<String>,
    pub name: String,
    pub amount: i64,
    pub days: Option<i64>,
    pub due_date: Option<String>,
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Deserialize)]
pub struct AttemptRow {
    pub attempt_id: String,
    pub payment_id: String,
    pub gateway: GatewayId,
    pub txn_ref: String,
    pub status: AttemptStatus,
    pub amount: i64,
    pub redirect_url: Option<String>,
    pub qr: Option<String>,
    pub expires_at: String,
    pub gateway_txn_no: Option<String>,
    pub paid_amount: Option<i64>,
    pub money_at: Option<String>,
    pub refunded_amount: i64,
    pub created_at: String,
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Deserialize)]
pub struct FlagRow {
    pub flag: String,
    pub status: FlagStatus,
    pub detail: Option<String>,
    pub note: Option<String>,
    pub created_at: String,
    pub resolved_at: Option<String>,
}

/// A payment and everything shown with it.
#[derive(Debug, Clone)]
pub struct PaymentRecord {
    pub payment: PaymentRow,
    pub lines: Vec<PaymentLineRow>,
    pub attempts: Vec<AttemptRow>,
    pub flags: Vec<FlagRow>,
}

/// A new order, fully computed by the service.
#[derive(Clone)]
pub struct NewPayment {
    pub row: PaymentRow,
    pub lines: Vec<PaymentLineRow>,
    /// Keys of the items this order holds (notice line ids, `asm_…:certificate_fee`).
    pub holds: Vec<String>,
}

impl NewPayment {
    /// The order as it will be stored: no attempts, no flags yet.
    pub fn record(&self) -> PaymentRecord {
        PaymentRecord {
            payment: self.row.clone(),
            lines: self.lines.clone(),
            attempts: Vec::new(),
            flags: Vec::new(),
        }
    }
}
