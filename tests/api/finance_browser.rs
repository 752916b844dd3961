#![allow(clippy::unwrap_used, clippy::expect_used)]

//! The finance workspace in a real browser: Debian's headless Chromium, driven by playwright-core
//! (tests/browser/finance_workspace.mjs), against a spawned application. An account is created
//! with `landpay user add` (the password on standard input); the browser computes TOTP codes
//! from the enrolment URI's secret, signs in, uploads a statement and resolves a finding,
//! refunds a duplicate attempt from the payment's page, downloads the collections XLSX (read
//! back here), signs out and sees the old cookie refused. On every page, at 360 and 1280 px:
//! axe-core finds nothing, nothing scrolls sideways, nothing is clipped. Screenshots of both
//! sizes are kept under target/finance-screenshots/.
//!
//! Skips (with the reason) when /usr/bin/chromium, node or tests/browser/node_modules is missing,
//! unless LANDPAY_REQUIRE_ALL is set (CI), where it fails instead.

use serde_json::json;

use crate::finance_exports::{number, sheet, text};
use crate::finance_session::{events_of, pay_on_sandbox, secret_of, user_command, PASSWORD};
use crate::helpers::{browser_available, expect_json, notice_body, run_browser_script, spawn_app};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_finance_officer_works_the_dashboard_in_headless_chromium() {
    if !browser_available("the finance browser test") {
        return;
    }
    let app = spawn_app().await;
    let email = "ke.toan@hn.example.vn";
    let (ok, uri, err) = user_command(
        &app,
        &["add", "--email", email, "--role", "finance"],
        &format!("{PASSWORD}\n"),
    );
    assert!(ok, "{err}");
    let secret = secret_of(uri.trim());

    // A paid order whose second attempt received the money again (a duplicate to refund).
    let body = notice_body(
        &format!("N-BR-{}", ulid::Ulid::new()),
        "HN-VPDKDD",
        5_000_000,
        "2099-01-01",
    );
    let notice = expect_json(
        app.post_json("/v1/notices", &app.portal(), &body).await,
        201,
    )
    .await;
    let p = app.payment_for(&json!([{"notice_id": notice["id"]}])).await;
    let pid = p["id"].as_str().unwrap().to_owned();
    let first = app.attempt(&pid, "vnpay").await;
    let second = app.attempt(&pid, "vnpay").await;
    pay_on_sandbox(&app, &first).await;
    pay_on_sandbox(&app, &second).await;
    let dup = second["id"].as_str().unwrap().to_owned();

    // Today's statement: the first attempt with a wrong amount, and a row the ledger lacks.
    let today = landpay::clock::vietnam_date(app.state.clock.now())
        .format("%Y-%m-%d")
        .to_string();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let work = root
        .join("target/finance-browser")
        .join(ulid::Ulid::new().to_string());
    std::fs::create_dir_all(&work).unwrap();
    let statement = work.join("sao-ke.csv");
    std::fs::write(
        &statement,
        format!(
            "gateway_txn_no,txn_ref,amount,status,paid_at,bank_code,fee\n\
             1,{},4900000,success,{today}T10:00:00+07:00,NCB,0\n\
             2,NOT-IN-LEDGER-1,70000,success,{today}T10:05:00+07:00,NCB,0\n",
            first["reference"].as_str().unwrap()
        ),
    )
    .unwrap();
    let downloads = work.join("downloads");
    let args: Vec<String> = [
        ("--base", app.address.clone()),
        ("--email", email.to_owned()),
        ("--password", PASSWORD.to_owned()),
        ("--secret", secret),
        ("--statement", statement.display().to_string()),
        ("--statement-date", today.clone()),
        ("--payment", pid.clone()),
        ("--duplicate", dup.clone()),
        ("--amount", "5000000".to_owned()),
        ("--downloads", downloads.display().to_string()),
        (
            "--artefacts",
            root.join("target/finance-screenshots")
                .display()
                .to_string(),
        ),
    ]
    .into_iter()
    .flat_map(|(k, v)| [k.to_owned(), v])
    .collect();
    run_browser_script("finance_workspace.mjs", args).await;

    // The downloaded workbook, read back cell by cell.
    let rows = sheet(
        &std::fs::read(downloads.join("collections.xlsx")).unwrap(),
        "Thu nộp",
    );
    assert_eq!(text(&rows[0][0]), "Tiểu mục");
    assert_eq!(text(&rows[1][0]), "2801");
    assert_eq!(text(&rows[1][1]), "Lệ phí trước bạ nhà, đất");
    assert_eq!(number(&rows[1][2]), 5_000_000.0, "money as a number");

    // What the browser did is what the service records.
    let after = app.payment_status(&pid).await;
    assert_eq!(after["status"], "paid", "{after}");
    assert_eq!(after["flags"][0]["status"], "resolved", "{after}");
    let refunds = app.state.store.refunds_of(&pid).await.unwrap();
    assert_eq!(refunds.len(), 1);
    assert_eq!(
        (
            refunds[0].attempt_id.as_str(),
            refunds[0].amount,
            refunds[0].created_by.as_str()
        ),
        (dup.as_str(), 5_000_000, email)
    );
    let kinds = events_of(&app, email).await;
    for k in [
        "account.created",
        "sign_in.succeeded",
        "finding.resolved",
        "sign_out",
    ] {
        assert!(kinds.contains(&k.to_owned()), "{k} in {kinds:?}");
    }
    for shot in [
        "collections-phone",
        "collections-desktop",
        "findings-phone",
        "payment-desktop",
    ] {
        assert!(
            root.join(format!("target/finance-screenshots/finance-{shot}.png"))
                .is_file(),
            "{shot} kept"
        );
    }
}
