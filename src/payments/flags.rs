//! Flags on payment orders as finance lists and resolves them (API and dashboard).

use crate::app::Services;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::ids::PaymentId;
use crate::payments::service;
use crate::storage::payments::{FlagRow, PaymentRecord};

/// The longest resolution note kept.
pub const MAX_NOTE: usize = 2000;

/// Flags the caller may see, oldest first: `status` `open`, `resolved` or `None` for all.
pub async fn list(
    state: &Services,
    caller: &Caller,
    status: Option<&str>,
    limit: i64,
) -> Result<Vec<(String, FlagRow)>, ApiError> {
    Ok(state
        .store
        .flags(status, caller.agency_scope(), limit)
        .await?)
}

/// Resolves an open flag of a payment the caller may see; `false` when it was not open.
pub async fn resolve(
    state: &Services,
    caller: &Caller,
    payment_id: &PaymentId,
    flag: &str,
    note: &str,
) -> Result<bool, ApiError> {
    let note = checked_note(note)?;
    let record = service::visible(state, caller, payment_id).await?;
    if flag.chars().any(char::is_control) {
        return Ok(false); // no flag's code holds one: nothing open by that name
    }
    Ok(state
        .store
        .resolve_flag(
            &record.payment.payment_id,
            flag,
            note,
            &caller.sub,
            state.clock.now(),
        )
        .await?)
}

/// The dashboard's resolution note, trimmed: 1 to `MAX_NOTE` characters of text.
pub fn checked_note(note: &str) -> Result<&str, ApiError> {
    let note = note.trim();
    if note.is_empty()
        || note.chars().count() > MAX_NOTE
        || note.chars().any(crate::wording::is_forbidden_char)
    {
        return Err(ApiError::invalid_field(
            "note",
            format!("must be 1 to {MAX_NOTE} characters of text"),
        ));
    }
    Ok(note)
}

/// The API's resolution note: any text that is not blank.
pub fn check_api_note(note: &str) -> Result<(), ApiError> {
    if note.trim().is_empty() {
        return Err(ApiError::invalid_field("note", "must not be empty"));
    }
    Ok(())
}

/// Resolves an open flag of a payment the caller may see, through the API (any non-empty note);
/// the payment as it now is, or 404 when that flag was not open.
pub async fn resolve_open(
    state: &Services,
    caller: &Caller,
    payment_id: &PaymentId,
    flag: &str,
    note: &str,
) -> Result<PaymentRecord, ApiError> {
    check_api_note(note)?;
    let record = service::visible(state, caller, payment_id).await?;
    let resolved = state
        .store
        .resolve_flag(
            &record.payment.payment_id,
            flag,
            note.trim(),
            &caller.sub,
            state.clock.now(),
        )
        .await?;
    if !resolved {
        return Err(ApiError::NotFound(format!(
            "no open flag `{flag}` on payment {payment_id}"
        )));
    }
    service::visible(state, caller, payment_id).await
}
