//! Spreadsheets finance opens in Excel: Vietnamese headers, money as numbers formatted
//! `#,##0`, dates as dates (UTC+7). The same builders serve the API (`Accept` or
//! `?format=xlsx`) and the dashboard's download links.

pub mod csv;
pub mod labels;
mod xlsx;

pub use xlsx::{collections, findings, flags};

/// The media type of an XLSX workbook.
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The byte-order mark Excel needs to read a CSV file as UTF-8.
pub const BOM: &str = "\u{feff}";

/// What an export is asked for as: JSON (the default), CSV or XLSX.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
    Xlsx,
}

impl Format {
    /// From `?format=` (`json`, `csv`, `xlsx`) first, else from the `Accept` header.
    pub fn choose(format: Option<&str>, accept: Option<&str>) -> Result<Self, &'static str> {
        match format {
            Some("xlsx") => return Ok(Self::Xlsx),
            Some("csv") => return Ok(Self::Csv),
            Some("json") => return Ok(Self::Json),
            Some(_) => return Err("must be one of: json, csv, xlsx"),
            None => {}
        }
        let accept = accept.unwrap_or_default();
        Ok(if accept.contains(XLSX) {
            Self::Xlsx
        } else if accept.contains("text/csv") {
            Self::Csv
        } else {
            Self::Json
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_wins_over_accept() {
        assert_eq!(Format::choose(None, None), Ok(Format::Json));
        assert_eq!(Format::choose(None, Some(XLSX)), Ok(Format::Xlsx));
        assert_eq!(Format::choose(None, Some("text/csv")), Ok(Format::Csv));
        assert_eq!(
            Format::choose(Some("xlsx"), Some("text/csv")),
            Ok(Format::Xlsx)
        );
        assert!(Format::choose(Some("pdf"), None).is_err());
    }
}
