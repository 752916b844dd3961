//! Receiving a gateway's callback, the same way for every gateway: its adapter verifies and
//! parses the raw bytes into a [`GatewayEvent`]; a callback that fails is logged (bounded, and
//! only while its sender is under the limit) with the answer sent; a verified one is decided
//! and applied once in one transaction that also writes it to the callback log, whole, with
//! the verdict and the answer — committed before the answer is sent, and the answer then sent
//! is the one logged. When that transaction fails, the callback is logged with the error
//! answer it is sent.

pub mod log;
pub mod returns;

use anyhow::anyhow;

use crate::app::Services;
use crate::gateways::callback::{
    adapter, CallbackAdapter, Decision, EventStatus, GatewayEvent, Rejected, Rejection,
};
use crate::gateways::GatewayId;
use crate::ids::{new_id, IdKind};
use crate::payments::credentials;
use crate::storage::payments::{AttemptFailure, GatewayResult, ResultApplied};
use crate::storage::transition::{CallbackClaim, CallbackOutcome};

/// A callback as it arrived.
pub struct RawCallback<'a> {
    pub gateway: GatewayId,
    /// The exact bytes the gateway signed (a body, or a query string).
    pub payload: &'a [u8],
    /// Whether one more callback that fails verification may be logged for its sender:
    /// `Err(seconds)` to wait when it is over the limit.
    pub admit_unverified: &'a (dyn Fn() -> Result<(), u64> + Sync),
}

/// How a callback was decided and what its gateway is answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub decision: Decision,
    /// The answer, as the callback log records it (the gateway's own code).
    pub answer: String,
    /// The reference the callback names (unverified when it was rejected).
    pub reference: Option<String>,
    /// The merchant account that signed it, where the gateway names one.
    pub signed_by: Option<String>,
}

impl Outcome {
    /// The verdict in the callback log.
    pub fn verdict(&self) -> &'static str {
        self.decision.verdict()
    }
}

