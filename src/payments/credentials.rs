//! Which agency's gateway credentials verify a callback: those of the agency whose attempt the
//! callback names (read from the unverified message only to choose the key; nothing in it is
//! believed before the signature verifies under that key).

use std::sync::Arc;

use crate::app::Services;
use crate::gateways::adapters::PaymentGateway;
use crate::storage::payments::AttemptRow;

/// The gateway of an attempt, under the credentials of its order's agency; `None` when that
/// gateway is not enabled (any more).
pub async fn gateway_of_attempt(
    state: &Services,
    attempt: &AttemptRow,
) -> anyhow::Result<Option<Arc<dyn PaymentGateway>>> {
    let id = attempt.gateway;
    let agency = state
        .store
        .agency_of_attempt(&attempt.txn_ref)
        .await?
        .flatten();
    Ok(state.gateways.of(agency.as_deref(), id).cloned())
}

/// The agency of the order whose attempt `txn_ref` names; `None` for an order of no agency or
/// an unknown reference (both verified under the default credentials).
pub async fn agency_of_reference(
    state: &Services,
    txn_ref: Option<&str>,
) -> anyhow::Result<Option<String>> {
    let Some(txn_ref) = txn_ref.filter(|r| !r.is_empty() && !r.contains('\0')) else {
        return Ok(None);
    };
    if state.settings.agencies.is_empty() {
        return Ok(None);
    }
    Ok(state.store.agency_of_attempt(txn_ref).await?.flatten())
}
