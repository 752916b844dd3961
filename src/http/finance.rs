//! The finance dashboard (`/finance`): collections today and this month, a daily chart drawn
//! on the server, open reconciliation findings and flagged payments to resolve. Sign-in is an
//! API token pasted once and kept in an HttpOnly, SameSite=Strict cookie.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::{Datelike, Duration, NaiveDate};
use serde::Deserialize;

use crate::auth::{Caller, Role};
use crate::clock::vietnam_date;
use crate::http::pages::{self, money, page};
use crate::http::reconciliation::collections;
use crate::reconciliation::report::{GroupBy, Totals};
use crate::startup::AppState;

const COOKIE: &str = "landpay_finance";
const FINANCE_ROLES: [Role; 2] = [Role::Finance, Role::Admin];

fn caller(state: &AppState, req: &HttpRequest) -> Option<Caller> {
    let token = req.cookie(COOKIE)?;
    state
        .jwt
        .verify(token.value())
        .ok()
        .filter(|c| c.has_any(&FINANCE_ROLES))
}

#[derive(Template)]
#[template(path = "finance_login.html")]
struct Login {
    error: Option<&'static str>,
}

fn login_page(status: StatusCode, error: Option<&'static str>) -> HttpResponse {
    pages::render(status, &Login { error }, "")
}

#[derive(Deserialize)]
pub struct LoginForm {
    token: String,
}

/// `POST /finance/login`: keeps a valid finance token in the session cookie.
pub async fn login(state: web::Data<AppState>, form: web::Form<LoginForm>) -> HttpResponse {
    let token = form.token.trim();
    match state.jwt.verify(token) {
        Ok(c) if c.has_any(&FINANCE_ROLES) => {
            let cookie = Cookie::build(COOKIE, token.to_owned())
                .path("/finance")
                .http_only(true)
                .same_site(SameSite::Strict)
                .secure(
                    state
                        .settings
                        .server
                        .public_base_url
                        .starts_with("https://"),
                )
                .finish();
            HttpResponse::SeeOther()
                .cookie(cookie)
                .insert_header((header::LOCATION, "/finance"))
                .finish()
        }
        Ok(_) => login_page(
            StatusCode::FORBIDDEN,
            Some("Mã này không có vai trò finance / This token lacks the finance role"),
        ),
        Err(_) => login_page(
            StatusCode::UNAUTHORIZED,
            Some("Mã không hợp lệ hoặc đã hết hạn / The token is not valid or has expired"),
        ),
    }
}

/// `POST /finance/logout`
pub async fn logout() -> HttpResponse {
    let mut cookie = Cookie::build(COOKIE, "")
        .path("/finance")
        .http_only(true)
        .same_site(SameSite::Strict)
        .finish();
    cookie.make_removal();
    HttpResponse::SeeOther()
        .cookie(cookie)
        .insert_header((header::LOCATION, "/finance"))
        .finish()
}

struct BlockRow {
    key: String,
    amount: String,
    count: u64,
}

struct Block {
    title: &'static str,
    key_label: &'static str,
    rows: Vec<BlockRow>,
}

struct FindingView {
    gateway: String,
    date: String,
    kind: String,
    txn_ref: String,
    ledger: String,
    statement: String,
}

struct FlagView {
    payment_id: String,
    flag: String,
    detail: Option<String>,
    created_at: String,
}

#[derive(Template)]
#[template(path = "finance.html")]
struct Dashboard {
    who: String,
    blocks: Vec<Block>,
    chart: String,
    findings: Vec<FindingView>,
    flags: Vec<FlagView>,
}

fn block(
    title: &'static str,
    key_label: &'static str,
    rows: Vec<(Option<String>, Totals)>,
) -> Block {
    Block {
        title,
        key_label,
        rows: rows
            .into_iter()
            .map(|(k, t)| BlockRow {
                key: k.unwrap_or_else(|| "—".into()),
                amount: format!("{} đ", crate::money::format_vnd_sum(t.amount)),
                count: t.count,
            })
            .collect(),
    }
}

/// A bar chart of daily amounts as SVG; heights are integer arithmetic on đồng.
pub fn daily_chart(days: &[(NaiveDate, i64)]) -> String {
    let (w, h, pad) = (600i64, 180i64, 24i64);
    let n = i64::try_from(days.len()).unwrap_or(1).max(1);
    let max = days.iter().map(|d| d.1).max().unwrap_or(0).max(1);
    let slot = (w - pad) / n;
    let mut svg = format!(
        "<svg class=\"chart\" viewBox=\"0 0 {w} {}\" role=\"img\" aria-label=\"Daily collections\" xmlns=\"http://www.w3.org/2000/svg\">",
        h + pad
    );
    svg.push_str(&format!("<text x=\"0\" y=\"10\">{}</text>", money(max)));
    for (i, (day, amount)) in days.iter().enumerate() {
        let i = i64::try_from(i).unwrap_or(0);
        let bar = i128::from((*amount).max(0)) * i128::from(h - 16) / i128::from(max);
        let bar = i64::try_from(bar).unwrap_or(0);
        let x = pad + i * slot;
        svg.push_str(&format!(
            "<rect class=\"bar\" x=\"{x}\" y=\"{}\" width=\"{}\" height=\"{bar}\"><title>{}: {}</title></rect>",
            h - bar,
            (slot - 2).max(1),
            day.format("%d/%m"),
            money(*amount)
        ));
        if i % 5 == 0 {
            svg.push_str(&format!(
                "<text x=\"{x}\" y=\"{}\">{}</text>",
                h + 14,
                day.format("%d/%m")
            ));
        }
    }
    svg.push_str("</svg>");
    svg
}

