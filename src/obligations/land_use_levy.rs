//! Tiền sử dụng đất (land use levy). Domain spec §4: purpose conversion (§4.2, §4.3),
//! recognition (§4.4), allocation (§4.5) and the extension surcharge (§4.6).
#![warn(clippy::float_arithmetic)]

use rust_decimal::Decimal;

use crate::money::{format_decimal, format_percent};
use crate::obligations::engine::Ctx;
use crate::obligations::fields::FieldError;
use crate::obligations::levy_recognition;
use crate::obligations::line::{need, show, to_vnd, Line, Payer, COEFFICIENT_DOUBT};
use chrono::NaiveDate;

use crate::obligations::request::{
    ApplicantKind, Conversion, ConversionOrigin, ObligationCode, Procedure,
};
use crate::obligations::rule_types::{GardenPondRule, TierRule};
use crate::obligations::rules::Row;

pub(crate) const CODE: ObligationCode = ObligationCode::LandUseLevy;

/// The levy line for the request's procedure.
pub fn line(ctx: &mut Ctx<'_>) -> Result<Option<Line>, FieldError> {
    match ctx.req.procedure {
        Procedure::PurposeConversion => conversion(ctx),
        Procedure::Allocation => allocation(ctx),
        Procedure::FirstCertificate => levy_recognition::line(ctx),
        _ => extension(ctx),
    }
}

/// The NQ 254 adjustment coefficient from `parcel.price_coefficient` (default 1).
pub(crate) fn coefficient(ctx: &Ctx<'_>, line: &mut Line) -> Decimal {
    let k = ctx
        .req
        .parcel
        .as_ref()
        .map_or(Decimal::ONE, |p| p.price_coefficient);
    if k == Decimal::ONE {
        line.doubt(COEFFICIENT_DOUBT);
    } else {
        line.explain(format!(
            "prices × adjustment coefficient {}",
            format_decimal(k)
        ));
    }
    k
}

fn conversion(ctx: &mut Ctx<'_>) -> Result<Option<Line>, FieldError> {
    let req = ctx.req;
    let Some(general) = ctx.rules.levy_general.pick(req.as_of) else {
        ctx.missing(
            CODE,
            "no land-use-levy rule is loaded for as_of (levy rules start 2024-08-01)",
        );
        return Ok(None);
    };
    let c = need(req.conversion.as_ref(), "conversion")?;
    let name = "Tiền sử dụng đất khi chuyển mục đích sử dụng đất";
    let individual = req.applicant_kind == ApplicantKind::Individual;
    let eligible = c.garden_pond_same_parcel && !c.preference_used && individual;
    let (garden, transition) = garden_pond_rule(ctx, c);
    let line = match garden {
        Some(row) if eligible => {
            let mut line = Line::new(CODE, name, Payer::LandUser, &row.legal_basis);
            if transition {
                line.legal_basis.push(TRANSITION_BASIS.to_string());
                line.explain("decision between 01/08/2024 and 31/12/2025 re-computed under NQ 254 on request (Decree 50/2026 Art 12(2))");
                line.doubt("the re-computation request is taken to be filed before 01/01/2027 (Decree 50/2026 Art 12(2))");
            }
            let k = coefficient(ctx, &mut line);
            garden_pond_levy(c, &row.values.tiers, k, &mut line)?;
            line
        }
        _ => {
            let mut line = Line::new(CODE, name, Payer::LandUser, &general.legal_basis);
            if c.garden_pond_same_parcel && !individual {
                line.explain("the NQ 254 garden/pond preference is for households and individuals only: 100% of the difference");
            } else if c.garden_pond_same_parcel && c.preference_used {
                line.explain("the NQ 254 preference was already used: 100% of the difference");
            } else if c.garden_pond_same_parcel {
                line.explain("the NQ 254 garden/pond preference is not in force on as_of: 100% of the difference");
            }
            let k = coefficient(ctx, &mut line);
            difference_levy(c, general.values.collection_rate, k, &mut line)?;
            line
        }
    };
    Ok(Some(line))
}

const TRANSITION_BASIS: &str = "Nghị định 50/2026/NĐ-CP Điều 12 khoản 2";

