//! CSV exports with machine headers (`?bom=1` puts a UTF-8 byte-order mark first, for Excel).

use crate::reconciliation::csv::text_cell;
use crate::reconciliation::report::{GroupBy, Totals};
use crate::storage::reconciliation::ItemRow;

/// The header line of a run's findings.
pub const FINDINGS_HEADER: &str = "kind,txn_ref,gateway_txn_no,payment_id,ledger_amount,statement_amount,ledger_status,statement_status,line,status,resolved_by\n";

/// The collections report as CSV.
pub fn collections(group: GroupBy, rows: &[(Option<String>, Totals)]) -> String {
    let gateway = group == GroupBy::Gateway;
    let mut out = format!(
        "{},amount,paid,refunded,count{}\n",
        group.key_name(),
        if gateway { ",unapplied" } else { "" }
    );
    for (key, t) in rows {
        out.push_str(&format!(
            "{},{},{},{},{}",
            key.as_deref().map(text_cell).unwrap_or_default(),
            t.amount,
            t.paid,
            t.refunded,
            t.count
        ));
        if gateway {
            out.push_str(&format!(",{}", t.unapplied));
        }
        out.push('\n');
    }
    out
}

/// One finding as a CSV line.
pub fn finding_row(out: &mut String, i: &ItemRow) {
    let opt = |v: &Option<String>| v.as_deref().map(text_cell).unwrap_or_default();
    let num = |v: Option<i64>| v.map(|n| n.to_string()).unwrap_or_default();
    out.push_str(&format!(
        "{},{},{},{},{},{},{},{},{},{},{}\n",
        text_cell(&i.kind),
        text_cell(&i.txn_ref),
        opt(&i.gateway_txn_no),
        opt(&i.payment_id),
        num(i.ledger_amount),
        num(i.statement_amount),
        opt(&i.ledger_status),
        opt(&i.statement_status),
        num(i.line),
        text_cell(&i.status),
        opt(&i.resolved_by),
    ));
}
