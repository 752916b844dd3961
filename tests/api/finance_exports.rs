//! XLSX exports read back cell by cell, and CSV with a byte-order mark, on the three endpoints.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use calamine::{open_workbook_from_rs, Data, Reader, Xlsx};
use chrono::NaiveDate;
use serde_json::{json, Value};

use crate::helpers::{expect_json, expect_problem, notice_body, spawn_app, TestApp};

pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A workbook's sheet as rows of cells.
pub fn sheet(bytes: &[u8], name: &str) -> Vec<Vec<Data>> {
    let mut wb: Xlsx<_> =
        open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).expect("an XLSX workbook");
    let range = wb
        .worksheet_range(name)
        .unwrap_or_else(|e| panic!("sheet {name}: {e}"));
    range.rows().map(|r| r.to_vec()).collect()
}

pub fn text(cell: &Data) -> String {
    match cell {
        Data::String(s) => s.clone(),
        other => panic!("not text: {other:?}"),
    }
}

/// A number cell (money is written as numbers, not text).
pub fn number(cell: &Data) -> f64 {
    match cell {
        Data::Float(f) => *f,
        Data::Int(i) => i.to_string().parse().unwrap(),
        other => panic!("not a number: {other:?}"),
    }
}

/// A date cell's day.
pub fn day(cell: &Data) -> NaiveDate {
    match cell {
        Data::DateTime(d) => {
            let serial = d.as_f64().floor().to_string().parse::<i64>().unwrap();
            NaiveDate::from_ymd_opt(1899, 12, 30).unwrap() + chrono::Duration::days(serial)
        }
        other => panic!("not a date: {other:?}"),
    }
}

async fn download(app: &TestApp, path: &str, accept: Option<&str>) -> reqwest::Response {
    let mut req = app
        .request(reqwest::Method::GET, path)
        .bearer_auth(app.finance());
    if let Some(a) = accept {
        req = req.header("accept", a);
    }
    req.send().await.unwrap()
}

async fn paid_two_lines(app: &TestApp) -> (String, String) {
    let mut body = notice_body(
        &format!("N-X-{}", ulid::Ulid::new()),
        "HN-VPDKDD",
        3_456_789,
        "2099-12-31",
    );
    body["lines"]
        .as_array_mut()
        .unwrap()
        .push(json!({"chapter": "757", "sub_item": "1006",
        "name": "Thuế thu nhập cá nhân", "amount": 1_234_000, "due_date": "2099-12-31"}));
    let notice = expect_json(
        app.post_json("/v1/notices", &app.portal(), &body).await,
        201,
    )
    .await;
    let p = app.payment_for(&json!([{"notice_id": notice["id"]}])).await;
    let pid = p["id"].as_str().unwrap().to_owned();
    let a = app.attempt(&pid, "vnpay").await;
    crate::finance_session::pay_on_sandbox(app, &a).await;
    (pid, a["reference"].as_str().unwrap().to_owned())
}

fn today(app: &TestApp) -> NaiveDate {
    landpay::clock::vietnam_date(app.state.clock.now())
}

#[tokio::test]
async fn collections_export_as_xlsx_with_vietnamese_headers_money_as_numbers_and_days_as_dates() {
    let app = spawn_app().await;
    paid_two_lines(&app).await;
    let t = today(&app);
    let base = format!("/v1/reports/collections?from={t}&to={t}");
    for (path, accept) in [
        (format!("{base}&group_by=sub_item&format=xlsx"), None),
        (format!("{base}&group_by=sub_item"), Some(XLSX)),
    ] {
        let res = download(&app, &path, accept).await;
        assert_eq!(res.status().as_u16(), 200);
        assert_eq!(res.headers()["content-type"], XLSX);
        let rows = sheet(&res.bytes().await.unwrap(), "Thu nộp");
        let headers: Vec<String> = rows[0].iter().map(text).collect();
        assert_eq!(
            headers,
            [
                "Tiểu mục",
                "Tên tiểu mục",
                "Thực thu (đ)",
                "Đã thu (đ)",
                "Đã hoàn (đ)",
                "Số khoản nộp"
            ]
        );
        let by_code: Vec<(String, String, f64)> = rows[1..]
            .iter()
            .map(|r| (text(&r[0]), text(&r[1]), number(&r[2])))
            .collect();
        assert!(by_code.contains(&("1006".into(), "Thuế thu nhập cá nhân từ chuyển nhượng bất động sản, nhận thừa kế và quà tặng là bất động sản".into(), 1_234_000.0)), "{by_code:?}");
        assert!(
            by_code.contains(&(
                "2801".into(),
                "Lệ phí trước bạ nhà, đất".into(),
                3_456_789.0
            )),
            "{by_code:?}"
        );
    }
    let res = download(&app, &format!("{base}&group_by=day&format=xlsx"), None).await;
    let rows = sheet(&res.bytes().await.unwrap(), "Thu nộp");
    assert_eq!(text(&rows[0][0]), "Ngày");
    assert_eq!(day(&rows[1][0]), t, "the day is a date cell");
    assert_eq!(number(&rows[1][1]), 4_690_789.0);
    let res = download(&app, &format!("{base}&group_by=gateway&format=xlsx"), None).await;
    let rows = sheet(&res.bytes().await.unwrap(), "Thu nộp");
    assert_eq!(text(&rows[0][5]), "Tiền chưa gắn khoản nộp (đ)");
    assert_eq!(
        (text(&rows[1][0]), number(&rows[1][1])),
        ("vnpay".into(), 4_690_789.0)
    );
}