/// The NQ 254 tier rule for the conversion: the one in force on as_of, or, for a
/// decision made 01/08/2024–31/12/2025 whose re-computation is requested
/// (`nq254_recompute`), the first one (Decree 50/2026 Art 12(2)). The flag tells
/// whether the transition applied.
fn garden_pond_rule<'r>(ctx: &Ctx<'r>, c: &Conversion) -> (Option<&'r Row<GardenPondRule>>, bool) {
    let table = &ctx.rules.levy_garden_pond;
    if let Some(row) = table.pick(ctx.req.as_of) {
        return (Some(row), false);
    }
    let window = NaiveDate::from_ymd_opt(2024, 8, 1)
        .zip(NaiveDate::from_ymd_opt(2025, 12, 31))
        .is_some_and(|(from, to)| (from..=to).contains(&ctx.req.as_of));
    if c.nq254_recompute && window {
        return (table.rows.first(), true);
    }
    (None, false)
}

/// NQ 254 Art 10(2)(c): tiers of the quota Q at 30% / 50% / 100% of the price difference.
fn garden_pond_levy(
    c: &Conversion,
    tiers: &[TierRule],
    k: Decimal,
    line: &mut Line,
) -> Result<(), FieldError> {
    let quota = need(
        c.residential_quota_m2.as_ref(),
        "conversion.residential_quota_m2",
    )?;
    // The tiers are shares of (residential − agricultural price): never price the
    // agricultural land at 0 (NQ 254 Art 10(2)(c); Decree 50/2026 Art 6).
    let old = c.old_price_per_m2.ok_or_else(|| {
        FieldError::new(
            "conversion.old_price_per_m2",
            "is required: the agricultural land price of the table (NQ 254 tiers)",
        )
    })?;
    let diff = (c.new_price_per_m2 - old) * k;
    line.explain(format!(
        "difference per m² = {} − {} = {}",
        show(c.new_price_per_m2 * k),
        show(old * k),
        show(diff)
    ));
    let mut lower = Decimal::ZERO;
    let mut exact = Decimal::ZERO;
    for tier in tiers {
        let upper = tier.quota_multiple.map(|m| m * *quota);
        let tier_area = match upper {
            Some(u) => c.area_m2.min(u) - lower,
            None => c.area_m2 - lower,
        }
        .max(Decimal::ZERO);
        let part = tier.rate * tier_area * diff;
        if line.in_quota_exact.is_none() {
            line.in_quota_exact = Some(part.max(Decimal::ZERO));
        }
        exact += part;
        line.explain(format!(
            "{} × {} m² × {} = {}",
            format_percent(tier.rate),
            show(tier_area),
            show(diff),
            show(part)
        ));
        lower = upper.unwrap_or(lower);
    }
    line.base = Some(to_vnd(c.area_m2 * diff.max(Decimal::ZERO), "conversion")?);
    line.round(exact.max(Decimal::ZERO), "conversion")?;
    line.explain(format!(
        "levy = {} (quota Q = {} m²)",
        line.amount,
        show(*quota)
    ));
    line.doubt("the NQ 254 preference is once per household/individual; preference_used is taken as declared");
    Ok(())
}

/// Decree 103 Art 8: levy = max(0, value after − value before).
fn difference_levy(
    c: &Conversion,
    rate: Decimal,
    k: Decimal,
    line: &mut Line,
) -> Result<(), FieldError> {
    let after = c.area_m2 * c.new_price_per_m2 * k;
    line.explain(format!(
        "value after = {} m² × {} = {}",
        show(c.area_m2),
        show(c.new_price_per_m2 * k),
        show(after)
    ));
    let before = value_before(c, k, line)?;
    let exact = ((after - before) * rate).max(Decimal::ZERO);
    line.base = Some(to_vnd(after, "conversion")?);
    line.round(exact, "conversion")?;
    line.explain(format!(
        "levy = max(0; {} − {}) = {}",
        show(after),
        show(before),
        line.amount
    ));
    Ok(())
}

