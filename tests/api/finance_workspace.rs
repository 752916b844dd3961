//! The finance workspace through its forms: a statement uploaded and its findings in pages with
//! Vietnamese labels, filtered and resolved with a note; a duplicate attempt refunded from the
//! payment's page after a confirmation step; collections for a range; agency-bound accounts.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{json, Value};

use crate::finance_exports::{sheet, text, XLSX};
use crate::finance_session::{add_account, get_page, pay_on_sandbox, post_form, sign_in, Session};
use crate::helpers::{expect_json, notice_body, spawn_app, TestApp};

const HEADER: &str = "gateway_txn_no,txn_ref,amount,status,paid_at,bank_code,fee\n";

fn today(app: &TestApp) -> String {
    landpay::clock::vietnam_date(app.state.clock.now())
        .format("%Y-%m-%d")
        .to_string()
}

/// Posts the upload form as a browser does (multipart, fields in page order).
pub async fn upload(
    app: &TestApp,
    s: &Session,
    gateway: &str,
    date: &str,
    file: &str,
) -> reqwest::Response {
    let boundary = "----landpay-test-boundary";
    let mut body = String::new();
    for (name, value) in [
        ("csrf", s.csrf.as_str()),
        ("gateway", gateway),
        ("statement_date", date),
    ] {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    body.push_str(&format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"sao-ke.csv\"\r\nContent-Type: text/csv\r\n\r\n{file}\r\n--{boundary}--\r\n"));
    app.client
        .post(format!("{}/finance/reconciliations", app.address))
        .header("cookie", &s.cookie)
        .header("origin", &app.address)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_statement_is_uploaded_and_its_findings_paged_filtered_and_resolved_with_a_note() {
    let app = spawn_app().await;
    let me = add_account(&app, "doi.soat@hn.example.vn", "finance", None, false).await;
    let s = sign_in(&app, &me).await;
    let t = today(&app);
    // 60 rows the ledger does not know (three pages of findings at 50 a page, with the mismatch).
    let p = app.payment(2_000_000).await;
    let pid = p["id"].as_str().unwrap().to_owned();
    let a = app.attempt(&pid, "vnpay").await;
    let reference = a["reference"].as_str().unwrap().to_owned();
    app.ipn(
        &app.ipn_params(&reference, 2_000_000, "00"),
        &app.vnpay_secret(),
    )
    .await;
    let mut file = HEADER.to_owned();
    file.push_str(&format!(
        "1,{reference},2100000,success,{t}T10:00:00+07:00,NCB,0\n"
    ));
    for i in 0..60 {
        file.push_str(&format!(
            "{},UNKNOWN-{i:03},10000,success,{t}T11:00:00+07:00,NCB,0\n",
            100 + i
        ));
    }
    let res = upload(&app, &s, "vnpay", &t, &file).await;
    assert_eq!(res.status().as_u16(), 303, "{}", res.text().await.unwrap());
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let id = location.rsplit('/').next().unwrap().to_owned();
    assert!(id.starts_with("rec_"));

    let (status, html) = get_page(&app, &s.cookie, &location).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("Có trong sao kê, không có trong sổ"),
        "Vietnamese kind labels"
    );
    assert!(html.contains("Lệch số tiền"));
    assert!(
        !html.contains(">missing_in_ledger<"),
        "no bare codes as labels"
    );
    assert_eq!(
        html.matches("class=\"card finding\"").count(),
        50,
        "a page of 50"
    );
    let next = html
        .split("cursor=")
        .nth(1)
        .expect("a next page")
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let (_, page2) = get_page(&app, &s.cookie, &format!("{location}?cursor={next}")).await;
    assert_eq!(page2.matches("class=\"card finding\"").count(), 11);
    assert!(page2.contains("Trang đầu"));
    let (_, mismatches) =
        get_page(&app, &s.cookie, &format!("{location}?kind=amount_mismatch")).await;
    assert_eq!(
        mismatches.matches("class=\"card finding\"").count(),
        1,
        "filtered by kind"
    );
    assert!(mismatches.contains(&reference));

    // Resolve the mismatch with a note; the API shows it resolved by the person, with the note.
    let action = mismatches
        .split("action=\"")
        .find(|a| a.contains("/resolve"))
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let res = post_form(&app, &s, &action, &[("note", "")]).await;
    assert_eq!(res.status().as_u16(), 422, "a note is required");
    let note = "VNPay xác nhận thu thừa 100.000 đ; đã hoàn ngày 21/11";
    let res = post_form(&app, &s, &action, &[("note", note)]).await;
    assert_eq!(res.status().as_u16(), 303);
    let items = expect_json(
        app.get(
            &format!("/v1/reconciliations/{id}/items?kind=amount_mismatch"),
            &app.finance(),
        )
        .await,
        200,
    )
    .await;
    let item = &items["data"][0];
    assert_eq!(item["status"], "resolved", "{item}");
    assert_eq!(item["resolved_by"], me.email.as_str());
    assert_eq!(item["note"], note);
    let (_, after) = get_page(&app, &s.cookie, &format!("{location}?kind=amount_mismatch")).await;
    assert!(
        after.contains(note) && !after.contains("/resolve\""),
        "resolved, no form left"
    );
    let res = post_form(&app, &s, &action, &[("note", "again")]).await;
    assert_eq!(
        res.status().as_u16(),
        303,
        "resolving twice changes nothing"
    );
    let again = expect_json(
        app.get(
            &format!("/v1/reconciliations/{id}/items?kind=amount_mismatch"),
            &app.finance(),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(again["data"][0]["note"], note);
    assert!(crate::finance_session::events_of(&app, &me.email)
        .await
        .contains(&"finding.resolved".to_owned()));

    // The run's findings download from the page.
    let res = app
        .client
        .get(format!(
            "{}/finance/reconciliations/{id}/findings.xlsx",
            app.address
        ))
        .header("cookie", &s.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["content-type"], XLSX);
    assert_eq!(sheet(&res.bytes().await.unwrap(), "Chênh lệch").len(), 62);
    let (_, runs) = get_page(&app, &s.cookie, "/finance/reconciliations").await;
    assert!(runs.contains(&format!("/finance/reconciliations/{id}")));
}

#[tokio::test]
async fn a_bad_statement_is_refused_with_the_lines_named_and_nothing_stored() {
    let app = spawn_app().await;
    let me = add_account(&app, "f@hn.example.vn", "finance", None, false).await;
    let s = sign_in(&app, &me).await;
    let t = today(&app);
    let res = upload(
        &app,
        &s,
        "vnpay",
        &t,
        &format!("{HEADER}1,REF,not-money,success,{t}T10:00:00+07:00,NCB,0\n"),
    )
    .await;
    assert_eq!(res.status().as_u16(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("line 2"), "{html}");
    let res = upload(&app, &s, "paypal", &t, HEADER).await;
    assert_eq!(res.status().as_u16(), 422);
    let mut forged = Session {
        cookie: s.cookie.clone(),
        csrf: "forged".into(),
        set_cookie: String::new(),
    };
    assert_eq!(
        upload(&app, &forged, "vnpay", &t, HEADER)
            .await
            .status()
            .as_u16(),
        403
    );
    forged.csrf = s.csrf.clone();
    let (_, runs) = get_page(&app, &s.cookie, "/finance/reconciliations").await;
    assert!(runs.contains("Chưa có phiên nào"), "nothing stored");
}

/// A paid order with a second, duplicate attempt that also received the money.
async fn paid_twice(app: &TestApp) -> (String, String) {
    let body = notice_body(
        &format!("N-DUP-{}", ulid::Ulid::new()),
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
    for a in [&first, &second] {
        pay_on_sandbox(app, a).await;
    }
    let s = app.payment_status(&pid).await;
    assert_eq!(s["status"], "paid");
    assert_eq!(s["flags"][0]["flag"], "duplicate_payment", "{s}");
    (pid, second["id"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn a_duplicate_attempt_is_refunded_from_the_payment_page_after_a_confirmation_step() {
    let app = spawn_app().await;
    let me = add_account(&app, "hoan.tien@hn.example.vn", "finance", None, false).await;
    let s = sign_in(&app, &me).await;
    let (pid, dup) = paid_twice(&app).await;
    let (status, html) = get_page(&app, &s.cookie, &format!("/finance/payments/{pid}")).await;
    assert_eq!(status, 200);
    for part in [
        "Lượt thanh toán",
        "Thông báo từ cổng",
        "Diễn biến",
        "Nộp trùng",
        "Lệ phí trước bạ nhà, đất",
        "payment.paid",
    ] {
        assert!(html.contains(part), "the story shows {part}");
    }
    assert!(
        html.contains(&format!("<option value=\"{dup}\">")),
        "the duplicate can be refunded"
    );

    let path = format!("/finance/payments/{pid}/refund");
    let res = post_form(
        &app,
        &s,
        &path,
        &[
            ("attempt_id", &dup),
            ("amount", "5000000"),
            ("reason", "Nộp trùng lần hai"),
        ],
    )
    .await;
    assert_eq!(res.status().as_u16(), 200, "a confirmation page first");
    let confirm = res.text().await.unwrap();
    assert!(confirm.contains("Xác nhận hoàn") && confirm.contains("5.000.000"));
    assert!(
        expect_json(
            app.get(&format!("/v1/payments/{pid}"), &app.finance())
                .await,
            200
        )
        .await["refunded_amount"]
            == 0,
        "no money moved yet"
    );
    let refund_id = confirm
        .split("name=\"refund_id\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let fields = [
        ("refund_id", refund_id.as_str()),
        ("attempt_id", dup.as_str()),
        ("amount", "5000000"),
        ("reason", "Nộp trùng lần hai"),
    ];
    // The confirmation sent eight times at once (a double click, a resend): one refund, and
    // every copy is answered as the first was.
    let confirm_path = format!("{path}/confirm");
    let copies = (0..8).map(|_| post_form(&app, &s, &confirm_path, &fields));
    let statuses: Vec<u16> = futures_util::future::join_all(copies)
        .await
        .iter()
        .map(|r| r.status().as_u16())
        .collect();
    assert!(statuses.iter().all(|s| *s == 303), "{statuses:?}");
    let again = post_form(&app, &s, &format!("{path}/confirm"), &fields).await;
    assert_eq!(
        again.status().as_u16(),
        303,
        "a confirmation sent twice refunds once"
    );

    let after = app.payment_status(&pid).await;
    assert_eq!(after["status"], "paid", "the order stays paid: {after}");
    assert_eq!(after["flags"][0]["status"], "resolved", "{after}");
    let refunds = app.state.store.refunds_of(&pid).await.unwrap();
    assert_eq!(refunds.len(), 1);
    assert_eq!(
        (
            refunds[0].attempt_id.as_str(),
            refunds[0].amount,
            refunds[0].created_by.as_str()
        ),
        (dup.as_str(), 5_000_000, me.email.as_str())
    );
    let (_, page) = get_page(&app, &s.cookie, &format!("/finance/payments/{pid}")).await;
    assert!(page.contains(&refund_id));

    // Too much, a bad amount or no reason: nothing happens, the page says why.
    for (amount, reason) in [("1", ""), ("abc", "x"), ("-5", "x")] {
        let res = post_form(
            &app,
            &s,
            &path,
            &[("attempt_id", &dup), ("amount", amount), ("reason", reason)],
        )
        .await;
        assert_eq!(res.status().as_u16(), 422, "{amount} {reason}");
    }
    let res = post_form(
        &app,
        &s,
        &format!("{path}/confirm"),
        &[
            ("refund_id", &landpay::payments::refund::new_refund_id()),
            ("attempt_id", &dup),
            ("amount", "1"),
            ("reason", "x"),
        ],
    )
    .await;
    assert_eq!(res.status().as_u16(), 422, "nothing left on that attempt");
    assert_eq!(app.state.store.refunds_of(&pid).await.unwrap().len(), 1);
}

#[tokio::test]
async fn an_agency_bound_account_sees_its_agency_only() {
    let app = spawn_app().await;
    let hcm = add_account(&app, "hcm@example.vn", "finance", Some("HCM-VPDKDD"), false).await;
    let s = sign_in(&app, &hcm).await;
    let (pid, _) = paid_twice(&app).await;
    let (status, _) = get_page(&app, &s.cookie, &format!("/finance/payments/{pid}")).await;
    assert_eq!(status, 404, "another agency's payment");
    let t = today(&app);
    let run: Value = expect_json(
        app.request(
            reqwest::Method::POST,
            &format!("/v1/reconciliations?gateway=vnpay&statement_date={t}"),
        )
        .bearer_auth(app.finance())
        .header("content-type", "text/csv")
        .body(HEADER.to_owned())
        .send()
        .await
        .unwrap(),
        201,
    )
    .await;
    let (status, _) = get_page(
        &app,
        &s.cookie,
        &format!("/finance/reconciliations/{}", run["id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(status, 404, "an unbound run");
    let (_, flags) = get_page(&app, &s.cookie, "/finance/flags").await;
    assert!(!flags.contains(&pid));
    let (_, home) = get_page(
        &app,
        &s.cookie,
        &format!("/finance?from={t}&to={t}&group_by=agency"),
    )
    .await;
    assert!(
        !home.contains("HN-VPDKDD"),
        "HN's money is not in HCM's collections"
    );
    let res = post_form(
        &app,
        &s,
        &format!("/finance/payments/{pid}/refund/confirm"),
        &[
            ("refund_id", &landpay::payments::refund::new_refund_id()),
            ("attempt_id", "att_x"),
            ("amount", "1"),
            ("reason", "x"),
        ],
    )
    .await;
    assert_eq!(res.status().as_u16(), 404);
}

#[tokio::test]
async fn collections_for_a_range_name_the_sub_items_and_chart_every_day() {
    let app = spawn_app().await;
    let me = add_account(&app, "g@hn.example.vn", "admin", None, false).await;
    let s = sign_in(&app, &me).await;
    paid_twice(&app).await;
    let t = landpay::clock::vietnam_date(app.state.clock.now());
    let from = t - chrono::Duration::days(6);
    let (status, html) = get_page(
        &app,
        &s.cookie,
        &format!("/finance?from={from}&to={t}&group_by=sub_item"),
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        html.contains("2801 — Lệ phí trước bạ nhà, đất"),
        "sub-items named"
    );
    assert!(html.contains("lang=\"en\">Registration fee on houses and land"));
    assert_eq!(
        html.matches("<rect class=\"bar\"").count(),
        7,
        "a bar a day"
    );
    assert!(
        html.contains(&format!("data-day=\"{t}\" data-amount=\"5000000\"")),
        "today's bar carries the paid amount only"
    );
    let (status, html) = get_page(&app, &s.cookie, &format!("/finance?from={t}&to={from}")).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("role=\"alert\""),
        "a reversed range is explained"
    );
    let res = app
        .client
        .get(format!(
            "{}/finance/reports/collections.csv?from={from}&to={t}&group_by=sub_item",
            app.address
        ))
        .header("cookie", &s.cookie)
        .send()
        .await
        .unwrap();
    let body = res.bytes().await.unwrap();
    assert_eq!(
        &body[..3],
        b"\xEF\xBB\xBF",
        "the dashboard's CSV opens in Excel"
    );
    let res = app
        .client
        .get(format!(
            "{}/finance/reports/collections.xlsx?from={from}&to={t}&group_by=sub_item",
            app.address
        ))
        .header("cookie", &s.cookie)
        .send()
        .await
        .unwrap();
    let rows = sheet(&res.bytes().await.unwrap(), "Thu nộp");
    assert_eq!(text(&rows[1][0]), "2801");
    let res = app
        .client
        .get(format!("{}/finance/reports/collections.xlsx", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 303, "downloads need a session");
}
