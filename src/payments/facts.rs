//! What the national rails are told about an order: its agency, dossier, payer and lines.

use anyhow::Context;

use crate::app::Services;
use crate::gateways::adapters::{FactLine, OrderFacts};
use crate::storage::payments::{AttemptRow, PaymentRecord};

/// The receipt facts of an order. A stored payer that cannot be read, or names no one, is an
/// error: the national rails are never told of a payment by nobody.
pub fn of(record: &PaymentRecord) -> anyhow::Result<OrderFacts> {
    let p = &record.payment;
    let payer: serde_json::Value = serde_json::from_str(&p.payer)
        .with_context(|| format!("the stored payer of {}", p.payment_id))?;
    let payer_name = payer["name"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("the stored payer of {} has no name", p.payment_id))?
        .to_owned();
    Ok(OrderFacts {
        agency_code: p.agency_code.clone(),
        dossier_code: p.dossier_code.clone(),
        payer_name,
        // An identity number is optional.
        payer_id_no: payer["id_no"].as_str().unwrap_or_default().to_owned(),
        lines: record
            .lines
            .iter()
            .map(|l| FactLine {
                code: l.sub_item.clone().unwrap_or_else(|| l.kind.as_str().into()),
                name: l.name.clone(),
                amount: l.amount,
            })
            .collect(),
    })
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
