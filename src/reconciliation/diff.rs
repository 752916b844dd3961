//! The pure diff of ledger and statement: every statement row and every ledger
//! entry lands in exactly one bucket; only the findings that did not match are listed.
#![warn(clippy::float_arithmetic)]

use std::collections::HashMap;

use serde::Serialize;

use super::csv::{RowStatus, StatementRow};

/// Money the ledger recorded on one attempt of the gateway, on the statement date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerEntry {
    pub txn_ref: String,
    pub gateway_txn_no: Option<String>,
    pub payment_id: String,
    pub amount: i64,
    /// `Success`, or `Refunded` when all of it was refunded.
    pub status: RowStatus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    MissingInLedger,
    MissingInStatement,
    AmountMismatch,
    StatusMismatch,
    /// A row of another agency's reference, in a run of an agency-bound token: it moves nothing.
    OtherAgency,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MissingInLedger => "missing_in_ledger",
            Self::MissingInStatement => "missing_in_statement",
            Self::AmountMismatch => "amount_mismatch",
            Self::StatusMismatch => "status_mismatch",
            Self::OtherAgency => "other_agency",
        }
    }
}

/// A finding that did not match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Item {
    pub kind: Kind,
    pub txn_ref: String,
    pub gateway_txn_no: Option<String>,
    pub payment_id: Option<String>,
    pub ledger_amount: Option<i64>,
    pub statement_amount: Option<i64>,
    pub ledger_status: Option<&'static str>,
    pub statement_status: Option<&'static str>,
    /// The statement line, when the finding comes from a row.
    pub line: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub matched: u64,
    pub matched_amount: i64,
    pub missing_in_ledger: u64,
    pub missing_in_statement: u64,
    pub amount_mismatch: u64,
    pub status_mismatch: u64,
    /// Matched rows whose ledger money falls on another day than the statement's.
    pub matched_other_day: u64,
    pub other_agency: u64,
}

/// The diff in progress: statement rows are pushed one by one as the file streams in.
pub struct Diff {
    ledger: HashMap<String, LedgerEntry>,
    pub summary: Summary,
    pub items: Vec<Item>,
    /// Rows with no ledger entry: the caller decides them (a known failed attempt matches; a
    /// bank transfer for a live order pays it) before calling [`Diff::unmatched`] or [`Diff::matched_without_ledger`].
    pub unresolved: Vec<StatementRow>,
}

impl Diff {
    pub fn new(ledger: Vec<LedgerEntry>) -> Self {
        Self {
            ledger: ledger.into_iter().map(|e| (e.txn_ref.clone(), e)).collect(),
            summary: Summary::default(),
            items: Vec::new(),
            unresolved: Vec::new(),
        }
    }

    pub fn push(&mut self, row: StatementRow) {
        let Some(entry) = self.ledger.remove(&row.txn_ref) else {
            self.unresolved.push(row);
            return;
        };
        self.compare(&entry, &row);
    }

    /// A row whose ledger money falls on another day; `true` when it matched.
    pub fn push_other_day(&mut self, entry: &LedgerEntry, row: &StatementRow) -> bool {
        let matched = self.compare(entry, row);
        if matched {
            self.summary.matched_other_day += 1;
        }
        matched
    }

    /// A row of another agency's reference.
    pub fn other_agency(&mut self, row: &StatementRow) {
        self.finding(Kind::OtherAgency, None, Some(row));
    }

    /// A row for a known attempt whose money is not in the ledger (or a transfer of the
    /// wrong amount, just recorded without paying its order): `kind` names the finding.
    pub fn known_unmatched(
        &mut self,
        kind: Kind,
        row: &StatementRow,
        payment_id: &str,
        ledger_amount: Option<i64>,
    ) {
        self.finding(kind, None, Some(row));
        if let Some(item) = self.items.last_mut() {
            item.payment_id = Some(payment_id.to_owned());
            item.ledger_amount = ledger_amount;
        }
    }

    fn compare(&mut self, entry: &LedgerEntry, row: &StatementRow) -> bool {
        let kind = if entry.amount != row.amount {
            Some(Kind::AmountMismatch)
        } else if entry.status != row.status {
            Some(Kind::StatusMismatch)
        } else {
            None
        };
        match kind {
            None => {
                self.summary.matched += 1;
                self.summary.matched_amount =
                    self.summary.matched_amount.saturating_add(row.amount);
                true
            }
            Some(kind) => {
                self.finding(kind, Some(entry), Some(row));
                false
            }
        }
    }

    /// A row without ledger money that nonetheless agrees with us (a failed payment we know
    /// failed, or a transfer that has just been recorded).
    pub fn matched_without_ledger(&mut self, row: &StatementRow) {
        self.summary.matched += 1;
        if row.status == RowStatus::Success {
            self.summary.matched_amount = self.summary.matched_amount.saturating_add(row.amount);
        }
    }

    /// A row the ledger does not know.
    pub fn unmatched(&mut self, row: &StatementRow) {
        self.finding(Kind::MissingInLedger, None, Some(row));
    }

    /// Whether the day's ledger still holds an entry for `txn_ref` (not yet matched).
    pub fn in_day(&self, txn_ref: &str) -> bool {
        self.ledger.contains_key(txn_ref)
    }

    /// Ends the diff: what the ledger has and the statement lacks.
    pub fn finish(mut self) -> (Summary, Vec<Item>) {
        let mut rest: Vec<LedgerEntry> = std::mem::take(&mut self.ledger).into_values().collect();
        rest.sort_by(|a, b| a.txn_ref.cmp(&b.txn_ref));
        for entry in rest {
            self.finding(Kind::MissingInStatement, Some(&entry), None);
        }
        (self.summary, self.items)
    }

