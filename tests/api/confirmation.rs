#![allow(clippy::unwrap_used, clippy::expect_used)]

//! The payer's confirmation: its number, HTML, PDF (text checked with pdftotext), the portal's
//! copy, the public verify page, the e-mail through the outbox, and the pay page's trust and
//! VietQR details.

use reqwest::header::ACCEPT;
use serde_json::{json, Value};

use crate::helpers::{expect_json, expect_problem, spawn_app, spawn_app_driven, TestApp};
use crate::smtp_sink::{header, SmtpSink};

/// Two notices (two lines, then one) in one order, for a payer who gave an e-mail address.
async fn two_notice_order(app: &TestApp, email: Option<&str>) -> (Value, Vec<String>) {
    let suffix = ulid::Ulid::new().to_string();
    let first = format!("LTB-{}/TB-CCT", &suffix[16..]);
    let second = format!("TTN-{}/TB-CCT", &suffix[16..]);
    let mut a = crate::helpers::notice_body(&first, "HN-VPDKDD", 45_000_000, "2099-12-31");
    a["lines"].as_array_mut().unwrap().push(json!({
        "chapter": "757", "sub_item": "1006", "name": "Thuế thu nhập cá nhân từ chuyển nhượng bất động sản",
        "amount": 12_500_000, "due_date": "2099-12-31", "interest_sub_item": null}));
    let mut b = crate::helpers::notice_body(&second, "HN-VPDKDD", 391_500, "2099-12-31");
    b["lines"][0]["name"] = json!("Phí thẩm định hồ sơ cấp giấy chứng nhận");
    b["lines"][0]["sub_item"] = json!("2662");
    let mut ids = Vec::new();
    for body in [a, b] {
        let n = expect_json(
            app.post_json("/v1/notices", &app.portal(), &body).await,
            201,
        )
        .await;
        ids.push(json!({"notice_id": n["id"]}));
    }
    let mut payer = json!({"name": "Nguyễn Thị Ánh"});
    if let Some(e) = email {
        payer["email"] = json!(e);
    }
    let body = json!({"agency_code": "HN-VPDKDD", "dossier_code": "000.00.12.H26-261202-0007",
                      "items": ids, "payer": payer, "locale": "vi"});
    let key = ulid::Ulid::new().to_string();
    let payment = expect_json(
        app.post_idem("/v1/payments", &app.portal(), &key, &body)
            .await,
        201,
    )
    .await;
    (payment, vec![first, second])
}

/// A payment resource without its freshly signed `pay_url`.
fn without_link(mut payment: Value) -> Value {
    payment.as_object_mut().unwrap().remove("pay_url");
    payment
}

/// Pays an order through a signed VNPay IPN.
async fn pay(app: &TestApp, payment: &Value) {
    let id = payment["id"].as_str().unwrap();
    let a = app.attempt(id, "vnpay").await;
    let amount = payment["amount"].as_i64().unwrap();
    let answer = app
        .ipn(
            &app.ipn_params(a["reference"].as_str().unwrap(), amount, "00"),
            &app.vnpay_secret(),
        )
        .await;
    assert_eq!(answer["RspCode"], "00", "{answer}");
}

/// `/pay/{id}/receipt?t=…` from a pay URL.
fn payer_url(payment: &Value, page: &str) -> String {
    let pay_url = payment["pay_url"].as_str().unwrap();
    let (path, query) = pay_url.split_once('?').unwrap();
    format!("{path}/{page}?{query}")
}

async fn get_text(app: &TestApp, url: &str) -> (u16, String, String) {
    let res = app.client.get(url).send().await.unwrap();
    let status = res.status().as_u16();
    let ctype = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, ctype, res.text().await.unwrap())
}

