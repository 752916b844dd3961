//! One reconciliation run: stream the statement through the parser and the diff, decide the
//! rows the ledger lacks, settle bank transfers that pay live orders, store the run.

use actix_web::dev::Payload;
use chrono::{NaiveDate, NaiveTime, TimeZone, Utc};
use std::collections::HashMap;

use futures_util::StreamExt;

use super::csv::{RowStatus, StatementParser};
use super::diff::{Diff, Item, Summary};
use crate::clock::vietnam;
use crate::error::ApiError;
use crate::gateways::GatewayId;
use crate::ids::{new_id, IdKind};
use crate::payments::service;
use crate::startup::AppState;
use crate::storage::payments::{AttemptRow, GatewayResult};

/// Largest settlement file accepted.
pub const MAX_FILE_BYTES: usize = 256 * 1024 * 1024;

pub struct RunResult {
    pub id: String,
    pub summary: Summary,
    pub items: Vec<Item>,
}

/// `[00:00, 24:00)` of `date` in Vietnam, as UTC.
pub fn vietnam_day(date: NaiveDate) -> (chrono::DateTime<Utc>, chrono::DateTime<Utc>) {
    let start = vietnam()
        .from_local_datetime(&date.and_time(NaiveTime::MIN))
        .single()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default();
    (start, start + chrono::Duration::days(1))
}

pub async fn run(
    state: &AppState,
    actor: &str,
    gateway: GatewayId,
    date: NaiveDate,
    payload: &mut Payload,
) -> Result<RunResult, ApiError> {
    let (from, to) = vietnam_day(date);
    let ledger = state.store.ledger_for(gateway.as_str(), from, to).await?;
    let mut diff = Diff::new(ledger);
    let mut parser = StatementParser::new();
    let mut size = 0usize;
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|e| ApiError::bad_request("body", format!("could not be read: {e}")))?;
        size += chunk.len();
        if size > MAX_FILE_BYTES {
            return Err(ApiError::PayloadTooLarge(MAX_FILE_BYTES));
        }
        parser.push(&chunk, &mut |row| diff.push(row));
    }
    let (rows, errors) = parser.finish(&mut |row| diff.push(row));
    if !errors.is_empty() {
        return Err(ApiError::invalid(errors));
    }
    let unresolved = std::mem::take(&mut diff.unresolved);
    let refs: Vec<String> = unresolved.iter().map(|r| r.txn_ref.clone()).collect();
    let known: HashMap<String, AttemptRow> = state
        .store
        .attempts_by_refs(&refs)
        .await?
        .into_iter()
        .filter(|a| a.gateway == gateway.as_str())
        .map(|a| (a.txn_ref.clone(), a))
        .collect();
    for row in unresolved {
        let Some(attempt) = known.get(&row.txn_ref) else {
            diff.unmatched(&row);
            continue;
        };
        let open = matches!(
            attempt.status.as_str(),
            "redirected" | "unknown" | "expired"
        );
        if row.status == RowStatus::Failed && (open || attempt.status == "failed") {
            diff.matched_without_ledger(&row);
        } else if gateway == GatewayId::Vietqr
            && row.status == RowStatus::Success
            && open
            && row.amount == attempt.amount
        {
            // The bank statement is the VietQR "callback": the same transition as an IPN.
            service::settle(
                state,
                &GatewayResult {
                    txn_ref: row.txn_ref.clone(),
                    success: true,
                    amount: row.amount,
                    gateway_txn_no: Some(row.gateway_txn_no.clone()).filter(|n| !n.is_empty()),
                    bank_code: row.bank_code.clone(),
                    paid_at: Some(row.paid_at),
                    source: "reconciliation.vietqr".into(),
                },
            )
            .await?;
            diff.matched_without_ledger(&row);
        } else {
            diff.unmatched(&row);
        }
    }
    let (summary, items) = diff.finish();
    let id = new_id(IdKind::Reconciliation);
    state
        .store
        .save_run(
            &id,
            gateway.as_str(),
            &date.format("%Y-%m-%d").to_string(),
            &summary,
            &items,
            rows,
            actor,
            state.clock.now(),
        )
        .await?;
    Ok(RunResult { id, summary, items })
}
