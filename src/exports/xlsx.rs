//! The three workbooks: collections, a reconciliation run's findings, flags.

use chrono::{Datelike, NaiveDate, Timelike};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, Worksheet, XlsxError};

use super::labels;
use crate::clock::vietnam;
use crate::reconciliation::report::{GroupBy, Totals};
use crate::storage::parse_ts;
use crate::storage::payments::FlagRow;
use crate::storage::reconciliation::{ItemRow, RunRow};

struct Formats {
    header: Format,
    money: Format,
    date: Format,
    time: Format,
}

impl Formats {
    fn new() -> Self {
        Self {
            header: Format::new().set_bold().set_text_wrap(),
            money: Format::new().set_num_format("#,##0"),
            date: Format::new().set_num_format("dd/mm/yyyy"),
            time: Format::new().set_num_format("dd/mm/yyyy hh:mm"),
        }
    }
}

/// Whole đồng as a spreadsheet number. Spreadsheet numbers are binary doubles: every amount up
/// to 2^53 đồng (9 million billion) is exact; beyond that the nearest double is written.
fn dong(amount: i128) -> f64 {
    Decimal::from_i128_with_scale(amount, 0)
        .to_f64()
        .unwrap_or(0.0)
}

fn headers(ws: &mut Worksheet, f: &Formats, names: &[(&str, f64)]) -> Result<(), XlsxError> {
    for (col, (name, width)) in (0u16..).zip(names) {
        ws.write_string_with_format(0, col, *name, &f.header)?;
        ws.set_column_width(col, *width)?;
    }
    ws.set_freeze_panes(1, 0)?;
    Ok(())
}

fn date_cell(day: NaiveDate) -> Result<ExcelDateTime, XlsxError> {
    ExcelDateTime::from_ymd(
        u16::try_from(day.year()).unwrap_or(1900),
        u8::try_from(day.month()).unwrap_or(1),
        u8::try_from(day.day()).unwrap_or(1),
    )
}

/// A stored UTC time as a date and time in Vietnam.
fn time_cell(stored: &str) -> Option<ExcelDateTime> {
    let local = parse_ts(stored).ok()?.with_timezone(&vietnam());
    date_cell(local.date_naive())
        .ok()?
        .and_hms(
            u16::try_from(local.hour()).ok()?,
            u8::try_from(local.minute()).ok()?,
            u8::try_from(local.second()).ok()?,
        )
        .ok()
}

fn write_time(
    ws: &mut Worksheet,
    f: &Formats,
    row: u32,
    col: u16,
    stored: Option<&str>,
) -> Result<(), XlsxError> {
    if let Some(t) = stored.and_then(time_cell) {
        ws.write_datetime_with_format(row, col, &t, &f.time)?;
    }
    Ok(())
}

fn write_opt(ws: &mut Worksheet, row: u32, col: u16, text: Option<&str>) -> Result<(), XlsxError> {
    if let Some(t) = text {
        ws.write_string(row, col, t)?;
    }
    Ok(())
}

fn write_money(
    ws: &mut Worksheet,
    f: &Formats,
    row: u32,
    col: u16,
    amount: Option<i64>,
) -> Result<(), XlsxError> {
    if let Some(a) = amount {
        ws.write_number_with_format(row, col, dong(i128::from(a)), &f.money)?;
    }
    Ok(())
}

fn key_header(group: GroupBy) -> &'static str {
    match group {
        GroupBy::Day => "Ngày",
        GroupBy::SubItem => "Tiểu mục",
        GroupBy::Gateway => "Cổng thanh toán",
        GroupBy::Agency => "Cơ quan thu",
    }
}

/// Collections between `from` and `to`, one row per key.
pub fn collections(group: GroupBy, rows: &[(Option<String>, Totals)]) -> anyhow::Result<Vec<u8>> {
    let f = Formats::new();
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("Thu nộp")?;
    let mut names = vec![(key_header(group), 14.0)];
    if group == GroupBy::SubItem {
        names.push(("Tên tiểu mục", 48.0));
    }
    names.extend([
        ("Thực thu (đ)", 18.0),
        ("Đã thu (đ)", 18.0),
        ("Đã hoàn (đ)", 18.0),
        ("Số khoản nộp", 12.0),
    ]);
    if group == GroupBy::Gateway {
        names.push(("Tiền chưa gắn khoản nộp (đ)", 20.0));
    }
    headers(ws, &f, &names)?;
    for (row, (key, t)) in (1u32..).zip(rows) {
        let mut col = 0u16;
        match (group, key.as_deref()) {
            (GroupBy::Day, Some(k)) => match NaiveDate::parse_from_str(k, "%Y-%m-%d") {
                Ok(d) => ws
                    .write_datetime_with_format(row, 0, &date_cell(d)?, &f.date)
                    .map(|_| ())?,
                Err(_) => ws.write_string(row, 0, k).map(|_| ())?,
            },
            (_, k) => write_opt(ws, row, 0, k)?,
        }
        col += 1;
        if group == GroupBy::SubItem {
            write_opt(
                ws,
                row,
                col,
                key.as_deref()
                    .and_then(labels::sub_item)
                    .map(|s| s.vi.as_str()),
            )?;
            col += 1;
        }
        for (i, v) in [t.amount, t.paid, t.refunded].into_iter().enumerate() {
            let c = col + u16::try_from(i).unwrap_or(0);
            ws.write_number_with_format(row, c, dong(v), &f.money)?;
        }
        ws.write_number(row, col + 3, dong(i128::from(t.count)))?;
        if group == GroupBy::Gateway {
            ws.write_number_with_format(row, col + 4, dong(t.unapplied), &f.money)?;
        }
    }
    Ok(wb.save_to_buffer()?)
}

