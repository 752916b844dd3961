//! Late money for an expired order arriving with the money of the order that replaced it: a
//! notice line is held by one live order at a time, so however the callbacks are grouped (on
//! PostgreSQL a burst is decided several to a transaction), the replacement pays the line once
//! and the late money is flagged for a refund, never applied to the line a second time.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use serde_json::{json, Value};

use crate::helpers::{expect_json, spawn_app};

const ROUNDS: usize = 8;
const AMOUNT: i64 = 3_000_000;

#[tokio::test]
async fn late_money_for_an_expired_order_and_its_replacements_money_pay_the_notice_once() {
    let app = Arc::new(spawn_app().await);
    let mut expired = Vec::new();
    for round in 0..ROUNDS {
        let notice = app
            .notice(&format!("N-LATE-{round}"), AMOUNT, "2099-12-31")
            .await;
        let order = app.payment_for(&json!([{"notice_id": notice["id"]}])).await;
        let id = order["id"].as_str().unwrap().to_owned();
        let attempt = app.attempt(&id, "vnpay").await;
        expired.push((
            notice,
            id,
            attempt["reference"].as_str().unwrap().to_owned(),
        ));
    }
    app.state.clock.advance(chrono::Duration::hours(25));
    landpay::workers::sweep(&app.state).await.unwrap();
    let mut rounds = Vec::new();
    for (notice, late_id, late_ref) in expired {
        assert_eq!(app.payment_status(&late_id).await["status"], "expired");
        let order = app.payment_for(&json!([{"notice_id": notice["id"]}])).await;
        let id = order["id"].as_str().unwrap().to_owned();
        let attempt = app.attempt(&id, "vnpay").await;
        let reference = attempt["reference"].as_str().unwrap().to_owned();
        rounds.push((notice, (late_id, late_ref), (id, reference)));
    }

    // Every callback at once: the late ones and the replacements' interleaved.
    let secret = app.vnpay_secret();
    let sends: Vec<_> = rounds
        .iter()
        .flat_map(|(_, (_, late), (_, now))| [late.clone(), now.clone()])
        .map(|reference| {
            let (app, secret) = (Arc::clone(&app), secret.clone());
            tokio::spawn(async move {
                let params = app.ipn_params(&reference, AMOUNT, "00");
                app.ipn(&params, &secret).await
            })
        })
        .collect();
    for send in sends {
        let answer: Value = send.await.unwrap();
        assert_eq!(answer["RspCode"], "00", "{answer}");
    }

    let admin = app.admin();
    for (notice, (late_id, _), (id, _)) in &rounds {
        let late = app.payment_status(late_id).await;
        assert_eq!(late["status"], "expired", "{late}");
        assert_eq!(late["flags"][0]["flag"], "paid_after_expiry", "{late}");
        let paid = app.payment_status(id).await;
        assert_eq!(paid["status"], "paid", "{paid}");
        assert!(paid["flags"].as_array().unwrap().is_empty(), "{paid}");
        let path = format!("/v1/notices/{}", notice["id"].as_str().unwrap());
        let notice = expect_json(app.get(&path, &admin).await, 200).await;
        assert_eq!(notice["status"], "paid", "{notice}");
        assert_eq!(notice["lines"][0]["status"], "paid", "{notice}");
    }
    // One payment.paid per replacement, none for the late money; one notice.paid per notice.
    let events = expect_json(app.get("/v1/events?after=0&limit=500", &admin).await, 200).await;
    let count = |kind: &str, id: &str| {
        events["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["type"] == kind && e["data"].to_string().contains(id))
            .count()
    };
    for (notice, (late_id, _), (id, _)) in &rounds {
        assert_eq!(count("payment.paid", id), 1, "{id}");
        assert_eq!(count("payment.paid", late_id), 0, "{late_id}");
        assert_eq!(count("notice.paid", notice["id"].as_str().unwrap()), 1);
    }
}