#[tokio::test]
async fn csv_keeps_machine_headers_and_bom_1_adds_a_byte_order_mark() {
    let app = spawn_app().await;
    paid_two_lines(&app).await;
    let t = today(&app);
    let base = format!("/v1/reports/collections?from={t}&to={t}&group_by=sub_item");
    let plain = download(&app, &base, Some("text/csv"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        plain.starts_with("sub_item,amount,paid,refunded,count\n"),
        "{plain}"
    );
    let res = download(&app, &format!("{base}&format=csv&bom=1"), None).await;
    let bytes = res.bytes().await.unwrap();
    assert_eq!(&bytes[..3], b"\xEF\xBB\xBF", "a UTF-8 BOM first");
    assert_eq!(&bytes[3..], plain.as_bytes(), "then the same file");
    let p = expect_problem(
        download(&app, &format!("{base}&format=pdf"), None).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "format");
}

#[tokio::test]
async fn flags_and_a_runs_findings_export_as_xlsx() {
    let app = spawn_app().await;
    let p = app.payment(2_000_000).await;
    let pid = p["id"].as_str().unwrap().to_owned();
    let a = app.attempt(&pid, "vnpay").await;
    app.ipn(
        &app.ipn_params(a["reference"].as_str().unwrap(), 1_999_000, "00"),
        &app.vnpay_secret(),
    )
    .await;
    let (_, reference) = paid_two_lines(&app).await;

    let res = download(&app, "/v1/flags?format=xlsx", None).await;
    assert_eq!(res.status().as_u16(), 200);
    let rows = sheet(&res.bytes().await.unwrap(), "Cảnh báo");
    assert_eq!(text(&rows[0][0]), "Mã khoản nộp");
    assert_eq!(text(&rows[0][1]), "Loại cảnh báo");
    assert_eq!(text(&rows[1][0]), pid);
    assert_eq!(text(&rows[1][1]), "Lệch số tiền");
    assert_eq!(text(&rows[1][2]), "Chưa xử lý");
    assert_eq!(day(&rows[1][5]), today(&app), "raised at: a date");
    let p = expect_problem(
        download(&app, "/v1/flags?format=csv", None).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "format");

    let t = today(&app);
    let csv = format!("gateway_txn_no,txn_ref,amount,status,paid_at,bank_code,fee\n1,{reference},4600000,success,{t}T10:00:00+07:00,NCB,0\n2,NOT-OURS-1,50000,success,{t}T11:00:00+07:00,NCB,0\n");
    let res = app
        .request(
            reqwest::Method::POST,
            &format!("/v1/reconciliations?gateway=vnpay&statement_date={t}"),
        )
        .bearer_auth(app.finance())
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    let run: Value = expect_json(res, 201).await;
    let id = run["id"].as_str().unwrap();
    let res = download(&app, &format!("/v1/reconciliations/{id}"), Some(XLSX)).await;
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(res.headers()["content-type"], XLSX);
    let rows = sheet(&res.bytes().await.unwrap(), "Chênh lệch");
    assert_eq!(text(&rows[0][0]), "Loại chênh lệch");
    assert_eq!(text(&rows[0][13]), "Giải thích");
    let kinds: Vec<(String, String)> = rows[1..]
        .iter()
        .map(|r| (text(&r[0]), text(&r[1])))
        .collect();
    assert!(
        kinds.contains(&("Lệch số tiền".into(), reference.clone())),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&(
            "Có trong sao kê, không có trong sổ".into(),
            "NOT-OURS-1".into()
        )),
        "{kinds:?}"
    );
    let mismatch = rows
        .iter()
        .find(|r| matches!(&r[1], Data::String(s) if *s == reference))
        .unwrap();
    assert_eq!(
        (number(&mismatch[4]), number(&mismatch[5])),
        (4_690_789.0, 4_600_000.0),
        "ledger and statement amounts as numbers"
    );
    let info = sheet(
        &download(&app, &format!("/v1/reconciliations/{id}?format=xlsx"), None)
            .await
            .bytes()
            .await
            .unwrap(),
        "Phiên đối soát",
    );
    assert_eq!(text(&info[0][1]), id);
    assert_eq!(day(&info[3][1]), t);
    let csv = download(
        &app,
        &format!("/v1/reconciliations/{id}?format=csv&bom=1"),
        None,
    )
    .await
    .text()
    .await
    .unwrap();
    assert!(csv.starts_with("\u{feff}kind,txn_ref,"), "{csv}");
    // Another agency's bound token cannot export it either.
    let bound = app.token_for("hcm", &[landpay::auth::Role::Finance], Some("HCM-VPDKDD"));
    let res = app
        .request(
            reqwest::Method::GET,
            &format!("/v1/reconciliations/{id}?format=xlsx"),
        )
        .bearer_auth(bound)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 404);
}
