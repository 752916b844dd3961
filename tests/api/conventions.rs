//! Errors a portal developer never trips on: field paths, the project's words, one money message,
//! allowed values, the holding payment in a 409, problem `type` links and `request_id`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use landpay::auth::Role;
use reqwest::{Method, Response};
use serde_json::{json, Value};

use crate::helpers::{expect_json, expect_problem, notice_body, spawn_app, TestApp};

const MONEY: &str = "must be a whole number of đồng (a JSON integer)";

/// The one entry of `errors` of a 422 problem, as (field, message).
async fn only_error(res: Response) -> (String, String) {
    let body = expect_problem(res, 422, "validation_failed").await;
    let errors = body["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1, "{body}");
    (
        errors[0]["field"].as_str().unwrap().to_owned(),
        errors[0]["message"].as_str().unwrap().to_owned(),
    )
}

fn payment_body(items: Value) -> Value {
    json!({"agency_code": "HN-VPDKDD", "dossier_code": "000.00.12.H26-261120-0001", "items": items,
           "payer": {"name": "Nguyễn Văn A"}, "locale": "vi"})
}

async fn post_payment(app: &TestApp, token: &str, body: &Value) -> Response {
    let key = ulid::Ulid::new().to_string();
    app.post_idem("/v1/payments", token, &key, body).await
}

#[tokio::test]
async fn a_missing_field_is_named_by_its_own_path() {
    let app = spawn_app().await;
    let mut body = payment_body(json!([{"notice_id": "ntc_x"}]));
    body.as_object_mut().unwrap().remove("payer");
    let res = post_payment(&app, &app.portal(), &body).await;
    assert_eq!(
        only_error(res).await,
        ("payer".to_owned(), "is required".to_owned())
    );

    let mut notice = notice_body("N-MISSING", "HN-VPDKDD", 45_000_000, "2099-12-31");
    notice["lines"][0].as_object_mut().unwrap().remove("amount");
    let res = app.post_json("/v1/notices", &app.portal(), &notice).await;
    assert_eq!(
        only_error(res).await,
        ("lines[0].amount".to_owned(), "is required".to_owned())
    );

    let res = app
        .post_json("/v1/quotes", &app.portal(), &json!({"as_of": "2026-11-20"}))
        .await;
    let body = expect_problem(res, 422, "validation_failed").await;
    assert!(body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["field"] == "procedure" && e["message"] == "is required"));
}

#[tokio::test]
async fn a_value_of_the_wrong_type_names_the_expected_type_in_plain_words() {
    let app = spawn_app().await;
    let mut body = payment_body(json!([{"notice_id": "ntc_x"}]));
    body["payer"]["name"] = json!(5);
    let res = post_payment(&app, &app.portal(), &body).await;
    assert_eq!(
        only_error(res).await,
        ("payer.name".to_owned(), "must be a string".to_owned())
    );
    body["payer"]["name"] = json!("Nguyễn Văn A");
    body["items"] = json!({"notice_id": "ntc_x"});
    let (field, message) = only_error(post_payment(&app, &app.portal(), &body).await).await;
    assert_eq!(
        (field.as_str(), message.as_str()),
        ("items", "must be a list")
    );
    let mut notice = notice_body("N-TYPE", "HN-VPDKDD", 45_000_000, "2099-12-31");
    notice["taxpayer"] = json!("Nguyễn Văn A");
    let (field, message) =
        only_error(app.post_json("/v1/notices", &app.portal(), &notice).await).await;
    assert_eq!(
        (field.as_str(), message.as_str()),
        ("taxpayer", "must be an object")
    );
    assert!(!message.contains("struct") && !message.contains("expected"));
}

#[tokio::test]
async fn unknown_fields_and_bad_query_values_are_named_too() {
    let app = spawn_app().await;
    let mut notice = notice_body("N-EXTRA", "HN-VPDKDD", 45_000_000, "2099-12-31");
    notice["lines"][0]["amonut"] = json!(45_000_000);
    let (field, message) =
        only_error(app.post_json("/v1/notices", &app.portal(), &notice).await).await;
    assert_eq!(
        (field.as_str(), message.as_str()),
        ("lines[0].amonut", "is not a known field")
    );
    let res = app.get("/v1/payments?limit=ten", &app.portal()).await;
    let body = expect_problem(res, 400, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "limit", "{body}");
    assert_eq!(body["errors"][0]["message"], "must be an integer", "{body}");
}

