//! One reconciliation run. The statement is read twice: first streamed through the parser to
//! a spool file, so that a malformed file is refused before anything moves; then read back in
//! batches, each row judged against the whole ledger by its reference, bank transfers settled,
//! and the findings written as they are found. Memory stays bounded by the day's ledger and one
//! batch, whatever the size of the file.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::hash::{BuildHasher, RandomState};
use std::io::{BufWriter, Read, Write};
use std::path::PathBuf;

use chrono::{NaiveDate, NaiveTime, TimeZone, Utc};
use futures_util::{Stream, StreamExt};

use super::csv::{RowStatus, StatementParser, StatementRow};
use super::diff::{Diff, Kind, Summary};
use crate::app::Services;
use crate::auth::Caller;
use crate::clock::vietnam;
use crate::config::SettlementCutoff;
use crate::error::ApiError;
use crate::gateways::GatewayId;
use crate::ids::{new_id, IdKind};
use crate::payments::order::AttemptStatus;
use crate::payments::service;
use crate::storage::parse_ts;
use crate::storage::payments::GatewayResult;
use crate::storage::reconciliation::RefRow;

/// Largest settlement file accepted.
pub const MAX_FILE_BYTES: usize = 256 * 1024 * 1024;
/// Rows judged together (one lookup of their references).
const ROW_BATCH: usize = 1000;
/// Findings held before they are written.
const ITEM_FLUSH: usize = 1000;

pub struct RunResult {
    pub id: String,
    pub summary: Summary,
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

/// The ledger day of a statement date: from the previous day's cut-off to this day's.
pub fn settlement_day(
    date: NaiveDate,
    cutoff: SettlementCutoff,
) -> (chrono::DateTime<Utc>, chrono::DateTime<Utc>) {
    let (midnight, _) = vietnam_day(date);
    let end = midnight + chrono::Duration::minutes(i64::from(cutoff.minutes));
    (end - chrono::Duration::days(1), end)
}

/// The spooled statement; removed when dropped.
struct Spool {
    path: PathBuf,
}

impl Drop for Spool {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

fn io_error(e: std::io::Error) -> ApiError {
    ApiError::Internal(anyhow::Error::new(e).context("spooling the settlement file"))
}

/// Pass one: validate the whole file while writing it to a spool file.
async fn spool<S, C, E>(payload: &mut S, id: &str) -> Result<(Spool, u64), ApiError>
where
    S: Stream<Item = Result<C, E>> + Unpin,
    C: AsRef<[u8]>,
    E: std::fmt::Display,
{
    let spool = Spool {
        path: std::env::temp_dir().join(format!("landpay-{id}.csv")),
    };
    let mut out = BufWriter::new(File::create(&spool.path).map_err(io_error)?);
    let mut parser = StatementParser::new();
    let mut size = 0usize;
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|e| ApiError::bad_request("body", format!("could not be read: {e}")))?;
        let chunk = chunk.as_ref();
        size += chunk.len();
        if size > MAX_FILE_BYTES {
            return Err(ApiError::PayloadTooLarge(MAX_FILE_BYTES));
        }
        out.write_all(chunk).map_err(io_error)?;
        parser.push(chunk, &mut |_| {});
    }
    out.flush().map_err(io_error)?;
    let (rows, errors) = parser.finish(&mut |_| {});
    if !errors.is_empty() {
        return Err(ApiError::invalid(errors));
    }
    Ok((spool, rows))
}

/// The state of pass two.
struct Judge<'a> {
    state: &'a Services,
    gateway: GatewayId,
    agency: Option<&'a str>,
    rec_id: String,
    /// The statement's ledger day.
    window: (chrono::DateTime<Utc>, chrono::DateTime<Utc>),
    diff: Diff,
    written: u64,
    /// References matched against money of another day since the last flush: their open
    /// findings get closed.
    other_day: Vec<String>,
    /// Hashes of every reference matched against another day's money, to tell a repeated row
    /// (8 bytes a row, not the reference itself).
    seen_other_day: HashSet<u64>,
    hasher: RandomState,
}