/// The text pdftotext extracts, whitespace collapsed; `None` (said) when pdftotext is missing,
/// which fails under LANDPAY_REQUIRE_ALL.
fn pdf_text(pdf: &[u8]) -> Option<String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.pdf");
    std::fs::write(&path, pdf).unwrap();
    match std::process::Command::new("pdftotext")
        .arg("-enc")
        .arg("UTF-8")
        .arg(&path)
        .arg("-")
        .output()
    {
        Ok(out) => {
            assert!(
                out.status.success(),
                "pdftotext: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let text = String::from_utf8(out.stdout).unwrap();
            Some(text.split_whitespace().collect::<Vec<_>>().join(" "))
        }
        Err(e) => {
            assert!(
                std::env::var_os("LANDPAY_REQUIRE_ALL").is_none(),
                "pdftotext cannot run ({e}) and LANDPAY_REQUIRE_ALL is set (apt-get install poppler-utils)"
            );
            eprintln!("skipping the PDF text check: pdftotext cannot run ({e}); apt-get install poppler-utils");
            None
        }
    }
}

#[tokio::test]
async fn a_paid_order_has_a_confirmation_in_html_pdf_and_for_the_portal() {
    let app = spawn_app().await;
    let (payment, notices) = two_notice_order(&app, None).await;
    let id = payment["id"].as_str().unwrap();
    let total = 45_000_000 + 12_500_000 + 391_500;
    assert_eq!(payment["amount"], total);

    // Not paid yet: no number, and no confirmation anywhere.
    assert!(payment["confirmation_no"].is_null(), "{payment}");
    let res = app
        .get(&format!("/v1/payments/{id}/receipt"), &app.portal())
        .await;
    expect_problem(res, 409, "invalid_state").await;
    let (status, _, _) = get_text(&app, &payer_url(&payment, "receipt")).await;
    assert_eq!(status, 409);
    let (status, _, _) = get_text(&app, &payer_url(&payment, "receipt.pdf")).await;
    assert_eq!(status, 409);

    pay(&app, &payment).await;
    let paid = app.payment_status(id).await;
    let no = paid["confirmation_no"].as_str().unwrap().to_owned();
    assert!(no.starts_with("XN-") && no.len() == 17, "{no}");

    // The payer's HTML page.
    let (status, ctype, html) = get_text(&app, &payer_url(&payment, "receipt")).await;
    assert_eq!(status, 200, "{html}");
    assert!(ctype.starts_with("text/html"), "{ctype}");
    let words = "Năm mươi bảy triệu tám trăm chín mươi mốt nghìn năm trăm đồng";
    for needle in [
        "Xác nhận nộp tiền",
        no.as_str(),
        "Văn phòng Đăng ký đất đai Hà Nội",
        "000.00.12.H26-261202-0007",
        "Nguyễn Thị Ánh",
        &notices[0],
        &notices[1],
        "Lệ phí trước bạ nhà đất",
        "Thuế thu nhập cá nhân từ chuyển nhượng bất động sản",
        "Phí thẩm định hồ sơ cấp giấy chứng nhận",
        "45.000.000 đ",
        "57.891.500 đ",
        words,
        "VNPay",
        "14226112",
        "NCB",
        &format!("/verify/{no}"),
    ] {
        assert!(
            html.contains(needle),
            "the confirmation lacks {needle:?}:\n{html}"
        );
    }
    let (_, _, english) = get_text(&app, &(payer_url(&payment, "receipt") + "&lang=en")).await;
    assert!(english.contains("Payment confirmation"), "{english}");
    assert!(
        english.contains("Fifty-seven million eight hundred ninety-one thousand five hundred dong"),
        "{english}"
    );

    // The PDF, made in-process, with the text extractable and the diacritics exact.
    let res = app
        .client
        .get(payer_url(&payment, "receipt.pdf"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    let pdf = res.bytes().await.unwrap();
    assert!(pdf.starts_with(b"%PDF-"), "not a PDF");
    if let Some(text) = pdf_text(&pdf) {
        for needle in [
            "XÁC NHẬN NỘP TIỀN",
            no.as_str(),
            "Văn phòng Đăng ký đất đai Hà Nội",
            &notices[0],
            &notices[1],
            "Lệ phí trước bạ nhà đất",
            "Thuế thu nhập cá nhân từ chuyển nhượng bất động sản",
            "Phí thẩm định hồ sơ cấp giấy chứng nhận",
            "45.000.000",
            "12.500.000",
            "391.500",
            "57.891.500",
            words,
            "Nguyễn Thị Ánh",
            "Tiểu mục",
            "2801",
            "1006",
            "2662",
            "757",
        ] {
            assert!(
                text.contains(needle),
                "the PDF text lacks {needle:?}:\n{text}"
            );
        }
    }

    // The portal's copy: PDF or HTML by Accept; another agency's token sees nothing.
    let res = app
        .request(reqwest::Method::GET, &format!("/v1/payments/{id}/receipt"))
        .bearer_auth(app.portal())
        .header(ACCEPT, "application/pdf")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    assert!(res.bytes().await.unwrap().starts_with(b"%PDF-"));
    let res = app
        .request(reqwest::Method::GET, &format!("/v1/payments/{id}/receipt"))
        .bearer_auth(app.portal())
        .header(ACCEPT, "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert!(res.text().await.unwrap().contains(words));
    let other = app.token(&[landpay::auth::Role::Portal], Some("HCM-VPDKDD"));
    let res = app.get(&format!("/v1/payments/{id}/receipt"), &other).await;
    expect_problem(res, 404, "not_found").await;

    // A forged link opens nothing.
    let forged = payer_url(&payment, "receipt").replace("t=", "t=x");
    assert_eq!(get_text(&app, &forged).await.0, 403);
}

#[tokio::test]
async fn verify_confirms_a_real_number_and_404s_anything_else() {
    let app = spawn_app().await;
    let (first, _) = two_notice_order(&app, None).await;
    let (second, _) = two_notice_order(&app, None).await;
    pay(&app, &first).await;
    pay(&app, &second).await;
    let a = app.payment_status(first["id"].as_str().unwrap()).await;
    let b = app.payment_status(second["id"].as_str().unwrap()).await;
    let (no_a, no_b) = (
        a["confirmation_no"].as_str().unwrap(),
        b["confirmation_no"].as_str().unwrap(),
    );
    assert_ne!(no_a, no_b, "confirmation numbers are unique");

    let (status, _, html) = get_text(&app, &format!("{}/verify/{no_a}", app.address)).await;
    assert_eq!(status, 200, "{html}");
    for needle in [
        "Văn phòng Đăng ký đất đai Hà Nội",
        "000.00.12.H26-261202-0007",
        "57.891.500 đ",
        "N***** T** Á**",
    ] {
        assert!(html.contains(needle), "verify lacks {needle:?}:\n{html}");
    }
    assert!(
        !html.contains("Nguyễn Thị Ánh"),
        "the payer's name is masked:\n{html}"
    );
    // As typed by a person: lower case, no dashes.
    let typed = no_a.to_lowercase().replace('-', "");
    let (status, _, _) = get_text(&app, &format!("{}/verify/{typed}", app.address)).await;
    assert_eq!(status, 200);
    let (status, _, _) = get_text(&app, &format!("{}/verify/{no_a}?lang=en", app.address)).await;
    assert_eq!(status, 200);

    let mut invented = no_a.to_owned();
    let last = if invented.ends_with('0') { "1" } else { "0" };
    invented.replace_range(16..17, last);
    for bad in [
        invented.as_str(),
        "XN-0000-0000-0000",
        "nothing",
        "XN-%C4%90000-0000-0000",
        "%F0%9F%92%A9",
        &"9".repeat(5000),
    ] {
        let (status, ctype, html) = get_text(&app, &format!("{}/verify/{bad}", app.address)).await;
        assert_eq!(status, 404, "{bad}: {html}");
        assert!(ctype.starts_with("text/html"), "{bad}: {ctype}");
    }
    // A NUL byte is refused at the edge, naming the segment.
    let (status, _, body) =
        get_text(&app, &format!("{}/verify/XN-%00-0000-0000", app.address)).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("confirmation_no"), "{body}");
}

#[tokio::test]
async fn the_confirmation_is_emailed_with_its_pdf_and_a_mail_failure_only_retries() {
    let sink = SmtpSink::start(1).await;
    let smtp = format!(
        "{{host = \"127.0.0.1\", port = {}, from = \"Cổng thanh toán <no-reply@landpay.test>\", starttls = false}}",
        sink.port
    );
    let app = spawn_app_driven(&[("LANDPAY__NOTIFICATIONS__SMTP", smtp.as_str())]).await;
    let (payment, _) = two_notice_order(&app, Some("anh.nguyen@example.vn")).await;
    let (silent, _) = two_notice_order(&app, None).await;
    let (blank, _) = two_notice_order(&app, Some("")).await;
    let (unusable, _) = two_notice_order(&app, Some("not an address")).await;
    let id = payment["id"].as_str().unwrap();
    for order in [&payment, &silent, &blank, &unusable] {
        pay(&app, order).await;
    }
    let before = without_link(app.payment_status(id).await);

    // The first try is refused (451): the mail waits for a retry, the payment is untouched.
    landpay::confirmation::mail::pass(&app.state).await.unwrap();
    let state = app.store().mail_state(id).await.unwrap().unwrap();
    assert_eq!((state.0.as_str(), state.1), ("pending", 1), "{state:?}");
    assert!(state.2.unwrap_or_default().contains("451"));
    assert_eq!(without_link(app.payment_status(id).await), before);
    // No e-mail address, nothing to send: the payment queued no mail at all.
    for order in [&silent, &blank] {
        let state = app.store().mail_state(order["id"].as_str().unwrap()).await;
        assert_eq!(state.unwrap(), None, "{}", order["id"]);
    }
    // An address that is not one is queued, and given up without sending.
    let state = app
        .store()
        .mail_state(unusable["id"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(state.0, "skipped", "{state:?}");
    assert!(
        state
            .2
            .as_deref()
            .unwrap_or_default()
            .contains("no usable e-mail"),
        "{state:?}"
    );
    assert!(sink.mails().is_empty());

    // Not before its time; then sent.
    assert_eq!(
        landpay::confirmation::mail::pass(&app.state).await.unwrap(),
        0
    );
    app.state.clock.advance(chrono::Duration::seconds(31));
    assert_eq!(
        landpay::confirmation::mail::pass(&app.state).await.unwrap(),
        1
    );
    assert_eq!(app.store().mail_state(id).await.unwrap().unwrap().0, "sent");
    assert_eq!(
        landpay::confirmation::mail::pass(&app.state).await.unwrap(),
        0,
        "sent once"
    );

    let mails = sink.mails();
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert_eq!(mail.to, vec!["<anh.nguyen@example.vn>".to_owned()]);
    let subject = header(&mail.data, "Subject").unwrap();
    assert!(subject.contains("000.00.12.H26-261202-0007"), "{subject}");
    assert!(subject.contains("Xác nhận nộp tiền"), "{subject}");
    let no = app.payment_status(id).await["confirmation_no"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        mail.data.contains("application/pdf"),
        "{}",
        &mail.data[..2000.min(mail.data.len())]
    );
    assert!(mail.data.contains(&format!("{no}.pdf")));
    // The attachment is the confirmation PDF.
    let start = mail.data.find("application/pdf").unwrap();
    let body_start = start + mail.data[start..].find("\r\n\r\n").unwrap() + 4;
    let body_end = body_start + mail.data[body_start..].find("\r\n--").unwrap();
    let b64: String = mail.data[body_start..body_end].split_whitespace().collect();
    use base64::Engine;
    let pdf = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    if let Some(text) = pdf_text(&pdf) {
        assert!(text.contains(&no), "{text}");
    }
    assert_eq!(
        without_link(app.payment_status(id).await),
        before,
        "mail never touches the payment"
    );
}

#[tokio::test]
async fn a_mail_that_keeps_failing_is_given_up_and_the_payment_stays_paid() {
    // Nothing listens on this port.
    let port = crate::serve_child::free_port();
    let smtp = format!("{{host = \"127.0.0.1\", port = {port}, from = \"no-reply@landpay.test\", starttls = false}}");
    let app = spawn_app_driven(&[("LANDPAY__NOTIFICATIONS__SMTP", smtp.as_str())]).await;
    let (payment, _) = two_notice_order(&app, Some("a@example.vn")).await;
    let id = payment["id"].as_str().unwrap();
    pay(&app, &payment).await;
    for _ in 0..6 {
        landpay::confirmation::mail::pass(&app.state).await.unwrap();
        app.state.clock.advance(chrono::Duration::hours(7));
    }
    let (status, tries, _) = app.store().mail_state(id).await.unwrap().unwrap();
    assert_eq!((status.as_str(), tries), ("failed", 6));
    let paid = app.payment_status(id).await;
    assert_eq!(paid["status"], "paid");
    assert!(paid["confirmation_no"].is_string());
}

#[tokio::test]
async fn the_pay_page_names_the_agency_notices_account_and_one_expiry() {
    let app = spawn_app().await;
    let (payment, notices) = two_notice_order(&app, None).await;
    let (status, _, html) = get_text(&app, payment["pay_url"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    for needle in [
        "Văn phòng Đăng ký đất đai Hà Nội",
        &notices[0],
        &notices[1],
        "Tài khoản nhận tiền",
        "Vietcombank",
        "Liên kết thanh toán hết hạn lúc",
        "Hạn nộp theo thông báo: 31/12/2099",
    ] {
        assert!(
            html.contains(needle),
            "the pay page lacks {needle:?}:\n{html}"
        );
    }
    assert!(
        !html.contains("Hạn thanh toán"),
        "one expiry line only:\n{html}"
    );
    assert_eq!(html.matches("hết hạn").count(), 1, "{html}");
}

#[tokio::test]
async fn vietqr_gives_a_png_copyable_details_and_a_result_page_that_stops_refreshing() {
    let app = spawn_app().await;
    let (payment, _) = two_notice_order(&app, None).await;
    let id = payment["id"].as_str().unwrap();
    // No open code yet.
    assert_eq!(get_text(&app, &payer_url(&payment, "qr.png")).await.0, 404);
    let attempt = app.attempt(id, "vietqr").await;
    let content = attempt["reference"].as_str().unwrap();

    let res = app
        .client
        .get(payer_url(&payment, "qr.png"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(res.headers()["content-type"], "image/png");
    assert!(res.bytes().await.unwrap().starts_with(b"\x89PNG\r\n\x1a\n"));
    let forged = payer_url(&payment, "qr.png").replace("t=", "t=x");
    assert_eq!(get_text(&app, &forged).await.0, 403);

    let (_, _, html) = get_text(&app, payment["pay_url"].as_str().unwrap()).await;
    for needle in [
        "Vietcombank — Ngân hàng TMCP Ngoại thương Việt Nam",
        "Nội dung chuyển khoản",
        &format!("<span data-copy id=\"qr-reference\" class=\"mono\">{content}</span>"),
        "<span data-copy id=\"qr-account\">",
        "<span data-copy id=\"qr-amount\">57891500</span>",
        "data-copy-target=\"qr-reference\"",
        "/qr.png?t=",
    ] {
        assert!(
            html.contains(needle),
            "the VietQR section lacks {needle:?}:\n{html}"
        );
    }
    assert!(!html.contains("(970436)"), "{html}");

    // The result page after a transfer: says when it is confirmed, refreshes for 2 minutes.
    let result = payer_url(&payment, "result");
    let (_, _, now) = get_text(&app, &result).await;
    assert!(now.contains("Đang chờ ngân hàng xác nhận"), "{now}");
    assert!(now.contains("data-refresh-url="), "{now}");
    let started = chrono::Utc::now().timestamp() - 121;
    let (_, _, later) = get_text(&app, &format!("{result}&since={started}")).await;
    assert!(!later.contains("data-refresh-url="), "{later}");
    assert!(later.contains("id=\"check-again\""), "{later}");
    // Odd `since` values start the two minutes afresh.
    for odd in ["abc", "-1", "99999999999999999999", "%F0%9F%92%A9"] {
        let (status, _, page) = get_text(&app, &format!("{result}&since={odd}")).await;
        assert_eq!(status, 200);
        assert!(page.contains("data-refresh-url="), "{odd}: {page}");
    }
}

/// A backlog larger than one pass (here 21 confirmations, a pass takes 20) drains in one go:
/// the worker does not wait for its next tick while passes come back full. With no mail server
/// configured, the backlog is marked skipped, with the reason.
#[tokio::test]
async fn a_mail_backlog_drains_without_waiting_for_the_next_tick() {
    let sink = SmtpSink::start(0).await;
    let smtp = format!(
        "{{host = \"127.0.0.1\", port = {}, from = \"no-reply@landpay.test\", starttls = false}}",
        sink.port
    );
    for configured in [true, false] {
        let app = if configured {
            spawn_app_driven(&[("LANDPAY__NOTIFICATIONS__SMTP", smtp.as_str())]).await
        } else {
            spawn_app_driven(&[]).await
        };
        let mut ids = Vec::new();
        for _ in 0..21 {
            let (payment, _) = two_notice_order(&app, Some("a@example.vn")).await;
            pay(&app, &payment).await;
            ids.push(payment["id"].as_str().unwrap().to_owned());
        }
        let (_stop_tx, stop) = tokio::sync::watch::channel(false);
        let taken = landpay::confirmation::mail::drain(&app.state, &stop)
            .await
            .unwrap();
        assert_eq!(taken, 21, "smtp configured: {configured}");
        for id in &ids {
            let (status, tries, why) = app.store().mail_state(id).await.unwrap().unwrap();
            let want = if configured { "sent" } else { "skipped" };
            assert_eq!((status.as_str(), tries), (want, 1), "{id}: {why:?}");
            if !configured {
                assert_eq!(why.as_deref(), Some("notifications.smtp is not configured"));
            }
        }
        assert_eq!(
            landpay::confirmation::mail::drain(&app.state, &stop)
                .await
                .unwrap(),
            0
        );
    }
    assert_eq!(sink.mails().len(), 21, "each confirmation sent once");
}

/// Two instances' mail workers on one backlog: each confirmation is taken by one of them and
/// sent once (a taken mail is leased to its worker); a lease left by a worker that died runs out
/// and the mail is sent then.
#[tokio::test]
async fn two_workers_send_each_confirmation_once() {
    let sink = SmtpSink::start(0).await;
    let smtp = format!(
        "{{host = \"127.0.0.1\", port = {}, from = \"no-reply@landpay.test\", starttls = false}}",
        sink.port
    );
    let app = spawn_app_driven(&[("LANDPAY__NOTIFICATIONS__SMTP", smtp.as_str())]).await;
    let mut ids = Vec::new();
    for _ in 0..30 {
        let (payment, _) = two_notice_order(&app, Some("a@example.vn")).await;
        pay(&app, &payment).await;
        ids.push(payment["id"].as_str().unwrap().to_owned());
    }
    // A worker that took one mail and died: its lease holds the mail back.
    let now = app.state.clock.now();
    let lease = now + chrono::Duration::minutes(30);
    let abandoned = app.store().claim_due_mails(now, lease, 1).await.unwrap();
    assert_eq!(abandoned.len(), 1);

    let (_stop_tx, stop) = tokio::sync::watch::channel(false);
    let (a, b) = tokio::join!(
        landpay::confirmation::mail::drain(&app.state, &stop),
        landpay::confirmation::mail::drain(&app.state, &stop)
    );
    assert_eq!(
        a.unwrap() + b.unwrap(),
        29,
        "each due mail taken by one worker"
    );
    assert_eq!(sink.mails().len(), 29, "and sent once");
    let held = &abandoned[0].payment_id;
    assert_eq!(
        app.store().mail_state(held).await.unwrap().unwrap().0,
        "pending"
    );

    app.state.clock.advance(chrono::Duration::minutes(31));
    assert_eq!(
        landpay::confirmation::mail::drain(&app.state, &stop)
            .await
            .unwrap(),
        1
    );
    assert_eq!(sink.mails().len(), 30);
    for id in &ids {
        let (status, tries, _) = app.store().mail_state(id).await.unwrap().unwrap();
        assert_eq!((status.as_str(), tries), ("sent", 1), "{id}");
    }
}