#[tokio::test]
async fn money_that_is_not_a_json_integer_gets_one_message_everywhere() {
    let app = spawn_app().await;
    for bad in [json!(35_000_000.0), json!("35000000"), json!(1.5)] {
        let mut notice = notice_body("N-FLOAT", "HN-VPDKDD", 45_000_000, "2099-12-31");
        notice["lines"][0]["amount"] = bad.clone();
        let res = app.post_json("/v1/notices", &app.portal(), &notice).await;
        assert_eq!(
            only_error(res).await,
            ("lines[0].amount".to_owned(), MONEY.to_owned()),
            "notice amount {bad}"
        );

        let res = app
            .post_json(
                "/v1/late-interest",
                &app.portal(),
                &json!({"amount": bad, "due_date": "2026-04-01", "paid_on": "2026-04-21"}),
            )
            .await;
        assert_eq!(
            only_error(res).await,
            ("amount".to_owned(), MONEY.to_owned()),
            "late interest {bad}"
        );

        let quote = json!({"procedure": "transfer", "as_of": "2026-11-20", "province_code": "01",
            "parcel": {"area_m2": "100", "land_use": "residential_urban", "table_price_per_m2": "50000000"},
            "contract": {"total_price": bad}});
        let res = app.post_json("/v1/quotes", &app.portal(), &quote).await;
        assert_eq!(
            only_error(res).await,
            ("contract.total_price".to_owned(), MONEY.to_owned()),
            "quote {bad}"
        );

        let res = app
            .post_idem(
                "/v1/payments/pay_unknown/refunds",
                &app.finance(),
                &ulid::Ulid::new().to_string(),
                &json!({"amount": bad, "reason": "Hồ sơ bị từ chối"}),
            )
            .await;
        assert_eq!(
            only_error(res).await,
            ("amount".to_owned(), MONEY.to_owned()),
            "refund {bad}"
        );
    }
}

#[tokio::test]
async fn an_enum_value_not_allowed_lists_the_allowed_values() {
    let app = spawn_app().await;
    let res = app
        .post_json(
            "/v1/quotes",
            &app.portal(),
            &json!({"procedure": "sale", "as_of": "2026-11-20"}),
        )
        .await;
    let body = expect_problem(res, 422, "validation_failed").await;
    let procedure = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["field"] == "procedure")
        .cloned()
        .unwrap_or_else(|| panic!("{body}"));
    let message = procedure["message"].as_str().unwrap();
    assert!(
        message.starts_with("must be one of: transfer, gift, inheritance"),
        "{message}"
    );
    assert!(message.contains("annual_land_tax"), "{message}");

    let payment = app.payment(1_000_000).await;
    let res = app
        .post_json(
            &format!("/v1/payments/{}/attempts", payment["id"].as_str().unwrap()),
            &app.portal(),
            &json!({"gateway": "paypal"}),
        )
        .await;
    let (field, message) = only_error(res).await;
    assert_eq!(field, "gateway");
    assert!(
        message.starts_with("must be one of: vnpay, momo, zalopay, vietqr"),
        "{message}"
    );

    let res = app
        .post_json(
            "/v1/webhook-endpoints",
            &app.admin(),
            &json!({"url": "http://127.0.0.1:9/hook", "events": ["payment.settled"]}),
        )
        .await;
    let (field, message) = only_error(res).await;
    assert_eq!(field, "events[0]");
    assert!(
        message.starts_with("must be one of: payment.created, "),
        "{message}"
    );
}

#[tokio::test]
async fn a_conflict_names_the_holding_payment_when_the_caller_may_see_it() {
    let app = spawn_app().await;
    let notice = app.notice("N-HELD", 45_000_000, "2099-12-31").await;
    let items = json!([{"notice_id": notice["id"]}]);
    let first = expect_json(
        post_payment(&app, &app.portal(), &payment_body(items.clone())).await,
        201,
    )
    .await;
    let holder = first["id"].as_str().unwrap();

    // An unbound token and a token of the same agency see the holder: it is named.
    let agency = app.token(&[Role::Portal], Some("HN-VPDKDD"));
    for token in [app.portal(), agency] {
        let res = post_payment(&app, &token, &payment_body(items.clone())).await;
        let body = expect_problem(res, 409, "conflict").await;
        let detail = body["detail"].as_str().unwrap();
        assert!(detail.contains(holder), "{detail}");
        assert!(detail.contains("held by another live payment"), "{detail}");
    }

    // A holder of no agency is not visible to an agency-bound caller: not named.
    let other = app.notice("N-HELD-2", 2_000_000, "2099-12-31").await;
    let items = json!([{"notice_id": other["id"]}]);
    let mut unbound = payment_body(items.clone());
    unbound.as_object_mut().unwrap().remove("agency_code");
    let hidden = expect_json(post_payment(&app, &app.portal(), &unbound).await, 201).await;
    let agency = app.token(&[Role::Portal], Some("HN-VPDKDD"));
    let res = post_payment(&app, &agency, &payment_body(items)).await;
    let body = expect_problem(res, 409, "conflict").await;
    let detail = body["detail"].as_str().unwrap();
    assert!(!detail.contains(hidden["id"].as_str().unwrap()), "{detail}");
    assert!(!detail.contains("pay_"), "{detail}");
}

