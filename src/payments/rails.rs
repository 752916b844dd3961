//! Use cases of the national rails that the callbacks call: whose account an attempt's result
//! must be signed with, and what a PayGov browser return may change.

use crate::app::Services;
use crate::gateways::dvcqg::{account, agency_accounts};

/// Whether the attempt of `reference` (when there is one) belongs to an order whose agency
/// uses `partner`'s platform account: another agency's key never moves this one's money.
pub async fn dvcqg_partner_matches(
    state: &Services,
    reference: &str,
    partner: &str,
) -> anyhow::Result<bool> {
    let Some(attempt) = state.store.attempt_by_ref(reference).await? else {
        return Ok(true);
    };
    let agency = super::facts::agency_of(state, &attempt).await?;
    let cfg = &state.settings.gateways.dvcqg;
    let expected = account(cfg, &agency_accounts(&state.settings), agency.as_deref());
    Ok(expected.partner_code == partner)
}

/// A PayGov return saying "paid" without a checksum that proves it: the attempt, when still
/// open, becomes `unknown` (money is recorded only by a settlement file). Returns whether the
/// reference names a PayGov attempt.
pub async fn paygov_returned_unconfirmed(
    state: &Services,
    reference: &str,
) -> anyhow::Result<bool> {
    let Some(attempt) = state
        .store
        .attempt_by_ref(reference)
        .await?
        .filter(|a| a.gateway == crate::gateways::GatewayId::Paygov)
    else {
        return Ok(false);
    };
    state
        .store
        .settle_attempt_without_money(
            &attempt.attempt_id,
            super::order::AttemptStatus::Unknown,
            state.clock.now(),
        )
        .await?;
    Ok(true)
}
