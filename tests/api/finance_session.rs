//! Test helpers for people's accounts: create one in the store (as `landpay user add` does),
//! compute TOTP codes, sign in through the real form, post dashboard forms with the session's
//! CSRF token and the service's Origin.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use landpay::accounts::{password, totp};
use landpay::storage::accounts::UserRow;
use landpay::storage::ts;
use totp_rs::{Algorithm, Secret, TOTP};

use crate::helpers::TestApp;

pub const PASSWORD: &str = "mật khẩu đủ dài 2026";

/// An account: its e-mail address and TOTP secret (base32).
pub struct Account {
    pub email: String,
    pub secret: Option<String>,
}

/// Adds an account directly in the store.
pub async fn add_account(
    app: &TestApp,
    email: &str,
    role: &str,
    agency: Option<&str>,
    with_totp: bool,
) -> Account {
    let now = app.state.clock.now();
    let secret = with_totp.then(totp::new_secret);
    let row = UserRow {
        email: email.to_owned(),
        role: role.to_owned(),
        agency_code: agency.map(str::to_owned),
        password_hash: password::hash(PASSWORD).unwrap(),
        totp_secret: secret.clone(),
        disabled_at: None,
        locked_until: None,
        password_changed_at: ts(now),
        created_at: ts(now),
    };
    assert!(app.state.store.insert_user(&row).await.unwrap());
    Account {
        email: email.to_owned(),
        secret,
    }
}

/// The RFC 6238 code of `secret` at `unix` seconds.
pub fn code_at(secret: &str, unix: u64) -> String {
    let bytes = Secret::Encoded(secret.to_owned()).to_bytes().unwrap();
    TOTP::new_unchecked(Algorithm::SHA1, 6, 1, 30, bytes, None, "test".into()).generate(unix)
}

/// The current code of an account, by the application's clock.
pub fn code_now(app: &TestApp, account: &Account) -> String {
    account
        .secret
        .as_deref()
        .map(|s| code_at(s, u64::try_from(app.state.clock.now().timestamp()).unwrap()))
        .unwrap_or_default()
}

/// The first `name="csrf" value="…"` of a page.
pub fn csrf_of(html: &str) -> String {
    let start = html.find("name=\"csrf\" value=\"").expect("a CSRF field") + 19;
    html[start..].split('"').next().unwrap().to_owned()
}

fn cookie_of(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

/// The sign-in form's pre-session cookie and CSRF token.
pub async fn login_form(app: &TestApp) -> (String, String) {
    let res = app
        .client
        .get(format!("{}/finance/login", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let cookie = cookie_of(&res, "landpay_login").expect("a pre-session cookie");
    let cookie = cookie.split(';').next().unwrap().to_owned();
    let html = res.text().await.unwrap();
    (cookie, csrf_of(&html))
}

/// Posts the sign-in form; the answer as it came.
pub async fn post_login(
    app: &TestApp,
    email: &str,
    password: &str,
    code: &str,
) -> reqwest::Response {
    let (cookie, csrf) = login_form(app).await;
    app.client
        .post(format!("{}/finance/login", app.address))
        .header("cookie", cookie)
        .header("origin", &app.address)
        .form(&[
            ("csrf", csrf.as_str()),
            ("email", email),
            ("password", password),
            ("totp", code),
        ])
        .send()
        .await
        .unwrap()
}

/// A signed-in session: its cookie (`landpay_session=…`) and the CSRF token of its pages.
pub struct Session {
    pub cookie: String,
    pub csrf: String,
    pub set_cookie: String,
}

pub async fn sign_in(app: &TestApp, account: &Account) -> Session {
    sign_in_with_code(app, account, &code_now(app, account)).await
}

/// [`sign_in`] with the TOTP code `code`.
pub async fn sign_in_with_code(app: &TestApp, account: &Account, code: &str) -> Session {
    let res = post_login(app, &account.email, PASSWORD, code).await;
    assert_eq!(
        res.status().as_u16(),
        303,
        "{}",
        res.text().await.unwrap_or_default()
    );
    let set_cookie = cookie_of(&res, "landpay_session").expect("a session cookie");
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    let html = get_page(app, &cookie, "/finance").await.1;
    Session {
        csrf: csrf_of(&html),
        cookie,
        set_cookie,
    }
}

/// GETs a dashboard page with a cookie: (status, body).
pub async fn get_page(app: &TestApp, cookie: &str, path: &str) -> (u16, String) {
    let res = app
        .client
        .get(format!("{}{path}", app.address))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.text().await.unwrap())
}

/// POSTs a dashboard form with the session's cookie and CSRF token, from the service's origin.
pub async fn post_form(
    app: &TestApp,
    s: &Session,
    path: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let mut all = vec![("csrf", s.csrf.as_str())];
    all.extend_from_slice(fields);
    app.client
        .post(format!("{}{path}", app.address))
        .header("cookie", &s.cookie)
        .header("origin", &app.address)
        .form(&all)
        .send()
        .await
        .unwrap()
}

/// The recorded account events of an e-mail address, by type.
pub async fn events_of(app: &TestApp, email: &str) -> Vec<String> {
    app.state
        .store
        .account_events(email)
        .await
        .unwrap()
        .into_iter()
        .map(|(kind, _, _, _)| kind)
        .collect()
}

/// Completes a VNPay attempt on the sandbox page, as the payer would (the money's time is now).
pub async fn pay_on_sandbox(app: &TestApp, attempt: &serde_json::Value) {
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

/// The `landpay` binary on the test's database (the built-in configuration otherwise).
pub fn landpay_cli(app: &TestApp) -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_landpay"));
    c.env("LANDPAY_CONFIG_DIR", crate::helpers::config_dir())
        .env_remove("LANDPAY_ENV");
    for (k, _) in std::env::vars() {
        if k.starts_with("LANDPAY__") {
            c.env_remove(k);
        }
    }
    c.env("LANDPAY__DATABASE__URL", &app.db.url);
    c
}

/// Runs `landpay user …` with `stdin`; (success, stdout, stderr). It blocks its thread while the
/// command runs, so its callers use a multi-thread runtime: on a current-thread one the
/// in-process service could not finish a SQLite write it had begun, and the command would wait
/// on that lock until its busy timeout.
pub fn user_command(app: &TestApp, args: &[&str], stdin: &str) -> (bool, String, String) {
    use std::io::Write;
    let mut child = landpay_cli(app)
        .arg("user")
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary starts");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The `secret` parameter of an `otpauth://` URI.
pub fn secret_of(uri: &str) -> String {
    uri.split(['?', '&'])
        .find_map(|p| p.strip_prefix("secret="))
        .expect("a secret in the URI")
        .to_owned()
}
