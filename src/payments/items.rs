//! The items of a new order: what each one (a fee line of an assessment, a whole notice, one
//! notice line) puts on the order, with late interest for overdue notice lines, and the hold
//! keys that stop two live orders from paying the same thing.

use chrono::{DateTime, NaiveDate, Utc};

use super::holds::held_conflict;
use super::ItemInput;
use crate::app::Services;
use crate::auth::Caller;
use crate::clock::vietnam_date;
use crate::error::ApiError;
use crate::money::Vnd;
use crate::notices::NoticeLine;
use crate::obligations::late_interest;
use crate::storage::payments::PaymentLineRow;

/// Fee lines of an assessment that may be paid from it; tax lines are paid from notices.
const PAYABLE_ASSESSMENT_LINES: [&str; 2] = ["appraisal_fee", "certificate_fee"];

/// The lines and hold keys gathered so far.
#[derive(Default)]
struct Resolved {
    lines: Vec<PaymentLineRow>,
    holds: Vec<String>,
}

/// Turns the items into order lines (with late interest for overdue notice lines) and hold keys.
pub(super) async fn resolve_items(
    state: &Services,
    caller: &Caller,
    agency: Option<&str>,
    items: &[ItemInput],
    now: DateTime<Utc>,
) -> Result<(Vec<PaymentLineRow>, Vec<String>), ApiError> {
    let today = vietnam_date(now);
    let mut out = Resolved::default();
    for (i, item) in items.iter().enumerate() {
        match &item.assessment_id {
            Some(asm_id) => {
                let code = item.line.as_deref().unwrap_or_default();
                assessment_line(state, caller, i, asm_id, code, &mut out).await?;
            }
            None => notice_lines(state, caller, agency, i, item, today, &mut out).await?,
        }
    }
    Ok((out.lines, out.holds))
}

/// The fee line `code` of an assessment.
async fn assessment_line(
    state: &Services,
    caller: &Caller,
    i: usize,
    asm_id: &str,
    code: &str,
    out: &mut Resolved,
) -> Result<(), ApiError> {
    let field = format!("items[{i}].assessment_id");
    let asm = state
        .store
        .assessment(asm_id)
        .await?
        .filter(|a| caller.can_see(a.agency_code.as_deref()))
        .ok_or_else(|| ApiError::NotFound(format!("{field}: assessment {asm_id}")))?;
    if !PAYABLE_ASSESSMENT_LINES.contains(&code) {
        return Err(ApiError::invalid_field(
            format!("items[{i}].line"),
            "only procedure fee lines (appraisal_fee, certificate_fee) are paid from an assessment; taxes are paid from notices",
        ));
    }
    let line = asm.response["lines"]
        .as_array()
        .and_then(|ls| ls.iter().find(|l| l["code"] == code))
        .ok_or_else(|| {
            ApiError::invalid_field(
                format!("items[{i}].line"),
                "the assessment has no such line",
            )
        })?;
    let amount = stored_amount(line, asm_id, code)?;
    if amount <= 0 {
        return Err(ApiError::invalid_field(
            format!("items[{i}].line"),
            "this line is exempt: nothing to pay",
        ));
    }
    let key = format!("{asm_id}:{code}");
    if out.holds.contains(&key) {
        return Err(ApiError::invalid_field(
            "items",
            "the same item is listed twice",
        ));
    }
    out.holds.push(key);
    out.lines.push(PaymentLineRow {
        kind: crate::obligations::line::LineKind::Fee,
        source: asm_id.to_owned(),
        notice_line_id: None,
        assessment_line: Some(code.to_owned()),
        sub_item: line["budget_sub_item"].as_str().map(str::to_owned),
        name: line["name"].as_str().unwrap_or(code).to_owned(),
        amount,
        days: None,
        due_date: None,
    });
    Ok(())
}

