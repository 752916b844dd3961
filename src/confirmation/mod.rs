//! The payer's confirmation (Xác nhận nộp tiền): what a paid order's proof says, gathered once
//! for the HTML page, the PDF, the portal's copy, the e-mail and the public verify page.

pub mod mail;
pub mod number;
pub mod pdf;
pub mod texts;
pub mod words;

use chrono::{DateTime, Utc};

use crate::agencies::{self, AgencyView};
use crate::app::Services;
use crate::storage::parse_ts;
use crate::storage::payments::PaymentRecord;

/// One line under a notice (or among the other items).
#[derive(Debug, Clone)]
pub struct ConfirmationLine {
    pub chapter: Option<String>,
    pub sub_item: Option<String>,
    pub name: String,
    pub amount: i64,
    /// Days late, for a late-interest line.
    pub days: Option<i64>,
}

/// The lines of one notice; `notice_no` is `None` for items of no notice (fees of an estimate).
#[derive(Debug, Clone)]
pub struct NoticeGroup {
    pub notice_no: Option<String>,
    pub lines: Vec<ConfirmationLine>,
}

/// A refund that went through.
#[derive(Debug, Clone)]
pub struct RefundLine {
    pub amount: i64,
    pub at: DateTime<Utc>,
}

/// Everything a confirmation shows.
#[derive(Debug, Clone)]
pub struct Confirmation {
    pub lang: &'static str,
    pub payment_id: String,
    pub confirmation_no: String,
    pub status: String,
    pub agency: Option<AgencyView>,
    pub dossier: Option<String>,
    pub payer_name: Option<String>,
    pub payer_email: Option<String>,
    pub groups: Vec<NoticeGroup>,
    pub total: i64,
    pub total_words: String,
    pub gateway: Option<String>,
    pub gateway_txn_no: Option<String>,
    pub reference: Option<String>,
    pub bank: Option<String>,
    pub paid_at: Option<DateTime<Utc>>,
    pub refunds: Vec<RefundLine>,
    pub verify_url: String,
}

/// Why there is no confirmation.
#[derive(Debug, thiserror::Error)]
pub enum ConfirmationError {
    #[error("the order is not paid")]
    NotPaid,
    #[error(transparent)]
    Store(#[from] sqlx::Error),
}

/// The name a payment gateway goes by.
pub fn gateway_label(id: &str) -> String {
    match id {
        "vnpay" => "VNPay".into(),
        "momo" => "MoMo".into(),
        "zalopay" => "ZaloPay".into(),
        "vietqr" => "VietQR".into(),
        other => other.to_owned(),
    }
}

/// The public address of a confirmation's check page.
pub fn verify_url(state: &Services, confirmation_no: &str) -> String {
    format!(
        "{}/verify/{confirmation_no}",
        state.settings.server.public_base_url.trim_end_matches('/')
    )
}

/// The confirmation of a paid (or since refunded) order, in `lang`.
pub async fn load(
    state: &Services,
    record: &PaymentRecord,
    lang: &str,
) -> Result<Confirmation, ConfirmationError> {
    let p = &record.payment;
    let confirmation_no = match (&p.confirmation_no, p.status.as_str()) {
        (Some(no), "paid" | "partially_refunded" | "refunded") => no.clone(),
        _ => return Err(ConfirmationError::NotPaid),
    };
    let texts = texts::for_lang(lang);
    let origins = state.store.line_origins(&p.payment_id).await?;
    let mut groups: Vec<NoticeGroup> = Vec::new();
    for (line, origin) in record.lines.iter().zip(origins) {
        let notice_no = origin.notice_no;
        let entry = ConfirmationLine {
            chapter: origin.chapter,
            sub_item: line.sub_item.clone(),
            name: line.name.clone(),
            amount: line.amount,
            days: line.days,
        };
        match groups.iter_mut().find(|g| g.notice_no == notice_no) {
            Some(group) => group.lines.push(entry),
            None => groups.push(NoticeGroup {
                notice_no,
                lines: vec![entry],
            }),
        }
    }
    let attempt = record
        .attempts
        .iter()
        .find(|a| Some(&a.attempt_id) == p.paid_attempt_id.as_ref());
    let bank = match attempt {
        Some(a) => state.store.attempt_bank(&a.attempt_id).await?,
        None => None,
    };
    let refunds = state
        .store
        .refunds_done(&p.payment_id)
        .await?
        .into_iter()
        .filter_map(|r| {
            Some(RefundLine {
                amount: r.amount,
                at: parse_ts(&r.updated_at).ok()?,
            })
        })
        .collect();
    let payer: serde_json::Value = serde_json::from_str(&p.payer).unwrap_or_default();
    let text_of = |key: &str| payer[key].as_str().map(str::to_owned);
    Ok(Confirmation {
        lang: texts.lang,
        payment_id: p.payment_id.clone(),
        verify_url: verify_url(state, &confirmation_no),
        confirmation_no,
        status: p.status.as_str().into(),
        agency: agencies::view(&state.settings, p.agency_code.as_deref(), texts.lang),
        dossier: p.dossier_code.clone(),
        payer_name: text_of("name"),
        payer_email: text_of("email"),
        groups,
        total: p.amount,
        total_words: if texts.lang == "en" {
            words::english(p.amount)
        } else {
            words::vietnamese(p.amount)
        },
        gateway: attempt.map(|a| gateway_label(a.gateway.as_str())),
        gateway_txn_no: attempt.and_then(|a| a.gateway_txn_no.clone()),
        reference: attempt.map(|a| a.txn_ref.clone()),
        bank,
        paid_at: p.paid_at.as_deref().and_then(|t| parse_ts(t).ok()),
        refunds,
    })
}

/// The confirmation that holds a number (already in its written form), if any.
pub async fn find(
    state: &Services,
    confirmation_no: &str,
    lang: &str,
) -> Result<Option<Confirmation>, ConfirmationError> {
    match state.store.payment_by_confirmation(confirmation_no).await? {
        Some(record) => match load(state, &record, lang).await {
            Ok(c) => Ok(Some(c)),
            Err(ConfirmationError::NotPaid) => Ok(None),
            Err(e) => Err(e),
        },
        None => Ok(None),
    }
}

/// The notice number of each of the order's lines, in line order (for the pay page).
pub async fn notice_numbers(
    state: &Services,
    record: &PaymentRecord,
) -> Result<Vec<Option<String>>, sqlx::Error> {
    let origins = state.store.line_origins(&record.payment.payment_id).await?;
    Ok(origins.into_iter().map(|o| o.notice_no).collect())
}

/// A name shown to whoever holds a confirmation number: each word's first letter, the rest
/// hidden (`Nguyễn Văn An` → `N***** V** A*`).
pub fn mask_name(name: &str) -> String {
    name.split_whitespace()
        .map(|word| {
            let mut chars = word.chars();
            let first: String = chars.next().into_iter().collect();
            format!("{first}{}", "*".repeat(chars.count().max(1)))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::mask_name;

    #[test]
    fn masks_every_word_after_its_first_letter() {
        assert_eq!(mask_name("Nguyễn Văn An"), "N***** V** A*");
        assert_eq!(mask_name("  Lê   Y "), "L* Y*");
        assert_eq!(mask_name(""), "");
    }
}