/// `GET /finance`
#[utoipa::path(get, path = "/finance", tag = "pages",
    responses((status = 200, description = "The finance dashboard, or its sign-in form (HTML; the token is kept in an HttpOnly cookie)", content_type = "text/html")))]
pub async fn dashboard(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let Some(who) = caller(&state, &req) else {
        return login_page(StatusCode::OK, None);
    };
    match render(&state, &who).await {
        Ok(html) => {
            let mut res = page(StatusCode::OK, html, "");
            // With the pages' `no-referrer`, browsers post the resolve form with `Origin: null`,
            // which the origin check below refuses; `same-origin` sends our own origin, and still
            // nothing to other sites.
            res.headers_mut().insert(
                header::REFERRER_POLICY,
                header::HeaderValue::from_static("same-origin"),
            );
            res
        }
        Err(e) => {
            tracing::error!(error = ?e, "rendering the finance dashboard");
            page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "<p>Đã có lỗi / Something went wrong</p>".into(),
                "",
            )
        }
    }
}

async fn render(state: &AppState, who: &Caller) -> anyhow::Result<String> {
    let today = vietnam_date(state.clock.now());
    let month_start = today.with_day(1).unwrap_or(today);
    let agency = who.agency_scope();
    let c = |from, group| collections(state, from, today, group, agency);
    let blocks = vec![
        block(
            "Hôm nay theo tiểu mục / Today by sub-item",
            "Tiểu mục / Sub-item",
            c(today, GroupBy::SubItem)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?,
        ),
        block(
            "Hôm nay theo cổng / Today by gateway",
            "Cổng / Gateway",
            c(today, GroupBy::Gateway)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?,
        ),
        block(
            "Tháng này theo tiểu mục / This month by sub-item",
            "Tiểu mục / Sub-item",
            c(month_start, GroupBy::SubItem)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?,
        ),
        block(
            "Tháng này theo cổng / This month by gateway",
            "Cổng / Gateway",
            c(month_start, GroupBy::Gateway)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?,
        ),
    ];
    let first = today - Duration::days(29);
    let by_day = c(first, GroupBy::Day)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let days: Vec<(NaiveDate, i64)> = (0..30)
        .map(|i| {
            let d = first + Duration::days(i);
            let key = d.format("%Y-%m-%d").to_string();
            (
                d,
                by_day
                    .iter()
                    .find(|(k, _)| k.as_deref() == Some(key.as_str()))
                    .map_or(0, |(_, t)| {
                        i64::try_from(t.amount).unwrap_or(if t.amount < 0 { 0 } else { i64::MAX })
                    }),
            )
        })
        .collect();
    let findings = state
        .store
        .current_findings(100, agency)
        .await?
        .into_iter()
        .map(|(_, gateway, date, i)| FindingView {
            gateway,
            date,
            kind: i.kind,
            txn_ref: i.txn_ref,
            ledger: i.ledger_amount.map(money).unwrap_or_else(|| "—".into()),
            statement: i.statement_amount.map(money).unwrap_or_else(|| "—".into()),
        })
        .collect();
    let flags = state
        .store
        .flags(Some("open"), agency, 200)
        .await?
        .into_iter()
        .map(|(payment_id, f)| FlagView {
            payment_id,
            flag: f.flag,
            detail: f.detail,
            created_at: crate::storage::parse_ts(&f.created_at)
                .map(crate::http::pages::local_time)
                .unwrap_or(f.created_at),
        })
        .collect();
    Ok(Dashboard {
        who: who.sub.clone(),
        blocks,
        chart: daily_chart(&days),
        findings,
        flags,
    }
    .render()?)
}

#[derive(Deserialize)]
pub struct ResolveForm {
    payment_id: String,
    flag: String,
    note: String,
}

/// `POST /finance/flags/resolve` (form), audited with the signed-in caller.
pub async fn resolve(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<ResolveForm>,
) -> HttpResponse {
    let Some(who) = caller(&state, &req) else {
        return login_page(
            StatusCode::UNAUTHORIZED,
            Some("Phiên đã hết hạn / Please sign in again"),
        );
    };
    // SameSite=Strict keeps other sites' forms from carrying the cookie; the origin check is a second lock.
    let origin_ok = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok())
        .is_none_or(|o| o == state.settings.base_url());
    let visible = match state.store.payment(&form.payment_id).await {
        Ok(Some(p)) => who.can_see(p.payment.agency_code.as_deref()),
        _ => false,
    };
    if origin_ok && visible && !form.note.trim().is_empty() {
        if let Err(e) = state
            .store
            .resolve_flag(
                &form.payment_id,
                &form.flag,
                form.note.trim(),
                &who.sub,
                state.clock.now(),
            )
            .await
        {
            tracing::error!(error = ?e, "resolving a flag from the dashboard");
        }
    }
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/finance"))
        .finish()
}

/// `GET /static/finance.css`
pub async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .body(include_str!("../../static/finance.css"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chart_scales_bars_to_the_largest_day() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap_or_default();
        let svg = daily_chart(&[
            (d, 0),
            (d + Duration::days(1), 50),
            (d + Duration::days(2), 100),
        ]);
        assert_eq!(svg.matches("<rect").count(), 3);
        assert!(svg.contains("height=\"0\""));
        assert!(svg.contains("height=\"164\""));
        assert!(svg.contains("height=\"82\""));
        assert!(
            !svg.contains("http://") || svg.matches("http://").count() == 1,
            "only the SVG namespace"
        );
    }
}