/// Why a callback got no decided answer.
#[derive(Debug, thiserror::Error)]
pub enum ReceiveError {
    /// It failed verification and its sender is over the limit: stored nowhere.
    #[error("unverified callbacks over the limit; retry after {0} s")]
    Limited(u64),
    /// Deciding it failed: it is logged with the verdict `error` and the error answer.
    #[error("the callback could not be decided")]
    Undecided(#[source] anyhow::Error),
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

/// Verifies, logs, decides and applies one callback.
pub async fn receive(state: &Services, raw: RawCallback<'_>) -> Result<Outcome, ReceiveError> {
    let adapter =
        adapter(raw.gateway).ok_or_else(|| anyhow!("{} sends no callbacks", raw.gateway))?;
    let claimed = adapter.claimed_reference(raw.payload);
    let agency = credentials::agency_of_reference(state, claimed.as_deref()).await?;
    let verified = adapter.verify(&state.settings, agency.as_deref(), raw.payload);
    let checked = match verified {
        // A signed field that decodes to a control character (NUL can hide behind an escaped
        // escape in a nested JSON string) is no reference or number this service can keep.
        Ok(event) if holds_control(&event) => Err(Rejection {
            why: Rejected::Malformed,
            reference: None,
            signed_by: event.signed_by,
        }),
        Ok(event) => signer_checked(state, event).await?,
        Err(rejection) => Err(rejection),
    };
    match checked {
        Ok(event) => decide(state, adapter, &event, raw.payload).await,
        Err(rejection) => {
            (raw.admit_unverified)().map_err(ReceiveError::Limited)?;
            reject(state, adapter, rejection, raw.payload).await
        }
    }
}

/// Whether a verified event's reference, transaction number or bank code holds a control
/// character.
fn holds_control(event: &GatewayEvent) -> bool {
    let controlled = |text: &str| text.chars().any(char::is_control);
    controlled(&event.txn_ref)
        || event.gateway_txn_no.as_deref().is_some_and(controlled)
        || event.bank_code.as_deref().is_some_and(controlled)
}

/// A verified event whose signing account must still be its order's: another agency's key
/// never moves this one's money.
async fn signer_checked(
    state: &Services,
    event: GatewayEvent,
) -> anyhow::Result<Result<GatewayEvent, Rejection>> {
    let matches = match (&event.signed_by, event.gateway) {
        (Some(partner), GatewayId::Dvcqg) => {
            super::rails::dvcqg_partner_matches(state, &event.txn_ref, partner).await?
        }
        _ => true,
    };
    Ok(if matches {
        Ok(event)
    } else {
        Err(Rejection {
            why: Rejected::WrongMerchant,
            reference: Some(event.txn_ref),
            signed_by: event.signed_by,
        })
    })
}

/// Logs a callback that was not believed, with the answer it is sent.
async fn reject(
    state: &Services,
    adapter: &dyn CallbackAdapter,
    rejection: Rejection,
    payload: &[u8],
) -> Result<Outcome, ReceiveError> {
    let decision = Decision::Rejected(rejection.why);
    let answer = adapter.answer(decision);
    let entry = log::Entry {
        gateway: adapter.gateway(),
        txn_ref: rejection.logged_reference(),
        verdict: decision.verdict(),
        answer: &answer,
        payload,
        verified: false,
    };
    log::record(state, &entry).await?;
    Ok(Outcome {
        decision,
        answer,
        reference: rejection.reference,
        signed_by: rejection.signed_by,
    })
}

/// Decides a verified callback: decided, applied and logged whole with its answer in one
/// transaction, committed before the answer goes out. When that fails, the callback is logged
/// with the error answer it is then sent.
pub async fn decide(
    state: &Services,
    adapter: &dyn CallbackAdapter,
    event: &GatewayEvent,
    payload: &[u8],
) -> Result<Outcome, ReceiveError> {
    let id = new_id(IdKind::Callback);
    let kept = log::Kept::of(payload, true);
    let result = gateway_result(event);
    let claim = CallbackClaim {
        callback_id: &id,
        gateway: event.gateway.as_str(),
        txn_ref: &event.txn_ref,
        payload: &kept.text,
        payload_bytes: kept.bytes,
        payload_sha256: &kept.sha256,
        amount: event.amount,
        result: result.as_ref(),
    };
    let answer_for = |o: &CallbackOutcome| adapter.answer(decision_of(o));
    match state
        .store
        .decide_callback(&claim, &answer_for, state.clock.now())
        .await
    {
        Ok((outcome, answer)) => {
            if matches!(outcome, CallbackOutcome::Applied(ResultApplied::Paid)) {
                state.delivery_kick.notify_one();
            }
            Ok(Outcome {
                decision: decision_of(&outcome),
                answer,
                reference: Some(event.txn_ref.clone()),
                signed_by: event.signed_by.clone(),
            })
        }
        Err(e) => {
            let entry = log::Entry {
                gateway: event.gateway,
                txn_ref: Some(&event.txn_ref),
                verdict: "error",
                answer: &adapter.error_answer(),
                payload,
                verified: true,
            };
            log::record_error(state, &id, &entry).await;
            Err(ReceiveError::Undecided(e.into()))
        }
    }
}

/// The decision as every gateway's answer codes tell it.
pub fn decision_of(outcome: &CallbackOutcome) -> Decision {
    match outcome {
        CallbackOutcome::UnknownReference => Decision::UnknownReference,
        CallbackOutcome::AmountMismatch => Decision::AmountMismatch,
        CallbackOutcome::AlreadySettled => Decision::AlreadySettled,
        CallbackOutcome::Noted | CallbackOutcome::Applied(_) => Decision::Accepted,
    }
}

/// What a verified event applies to its attempt; `None` only notes it: a payment still
/// pending, or an amount that is not whole đồng (decided as an amount mismatch).
pub fn gateway_result(event: &GatewayEvent) -> Option<GatewayResult> {
    let amount = event.amount?;
    let (success, failure) = match &event.status {
        EventStatus::Pending => return None,
        EventStatus::Paid => (true, None),
        EventStatus::Failed(why) => (false, why.clone()),
    };
    Some(GatewayResult {
        txn_ref: event.txn_ref.clone(),
        success,
        amount,
        gateway_txn_no: event.gateway_txn_no.clone(),
        bank_code: event.bank_code.clone(),
        paid_at: event.paid_at,
        source: event.source.to_owned(),
        failure: failure.map(|f| AttemptFailure {
            code: f.code,
            reason_vi: f.reason_vi,
            reason_en: f.reason_en,
        }),
    })
}

#[cfg(test)]
mod tests;
