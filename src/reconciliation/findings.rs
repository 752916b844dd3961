//! Reconciliation runs and findings as finance works them in the dashboard: the runs an account
//! may see, pages of findings, the whole list for a download, and resolving one with a note.

use serde_json::json;

use crate::app::Services;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::storage::reconciliation::{ItemRow, PositionedItem, RunRow};

/// The kinds of finding.
pub const KINDS: [&str; 5] = [
    "missing_in_ledger",
    "missing_in_statement",
    "amount_mismatch",
    "status_mismatch",
    "other_agency",
];

/// Findings per dashboard page.
pub const PAGE: i64 = 50;
/// Findings read per query while a download is written.
const CHUNK: i64 = 1000;
/// The longest resolution note kept.
pub const MAX_NOTE: usize = 2000;

/// The latest runs the caller may see.
pub async fn runs(state: &Services, caller: &Caller) -> Result<Vec<RunRow>, ApiError> {
    Ok(state.store.runs(caller.agency_scope(), 100).await?)
}

/// A run the caller may read: an agency-bound caller reads only its agency's runs.
pub async fn visible_run(state: &Services, caller: &Caller, id: &str) -> Result<RunRow, ApiError> {
    state
        .store
        .run(id)
        .await?
        .filter(|r| caller.agency.is_none() || caller.agency == r.agency_code)
        .ok_or_else(|| ApiError::NotFound(format!("reconciliation {id}")))
}

/// A page of findings after `after`, and the cursor of the next page.
pub async fn page(
    state: &Services,
    run: &RunRow,
    kind: Option<&str>,
    after: Option<i64>,
) -> Result<(Vec<PositionedItem>, Option<i64>), ApiError> {
    let mut items = state
        .store
        .run_items_page(&run.rec_id, kind, after, PAGE + 1)
        .await?;
    let more = items.len() > usize::try_from(PAGE).unwrap_or(usize::MAX);
    items.truncate(usize::try_from(PAGE).unwrap_or(usize::MAX));
    let next = more.then(|| items.last().map(|i| i.position)).flatten();
    Ok((items, next))
}

/// Up to `limit` findings of a run after position `after`, optionally of one kind, in order.
pub async fn items(
    state: &Services,
    rec_id: &str,
    kind: Option<&str>,
    after: Option<i64>,
    limit: i64,
) -> Result<Vec<PositionedItem>, ApiError> {
    Ok(state
        .store
        .run_items_page(rec_id, kind, after, limit)
        .await?)
}

/// Up to `limit` findings of a run the caller may read, after the position `cursor` names,
/// optionally of one `kind`. `page` is what the caller asked for (the cursor, how many) or why
/// that request was refused; it is looked at once the run and the kind are known good.
pub async fn run_items(
    state: &Services,
    caller: &Caller,
    rec_id: &str,
    kind: Option<&str>,
    page: Result<(Option<String>, i64), ApiError>,
) -> Result<Vec<PositionedItem>, ApiError> {
    let run = visible_run(state, caller, rec_id).await?;
    if kind.is_some_and(|k| !KINDS.contains(&k)) {
        return Err(ApiError::invalid_field(
            "kind",
            format!("must be one of: {}", KINDS.join(", ")),
        ));
    }
    let (cursor, limit) = page?;
    let after = cursor
        .map(|a| {
            a.parse::<i64>().map_err(|_| {
                ApiError::invalid_field("cursor", "is not a cursor this service issued")
            })
        })
        .transpose()?;
    items(state, &run.rec_id, kind, after, limit).await
}

/// Every finding of a run, in order (for a spreadsheet).
pub async fn all(state: &Services, run: &RunRow) -> Result<Vec<ItemRow>, ApiError> {
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let items = state
            .store
            .run_items_page(&run.rec_id, None, after, CHUNK)
            .await?;
        let full = items.len() == usize::try_from(CHUNK).unwrap_or(usize::MAX);
        after = items.last().map(|i| i.position);
        out.extend(items.into_iter().map(|i| i.item));
        if !full {
            return Ok(out);
        }
    }
}

/// Resolves an open finding with a note, recorded against the person; `false` when it was not open.
pub async fn resolve(
    state: &Services,
    caller: &Caller,
    rec_id: &str,
    position: i64,
    note: &str,
) -> Result<bool, ApiError> {
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
    let run = visible_run(state, caller, rec_id).await?;
    let Some(item) = state.store.run_item(&run.rec_id, position).await? else {
        return Err(ApiError::NotFound(format!(
            "finding {position} of {rec_id}"
        )));
    };
    let now = state.clock.now();
    let done = state
        .store
        .resolve_item(&run.rec_id, position, note, &caller.sub, now)
        .await?;
    if done {
        let detail = json!({"rec_id": run.rec_id, "position": position, "kind": item.item.kind,
            "txn_ref": item.item.txn_ref, "payment_id": item.item.payment_id, "note": note});
        state
            .store
            .account_event(
                &caller.sub,
                "finding.resolved",
                None,
                Some(&detail.to_string()),
                now,
            )
            .await?;
    }
    Ok(done)
}
