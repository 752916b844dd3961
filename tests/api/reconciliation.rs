#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{json, Value};

use crate::helpers::{expect_json, expect_problem, spawn_app, TestApp};

const HEADER: &str = "gateway_txn_no,txn_ref,amount,status,paid_at,bank_code,fee\n";

/// A VNPay-paid payment (IPN PayDate 2026-11-20 10:15 UTC+7); returns (payment id, reference).
async fn paid(app: &TestApp, amount: i64) -> (String, String) {
    let p = app.payment(amount).await;
    let id = p["id"].as_str().unwrap().to_owned();
    let a = app.attempt(&id, "vnpay").await;
    let r = a["reference"].as_str().unwrap().to_owned();
    assert_eq!(
        app.ipn(&app.ipn_params(&r, amount, "00"), &app.vnpay_secret())
            .await["RspCode"],
        "00"
    );
    (id, r)
}

async fn post_csv(
    app: &TestApp,
    gateway: &str,
    date: &str,
    token: &str,
    body: String,
) -> reqwest::Response {
    app.request(
        reqwest::Method::POST,
        &format!("/v1/reconciliations?gateway={gateway}&statement_date={date}"),
    )
    .bearer_auth(token)
    .header("content-type", "text/csv")
    .body(body)
    .send()
    .await
    .unwrap()
}

