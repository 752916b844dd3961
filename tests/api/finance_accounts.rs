//! People's accounts on the finance dashboard: password and TOTP, server-side sessions ended on
//! sign-out, password change and timeouts, a lock after five failures, CSRF and Origin on every
//! form, and API tokens that are no longer a sign-in.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::Duration;

use crate::finance_session::{
    add_account, code_now, csrf_of, events_of, get_page, login_form, post_form, post_login,
    sign_in, sign_in_with_code, PASSWORD,
};
use crate::helpers::{spawn_app, TestApp};

async fn signed_out(app: &TestApp, cookie: &str) -> bool {
    let res = app
        .client
        .get(format!("{}/finance", app.address))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    res.status().as_u16() == 303 && res.headers()["location"] == "/finance/login"
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_signs_in_with_password_and_totp_and_signing_out_ends_the_session_server_side() {
    let app = spawn_app().await;
    let me = add_account(&app, "ke.toan@hn.example.vn", "finance", None, true).await;
    assert!(
        signed_out(&app, "").await,
        "no session: to the sign-in form"
    );

    let res = post_login(&app, &me.email, PASSWORD, "000000").await;
    assert_eq!(res.status().as_u16(), 401, "a wrong code");
    assert!(res
        .headers()
        .get("set-cookie")
        .is_none_or(|c| !c.to_str().unwrap().contains("landpay_session")));
    let res = post_login(&app, &me.email, PASSWORD, "").await;
    assert_eq!(res.status().as_u16(), 401, "no code");

    let code = code_now(&app, &me);
    let s = sign_in_with_code(&app, &me, &code).await;
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/finance"] {
        assert!(s.set_cookie.contains(attr), "{attr} in {}", s.set_cookie);
    }
    let token = s.cookie.split_once('=').unwrap().1;
    assert!(token.len() >= 43, "256 random bits");
    let (status, html) = get_page(&app, &s.cookie, "/finance").await;
    assert_eq!(status, 200);
    assert!(html.contains(&me.email) && html.contains("<svg class=\"chart\""));

    // The code just used cannot sign in again (a copied code is worthless once used), even
    // when its 30-second step has ended meanwhile (it is still within the accepted window).
    let res = post_login(&app, &me.email, PASSWORD, &code).await;
    assert_eq!(res.status().as_u16(), 401, "a TOTP code is good once");

    // The database keeps only a hash of the cookie.
    only_the_hash_is_stored(&app, token).await;

    let res = post_form(&app, &s, "/finance/logout", &[]).await;
    assert_eq!(res.status().as_u16(), 303);
    assert!(
        signed_out(&app, &s.cookie).await,
        "the old cookie is refused after sign-out"
    );
    let res = post_form(&app, &s, "/finance/logout", &[]).await;
    assert_eq!(res.status().as_u16(), 401, "nothing to sign out of");

    let kinds = events_of(&app, &me.email).await;
    assert_eq!(
        kinds.iter().filter(|k| *k == "sign_in.failed").count(),
        3,
        "{kinds:?}"
    );
    assert_eq!(
        kinds.iter().filter(|k| *k == "sign_in.succeeded").count(),
        1,
        "{kinds:?}"
    );
    assert!(kinds.contains(&"sign_out".to_owned()), "{kinds:?}");
}

