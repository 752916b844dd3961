//! A payment's whole story for finance: the order, its lines, attempts, callbacks, events and
//! audit records, flags and refunds.

use serde_json::Value;

use crate::app::Services;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::ids::PaymentId;
use crate::payments::service;
use crate::storage::callback_log::{CallbackFilter, CallbackRow};
use crate::storage::payments::PaymentRecord;
use crate::storage::refunds::RefundRow;

pub struct Story {
    pub record: PaymentRecord,
    pub history: Vec<Value>,
    pub callbacks: Vec<CallbackRow>,
    pub refunds: Vec<RefundRow>,
}

/// Everything about a payment the caller may see (404 otherwise).
pub async fn story(state: &Services, caller: &Caller, id: &PaymentId) -> Result<Story, ApiError> {
    let record = service::visible(state, caller, id).await?;
    let pid = record.payment.payment_id.clone();
    let filter = CallbackFilter {
        gateway: None,
        txn_ref: None,
        payment_id: Some(&pid),
        verdict: None,
        agency: caller.agency_scope(),
    };
    Ok(Story {
        history: state.store.payment_history(&pid).await?,
        callbacks: state.store.callback_log(&filter, None, 200).await?,
        refunds: state.store.refunds_of(&pid).await?,
        record,
    })
}
