//! What the national rails are told about an order: its agency, dossier, payer and lines.

use crate::app::Services;
use crate::gateways::adapters::{FactLine, OrderFacts};
use crate::storage::payments::{AttemptRow, PaymentRecord};

/// The receipt facts of an order.
pub fn of(record: &PaymentRecord) -> OrderFacts {
    let p = &record.payment;
    let payer: serde_json::Value = serde_json::from_str(&p.payer).unwrap_or_default();
    let text = |k: &str| payer[k].as_str().unwrap_or_default().to_owned();
    OrderFacts {
        agency_code: p.agency_code.clone(),
        dossier_code: p.dossier_code.clone(),
        payer_name: text("name"),
        payer_id_no: text("id_no"),
        lines: record
            .lines
            .iter()
            .map(|l| FactLine {
                code: l.sub_item.clone().unwrap_or_else(|| l.kind.as_str().into()),
                name: l.name.clone(),
                amount: l.amount,
            })
            .collect(),
    }
}

/// The agency of an attempt's order, for the national rails (whose accounts may be the
/// agency's own); other gateways need none and the store is not asked.
pub async fn agency_of(state: &Services, attempt: &AttemptRow) -> anyhow::Result<Option<String>> {
    if !matches!(attempt.gateway.as_str(), "dvcqg" | "paygov") {
        return Ok(None);
    }
    Ok(state
        .store
        .payment(&attempt.payment_id)
        .await?
        .and_then(|r| r.payment.agency_code))
}