/// Every line of a notice, or the one line named.
async fn notice_lines(
    state: &Services,
    caller: &Caller,
    agency: Option<&str>,
    i: usize,
    item: &ItemInput,
    today: NaiveDate,
    out: &mut Resolved,
) -> Result<(), ApiError> {
    let (notice, only_line) = match (&item.notice_id, &item.notice_line_id) {
        (Some(id), _) => (state.store.notice(id).await?, None),
        (None, Some(line_id)) => (
            state.store.notice_of_line(line_id).await?,
            Some(line_id.clone()),
        ),
        (None, None) => (None, None),
    };
    let notice = notice
        .filter(|n| caller.can_see(n.agency_code.as_deref()))
        .ok_or_else(|| ApiError::NotFound(format!("items[{i}]: notice not found")))?;
    if let (Some(mine), Some(theirs)) = (agency, notice.agency_code.as_deref()) {
        if mine != theirs {
            return Err(ApiError::invalid_field(
                format!("items[{i}]"),
                "belongs to another agency than the payment",
            ));
        }
    }
    for line in notice
        .lines
        .iter()
        .filter(|l| only_line.as_ref().is_none_or(|id| *id == l.id))
    {
        notice_line(state, caller, &notice.id, line, today, out).await?;
    }
    Ok(())
}

/// One notice line, and its late interest when it is overdue today.
async fn notice_line(
    state: &Services,
    caller: &Caller,
    notice_id: &str,
    line: &NoticeLine,
    today: NaiveDate,
    out: &mut Resolved,
) -> Result<(), ApiError> {
    if line.status == "paid" {
        let held = state
            .store
            .held_items(std::slice::from_ref(&line.id))
            .await?;
        if !held.is_empty() {
            return Err(held_conflict(caller, &held));
        }
        return Err(ApiError::Conflict(format!(
            "notice line {} is already paid",
            line.id
        )));
    }
    if out.holds.contains(&line.id) {
        return Err(ApiError::invalid_field(
            "items",
            "the same notice line is listed twice",
        ));
    }
    out.holds.push(line.id.clone());
    out.lines.push(PaymentLineRow {
        kind: crate::obligations::line::LineKind::NoticeLine,
        source: notice_id.to_owned(),
        notice_line_id: Some(line.id.clone()),
        assessment_line: None,
        sub_item: Some(line.sub_item.clone()),
        name: line.name.clone(),
        amount: line.amount,
        days: None,
        due_date: Some(line.due_date.clone()),
    });
    let due = NaiveDate::parse_from_str(&line.due_date, "%Y-%m-%d")
        .map_err(|e| ApiError::Internal(e.into()))?;
    let interest = late_interest(Vnd::new(line.amount), due, today, &state.rules);
    if interest.interest.dong() > 0 {
        out.lines.push(PaymentLineRow {
            kind: crate::obligations::line::LineKind::LatePaymentInterest,
            source: notice_id.to_owned(),
            notice_line_id: None,
            assessment_line: None,
            sub_item: line.interest_sub_item.clone(),
            name: format!("Tiền chậm nộp — {}", line.name),
            amount: interest.interest.dong(),
            days: Some(interest.days),
            due_date: Some(line.due_date.clone()),
        });
    }
    Ok(())
}

/// The amount of a stored assessment line. A line without a whole amount in đồng is an error,
/// never read as nothing to pay.
fn stored_amount(line: &serde_json::Value, asm_id: &str, code: &str) -> Result<i64, ApiError> {
    line["amount"].as_i64().ok_or_else(|| {
        ApiError::Internal(anyhow::anyhow!(
            "assessment {asm_id}: line {code} has no amount in đồng"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::stored_amount;
    use crate::error::ApiError;

    #[test]
    fn a_stored_line_without_a_whole_amount_is_an_error_not_zero() {
        let ok = serde_json::json!({"code": "certificate_fee", "amount": 28000});
        assert_eq!(
            stored_amount(&ok, "asm_1", "certificate_fee").unwrap(),
            28000
        );
        for line in [
            serde_json::json!({"code": "certificate_fee"}),
            serde_json::json!({"code": "certificate_fee", "amount": null}),
            serde_json::json!({"code": "certificate_fee", "amount": "28000"}),
            serde_json::json!({"code": "certificate_fee", "amount": 28000.5}),
        ] {
            let err = stored_amount(&line, "asm_1", "certificate_fee").unwrap_err();
            assert!(matches!(err, ApiError::Internal(_)), "{line}");
        }
    }
}
