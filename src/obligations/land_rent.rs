//! Tiền thuê đất (land rent). Domain spec §5: annual (§5.1), one-off (§5.2) and the
//! extension surcharge on annually leased land (§5.3).
#![warn(clippy::float_arithmetic)]

use rust_decimal::Decimal;

use crate::money::{format_decimal, format_percent};
use crate::obligations::engine::Ctx;
use crate::obligations::fields::FieldError;
use crate::obligations::line::{need, show, to_vnd, Line, Payer, COEFFICIENT_DOUBT};
use crate::obligations::request::{ObligationCode, Procedure};
use crate::obligations::rule_types::LandRentRule;
use crate::obligations::rules::Row;

const ANNUAL: &str = "Tiền thuê đất trả tiền thuê hằng năm";
const ONE_OFF: &str = "Tiền thuê đất trả tiền thuê một lần cho cả thời gian thuê";

fn rule<'r>(ctx: &mut Ctx<'r>, code: ObligationCode) -> Option<&'r Row<LandRentRule>> {
    let row = ctx.rules.land_rent.pick(ctx.req.as_of);
    if row.is_none() {
        ctx.missing(
            code,
            "no land-rent rule is loaded for as_of (rent rules start 2024-08-01)",
        );
    }
    row
}

fn checked_rate(rate: Decimal, rule: &LandRentRule, field: &str) -> Result<Decimal, FieldError> {
    if rate < rule.min_rate || rate > rule.max_rate {
        return Err(FieldError::new(
            field,
            format!("must be between {} and {}", rule.min_rate, rule.max_rate),
        ));
    }
    Ok(rate)
}

fn price(ctx: &Ctx<'_>, line: &mut Line) -> Result<Decimal, FieldError> {
    let parcel = need(ctx.req.parcel.as_ref(), "parcel")?;
    let k = parcel.price_coefficient;
    if k == Decimal::ONE {
        line.doubt(COEFFICIENT_DOUBT);
    } else {
        line.explain(format!(
            "land price = {} × coefficient {} = {}",
            show(parcel.table_price_per_m2),
            format_decimal(k),
            show(parcel.table_price_per_m2 * k)
        ));
    }
    Ok(parcel.table_price_per_m2 * k)
}

/// Annual rent: `area × rent_rate × (price − infra)` (Decree 103 Art 26(1), Art 30).
pub fn annual_line(ctx: &mut Ctx<'_>) -> Result<Option<Line>, FieldError> {
    if ctx.req.procedure == Procedure::LandUseExtension {
        return extension_line(ctx);
    }
    let Some(row) = rule(ctx, ObligationCode::LandRentAnnual) else {
        return Ok(None);
    };
    let lease = need(ctx.req.lease.as_ref(), "lease")?;
    let rate = checked_rate(
        *need(lease.rent_rate.as_ref(), "lease.rent_rate")?,
        &row.values,
        "lease.rent_rate",
    )?;
    let area = need(ctx.req.parcel.as_ref(), "parcel")?.area_m2;
    let mut line = Line::new(
        ObligationCode::LandRentAnnual,
        ANNUAL,
        Payer::Lessee,
        &row.legal_basis,
    );
    line.rate = Some(rate);
    let mut price = price(ctx, &mut line)?;
    if let Some(infra) = lease.infra_cost_per_m2.filter(|i| *i > Decimal::ZERO) {
        line.explain(format!(
            "price less infrastructure cost = {} − {} = {}",
            show(price),
            show(infra),
            show(price - infra)
        ));
        line.doubt("the infrastructure cost is deducted from the land price before the rent rate (formula layout ambiguous)");
        price = (price - infra).max(Decimal::ZERO);
    }
    let unit = rate * price;
    line.explain(format!(
        "annual unit price = {} × {} = {}",
        format_percent(rate),
        show(price),
        show(unit)
    ));
    line.base = Some(to_vnd(area * price, "lease")?);
    line.round(area * unit, "lease")?;
    line.explain(format!(
        "annual rent = {} m² × {} = {}",
        show(area),
        show(unit),
        line.amount
    ));
    Ok(Some(line))
}

