//! Signing in to the finance dashboard (`/finance/login`, `/finance/logout`) and the guards of
//! every dashboard request: a live server-side session, and on each POST the session's CSRF
//! token and the service's own `Origin`.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::accounts::sessions::{self, Credentials, Refused, SignedIn};
use crate::http::pages;
use crate::http::state::AppState;

/// The session cookie: 256 random bits; the database keeps their hash.
pub const SESSION_COOKIE: &str = "landpay_session";
/// The sign-in form's pre-session cookie, which its CSRF token is bound to.
const LOGIN_COOKIE: &str = "landpay_login";

fn cookie<'a>(state: &AppState, name: &'a str, value: String) -> Cookie<'a> {
    Cookie::build(name, value)
        .path("/finance")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.settings.base_url().starts_with("https://"))
        .finish()
}

/// `scheme://host[:port]` of the public base URL.
fn own_origin(state: &AppState) -> String {
    let base = state.settings.base_url();
    match base.find("://") {
        Some(i) => {
            let rest = &base[i + 3..];
            let end = rest.find('/').map_or(base.len(), |j| i + 3 + j);
            base[..end].to_owned()
        }
        None => base.to_owned(),
    }
}

/// A POST must come from the service's own pages: `Origin` (or, without one, `Referer`) names
/// the service's origin.
pub fn same_origin(state: &AppState, req: &HttpRequest) -> bool {
    let own = own_origin(state);
    let header_of = |h| req.headers().get(h).and_then(|v| v.to_str().ok());
    match (header_of(header::ORIGIN), header_of(header::REFERER)) {
        (Some(origin), _) => origin == own,
        (None, Some(referer)) => referer == own || referer.starts_with(&format!("{own}/")),
        (None, None) => false,
    }
}

/// Answers of the dashboard's pages: the page headers, with a Referrer-Policy that lets the
/// browser send our own origin on our own forms (and nothing to other sites).
pub fn page(status: StatusCode, html: String) -> HttpResponse {
    let mut res = pages::page(status, html, "");
    res.headers_mut().insert(
        header::REFERRER_POLICY,
        header::HeaderValue::from_static("same-origin"),
    );
    res
}

pub fn render(status: StatusCode, template: &impl Template) -> HttpResponse {
    match template.render() {
        Ok(html) => page(status, html),
        Err(e) => {
            tracing::error!(error = %e, "rendering a finance page");
            failed()
        }
    }
}

/// The page of an unexpected failure (details in the log only).
pub fn failed() -> HttpResponse {
    page(
        StatusCode::INTERNAL_SERVER_ERROR,
        "<!DOCTYPE html><html lang=\"vi\"><title>Lỗi</title><main><p>Đã có lỗi / Something went wrong</p></main></html>".into(),
    )
}

fn refused(status: StatusCode, why: &str) -> HttpResponse {
    let html = format!(
        "<!DOCTYPE html><html lang=\"vi\"><head><meta charset=\"utf-8\"><title>Từ chối / Refused</title></head>\
         <body><main><h1>Từ chối / Refused</h1><p>{why}</p><p><a href=\"/finance\">Về trang tài chính / Back to finance</a></p></main></body></html>"
    );
    page(status, html)
}

/// The signed-in person of a request, if any.
pub async fn current(state: &AppState, req: &HttpRequest) -> Option<SignedIn> {
    let token = req.cookie(SESSION_COOKIE)?;
    match sessions::session_of(state, token.value()).await {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = ?e, "reading a finance session");
            None
        }
    }
}

/// A page for the signed-in person, or the way to the sign-in form.
pub async fn viewer(state: &AppState, req: &HttpRequest) -> Result<SignedIn, HttpResponse> {
    current(state, req).await.ok_or_else(|| {
        HttpResponse::SeeOther()
            .insert_header((header::LOCATION, "/finance/login"))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .finish()
    })
}