async fn only_the_hash_is_stored(app: &TestApp, token: &str) {
    let hash = landpay::accounts::sessions::token_hash(token);
    assert!(
        app.state.store.session(token).await.unwrap().is_none(),
        "the raw cookie is not stored"
    );
    assert!(
        app.state.store.session(&hash).await.unwrap().is_some(),
        "its hash is"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_bad_passwords_lock_the_account_for_fifteen_minutes() {
    let app = spawn_app().await;
    let me = add_account(&app, "thu.quy@hn.example.vn", "finance", None, true).await;
    let other = add_account(&app, "other@hn.example.vn", "finance", None, false).await;
    for i in 1..=5 {
        let res = post_login(&app, &me.email, "not the password!", &code_now(&app, &me)).await;
        let expect = if i < 5 { 401 } else { 423 };
        assert_eq!(res.status().as_u16(), expect, "failure {i}");
    }
    let res = post_login(&app, &me.email, PASSWORD, &code_now(&app, &me)).await;
    assert_eq!(
        res.status().as_u16(),
        423,
        "the right password does not open a locked account"
    );
    assert!(res.text().await.unwrap().contains("15"));
    // Another account is not affected.
    sign_in(&app, &other).await;

    let kinds = events_of(&app, &me.email).await;
    assert_eq!(
        kinds.iter().filter(|k| *k == "sign_in.failed").count(),
        5,
        "{kinds:?}"
    );
    assert!(kinds.contains(&"account.locked".to_owned()), "{kinds:?}");
    assert!(
        kinds.contains(&"sign_in.refused_locked".to_owned()),
        "{kinds:?}"
    );

    app.state.clock.advance(Duration::minutes(16));
    sign_in(&app, &me).await;
    // Failures before the lock ended do not count towards the next lock.
    let res = post_login(&app, &me.email, "wrong again", "").await;
    assert_eq!(res.status().as_u16(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_failures_then_a_success_start_the_count_again() {
    let app = spawn_app().await;
    let me = add_account(&app, "a@hn.example.vn", "finance", None, false).await;
    for _ in 0..4 {
        assert_eq!(
            post_login(&app, &me.email, "wrong password", "")
                .await
                .status()
                .as_u16(),
            401
        );
    }
    sign_in(&app, &me).await;
    for _ in 0..4 {
        assert_eq!(
            post_login(&app, &me.email, "wrong password", "")
                .await
                .status()
                .as_u16(),
            401
        );
    }
    sign_in(&app, &me).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_end_after_30_idle_minutes_12_hours_a_password_change_or_disabling() {
    let app = spawn_app().await;
    let me = add_account(&app, "b@hn.example.vn", "admin", None, false).await;
    let s = sign_in(&app, &me).await;
    app.state.clock.advance(Duration::minutes(29));
    assert!(
        !signed_out(&app, &s.cookie).await,
        "29 minutes idle is fine"
    );
    app.state.clock.advance(Duration::minutes(29));
    assert!(
        !signed_out(&app, &s.cookie).await,
        "each request restarts the idle clock"
    );
    app.state.clock.advance(Duration::minutes(31));
    assert!(signed_out(&app, &s.cookie).await, "31 minutes idle ends it");

    let s = sign_in(&app, &me).await;
    for step in 1..=24 {
        app.state.clock.advance(Duration::minutes(29));
        assert!(
            !signed_out(&app, &s.cookie).await,
            "busy for {} minutes",
            step * 29
        );
    }
    app.state.clock.advance(Duration::minutes(29));
    assert!(
        signed_out(&app, &s.cookie).await,
        "at most 12 hours in all, however busy"
    );

    let s = sign_in(&app, &me).await;
    let hash = landpay::accounts::password::hash("un mật khẩu mới 2026").unwrap();
    assert!(app
        .state
        .store
        .set_password(&me.email, &hash, app.state.clock.now())
        .await
        .unwrap());
    assert!(
        signed_out(&app, &s.cookie).await,
        "a password change ends every session"
    );
    assert_eq!(
        post_login(&app, &me.email, PASSWORD, "")
            .await
            .status()
            .as_u16(),
        401,
        "the old password is gone"
    );

    let res = post_login(&app, &me.email, "un mật khẩu mới 2026", "").await;
    assert_eq!(res.status().as_u16(), 303);
    let cookie = res.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    assert!(app
        .state
        .store
        .disable_user(&me.email, app.state.clock.now())
        .await
        .unwrap());
    assert!(
        signed_out(&app, &cookie).await,
        "disabling ends every session"
    );
    assert_eq!(
        post_login(&app, &me.email, "un mật khẩu mới 2026", "")
            .await
            .status()
            .as_u16(),
        401
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forms_without_the_csrf_field_or_from_another_origin_are_refused() {
    let app = spawn_app().await;
    let me = add_account(&app, "c@hn.example.vn", "finance", None, false).await;
    let s = sign_in(&app, &me).await;
    let p = app.payment(2_000_000).await;
    let pid = p["id"].as_str().unwrap().to_owned();
    let a = app.attempt(&pid, "vnpay").await;
    app.ipn(
        &app.ipn_params(a["reference"].as_str().unwrap(), 1_999_000, "00"),
        &app.vnpay_secret(),
    )
    .await;
    let fields = [
        ("payment_id", pid.as_str()),
        ("flag", "amount_mismatch"),
        ("note", "Đã xử lý"),
    ];
    let post = |csrf: Option<&str>, origin: Option<&str>| {
        let mut form: Vec<(&str, &str)> = fields.to_vec();
        if let Some(c) = csrf {
            form.push(("csrf", c));
        }
        let mut req = app
            .client
            .post(format!("{}/finance/flags/resolve", app.address))
            .header("cookie", &s.cookie)
            .form(&form);
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        req.send()
    };
    let cases = [
        (None, Some(app.address.as_str()), "no CSRF field"),
        (
            Some("forged"),
            Some(app.address.as_str()),
            "a wrong CSRF token",
        ),
        (
            Some(s.csrf.as_str()),
            Some("https://evil.example"),
            "another Origin",
        ),
        (Some(s.csrf.as_str()), Some("null"), "an opaque Origin"),
        (Some(s.csrf.as_str()), None, "neither Origin nor Referer"),
    ];
    for (csrf, origin, what) in cases {
        let res = post(csrf, origin).await.unwrap();
        assert_eq!(res.status().as_u16(), 403, "{what}");
        assert_eq!(
            app.payment_status(&pid).await["flags"][0]["status"],
            "open",
            "{what} changed nothing"
        );
    }
    // Another session's token is not this session's.
    let other = add_account(&app, "d@hn.example.vn", "finance", None, false).await;
    let s2 = sign_in(&app, &other).await;
    assert_ne!(s.csrf, s2.csrf);
    assert_eq!(
        post(Some(s2.csrf.as_str()), Some(app.address.as_str()))
            .await
            .unwrap()
            .status()
            .as_u16(),
        403
    );
    // The sign-in form: its token is bound to the browser's pre-session cookie, and Origin is checked.
    let (cookie, csrf) = login_form(&app).await;
    let (_, other_csrf) = login_form(&app).await;
    for (token, origin, what) in [
        (
            other_csrf.as_str(),
            app.address.as_str(),
            "another browser's token",
        ),
        (csrf.as_str(), "https://evil.example", "another Origin"),
    ] {
        let res = app
            .client
            .post(format!("{}/finance/login", app.address))
            .header("cookie", &cookie)
            .header("origin", origin)
            .form(&[
                ("csrf", token),
                ("email", me.email.as_str()),
                ("password", PASSWORD),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 403, "sign-in with {what}");
    }
    // With everything right, it resolves.
    let res = post(Some(s.csrf.as_str()), Some(app.address.as_str()))
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(
        app.payment_status(&pid).await["flags"][0]["status"],
        "resolved"
    );
    let events = crate::helpers::expect_json(
        app.get(
            &format!("/v1/payments/{pid}/events?limit=500"),
            &app.admin(),
        )
        .await,
        200,
    )
    .await;
    assert!(
        events.to_string().contains("\"actor\":\"c@hn.example.vn\""),
        "audited with the person: {events}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pasted_api_token_is_not_a_sign_in() {
    let app = spawn_app().await;
    let (cookie, csrf) = login_form(&app).await;
    let token = app.finance();
    let res = app
        .client
        .post(format!("{}/finance/login", app.address))
        .header("cookie", &cookie)
        .header("origin", &app.address)
        .form(&[("csrf", csrf.as_str()), ("token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 401);
    assert!(
        signed_out(&app, &format!("landpay_session={token}")).await,
        "a token as the cookie is nobody"
    );
    assert!(
        signed_out(&app, &format!("landpay_finance={token}")).await,
        "the old cookie name is nobody"
    );
    let page = app
        .client
        .get(format!("{}/finance/login", app.address))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !page.contains("name=\"token\""),
        "the form asks for e-mail, password and code"
    );
    assert!(
        page.contains("name=\"email\"")
            && page.contains("name=\"password\"")
            && page.contains("name=\"totp\"")
    );
    assert!(!csrf_of(&page).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_characters_in_the_sign_in_form_are_a_failed_sign_in_not_an_error() {
    let app = spawn_app().await;
    add_account(&app, "e@hn.example.vn", "finance", None, false).await;
    for (email, password) in [
        ("e@hn.example.vn\u{0}", PASSWORD),
        ("e@hn.example.vn", "pass\u{0}word long enough"),
    ] {
        assert_eq!(
            post_login(&app, email, password, "")
                .await
                .status()
                .as_u16(),
            401
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_user_commands_add_list_reset_and_disable_accounts_with_passwords_from_stdin() {
    use crate::finance_session::{secret_of, user_command, Account};
    let app = spawn_app().await;
    let email = "Ke.Toan.HN@Example.vn";
    let (ok, out, err) = user_command(
        &app,
        &[
            "add",
            "--email",
            email,
            "--role",
            "finance",
            "--agency",
            "HN-VPDKDD",
        ],
        &format!("{PASSWORD}\n"),
    );
    assert!(ok, "{err}");
    let uri = out.trim();
    assert!(
        uri.starts_with("otpauth://totp/landpay:ke.toan.hn%40example.vn?"),
        "{uri}"
    );
    for p in ["algorithm=SHA1", "digits=6", "period=30", "issuer=landpay"] {
        assert!(uri.contains(p), "{uri}");
    }
    assert!(
        !out.contains(PASSWORD) && !err.contains(PASSWORD),
        "the password is never printed"
    );
    let me = Account {
        email: "ke.toan.hn@example.vn".into(),
        secret: Some(secret_of(uri)),
    };
    let stored = app.state.store.user(&me.email).await.unwrap().unwrap();
    assert!(stored
        .password_hash
        .starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
    assert_eq!(stored.agency_code.as_deref(), Some("HN-VPDKDD"));

    let (ok, _, err) = user_command(
        &app,
        &["add", "--email", email, "--role", "finance"],
        &format!("{PASSWORD}\n"),
    );
    assert!(!ok && err.contains("already exists"), "{err}");
    let (ok, _, err) = user_command(
        &app,
        &["add", "--email", "x@example.vn", "--role", "admin"],
        "short\n",
    );
    assert!(!ok && err.contains("12"), "{err}");
    let (ok, _, err) = user_command(
        &app,
        &["add", "--email", "not-an-address", "--role", "admin"],
        &format!("{PASSWORD}\n"),
    );
    assert!(!ok && err.contains("--email"), "{err}");
    let (ok, out, _) = user_command(
        &app,
        &[
            "add",
            "--email",
            "admin@example.vn",
            "--role",
            "admin",
            "--no-totp",
        ],
        &format!("{PASSWORD}\n"),
    );
    assert!(ok && out.trim() == "admin@example.vn");

    let s = sign_in(&app, &me).await;
    let (ok, list, _) = user_command(&app, &["list"], "");
    assert!(ok);
    assert!(
        list.contains("ke.toan.hn@example.vn\tfinance\tHN-VPDKDD\ttotp\tactive"),
        "{list}"
    );
    assert!(
        list.contains("admin@example.vn\tadmin\t-\tno-totp\tactive"),
        "{list}"
    );
    assert!(!list.contains("argon2"), "no hashes listed");

    let new_password = "một mật khẩu mới hẳn 2027";
    let (ok, _, err) = user_command(
        &app,
        &["reset-password", "--email", &me.email],
        &format!("{new_password}\r\n"),
    );
    assert!(ok, "{err}");
    assert!(
        signed_out(&app, &s.cookie).await,
        "a password reset ends the sessions"
    );
    app.state.clock.advance(Duration::seconds(31));
    assert_eq!(
        post_login(&app, &me.email, PASSWORD, &code_now(&app, &me))
            .await
            .status()
            .as_u16(),
        401
    );
    app.state.clock.advance(Duration::seconds(31));
    let res = post_login(&app, &me.email, new_password, &code_now(&app, &me)).await;
    assert_eq!(
        res.status().as_u16(),
        303,
        "the new password, read without its CR LF"
    );
    let cookie = res.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();

    let (ok, _, _) = user_command(&app, &["disable", "--email", &me.email], "");
    assert!(ok);
    assert!(
        signed_out(&app, &cookie).await,
        "disabling ends the sessions"
    );
    let (_, list, _) = user_command(&app, &["list"], "");
    assert!(
        list.contains("ke.toan.hn@example.vn\tfinance\tHN-VPDKDD\ttotp\tdisabled"),
        "{list}"
    );
    let (ok, _, err) = user_command(&app, &["disable", "--email", "nobody@example.vn"], "");
    assert!(!ok && err.contains("no account"), "{err}");
    let kinds = events_of(&app, &me.email).await;
    for k in ["account.created", "password.reset", "account.disabled"] {
        assert!(kinds.contains(&k.to_owned()), "{k} in {kinds:?}");
    }
}