#[tokio::test]
async fn a_file_with_each_discrepancy_yields_exactly_those_findings() {
    let app = spawn_app().await;
    let (_, a) = paid(&app, 1_000_000).await;
    let (_, b) = paid(&app, 2_000_000).await;
    let (d_id, d) = paid(&app, 4_000_000).await;
    let file = format!(
        "{HEADER}111,{a},1000000,success,2026-11-20T10:15:00+07:00,NCB,5500\n\
         222,{b},1990000,success,2026-11-20T10:15:00+07:00,NCB,5500\n\
         333,UNKNOWNREF,3000000,success,2026-11-20T11:00:00+07:00,NCB,5500\n"
    );
    expect_problem(
        post_csv(&app, "vnpay", "2026-11-20", &app.portal(), file.clone()).await,
        403,
        "forbidden",
    )
    .await;
    let run = expect_json(
        post_csv(&app, "vnpay", "2026-11-20", &app.finance(), file.clone()).await,
        201,
    )
    .await;
    assert_eq!(run["status"], "current");
    assert_eq!(
        run["summary"],
        json!({"matched": 1, "matched_amount": 1_000_000, "missing_in_ledger": 1, "missing_in_statement": 1, "amount_mismatch": 1, "status_mismatch": 0,
               "matched_other_day": 0, "other_agency": 0})
    );
    let items = run["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    let find = |kind: &str| items.iter().find(|i| i["kind"] == kind).unwrap().clone();
    assert_eq!(find("amount_mismatch")["txn_ref"], b);
    assert_eq!(find("amount_mismatch")["ledger_amount"], 2_000_000);
    assert_eq!(find("amount_mismatch")["statement_amount"], 1_990_000);
    assert_eq!(find("missing_in_ledger")["txn_ref"], "UNKNOWNREF");
    assert_eq!(find("missing_in_statement")["txn_ref"], d);
    assert_eq!(find("missing_in_statement")["payment_id"], d_id);

    // CSV export of the findings.
    let id = run["id"].as_str().unwrap();
    let csv = app
        .request(reqwest::Method::GET, &format!("/v1/reconciliations/{id}"))
        .bearer_auth(app.finance())
        .header("accept", "text/csv")
        .send()
        .await
        .unwrap();
    assert!(csv.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let text = csv.text().await.unwrap();
    assert_eq!(text.lines().count(), 4, "{text}");
    assert!(text.starts_with("kind,txn_ref,"));

    // Re-posting replaces the run; the old one stays readable as superseded.
    let again = expect_json(
        post_csv(&app, "vnpay", "2026-11-20", &app.finance(), file).await,
        201,
    )
    .await;
    let old = expect_json(
        app.get(&format!("/v1/reconciliations/{id}"), &app.finance())
            .await,
        200,
    )
    .await;
    assert_eq!(old["status"], "superseded");
    assert_eq!(old["superseded_by"], again["id"]);
    assert_eq!(again["status"], "current");
}

#[tokio::test]
async fn a_malformed_file_is_refused_naming_line_and_column_and_stores_nothing() {
    let app = spawn_app().await;
    let good = expect_json(
        post_csv(
            &app,
            "vnpay",
            "2026-11-20",
            &app.finance(),
            HEADER.to_owned(),
        )
        .await,
        201,
    )
    .await;
    let bad = format!(
        "{HEADER}1,REF,12.5,paid,2026-11-20T10:15:00+07:00,,\n2,REF2,100,success,not-a-time,,\n"
    );
    let p = expect_problem(
        post_csv(&app, "vnpay", "2026-11-20", &app.finance(), bad).await,
        422,
        "validation_failed",
    )
    .await;
    let fields: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        vec![
            "line 2, column amount",
            "line 2, column status",
            "line 3, column paid_at"
        ]
    );
    let still = expect_json(
        app.get(
            &format!("/v1/reconciliations/{}", good["id"].as_str().unwrap()),
            &app.finance(),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(
        still["status"], "current",
        "the refused file changed nothing"
    );
    expect_problem(
        post_csv(
            &app,
            "paypal",
            "2026-11-20",
            &app.finance(),
            HEADER.to_owned(),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
}

#[tokio::test]
async fn a_bank_statement_row_pays_a_live_vietqr_order() {
    let app = spawn_app().await;
    let p = app.payment(12_345_000).await;
    let id = p["id"].as_str().unwrap();
    let a = app.attempt(id, "vietqr").await;
    assert!(a["redirect_url"].is_null());
    let qr = &a["qr"];
    assert!(qr["payload"].as_str().unwrap().starts_with("000201"));
    assert!(qr["svg"].as_str().unwrap().contains("<svg"));
    let reference = qr["reference"].as_str().unwrap();
    assert!(qr["payload"].as_str().unwrap().contains(reference));
    let file = format!(
        "{HEADER}FT2611200001,{reference},12345000,success,2026-11-20T14:00:00+07:00,VCB,0\n"
    );
    let run = expect_json(
        post_csv(&app, "vietqr", "2026-11-20", &app.finance(), file).await,
        201,
    )
    .await;
    assert_eq!(run["summary"]["matched"], 1);
    assert_eq!(run["summary"]["matched_amount"], 12_345_000);
    let s = app.payment_status(id).await;
    assert_eq!(s["status"], "paid");
    let events = expect_json(
        app.get(&format!("/v1/payments/{id}/events"), &app.admin())
            .await,
        200,
    )
    .await;
    assert!(events["data"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["type"] == "payment.paid"));
}

#[tokio::test]
async fn collections_add_up_by_sub_item_and_by_gateway() {
    let app = spawn_app().await;
    // Two notice lines with different sub-items in one order, and a plain one.
    let mut body = crate::helpers::notice_body("N-SPLIT", "HN-VPDKDD", 3_000_000, "2099-01-01");
    body["lines"].as_array_mut().unwrap().push(json!({"chapter": "757", "sub_item": "1006", "name": "Thuế TNCN", "amount": 1_000_000, "due_date": "2099-01-01"}));
    let notice = expect_json(
        app.post_json("/v1/notices", &app.portal(), &body).await,
        201,
    )
    .await;
    let p = app.payment_for(&json!([{"notice_id": notice["id"]}])).await;
    let pid = p["id"].as_str().unwrap();
    // Paid through the sandbox, so that the sandbox can refund it later.
    app.pay_through_sandbox(pid, "pay").await;
    assert_eq!(app.payment_status(pid).await["status"], "paid");
    paid(&app, 2_000_000).await;
    // A partial refund of 1,000,000 of the split order, split in proportion over its lines.
    let r = app
        .post_idem(
            &format!("/v1/payments/{pid}/refunds"),
            &app.finance(),
            "rf",
            &json!({"amount": 1_000_000, "reason": "Nộp thừa"}),
        )
        .await;
    assert_eq!(expect_json(r, 201).await["status"], "succeeded");
    // The refund happens today; the payments were paid on 2026-11-20: ask for both days.
    let today = landpay::clock::vietnam_date(app.state.clock.now())
        .format("%Y-%m-%d")
        .to_string();
    let q = |g: &str| format!("/v1/reports/collections?from=2026-11-20&to={today}&group_by={g}");
    let by_sub = expect_json(app.get(&q("sub_item"), &app.finance()).await, 200).await;
    let row = |v: &Value, k: &str, key: &str| {
        v["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r[k] == key)
            .cloned()
            .unwrap()
    };
    assert_eq!(row(&by_sub, "sub_item", "2801")["paid"], 5_000_000);
    assert_eq!(row(&by_sub, "sub_item", "2801")["refunded"], 750_000);
    assert_eq!(
        row(&by_sub, "sub_item", "1006")["amount"],
        750_000,
        "{by_sub}"
    );
    let by_gw = expect_json(app.get(&q("gateway"), &app.finance()).await, 200).await;
    assert_eq!(row(&by_gw, "gateway", "vnpay")["amount"], 5_000_000);
    assert_eq!(row(&by_gw, "gateway", "vnpay")["count"], 2);
    let total = |v: &Value| {
        v["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["amount"].as_i64().unwrap())
            .sum::<i64>()
    };
    assert_eq!(total(&by_sub), total(&by_gw));
    let csv = app
        .request(reqwest::Method::GET, &q("agency"))
        .bearer_auth(app.finance())
        .header("accept", "text/csv")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        csv,
        "agency_code,amount,paid,refunded,count\nHN-VPDKDD,5000000,6000000,1000000,2\n"
    );
    expect_problem(
        app.get(&q("week"), &app.finance()).await,
        422,
        "validation_failed",
    )
    .await;
    expect_problem(app.get(&q("day"), &app.portal()).await, 403, "forbidden").await;
}

#[tokio::test]
async fn the_finance_dashboard_signs_in_and_resolves_flags() {
    let app = spawn_app().await;
    let secret = app.vnpay_secret();
    let p = app.payment(4_000_000).await;
    let pid = p["id"].as_str().unwrap();
    let a = app.attempt(pid, "vnpay").await;
    app.ipn(
        &app.ipn_params(a["reference"].as_str().unwrap(), 3_000_000, "00"),
        &secret,
    )
    .await;
    let res = app
        .client
        .get(format!("{}/finance", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 303, "a sign-in form first");
    let me =
        crate::finance_session::add_account(&app, "kt@example.vn", "finance", None, false).await;
    let s = crate::finance_session::sign_in(&app, &me).await;
    assert!(s.set_cookie.contains("HttpOnly") && s.set_cookie.contains("SameSite=Strict"));
    let (_, html) = crate::finance_session::get_page(&app, &s.cookie, "/finance").await;
    assert!(html.contains("<svg class=\"chart\""));
    let (_, flags) = crate::finance_session::get_page(&app, &s.cookie, "/finance/flags").await;
    assert!(flags.contains("Lệch số tiền") && flags.contains(pid));
    let res = crate::finance_session::post_form(
        &app,
        &s,
        "/finance/flags/resolve",
        &[
            ("payment_id", pid),
            ("flag", "amount_mismatch"),
            ("note", "Đã liên hệ VNPay"),
        ],
    )
    .await;
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(
        app.payment_status(pid).await["flags"][0]["status"],
        "resolved"
    );
}

#[tokio::test]
async fn a_file_of_100_000_rows_streams_through() {
    let app = spawn_app().await;
    let (_, a) = paid(&app, 1_000_000).await;
    let mut file = String::with_capacity(9_000_000);
    file.push_str(HEADER);
    file.push_str(&format!(
        "1,{a},1000000,success,2026-11-20T10:15:00+07:00,NCB,0\n"
    ));
    for i in 0..99_999 {
        file.push_str(&format!(
            "{i},REF{i:08},{},success,2026-11-20T12:00:00+07:00,NCB,0\n",
            10_000 + i
        ));
    }
    let run = expect_json(
        post_csv(&app, "vnpay", "2026-11-20", &app.finance(), file).await,
        201,
    )
    .await;
    assert_eq!(run["rows"], 100_000);
    assert_eq!(run["summary"]["matched"], 1);
    assert_eq!(run["summary"]["missing_in_ledger"], 99_999);
    // The run answers with its first 1,000 findings and a cursor; the CSV streams them all.
    assert_eq!(run["items"].as_array().unwrap().len(), 1_000);
    assert!(run["next_cursor"].is_string());
    let id = run["id"].as_str().unwrap();
    let csv = app
        .request(reqwest::Method::GET, &format!("/v1/reconciliations/{id}"))
        .bearer_auth(app.finance())
        .header("accept", "text/csv")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(csv.lines().count(), 1 + 99_999);
    // The run's cursor continues on /items.
    let cursor = run["next_cursor"].as_str().unwrap();
    let next = expect_json(
        app.get(
            &format!("/v1/reconciliations/{id}/items?limit=500&cursor={cursor}"),
            &app.finance(),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(run["items"][999]["line"], 1002);
    assert_eq!(next["data"].as_array().unwrap().len(), 500);
    assert_eq!(next["data"][0]["line"], 1003);
    assert!(next["next_cursor"].is_string());
    assert!(csv.lines().last().unwrap().contains("REF00099998"));
}
