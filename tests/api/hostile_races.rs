//! Off the happy path on both backends: copies of one request racing each other, and bytes no
//! column can hold. Each case was once a server error or, for refunds, money paid out twice.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use futures_util::future::join_all;
use serde_json::json;

use crate::helpers::{expect_problem, spawn_app, TestApp};

/// The status of every reconciliation run, read from the database.
async fn run_states(app: &TestApp) -> Vec<String> {
    let sql = "select status from reconciliation order by created_at";
    let rows: Vec<(String,)> = app.db.rows(sql).await;
    rows.into_iter().map(|(status,)| status).collect()
}

#[tokio::test]
async fn refunds_racing_for_one_payment_never_exceed_what_was_paid() {
    let app = spawn_app().await;
    let p = app.payment(45_000_000).await;
    let pid = p["id"].as_str().unwrap().to_owned();
    app.pay_through_sandbox(&pid, "pay").await;
    let path = format!("/v1/payments/{pid}/refunds");
    let finance = app.finance();
    let tries = (0..12).map(|i| {
        let (app, path, finance) = (&app, &path, &finance);
        async move {
            let body = json!({"amount": 45_000_000, "reason": "Hồ sơ bị trả lại"});
            app.post_idem(path, finance, &format!("race-{i}"), &body)
                .await
                .status()
                .as_u16()
        }
    });
    let mut statuses = join_all(tries).await;
    statuses.sort_unstable();
    assert_eq!(statuses[0], 201, "{statuses:?}");
    // The others are refused: as more than is left (422), or, once the first has refunded
    // the whole order, as an order in the wrong state (409).
    assert!(
        statuses[1..].iter().all(|s| *s == 422 || *s == 409),
        "one refund of the whole amount, the others refused: {statuses:?}"
    );
    let paid = app.payment_status(&pid).await;
    assert_eq!(paid["refunded_amount"], 45_000_000, "{paid}");
    assert_eq!(paid["status"], "refunded");
}

#[tokio::test]
async fn a_cursor_that_decodes_to_a_control_character_is_refused_naming_it() {
    let app = spawn_app().await;
    let admin = app.admin();
    // "AA" is NUL, "eAB5" is "x", NUL, "y", "eAF5" holds 0x01.
    for path in ["/v1/payments", "/v1/notices", "/v1/callbacks"] {
        for cursor in ["AA", "eAB5", "eAF5"] {
            let res = app.get(&format!("{path}?cursor={cursor}"), &admin).await;
            let p = expect_problem(res, 422, "validation_failed").await;
            assert_eq!(p["errors"][0]["field"], "cursor", "{path} {cursor}");
        }
    }
}

#[tokio::test]
async fn copies_of_one_days_statement_uploaded_at_once_all_land_and_one_is_current() {
    let app = spawn_app().await;
    let admin = app.admin();
    let csv = "gateway_txn_no,txn_ref,amount,status,paid_at,bank_code,fee\n\
               1,REF1,1000,success,2026-11-11T10:00:00+07:00,NCB,0\n";
    let uploads = (0..8).map(|_| {
        let (app, admin) = (&app, &admin);
        async move {
            app.request(
                reqwest::Method::POST,
                "/v1/reconciliations?gateway=vnpay&statement_date=2026-11-11",
            )
            .bearer_auth(admin)
            .header("content-type", "text/csv")
            .body(csv)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
        }
    });
    let statuses = join_all(uploads).await;
    assert!(statuses.iter().all(|s| *s == 201), "{statuses:?}");
    let states = run_states(&app).await;
    assert_eq!(states.len(), 8, "{states:?}");
    assert_eq!(
        states.iter().filter(|s| *s == "current").count(),
        1,
        "{states:?}"
    );
    assert!(
        states.iter().all(|s| s == "current" || s == "superseded"),
        "{states:?}"
    );
}

#[tokio::test]
async fn a_statement_reference_holding_a_nul_is_refused_and_stores_nothing() {
    let app = spawn_app().await;
    let admin = app.admin();
    let csv = "gateway_txn_no,txn_ref,amount,status,paid_at,bank_code,fee\n\
               1,AB\u{0}CD,100,success,2026-12-02T10:15:00+07:00,NCB,0\n";
    let res = app
        .request(
            reqwest::Method::POST,
            "/v1/reconciliations?gateway=vnpay&statement_date=2026-12-03",
        )
        .bearer_auth(&admin)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    let p = expect_problem(res, 422, "validation_failed").await;
    assert_eq!(p["errors"][0]["field"], "line 2, column txn_ref", "{p}");
    assert_eq!(run_states(&app).await, Vec::<String>::new());
}

#[tokio::test]
async fn an_order_above_vnpays_limit_is_refused_as_the_gateways_limit_not_an_outage() {
    let app = spawn_app().await;
    let p = app.payment(10_000_000_000).await;
    let pid = p["id"].as_str().unwrap();
    let res = app
        .post_json(
            &format!("/v1/payments/{pid}/attempts"),
            &app.portal(),
            &json!({"gateway": "vnpay"}),
        )
        .await;
    let problem = expect_problem(res, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "gateway", "{problem}");
    let message = problem["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("9999999999"), "{message}");
}