/// One-off rent: `area × (price × term / table_term − infra)` (Decree 103 Art 26(2), Art 30(2)).
pub fn one_off_line(ctx: &mut Ctx<'_>) -> Result<Option<Line>, FieldError> {
    let Some(row) = rule(ctx, ObligationCode::LandRentOneOff) else {
        return Ok(None);
    };
    let lease = need(ctx.req.lease.as_ref(), "lease")?;
    let term = *need(lease.term_years.as_ref(), "lease.term_years")?;
    let table_term = lease
        .table_term_years
        .unwrap_or(row.values.default_table_term_years);
    let area = need(ctx.req.parcel.as_ref(), "parcel")?.area_m2;
    let mut line = Line::new(
        ObligationCode::LandRentOneOff,
        ONE_OFF,
        Payer::Lessee,
        &row.legal_basis,
    );
    let price = price(ctx, &mut line)?;
    let infra = lease.infra_cost_per_m2.unwrap_or(Decimal::ZERO);
    let unit = price * term / table_term - infra;
    line.explain(format!(
        "unit price = {} / {} years × {} years{} = {}",
        show(price),
        show(table_term),
        show(term),
        if infra > Decimal::ZERO {
            format!(" − {}", show(infra))
        } else {
            String::new()
        },
        show(unit)
    ));
    // Multiply before dividing so the one rounding sees the exact amount.
    let exact = (area * price * term / table_term - area * infra).max(Decimal::ZERO);
    line.base = Some(to_vnd(area * price, "lease")?);
    line.round(exact, "lease")?;
    line.explain(format!(
        "one-off rent = {} m² × {} = {}",
        show(area),
        show(unit),
        line.amount
    ));
    if infra > Decimal::ZERO {
        line.doubt(
            "the infrastructure cost is deducted from the unit price (formula layout ambiguous)",
        );
    }
    Ok(Some(line))
}

/// Extension surcharge on annually leased land: `area × price × rent_rate × months / 12`
/// (Decree 103 Art 30(4)(a) as amended by Decree 50/2026 Art 13(15)).
fn extension_line(ctx: &mut Ctx<'_>) -> Result<Option<Line>, FieldError> {
    let Some(row) = rule(ctx, ObligationCode::LandRentAnnual) else {
        return Ok(None);
    };
    let e = need(ctx.req.extension.as_ref(), "extension")?;
    let rate = checked_rate(
        *need(e.rent_rate.as_ref(), "extension.rent_rate")?,
        &row.values,
        "extension.rent_rate",
    )?;
    let name = "Tiền thuê đất bổ sung khi gia hạn tiến độ sử dụng đất";
    let mut line = Line::new(
        ObligationCode::LandRentAnnual,
        name,
        Payer::Lessee,
        &row.legal_basis,
    );
    line.rate = Some(rate);
    let k = ctx
        .req
        .parcel
        .as_ref()
        .map_or(Decimal::ONE, |p| p.price_coefficient);
    if k == Decimal::ONE {
        line.doubt(COEFFICIENT_DOUBT);
    }
    let price = e.price_per_m2 * k;
    let base = e.area_m2 * price;
    line.base = Some(to_vnd(base, "extension")?);
    line.round(
        base * rate * Decimal::from(e.months) / Decimal::from(12),
        "extension",
    )?;
    line.explain(format!(
        "surcharge = {} m² × {} × {} × {} months / 12 = {}",
        show(e.area_m2),
        show(price),
        format_percent(rate),
        e.months,
        line.amount
    ));
    if e.days.is_some() {
        line.doubt("days converted to months at 30 days a month, a remainder of 15 days or more counting as one");
    }
    Ok(Some(line))
}