impl Judge<'_> {
    async fn flush(&mut self, force: bool) -> Result<(), ApiError> {
        if !self.other_day.is_empty() {
            let refs = std::mem::take(&mut self.other_day);
            self.state
                .store
                .resolve_missing(self.gateway.as_str(), &self.rec_id, &refs)
                .await?;
        }
        if self.diff.items.len() >= ITEM_FLUSH || (force && !self.diff.items.is_empty()) {
            let items = std::mem::take(&mut self.diff.items);
            self.state
                .store
                .insert_items(&self.rec_id, self.written, &items)
                .await?;
            self.written += u64::try_from(items.len()).unwrap_or(0);
        }
        Ok(())
    }

    /// Judges the rows that the day's ledger did not hold.
    async fn batch(&mut self) -> Result<(), ApiError> {
        let rows = std::mem::take(&mut self.diff.unresolved);
        if rows.is_empty() {
            return Ok(());
        }
        let refs: Vec<&str> = rows.iter().map(|r| r.txn_ref.as_str()).collect();
        let known: HashMap<String, RefRow> = self
            .state
            .store
            .refs_of(self.gateway.as_str(), &refs)
            .await?
            .into_iter()
            .map(|a| (a.txn_ref.clone(), a))
            .collect();
        for row in rows {
            match known.get(&row.txn_ref) {
                None => self.diff.unmatched(&row),
                Some(attempt) => self.known(attempt, &row).await?,
            }
        }
        self.flush(false).await
    }

    async fn known(&mut self, attempt: &RefRow, row: &StatementRow) -> Result<(), ApiError> {
        if self
            .agency
            .is_some_and(|a| attempt.agency_code.as_deref() != Some(a))
        {
            self.diff.other_agency(row);
            return Ok(());
        }
        if let Some(entry) = attempt.ledger_entry() {
            let (from, to) = self.window;
            let on_this_day = attempt
                .money_at
                .as_deref()
                .and_then(|t| parse_ts(t).ok())
                .is_some_and(|t| t >= from && t < to);
            let key = self.hasher.hash_one(&row.txn_ref);
            // The day's own money was matched already: a second row for it is not in the ledger.
            if on_this_day || self.seen_other_day.contains(&key) {
                self.diff
                    .known_unmatched(Kind::MissingInLedger, row, &attempt.payment_id, None);
            } else if self.diff.push_other_day(&entry, row) {
                self.seen_other_day.insert(key);
                self.other_day.push(row.txn_ref.clone());
            }
            return Ok(());
        }
        let open = attempt.status.is_open() || attempt.status == AttemptStatus::Expired;
        if row.status == RowStatus::Failed && (open || attempt.status == AttemptStatus::Failed) {
            self.diff.matched_without_ledger(row);
        } else if matches!(self.gateway, GatewayId::Vietqr | GatewayId::Paygov)
            && row.status == RowStatus::Success
            && open
        {
            self.transfer(attempt, row).await?;
        } else {
            self.diff
                .known_unmatched(Kind::MissingInLedger, row, &attempt.payment_id, None);
        }
        Ok(())
    }

    /// A statement row for a live VietQR reference, or a PayGov settlement row: the file is the
    /// "callback". The right amount pays the order as an IPN does; another amount is recorded
    /// on the attempt and flagged, and the order stays unpaid.
    async fn transfer(&mut self, attempt: &RefRow, row: &StatementRow) -> Result<(), ApiError> {
        let gateway_txn_no = Some(row.gateway_txn_no.clone()).filter(|n| !n.is_empty());
        if row.amount == attempt.amount {
            service::settle(
                self.state,
                &GatewayResult {
                    txn_ref: row.txn_ref.clone(),
                    success: true,
                    amount: row.amount,
                    gateway_txn_no,
                    bank_code: row.bank_code.clone(),
                    paid_at: Some(row.paid_at),
                    source: format!("reconciliation.{}", self.gateway),
                    failure: None,
                },
            )
            .await?;
            self.diff.matched_without_ledger(row);
            return Ok(());
        }
        let recorded = self
            .state
            .store
            .record_wrong_transfer(
                &attempt.attempt_id,
                &attempt.payment_id,
                row.amount,
                gateway_txn_no.as_deref(),
                row.bank_code.as_deref(),
                row.paid_at,
                &format!("reconciliation.{}", self.gateway),
                self.state.clock.now(),
            )
            .await?;
        if recorded {
            self.state.delivery_kick.notify_one();
        }
        self.diff.known_unmatched(
            Kind::AmountMismatch,
            row,
            &attempt.payment_id,
            Some(attempt.amount),
        );
        Ok(())
    }
}