/// A run's findings, with the Vietnamese name and explanation of each kind.
pub fn findings(run: &RunRow, items: &[ItemRow]) -> anyhow::Result<Vec<u8>> {
    let f = Formats::new();
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("Chênh lệch")?;
    headers(
        ws,
        &f,
        &[
            ("Loại chênh lệch", 30.0),
            ("Mã giao dịch", 30.0),
            ("Số giao dịch của cổng", 18.0),
            ("Mã khoản nộp", 32.0),
            ("Số tiền trong sổ (đ)", 18.0),
            ("Số tiền trong sao kê (đ)", 18.0),
            ("Trạng thái trong sổ", 14.0),
            ("Trạng thái trong sao kê", 14.0),
            ("Dòng sao kê", 10.0),
            ("Tình trạng", 12.0),
            ("Xử lý bởi", 24.0),
            ("Ghi chú xử lý", 40.0),
            ("Thời điểm xử lý", 18.0),
            ("Giải thích", 60.0),
        ],
    )?;
    for (row, i) in (1u32..).zip(items) {
        let (vi, _, why) = labels::finding(&i.kind);
        ws.write_string(row, 0, vi)?;
        ws.write_string(row, 1, &i.txn_ref)?;
        write_opt(ws, row, 2, i.gateway_txn_no.as_deref())?;
        write_opt(ws, row, 3, i.payment_id.as_deref())?;
        write_money(ws, &f, row, 4, i.ledger_amount)?;
        write_money(ws, &f, row, 5, i.statement_amount)?;
        write_opt(ws, row, 6, i.ledger_status.as_deref())?;
        write_opt(ws, row, 7, i.statement_status.as_deref())?;
        if let Some(line) = i.line {
            ws.write_number(row, 8, dong(i128::from(line)))?;
        }
        ws.write_string(
            row,
            9,
            if i.status == "open" {
                "Chưa xử lý"
            } else {
                "Đã xử lý"
            },
        )?;
        write_opt(ws, row, 10, i.resolved_by.as_deref())?;
        write_opt(ws, row, 11, i.note.as_deref())?;
        write_time(ws, &f, row, 12, i.resolved_at.as_deref())?;
        ws.write_string(row, 13, why)?;
    }
    let info = wb.add_worksheet();
    info.set_name("Phiên đối soát")?;
    info.set_column_width(0, 24.0)?;
    info.set_column_width(1, 36.0)?;
    for (row, (k, v)) in (0u32..).zip([
        ("Mã phiên", run.rec_id.as_str()),
        ("Cổng thanh toán", run.gateway.as_str()),
        ("Cơ quan thu", run.agency_code.as_deref().unwrap_or("")),
    ]) {
        info.write_string_with_format(row, 0, k, &f.header)?;
        info.write_string(row, 1, v)?;
    }
    info.write_string_with_format(3, 0, "Ngày sao kê", &f.header)?;
    if let Ok(d) = NaiveDate::parse_from_str(&run.statement_date, "%Y-%m-%d") {
        info.write_datetime_with_format(3, 1, &date_cell(d)?, &f.date)?;
    }
    info.write_string_with_format(4, 0, "Số dòng sao kê", &f.header)?;
    info.write_number(4, 1, dong(i128::from(run.rows_total)))?;
    Ok(wb.save_to_buffer()?)
}

/// Flagged payments.
pub fn flags(rows: &[(String, FlagRow)]) -> anyhow::Result<Vec<u8>> {
    let f = Formats::new();
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("Cảnh báo")?;
    headers(
        ws,
        &f,
        &[
            ("Mã khoản nộp", 32.0),
            ("Loại cảnh báo", 24.0),
            ("Tình trạng", 12.0),
            ("Chi tiết", 60.0),
            ("Ghi chú xử lý", 40.0),
            ("Thời điểm phát sinh", 18.0),
            ("Thời điểm xử lý", 18.0),
        ],
    )?;
    for (row, (payment_id, flag)) in (1u32..).zip(rows) {
        ws.write_string(row, 0, payment_id)?;
        ws.write_string(row, 1, labels::flag(&flag.flag).0)?;
        ws.write_string(
            row,
            2,
            if flag.status == crate::payments::order::FlagStatus::Open {
                "Chưa xử lý"
            } else {
                "Đã xử lý"
            },
        )?;
        write_opt(ws, row, 3, flag.detail.as_deref())?;
        write_opt(ws, row, 4, flag.note.as_deref())?;
        write_time(ws, &f, row, 5, Some(&flag.created_at))?;
        write_time(ws, &f, row, 6, flag.resolved_at.as_deref())?;
    }
    Ok(wb.save_to_buffer()?)
}
