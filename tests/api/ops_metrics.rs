//! The operator metrics after a scenario, and `/metrics` behind its bearer token.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use reqwest::Method;
use serde_json::Value;

use crate::helpers::{expect_json, spawn_app_driven, Receiver, TestApp};

const TOKEN: &str = "metrics-scraper-token-0123456789";

async fn scrape(app: &TestApp) -> String {
    let res = app
        .request(Method::GET, "/metrics")
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    res.text().await.unwrap()
}

/// The value of `name` with exactly these labels, if exported.
fn value(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let want: BTreeMap<String, String> = labels
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|line| {
            let (series, number) = line.rsplit_once(' ')?;
            let (metric, got) = match series.split_once('{') {
                Some((m, rest)) => {
                    let inner = rest.strip_suffix('}')?;
                    let got: BTreeMap<String, String> = inner
                        .split(',')
                        .filter(|p| !p.is_empty())
                        .filter_map(|p| {
                            let (k, v) = p.split_once('=')?;
                            Some((k.to_owned(), v.trim_matches('"').to_owned()))
                        })
                        .collect();
                    (m, got)
                }
                None => (series, BTreeMap::new()),
            };
            (metric == name && got == want).then(|| number.parse().unwrap())
        })
}

async fn ipn(app: &TestApp, txn_ref: &str, amount: i64, secret: &str) -> String {
    let answer: Value = app
        .ipn(&app.ipn_params(txn_ref, amount, "00"), secret)
        .await;
    answer["RspCode"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn each_operator_metric_has_the_right_value_after_a_scenario() {
    let app = spawn_app_driven(&[
        ("LANDPAY__METRICS__BEARER_TOKEN", TOKEN),
        ("LANDPAY__WEBHOOKS__RETRY_SCHEDULE", r#"["1h"]"#),
    ])
    .await;
    // The token guards /metrics.
    let res = app.request(Method::GET, "/metrics").send().await.unwrap();
    assert_eq!(res.status().as_u16(), 401);
    let res = app
        .request(Method::GET, "/metrics")
        .bearer_auth("metrics-scraper-token-012345678X")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 401);

    let failing = Receiver::start(&[500]).await;
    let ok = Receiver::start(&[200]).await;
    app.subscribe(&failing.url, &["payment.paid"]).await;
    app.subscribe(&ok.url, &["payment.paid"]).await;

    // One paid order, one refused IPN (bad signature), one amount mismatch.
    let secret = app.vnpay_secret();
    let p1 = app.payment(1_000_000).await;
    let a1 = app.attempt(p1["id"].as_str().unwrap(), "vnpay").await;
    let r1 = a1["reference"].as_str().unwrap();
    assert_eq!(ipn(&app, r1, 1_000_000, &secret).await, "00");
    assert_eq!(ipn(&app, r1, 1_000_000, "not-the-secret").await, "97");
    let p2 = app.payment(2_000_000).await;
    let a2 = app.attempt(p2["id"].as_str().unwrap(), "vnpay").await;
    let r2 = a2["reference"].as_str().unwrap().to_owned();
    assert_eq!(ipn(&app, &r2, 1_500_000, &secret).await, "04");
    assert_eq!(ipn(&app, r1, 1_000_000, &secret).await, "02");

    // Both receivers were tried once: one delivered, one pending for an hour.
    assert_eq!(app.deliver_all().await, 2);
    assert!(ok.all().len() == 1 && failing.all().len() == 1);
    let text = scrape(&app).await;
    assert_eq!(
        value(
            &text,
            "landpay_webhook_deliveries",
            &[("state", "delivered")]
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        value(&text, "landpay_webhook_deliveries", &[("state", "pending")]),
        Some(1.0)
    );
    assert_eq!(
        value(&text, "landpay_webhook_deliveries", &[("state", "dead")]),
        Some(0.0)
    );
    let age = value(&text, "landpay_webhook_oldest_pending_seconds", &[]).unwrap();
    assert!((0.0..60.0).contains(&age), "{age}");
    app.state.clock.advance(chrono::Duration::seconds(300));
    let text = scrape(&app).await;
    let age = value(&text, "landpay_webhook_oldest_pending_seconds", &[]).unwrap();
    assert!((300.0..360.0).contains(&age), "{age}");

    let cb = |verdict: &str| {
        value(
            &text,
            "landpay_callbacks_total",
            &[("gateway", "vnpay"), ("verdict", verdict)],
        )
    };
    assert_eq!(cb("valid"), Some(1.0));
    assert_eq!(cb("bad_signature"), Some(1.0));
    assert_eq!(cb("amount_mismatch"), Some(1.0));
    assert_eq!(cb("already_settled"), Some(1.0));
    assert_eq!(cb("wrong_merchant"), None);
    assert_eq!(
        value(&text, "landpay_flags_open", &[("flag", "amount_mismatch")]),
        Some(1.0)
    );
    assert_eq!(
        value(
            &text,
            "landpay_flags_open",
            &[("flag", "duplicate_payment")]
        ),
        Some(0.0)
    );
    assert_eq!(
        value(
            &text,
            "landpay_flags_open",
            &[("flag", "paid_after_expiry")]
        ),
        Some(0.0)
    );

    // Janitor passes are counted.
    let before = value(&text, "landpay_janitor_runs_total", &[]).unwrap();
    landpay::workers::sweep(&app.state).await.unwrap();
    landpay::workers::sweep(&app.state).await.unwrap();
    let text = scrape(&app).await;
    assert_eq!(
        value(&text, "landpay_janitor_runs_total", &[]),
        Some(before + 2.0)
    );

    // A statement with one row landpay does not know: one open missing_in_ledger finding; the
    // gauge of each kind equals the run's own findings.
    let file = format!(
        "gateway_txn_no,txn_ref,amount,status,paid_at,bank_code,fee\n\
         111,{r1},1000000,success,2026-11-20T10:15:00+07:00,NCB,5500\n\
         333,UNKNOWNREF,3000000,success,2026-11-20T11:00:00+07:00,NCB,5500\n"
    );
    let run = expect_json(
        app.request(
            Method::POST,
            "/v1/reconciliations?gateway=vnpay&statement_date=2026-11-20",
        )
        .bearer_auth(app.finance())
        .header("content-type", "text/csv")
        .body(file)
        .send()
        .await
        .unwrap(),
        201,
    )
    .await;
    let items = expect_json(
        app.get(
            &format!(
                "/v1/reconciliations/{}/items?limit=100",
                run["id"].as_str().unwrap()
            ),
            &app.finance(),
        )
        .await,
        200,
    )
    .await;
    let text = scrape(&app).await;
    for kind in [
        "missing_in_ledger",
        "missing_in_statement",
        "amount_mismatch",
        "status_mismatch",
        "other_agency",
    ] {
        let n = items["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["kind"] == kind)
            .count();
        #[allow(clippy::as_conversions)]
        let expected = n as f64;
        assert_eq!(
            value(&text, "landpay_reconciliation_items", &[("kind", kind)]),
            Some(expected),
            "{kind}"
        );
    }
    assert_eq!(
        value(
            &text,
            "landpay_reconciliation_items",
            &[("kind", "missing_in_ledger")]
        ),
        Some(1.0)
    );
}