/// Runs a settlement file (its chunks as they arrive) of `gateway` for `date` against the
/// ledger, within the caller's agency.
pub async fn run<S, C, E>(
    state: &Services,
    caller: &Caller,
    gateway: GatewayId,
    date: NaiveDate,
    payload: &mut S,
) -> Result<RunResult, ApiError>
where
    S: Stream<Item = Result<C, E>> + Unpin,
    C: AsRef<[u8]>,
    E: std::fmt::Display,
{
    let id = new_id(IdKind::Reconciliation);
    let (spooled, rows) = spool(payload, &id).await?;
    let agency = caller.agency.as_deref();
    let window = settlement_day(
        date,
        state.settings.gateways.settlement_cutoff(gateway.as_str()),
    );
    let ledger = state
        .store
        .ledger_for(gateway.as_str(), window.0, window.1, agency)
        .await?;
    let statement_date = date.format("%Y-%m-%d").to_string();
    state
        .store
        .begin_run(
            &id,
            gateway.as_str(),
            &statement_date,
            agency,
            &caller.sub,
            state.clock.now(),
        )
        .await?;
    let judge = Judge {
        state,
        gateway,
        agency,
        rec_id: id.clone(),
        window,
        diff: Diff::new(ledger),
        written: 0,
        other_day: Vec::new(),
        seen_other_day: HashSet::new(),
        hasher: RandomState::new(),
    };
    let summary = match judge_file(judge, &spooled.path, &statement_date, rows).await {
        Ok(summary) => summary,
        Err(e) => {
            // A run that could not finish leaves nothing behind: no `running` run, and no
            // earlier finding closed in its name.
            if let Err(cleanup) = state.store.discard_run(&id).await {
                tracing::error!(error = ?cleanup, rec_id = %id, "could not discard an unfinished run");
            }
            return Err(e);
        }
    };
    Ok(RunResult { id, summary })
}

/// Streams the spooled statement through the judge, writes the findings and makes the run
/// the day's current one; returns its summary.
async fn judge_file(
    mut j: Judge<'_>,
    path: &std::path::Path,
    statement_date: &str,
    rows: u64,
) -> Result<Summary, ApiError> {
    let mut file = File::open(path).map_err(io_error)?;
    let mut parser = StatementParser::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = file.read(&mut buf).map_err(io_error)?;
        if n == 0 {
            break;
        }
        parser.push(&buf[..n], &mut |row| j.diff.push(row));
        if j.diff.unresolved.len() >= ROW_BATCH || j.diff.items.len() >= ITEM_FLUSH {
            j.batch().await?;
        }
    }
    let _ = parser.finish(&mut |row| j.diff.push(row));
    j.batch().await?;
    j.flush(true).await?;
    let (state, gateway, agency, written) = (j.state, j.gateway, j.agency, j.written);
    let id = j.rec_id.clone();
    let (summary, rest) = j.diff.finish();
    state.store.insert_items(&id, written, &rest).await?;
    state
        .store
        .finish_run(
            &id,
            gateway.as_str(),
            statement_date,
            agency,
            &summary,
            rows,
        )
        .await?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_ledger_day_runs_from_the_previous_cutoff() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
        let (from, to) = settlement_day(d, SettlementCutoff::default());
        assert_eq!(from.to_rfc3339(), "2026-11-19T17:00:00+00:00");
        assert_eq!(to.to_rfc3339(), "2026-11-20T17:00:00+00:00");
        let (from, to) = settlement_day(d, SettlementCutoff::parse("22:00").unwrap());
        assert_eq!(from.to_rfc3339(), "2026-11-19T15:00:00+00:00");
        assert_eq!(to.to_rfc3339(), "2026-11-20T15:00:00+00:00");
    }
}
