//! What a caller is told when an item is already held: the holding order, when the caller may
//! see it.

use crate::auth::Caller;
use crate::error::ApiError;
use crate::storage::payments::HeldItem;

/// 409 naming, for each held item, the order that holds it when `caller` may see that order.
pub fn held_conflict(caller: &Caller, held: &[HeldItem]) -> ApiError {
    if held.is_empty() {
        return ApiError::Conflict(
            "an item is already paid or held by another live payment".into(),
        );
    }
    let parts: Vec<String> = held
        .iter()
        .map(|h| {
            if !caller.can_see(h.agency_code.as_deref()) {
                format!(
                    "{} is already paid or held by another live payment",
                    h.item_key
                )
            } else if h.status.is_payable() {
                format!(
                    "{} is held by another live payment ({})",
                    h.item_key, h.payment_id
                )
            } else {
                format!("{} is already paid by payment {}", h.item_key, h.payment_id)
            }
        })
        .collect();
    ApiError::Conflict(parts.join("; "))
}