/// A dashboard POST: same origin, a live session, and that session's CSRF token.
pub async fn poster(
    state: &AppState,
    req: &HttpRequest,
    csrf: &str,
) -> Result<SignedIn, HttpResponse> {
    if !same_origin(state, req) {
        return Err(refused(StatusCode::FORBIDDEN, "Yêu cầu không đến từ trang của landpay / The request did not come from landpay's own pages"));
    }
    let Some(who) = current(state, req).await else {
        return Err(refused(StatusCode::UNAUTHORIZED, "Phiên đã kết thúc, vui lòng đăng nhập lại / The session has ended; please sign in again"));
    };
    if !sessions::same_token(csrf, &who.csrf) {
        return Err(refused(StatusCode::FORBIDDEN, "Biểu mẫu đã cũ hoặc không hợp lệ, hãy tải lại trang / The form is stale or not valid; reload the page"));
    }
    Ok(who)
}

#[derive(Template)]
#[template(path = "finance_login.html")]
struct Login<'a> {
    error: Option<&'a str>,
    csrf: String,
}

fn login_page(
    state: &AppState,
    status: StatusCode,
    error: Option<&str>,
    nonce: Option<String>,
) -> HttpResponse {
    let (nonce, fresh) = match nonce {
        Some(n) => (n, false),
        None => (sessions::new_nonce(), true),
    };
    let csrf = sessions::login_csrf(state.settings.auth.link_secret.expose(), &nonce);
    let mut res = render(status, &Login { error, csrf });
    if fresh {
        let _ = res.add_cookie(&cookie(state, LOGIN_COOKIE, nonce));
    }
    res
}

/// `GET /finance/login`
#[utoipa::path(get, path = "/finance/login", tag = "pages",
    responses((status = 200, description = "The sign-in form of the finance dashboard (e-mail, password, TOTP code)", content_type = "text/html")))]
pub async fn login_form(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let nonce = req.cookie(LOGIN_COOKIE).map(|c| c.value().to_owned());
    login_page(&state, StatusCode::OK, None, nonce)
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    totp: String,
    #[serde(default)]
    csrf: String,
}

/// `POST /finance/login`: a person's e-mail, password and TOTP code; a new session on success.
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<LoginForm>,
) -> HttpResponse {
    let nonce = req.cookie(LOGIN_COOKIE).map(|c| c.value().to_owned());
    let expected = nonce
        .as_deref()
        .map(|n| sessions::login_csrf(state.settings.auth.link_secret.expose(), n));
    if !same_origin(&state, &req) || !expected.is_some_and(|e| sessions::same_token(&form.csrf, &e))
    {
        return refused(StatusCode::FORBIDDEN, "Biểu mẫu đăng nhập không hợp lệ, hãy tải lại trang / The sign-in form is not valid; reload the page");
    }
    let ip = state.limits.client_of(&req);
    let credentials = Credentials {
        email: &form.email,
        password: &form.password,
        totp: &form.totp,
        ip: &ip,
    };
    match sessions::sign_in(&state, &credentials).await {
        Ok(Ok(session)) => {
            let mut gone = cookie(&state, LOGIN_COOKIE, String::new());
            gone.make_removal();
            HttpResponse::SeeOther()
                .cookie(cookie(&state, SESSION_COOKIE, session.token))
                .cookie(gone)
                .insert_header((header::LOCATION, "/finance"))
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .finish()
        }
        Ok(Err(Refused::Wrong)) => login_page(&state, StatusCode::UNAUTHORIZED, Some("Sai e-mail, mật khẩu hoặc mã xác thực / Wrong e-mail, password or code"), nonce),
        Ok(Err(Refused::Locked)) => login_page(&state, StatusCode::LOCKED, Some("Tài khoản tạm khoá 15 phút sau 5 lần đăng nhập sai / The account is locked for 15 minutes after 5 failed sign-ins"), nonce),
        Err(e) => {
            tracing::error!(error = ?e, "signing in");
            failed()
        }
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /finance/logout`: ends the session server-side.
pub async fn logout(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<CsrfForm>,
) -> HttpResponse {
    let who = match poster(&state, &req, &form.csrf).await {
        Ok(w) => w,
        Err(res) => return res,
    };
    if let Err(e) = sessions::sign_out(&state, &who, &state.limits.client_of(&req)).await {
        tracing::error!(error = ?e, "signing out");
        return failed();
    }
    let mut gone = cookie(&state, SESSION_COOKIE, String::new());
    gone.make_removal();
    HttpResponse::SeeOther()
        .cookie(gone)
        .insert_header((header::LOCATION, "/finance/login"))
        .finish()
}