    fn finding(&mut self, kind: Kind, entry: Option<&LedgerEntry>, row: Option<&StatementRow>) {
        match kind {
            Kind::MissingInLedger => self.summary.missing_in_ledger += 1,
            Kind::MissingInStatement => self.summary.missing_in_statement += 1,
            Kind::AmountMismatch => self.summary.amount_mismatch += 1,
            Kind::StatusMismatch => self.summary.status_mismatch += 1,
            Kind::OtherAgency => self.summary.other_agency += 1,
        }
        self.items.push(Item {
            kind,
            txn_ref: row
                .map(|r| r.txn_ref.clone())
                .or_else(|| entry.map(|e| e.txn_ref.clone()))
                .unwrap_or_default(),
            gateway_txn_no: row
                .map(|r| r.gateway_txn_no.clone())
                .filter(|n| !n.is_empty())
                .or_else(|| entry.and_then(|e| e.gateway_txn_no.clone())),
            payment_id: entry.map(|e| e.payment_id.clone()),
            ledger_amount: entry.map(|e| e.amount),
            statement_amount: row.map(|r| r.amount),
            ledger_status: entry.map(|e| e.status.as_str()),
            statement_status: row.map(|r| r.status.as_str()),
            line: row.map(|r| r.line),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn entry(txn_ref: &str, amount: i64, status: RowStatus) -> LedgerEntry {
        LedgerEntry {
            txn_ref: txn_ref.into(),
            gateway_txn_no: Some("1".into()),
            payment_id: format!("pay_{txn_ref}"),
            amount,
            status,
        }
    }

    fn row(line: u64, txn_ref: &str, amount: i64, status: RowStatus) -> StatementRow {
        StatementRow {
            line,
            gateway_txn_no: "9".into(),
            txn_ref: txn_ref.into(),
            amount,
            status,
            paid_at: Utc::now(),
            bank_code: None,
            fee: 0,
        }
    }

    /// (ledger, statement rows, expected summary, expected kinds in order)
    #[test]
    fn the_table() {
        use RowStatus::{Failed, Refunded, Success};
        type Case = (
            Vec<LedgerEntry>,
            Vec<StatementRow>,
            Summary,
            Vec<(Kind, &'static str)>,
        );
        let cases: Vec<Case> = vec![
            (
                vec![entry("A", 100, Success)],
                vec![row(2, "A", 100, Success)],
                Summary {
                    matched: 1,
                    matched_amount: 100,
                    ..Summary::default()
                },
                vec![],
            ),
            (
                vec![entry("A", 100, Success)],
                vec![row(2, "A", 90, Success)],
                Summary {
                    amount_mismatch: 1,
                    ..Summary::default()
                },
                vec![(Kind::AmountMismatch, "A")],
            ),
            (
                vec![entry("A", 100, Refunded)],
                vec![row(2, "A", 100, Success)],
                Summary {
                    status_mismatch: 1,
                    ..Summary::default()
                },
                vec![(Kind::StatusMismatch, "A")],
            ),
            (
                vec![entry("A", 100, Success)],
                vec![row(2, "A", 100, Failed)],
                Summary {
                    status_mismatch: 1,
                    ..Summary::default()
                },
                vec![(Kind::StatusMismatch, "A")],
            ),
            (
                vec![entry("A", 100, Success)],
                vec![],
                Summary {
                    missing_in_statement: 1,
                    ..Summary::default()
                },
                vec![(Kind::MissingInStatement, "A")],
            ),
            // The acceptance file: one match, one amount differs, one unknown row, one paid order missing.
            (
                vec![
                    entry("A", 100, Success),
                    entry("B", 200, Success),
                    entry("D", 400, Success),
                ],
                vec![
                    row(2, "A", 100, Success),
                    row(3, "B", 250, Success),
                    row(4, "C", 300, Success),
                ],
                Summary {
                    matched: 1,
                    matched_amount: 100,
                    missing_in_ledger: 1,
                    missing_in_statement: 1,
                    amount_mismatch: 1,
                    status_mismatch: 0,
                    ..Summary::default()
                },
                vec![
                    (Kind::AmountMismatch, "B"),
                    (Kind::MissingInLedger, "C"),
                    (Kind::MissingInStatement, "D"),
                ],
            ),
            // A duplicated row: the second has no ledger entry left.
            (
                vec![entry("A", 100, Success)],
                vec![row(2, "A", 100, Success), row(3, "A", 100, Success)],
                Summary {
                    matched: 1,
                    matched_amount: 100,
                    missing_in_ledger: 1,
                    ..Summary::default()
                },
                vec![(Kind::MissingInLedger, "A")],
            ),
        ];
        for (i, (ledger, rows, summary, kinds)) in cases.into_iter().enumerate() {
            let mut diff = Diff::new(ledger);
            let n_rows = rows.len();
            for r in rows {
                diff.push(r);
            }
            for r in std::mem::take(&mut diff.unresolved) {
                diff.unmatched(&r);
            }
            let (got, items) = diff.finish();
            assert_eq!(got, summary, "case {i}");
            let got_kinds: Vec<(Kind, &str)> = items
                .iter()
                .map(|it| (it.kind, it.txn_ref.as_str()))
                .collect();
            assert_eq!(got_kinds, kinds, "case {i}");
            // Each row and each entry in exactly one bucket.
            let row_buckets =
                got.matched + got.missing_in_ledger + got.amount_mismatch + got.status_mismatch;
            assert_eq!(row_buckets, u64::try_from(n_rows).unwrap_or(0), "case {i}");
        }
    }
}
