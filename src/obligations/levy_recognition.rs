//! Land use levy on recognition of land-use rights at a first certificate.
//! Domain spec §4.4: collection rates by case come from the rule book; a case the
//! loaded data has no rate for gives a warning (Decree 103 Arts 10–11 not retrieved).
#![warn(clippy::float_arithmetic)]

use rust_decimal::Decimal;

use crate::money::format_percent;
use crate::obligations::engine::Ctx;
use crate::obligations::fields::FieldError;
use crate::obligations::land_use_levy::{coefficient, CODE};
use crate::obligations::line::{need, show, to_vnd, Line, Payer};
use crate::obligations::request::{Recognition, RecognitionCase};

const FIELD: &str = "recognition";

pub fn line(ctx: &mut Ctx<'_>) -> Result<Option<Line>, FieldError> {
    let req = ctx.req;
    let r = need(req.recognition.as_ref(), FIELD)?;
    let key = r.case.key();
    let found = ctx.rules.levy_recognition.pick(req.as_of).and_then(|row| {
        let case = row.values.cases.iter().find(|c| c.case == key)?;
        Some((row, case))
    });
    let Some((row, case)) = found else {
        ctx.missing(CODE, &format!("no collection rate is loaded for recognition case {key} on as_of (Decree 103 Arts 10–12 figures not loaded)"));
        return Ok(None);
    };
    let mut line = Line::new(
        CODE,
        "Tiền sử dụng đất khi công nhận quyền sử dụng đất",
        Payer::LandUser,
        &row.legal_basis,
    );
    line.legal_basis.push(case.basis.clone());
    line.rate = Some(case.rate);
    let price = r.price_per_m2 * coefficient(ctx, &mut line);
    let area = if r.case == RecognitionCase::UnauthorizedAllocationPartialPayment {
        remaining_area(r, &mut line)?
    } else {
        r.residential_area_m2
    };
    let base = area * price;
    line.base = Some(to_vnd(base, FIELD)?);
    line.round(base * case.rate, FIELD)?;
    line.explain(format!(
        "levy = {} m² × {} × {} = {}",
        show(area),
        show(price),
        format_percent(case.rate),
        line.amount
    ));
    line.doubt("price at the date the complete valid dossier was submitted is taken as as_of");
    Ok(Some(line))
}

/// Partial or under-rate payment (Decree 103 Art 12(3) as amended by Decree
/// 291/2025): the amount paid, at the levy per m² of the policy and price at the
/// payment date, completes part of the area; the rest pays the current rate.
fn remaining_area(r: &Recognition, line: &mut Line) -> Result<Decimal, FieldError> {
    let paid = need(r.paid_amount.as_ref(), "recognition.paid_amount")?.to_decimal();
    let per_m2 = *need(r.paid_levy_per_m2.as_ref(), "recognition.paid_levy_per_m2")?;
    let done = (paid / per_m2).min(r.residential_area_m2);
    let left = r.residential_area_m2 - done;
    line.explain(format!(
        "area completed by the payment = {} / {} per m² = {} m²; remaining = {} − {} = {} m²",
        show(paid),
        show(per_m2),
        show(done),
        show(r.residential_area_m2),
        show(done),
        show(left)
    ));
    Ok(left)
}