#[tokio::test]
async fn a_paid_item_names_the_payment_that_paid_it() {
    let app = spawn_app().await;
    let paid = app.paid_payment(3_000_000).await;
    let record = app.payment_status(&paid).await;
    let notice_id = record["lines"][0]["source"].as_str().unwrap();
    let res = post_payment(
        &app,
        &app.portal(),
        &payment_body(json!([{"notice_id": notice_id}])),
    )
    .await;
    let body = expect_problem(res, 409, "conflict").await;
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.contains(&paid), "{detail}");
    assert!(detail.contains("already paid"), "{detail}");
}

/// Each problem: `type` = `<public_base_url>/docs/errors#<code>`, `request_id` = `X-Request-Id`.
async fn check_problem(app: &TestApp, res: Response, status: u16, code: &str) {
    let header = res
        .headers()
        .get("x-request-id")
        .map(|v| v.to_str().unwrap().to_owned())
        .expect("X-Request-Id");
    let body = expect_problem(res, status, code).await;
    assert_eq!(body["request_id"], header.as_str(), "{body}");
    let expected = format!("{}/docs/errors#{code}", app.address);
    assert_eq!(body["type"], expected.as_str(), "{body}");
}

#[tokio::test]
async fn every_problem_links_its_code_and_carries_the_request_id() {
    let app = spawn_app().await;
    let no_token = app
        .request(Method::GET, "/v1/payments")
        .send()
        .await
        .unwrap();
    check_problem(&app, no_token, 401, "unauthorized").await;
    let finance_only = app.get("/v1/flags", &app.portal()).await;
    check_problem(&app, finance_only, 403, "forbidden").await;
    let missing = app.get("/v1/payments/pay_nothing", &app.admin()).await;
    check_problem(&app, missing, 404, "not_found").await;
    let no_route = app.get("/v1/nowhere", &app.admin()).await;
    check_problem(&app, no_route, 404, "not_found").await;
    let wrong_method = app.request(Method::PUT, "/v1/quotes").send().await.unwrap();
    check_problem(&app, wrong_method, 405, "method_not_allowed").await;
    let invalid = app.post_json("/v1/quotes", &app.portal(), &json!({})).await;
    check_problem(&app, invalid, 422, "validation_failed").await;
    let no_key = app
        .post_json("/v1/payments", &app.portal(), &payment_body(json!([])))
        .await;
    check_problem(&app, no_key, 400, "validation_failed").await;

    // A request id the client chose is echoed in the header and the body alike.
    let res = app
        .request(Method::GET, "/v1/payments")
        .header("X-Request-Id", "portal-req-42")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "portal-req-42");
    let body = expect_problem(res, 401, "unauthorized").await;
    assert_eq!(body["request_id"], "portal-req-42");
}

#[tokio::test]
async fn the_problem_type_resolves_to_a_page_explaining_every_code() {
    let app = spawn_app().await;
    let res = app.get("/v1/payments/pay_nothing", &app.admin()).await;
    let body = expect_problem(res, 404, "not_found").await;
    let link = body["type"].as_str().unwrap();
    let (page_url, anchor) = link.split_once('#').unwrap();
    let page = app.client.get(page_url).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    assert!(page.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let html = page.text().await.unwrap();
    assert!(
        html.contains(&format!("id=\"{anchor}\"")),
        "no anchor {anchor}"
    );
    for code in landpay::error::ErrorCode::ALL {
        let section = html
            .split(&format!("<section id=\"{}\">", code.as_str()))
            .nth(1)
            .unwrap_or_else(|| panic!("{} is not explained", code.as_str()));
        let section = section.split("</section>").next().unwrap();
        assert!(section.contains("What it means."), "{section}");
        assert!(section.contains("What to do."), "{section}");
    }
    // Self-contained: nothing is loaded from another host.
    assert!(!html.contains("src=\"http") && !html.contains("href=\"http"));
}
