//! The collections report as finance reads it (API, dashboard, downloads): what was paid and
//! refunded between two Vietnam dates, by line, grouped; with money received but not applied
//! when grouped by gateway.

use chrono::NaiveDate;

use crate::app::Services;
use crate::clock::vietnam_date;
use crate::error::ApiError;
use crate::reconciliation::job::vietnam_day;
use crate::reconciliation::report::{split_refund, Collections, GroupBy, Totals};
use crate::storage::parse_ts;
use crate::storage::reconciliation::MoneyLine;

/// Collections between two Vietnam dates (both inclusive), grouped, within `agency` when given.
pub async fn collections(
    state: &Services,
    from: NaiveDate,
    to: NaiveDate,
    group: GroupBy,
    agency: Option<&str>,
) -> Result<Vec<(Option<String>, Totals)>, ApiError> {
    let (start, _) = vietnam_day(from);
    let (_, end) = vietnam_day(to);
    let key_of = |line: &MoneyLine, at: &str| -> Option<String> {
        match group {
            GroupBy::Day => parse_ts(at)
                .ok()
                .map(|t| vietnam_date(t).format("%Y-%m-%d").to_string()),
            GroupBy::SubItem => line.sub_item.clone(),
            GroupBy::Gateway => line.gateway.clone(),
            GroupBy::Agency => line.agency_code.clone(),
        }
    };
    let mut acc = Collections::default();
    state
        .store
        .paid_lines(start, end, agency, &mut |line| {
            let key = key_of(&line, &line.at);
            acc.paid(key, &line.payment_id, line.amount);
        })
        .await?;
    for (payment_id, at, amount) in state.store.refunds_between(start, end, agency).await? {
        let lines = state.store.payment_money_lines(&payment_id).await?;
        let parts = split_refund(&lines.iter().map(|l| l.amount).collect::<Vec<_>>(), amount);
        for (line, part) in lines.iter().zip(parts) {
            if part > 0 {
                acc.refunded(key_of(line, &at), part);
            }
        }
    }
    if group == GroupBy::Gateway {
        for (gateway, amount) in state.store.unapplied_between(start, end, agency).await? {
            acc.unapplied(Some(gateway), amount);
        }
    }
    Ok(acc.finish())
}
