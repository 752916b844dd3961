//! The finance dashboard's collections page (`/finance`): a date range, a grouping, the rows
//! with budget sub-items named, and a daily chart drawn on the server. The other pages are in
//! `finance_recon`, `finance_flags` and `finance_payment`; signing in is in `finance_auth`.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::{Datelike, Duration, NaiveDate};
use serde::Deserialize;

use crate::accounts::sessions::SignedIn;
use crate::clock::vietnam_date;
use crate::exports::labels;
use crate::http::finance_auth::{self, render};
use crate::http::pages::money;
use crate::http::state::AppState;
use crate::reconciliation::collections::collections;
use crate::reconciliation::report::{GroupBy, Totals};

/// What every dashboard page shows around its content.
pub struct Chrome {
    pub who: String,
    pub csrf: String,
    pub section: &'static str,
}

impl Chrome {
    pub fn of(who: &SignedIn, section: &'static str) -> Self {
        Self {
            who: who.caller.sub.clone(),
            csrf: who.csrf.clone(),
            section,
        }
    }
}

/// The longest range the page draws (a year and a day).
const MAX_DAYS: i64 = 366;

const GROUPS: [(&str, &str); 4] = [
    ("sub_item", "Tiểu mục / Sub-item"),
    ("day", "Ngày / Day"),
    ("gateway", "Cổng / Gateway"),
    ("agency", "Cơ quan thu / Agency"),
];

#[derive(Deserialize)]
pub struct RangeQuery {
    from: Option<String>,
    to: Option<String>,
    group_by: Option<String>,
}

/// A range and grouping read from the query; the current month by sub-item when absent.
pub struct Range {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub group: GroupBy,
}

impl Range {
    pub fn parse(q: &RangeQuery, today: NaiveDate) -> Result<Self, &'static str> {
        let date = |v: &Option<String>, default: NaiveDate| match v.as_deref() {
            None | Some("") => Ok(default),
            Some(t) => NaiveDate::parse_from_str(t, "%Y-%m-%d")
                .map_err(|_| "Ngày phải có dạng YYYY-MM-DD / dates are YYYY-MM-DD"),
        };
        let from = date(&q.from, today.with_day(1).unwrap_or(today))?;
        let to = date(&q.to, today)?;
        if to < from {
            return Err("Ngày kết thúc trước ngày bắt đầu / `to` is before `from`");
        }
        if (to - from).num_days() >= MAX_DAYS {
            return Err("Khoảng ngày tối đa 366 ngày / at most 366 days at a time");
        }
        let group = GroupBy::parse(q.group_by.as_deref().unwrap_or("sub_item"))
            .ok_or("Nhóm không hợp lệ / unknown grouping")?;
        Ok(Self { from, to, group })
    }

    pub fn query(&self) -> String {
        format!(
            "from={}&to={}&group_by={}",
            self.from,
            self.to,
            self.group.as_str()
        )
    }
}

struct RowView {
    key: String,
    label: String,
    label_en: Option<String>,
    amount_raw: i128,
    amount: String,
    refunded: String,
    count: u64,
    unapplied: String,
}

#[derive(Template)]
#[template(path = "finance.html")]
struct Collections {
    c: Chrome,
    from: NaiveDate,
    to: NaiveDate,
    from_vi: String,
    to_vi: String,
    group: &'static str,
    groups: [(&'static str, &'static str); 4],
    error: Option<&'static str>,
    heading: String,
    key_label: &'static str,
    gateway: bool,
    rows: Vec<RowView>,
    total: String,
    query: String,
    chart: String,
}

fn dong_sum(v: i128) -> String {
    format!("{} đ", crate::money::format_vnd_sum(v))
}

fn row_view(group: GroupBy, key: Option<String>, t: &Totals) -> RowView {
    let key = key.unwrap_or_else(|| "—".into());
    let (label, label_en) = match group {
        GroupBy::SubItem => (
            labels::sub_item_vi(&key),
            labels::sub_item(&key).map(|s| s.en.clone()),
        ),
        GroupBy::Day => (
            NaiveDate::parse_from_str(&key, "%Y-%m-%d")
                .map_or_else(|_| key.clone(), |d| d.format("%d/%m/%Y").to_string()),
            None,
        ),
        _ => (key.clone(), None),
    };
    RowView {
        key,
        label,
        label_en,
        amount_raw: t.amount,
        amount: dong_sum(t.amount),
        refunded: dong_sum(t.refunded),
        count: t.count,
        unapplied: dong_sum(t.unapplied),
    }
}

/// The chart's days: every day of the range with its net amount.
async fn days_of(
    state: &AppState,
    range: &Range,
    agency: Option<&str>,
) -> anyhow::Result<Vec<(NaiveDate, i64)>> {
    let by_day = collections(state, range.from, range.to, GroupBy::Day, agency)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let n = (range.to - range.from).num_days() + 1;
    Ok((0..n)
        .map(|i| {
            let d = range.from + Duration::days(i);
            let key = d.format("%Y-%m-%d").to_string();
            let amount = by_day
                .iter()
                .find(|(k, _)| k.as_deref() == Some(key.as_str()))
                .map_or(0, |(_, t)| {
                    i64::try_from(t.amount.max(0)).unwrap_or(i64::MAX)
                });
            (d, amount)
        })
        .collect())
}

