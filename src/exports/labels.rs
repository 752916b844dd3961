//! The words finance reads: budget sub-item names (from `src/exports/budget_sub_items.toml`),
//! reconciliation finding kinds and payment flags, in Vietnamese and English, with what each
//! finding means and what to do about it.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Deserialize;

#[derive(Deserialize)]
struct SubItemFile {
    sub_item: Vec<SubItem>,
}

/// A budget sub-item's names.
#[derive(Debug, Clone, Deserialize)]
pub struct SubItem {
    pub code: String,
    pub vi: String,
    pub en: String,
    pub confirmed: bool,
}

fn sub_items() -> &'static HashMap<String, SubItem> {
    static ITEMS: OnceLock<HashMap<String, SubItem>> = OnceLock::new();
    ITEMS.get_or_init(|| {
        toml::from_str::<SubItemFile>(include_str!("budget_sub_items.toml"))
            .map(|f| {
                f.sub_item
                    .into_iter()
                    .map(|s| (s.code.clone(), s))
                    .collect()
            })
            .unwrap_or_else(|e| {
                tracing::error!(error = %e, "src/exports/budget_sub_items.toml does not parse");
                HashMap::new()
            })
    })
}

/// The names of a budget sub-item, when the data file knows the code.
pub fn sub_item(code: &str) -> Option<&'static SubItem> {
    sub_items().get(code)
}

/// `2801 — Lệ phí trước bạ nhà, đất`, or the bare code when it is not in the data file.
pub fn sub_item_vi(code: &str) -> String {
    sub_item(code).map_or_else(|| code.to_owned(), |s| format!("{code} — {}", s.vi))
}

/// A reconciliation finding kind: (Vietnamese label, English label, what it means and what to do).
pub fn finding(kind: &str) -> (&'static str, &'static str, &'static str) {
    match kind {
        "missing_in_ledger" => (
            "Có trong sao kê, không có trong sổ",
            "In the statement, not in the ledger",
            "Cổng báo đã thu khoản này nhưng landpay không ghi nhận. Đối chiếu mã giao dịch với cổng; nếu tiền đã về, ghi nhận khoản nộp hoặc hoàn tiền cho người nộp.",
        ),
        "missing_in_statement" => (
            "Có trong sổ, không có trong sao kê",
            "In the ledger, not in the statement",
            "landpay ghi nhận đã thu nhưng sao kê của ngày này không có. Khoản này thường xuất hiện ở sao kê ngày sau; nếu không, liên hệ cổng thanh toán.",
        ),
        "amount_mismatch" => (
            "Lệch số tiền",
            "Amount mismatch",
            "Số tiền trong sao kê khác số tiền trong sổ. Kiểm tra với cổng hoặc ngân hàng; hoàn phần chênh lệch nếu người nộp chuyển thừa.",
        ),
        "status_mismatch" => (
            "Lệch trạng thái",
            "Status mismatch",
            "Sao kê và sổ ghi trạng thái khác nhau (ví dụ: thành công và thất bại). Tra cứu giao dịch tại cổng trước khi xử lý.",
        ),
        "other_agency" => (
            "Giao dịch của cơ quan khác",
            "Another agency's transaction",
            "Dòng sao kê thuộc cơ quan thu khác; không làm thay đổi sổ của cơ quan này. Chuyển cho cơ quan đó đối chiếu.",
        ),
        _ => ("Loại khác", "Other", ""),
    }
}

/// A payment flag: (Vietnamese label, English label).
pub fn flag(kind: &str) -> (&'static str, &'static str) {
    match kind {
        "amount_mismatch" => ("Lệch số tiền", "Amount mismatch"),
        "paid_after_expiry" => ("Tiền về sau khi hết hạn", "Paid after expiry"),
        "duplicate_payment" => ("Nộp trùng", "Duplicate payment"),
        _ => ("Cảnh báo khác", "Other flag"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_data_file_names_the_sub_items_land_payments_use() {
        for code in ["1006", "1401", "2801"] {
            let s = sub_item(code).unwrap_or_else(|| panic!("{code} is in the data file"));
            assert!(s.confirmed && !s.vi.is_empty() && !s.en.is_empty());
        }
        assert_eq!(sub_item_vi("2801"), "2801 — Lệ phí trước bạ nhà, đất");
        assert_eq!(sub_item_vi("9999"), "9999");
    }

    #[test]
    fn every_finding_kind_has_words() {
        for kind in [
            "missing_in_ledger",
            "missing_in_statement",
            "amount_mismatch",
            "status_mismatch",
            "other_agency",
        ] {
            let (vi, en, why) = finding(kind);
            assert!(
                !vi.is_empty() && !en.is_empty() && !why.is_empty(),
                "{kind}"
            );
        }
    }
}
