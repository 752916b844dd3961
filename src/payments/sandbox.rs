//! What the built-in VNPay simulator remembers of the payments it "processed", so that its
//! `querydr` and `refund` answer for them as VNPay would.

use crate::app::Services;
use crate::storage::sandbox::SandboxTxn;

/// One simulated transaction, as the simulator signed it.
pub struct SimulatedTxn<'a> {
    pub txn_ref: &'a str,
    /// The signed callback query.
    pub signed: &'a str,
    pub response_code: &'a str,
    pub transaction_no: &'a str,
}

/// Remembers a simulated transaction (the first one of a reference stays).
pub async fn record(state: &Services, txn: &SimulatedTxn<'_>) -> Result<(), sqlx::Error> {
    state
        .store
        .record_sandbox_txn(
            txn.txn_ref,
            txn.signed,
            txn.response_code,
            txn.transaction_no,
            state.clock.now(),
        )
        .await
}

/// The simulated transaction of a reference, if the simulator processed one.
pub async fn find(state: &Services, txn_ref: &str) -> Result<Option<SandboxTxn>, sqlx::Error> {
    state.store.sandbox_txn(txn_ref).await
}