fn value_before(c: &Conversion, k: Decimal, line: &mut Line) -> Result<Decimal, FieldError> {
    let old = || need(c.old_price_per_m2.as_ref(), "conversion.old_price_per_m2").map(|p| *p * k);
    let value = match c.origin {
        ConversionOrigin::LeasedAnnual => {
            line.explain("value before = 0 (land leased with annual rent)");
            return Ok(Decimal::ZERO);
        }
        ConversionOrigin::AgriculturalAllocatedWithoutLevy
        | ConversionOrigin::NonAgriculturalLongTerm => {
            let value = c.area_m2 * old()?;
            line.explain(format!(
                "value before = {} m² × {} = {}",
                show(c.area_m2),
                show(old()?),
                show(value)
            ));
            value
        }
        ConversionOrigin::AgriculturalLeasedOneOff | ConversionOrigin::NonAgriculturalWithTerm => {
            let term = Decimal::from(*need(c.term_months.as_ref(), "conversion.term_months")?);
            let left = Decimal::from(*need(
                c.remaining_term_months.as_ref(),
                "conversion.remaining_term_months",
            )?);
            let value = c.area_m2 * old()? * left / term;
            line.explain(format!(
                "value before = {} m² × {} × {} / {} months = {}",
                show(c.area_m2),
                show(old()?),
                left,
                term,
                show(value)
            ));
            value
        }
    };
    if c.origin == ConversionOrigin::NonAgriculturalLongTerm {
        line.doubt("value before = area × SXKD table price taken as the 70-year one-off rent (spec §4.2 practice)");
    }
    Ok(value)
}

fn allocation(ctx: &mut Ctx<'_>) -> Result<Option<Line>, FieldError> {
    let req = ctx.req;
    let Some(row) = ctx.rules.levy_general.pick(req.as_of) else {
        ctx.missing(
            CODE,
            "no land-use-levy rule is loaded for as_of (levy rules start 2024-08-01)",
        );
        return Ok(None);
    };
    let a = need(req.allocation.as_ref(), "allocation")?;
    let mut line = Line::new(
        CODE,
        "Tiền sử dụng đất khi được Nhà nước giao đất",
        Payer::LandUser,
        &row.legal_basis,
    );
    line.budget_sub_item = row.values.allocation_budget_sub_item.clone();
    let rate = row.values.collection_rate;
    line.rate = Some(rate);
    let price = if a.auction {
        line.explain("auction: the winning bid is the price (no adjustment coefficient)");
        a.price_per_m2
    } else {
        a.price_per_m2 * coefficient(ctx, &mut line)
    };
    let gross = a.area_m2 * price * rate;
    let infra = a.infra_cost_per_m2.unwrap_or(Decimal::ZERO) * a.area_m2;
    line.explain(format!(
        "levy before deduction = {} m² × {} × {} = {}",
        show(a.area_m2),
        show(price),
        format_percent(rate),
        show(gross)
    ));
    if infra > Decimal::ZERO {
        line.explain(format!(
            "infrastructure cost = {} × {} m² = {}",
            show(a.infra_cost_per_m2.unwrap_or_default()),
            show(a.area_m2),
            show(infra)
        ));
    }
    line.base = Some(to_vnd(a.area_m2 * price, "allocation")?);
    line.round((gross - infra).max(Decimal::ZERO), "allocation")?;
    line.explain(format!(
        "levy = {} − {} = {}",
        show(gross),
        show(infra),
        line.amount
    ));
    Ok(Some(line))
}

fn extension(ctx: &mut Ctx<'_>) -> Result<Option<Line>, FieldError> {
    let req = ctx.req;
    let Some(row) = ctx.rules.levy_extension.pick(req.as_of) else {
        ctx.missing(CODE, "no extension-surcharge rule is loaded for as_of");
        return Ok(None);
    };
    let e = need(req.extension.as_ref(), "extension")?;
    let name = "Tiền sử dụng đất bổ sung khi gia hạn tiến độ sử dụng đất";
    let mut line = Line::new(CODE, name, Payer::LandUser, &row.legal_basis);
    let rate = row.values.rate_per_year;
    line.rate = Some(rate);
    let price = e.price_per_m2 * coefficient(ctx, &mut line);
    let base = e.area_m2 * price;
    line.base = Some(to_vnd(base, "extension")?);
    let exact = base * rate * Decimal::from(e.months) / Decimal::from(12);
    line.round(exact, "extension")?;
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