async fn collections_page(
    state: &AppState,
    who: &SignedIn,
    q: &RangeQuery,
) -> anyhow::Result<Collections> {
    let today = vietnam_date(state.clock.now());
    let (range, error) = match Range::parse(q, today) {
        Ok(r) => (r, None),
        Err(e) => (
            Range::parse(
                &RangeQuery {
                    from: None,
                    to: None,
                    group_by: None,
                },
                today,
            )
            .map_err(anyhow::Error::msg)?,
            Some(e),
        ),
    };
    let agency = who.caller.agency_scope();
    let rows = collections(state, range.from, range.to, range.group, agency)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let total: i128 = rows.iter().map(|(_, t)| t.amount).sum();
    let group = GROUPS
        .iter()
        .find(|(v, _)| *v == range.group.as_str())
        .map_or(GROUPS[0], |g| *g);
    Ok(Collections {
        c: Chrome::of(who, "collections"),
        from: range.from,
        to: range.to,
        from_vi: range.from.format("%d/%m/%Y").to_string(),
        to_vi: range.to.format("%d/%m/%Y").to_string(),
        group: group.0,
        groups: GROUPS,
        error,
        heading: format!(
            "Theo {} / by {}",
            group.1.split(" / ").next().unwrap_or("").to_lowercase(),
            group.1.split(" / ").nth(1).unwrap_or("").to_lowercase()
        ),
        key_label: group.1,
        gateway: range.group == GroupBy::Gateway,
        rows: rows
            .iter()
            .map(|(k, t)| row_view(range.group, k.clone(), t))
            .collect(),
        total: dong_sum(total),
        query: range.query(),
        chart: daily_chart(&days_of(state, &range, agency).await?),
    })
}

/// `GET /finance`
#[utoipa::path(get, path = "/finance", tag = "pages",
    responses((status = 200, description = "Collections for `from`, `to` and `group_by` with a daily chart (HTML)", content_type = "text/html"), (status = 303, description = "Without a live session: to `/finance/login`")))]
pub async fn dashboard(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<RangeQuery>,
) -> HttpResponse {
    let who = match finance_auth::viewer(&state, &req).await {
        Ok(w) => w,
        Err(res) => return res,
    };
    match collections_page(&state, &who, &q).await {
        Ok(page) => render(StatusCode::OK, &page),
        Err(e) => {
            tracing::error!(error = ?e, "rendering the finance dashboard");
            finance_auth::failed()
        }
    }
}

/// A bar chart of daily amounts as SVG; heights are integer arithmetic on đồng.
pub fn daily_chart(days: &[(NaiveDate, i64)]) -> String {
    let (w, h, pad) = (600i64, 180i64, 24i64);
    let n = i64::try_from(days.len()).unwrap_or(1).max(1);
    let max = days.iter().map(|d| d.1).max().unwrap_or(0).max(1);
    let slot = ((w - pad) / n).max(1);
    let label_every = (n / 6).max(1);
    let mut svg = format!(
        "<svg class=\"chart\" viewBox=\"0 0 {} {}\" role=\"img\" aria-label=\"Biểu đồ thu nộp theo ngày / Daily collections\" xmlns=\"http://www.w3.org/2000/svg\">",
        (pad + n * slot).max(w),
        h + pad
    );
    svg.push_str(&format!("<text x=\"0\" y=\"10\">{}</text>", money(max)));
    for (i, (day, amount)) in days.iter().enumerate() {
        let i = i64::try_from(i).unwrap_or(0);
        let bar = i128::from((*amount).max(0)) * i128::from(h - 16) / i128::from(max);
        let bar = i64::try_from(bar).unwrap_or(0);
        let x = pad + i * slot;
        svg.push_str(&format!(
            "<rect class=\"bar\" data-day=\"{}\" data-amount=\"{amount}\" x=\"{x}\" y=\"{}\" width=\"{}\" height=\"{bar}\"><title>{}: {}</title></rect>",
            day.format("%Y-%m-%d"),
            h - bar,
            (slot - 2).max(1),
            day.format("%d/%m"),
            money(*amount)
        ));
        if i % label_every == 0 {
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
        assert_eq!(svg.matches("http://").count(), 1, "only the SVG namespace");
    }

    #[test]
    fn a_range_defaults_to_this_month_and_refuses_nonsense() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 20).unwrap_or_default();
        let q = |f: Option<&str>, t: Option<&str>, g: Option<&str>| RangeQuery {
            from: f.map(str::to_owned),
            to: t.map(str::to_owned),
            group_by: g.map(str::to_owned),
        };
        let r = Range::parse(&q(None, None, None), today).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((r.from.day(), r.to, r.group), (1, today, GroupBy::SubItem));
        assert!(Range::parse(&q(Some("2026-11-21"), Some("2026-11-20"), None), today).is_err());
        assert!(Range::parse(&q(Some("2025-01-01"), Some("2026-11-20"), None), today).is_err());
        assert!(Range::parse(&q(Some("20/11/2026"), None, None), today).is_err());
        assert!(Range::parse(&q(None, None, Some("week")), today).is_err());
    }
}
