//! Thuế sử dụng đất phi nông nghiệp (NALT). Domain spec §6: one line per parcel,
//! one more for a consolidated return, and the ≤ 50,000 đ exemption judged on the
//! request's total.
#![warn(clippy::float_arithmetic)]

use rust_decimal::Decimal;

use crate::money::{format_percent, Vnd};
use crate::obligations::engine::Ctx;
use crate::obligations::fields::FieldError;
use crate::obligations::line::{show, to_vnd, Line, Payer};
use crate::obligations::relief_apply;
use crate::obligations::request::{
    ApplicantKind, Consolidation, ObligationCode, TaxParcel, TaxParcelKind,
};
use crate::obligations::rule_types::{LandTaxRule, TierRule};

const CODE: ObligationCode = ObligationCode::NonAgriculturalLandTax;
const NAME: &str = "Thuế sử dụng đất phi nông nghiệp";
const FIELD: &str = "annual_land_tax.parcels";

pub fn lines(ctx: &mut Ctx<'_>) -> Result<Vec<Line>, Vec<FieldError>> {
    let Some(row) = ctx.rules.land_tax.pick(ctx.req.as_of) else {
        ctx.missing(CODE, "no land-tax rule is loaded for as_of");
        return Ok(Vec::new());
    };
    let Some(tax) = &ctx.req.annual_land_tax else {
        return Err(vec![FieldError::new("annual_land_tax", "is required")]);
    };
    let rule = &row.values;
    let mut lines = Vec::with_capacity(tax.parcels.len() + 1);
    let mut parcels_total = Vnd::ZERO;
    for (i, parcel) in tax.parcels.iter().enumerate() {
        let field = format!("{FIELD}[{i}]");
        let mut line = Line::new(CODE, NAME, Payer::Taxpayer, &row.legal_basis);
        line.parcel_ref = Some(parcel.parcel_ref.clone());
        let exact = parcel_tax(parcel, rule, &mut line).map_err(|e| vec![e])?;
        line.round(exact, &field).map_err(|e| vec![e])?;
        line.explain(format!("tax = {}", line.amount));
        let quota_tax = quota_tax(parcel, rule, exact);
        relief_apply::nalt_parcel(ctx.req, ctx.rules, parcel, quota_tax, &mut line)
            .map_err(|e| vec![e])?;
        parcels_total = add(parcels_total, line.amount)?;
        lines.push(line);
    }
    let mut request_total = parcels_total;
    if let Some(consolidation) = &tax.consolidate {
        let mut line = Line::new(
            CODE,
            &format!("{NAME} (tờ khai tổng hợp)"),
            Payer::Taxpayer,
            &row.legal_basis,
        );
        let exact = consolidated_tax(&tax.parcels, consolidation, rule, &mut line)?;
        let consolidated = to_vnd(exact, "annual_land_tax.consolidate").map_err(|e| vec![e])?;
        line.base = Some(consolidated);
        let due = consolidated
            .checked_sub(parcels_total)
            .filter(|d| !d.is_negative())
            .unwrap_or(Vnd::ZERO);
        line.amount = due;
        line.explain(format!(
            "additional due = max(0; {consolidated} − per-parcel total {parcels_total}) = {due}"
        ));
        request_total = consolidated;
        lines.push(line);
    }
    let next_cycle =
        chrono::NaiveDate::from_ymd_opt(2027, 1, 1).is_some_and(|d| ctx.req.as_of >= d);
    if next_cycle {
        for line in &mut lines {
            line.doubt("the price source for the 2027–2031 cycle (2026 or 2027 table) and any replacement of NALT are not established (spec §6)");
        }
    }
    if ctx.req.applicant_kind == ApplicantKind::Individual
        && request_total <= rule.exemption_threshold
    {
        for line in lines.iter_mut().filter(|l| !l.exempt) {
            line.explain(format!(
                "the request's annual tax {request_total} ≤ {}",
                rule.exemption_threshold
            ));
            line.exempt_by("nalt_small_amount", &rule.exemption, &rule.exemption_basis);
        }
    }
    Ok(lines)
}

/// The exact tax on the part of a parcel within its quota at the first tier's rate
/// (apartments: the whole tax), which in-quota reliefs act on.
fn quota_tax(p: &TaxParcel, rule: &LandTaxRule, exact: Decimal) -> Decimal {
    match (p.kind, p.quota_m2) {
        (TaxParcelKind::Residential, Some(quota)) => {
            p.area_m2.min(quota) * p.price_per_m2 * flat_rate(p.kind, rule)
        }
        _ => exact,
    }
}

fn add(a: Vnd, b: Vnd) -> Result<Vnd, Vec<FieldError>> {
    a.checked_add(b)
        .ok_or_else(|| vec![FieldError::new(FIELD, "the total is too large")])
}

fn flat_rate(kind: TaxParcelKind, rule: &LandTaxRule) -> Decimal {
    match kind {
        TaxParcelKind::Apartment => rule.apartment_rate,
        TaxParcelKind::Business => rule.business_rate,
        TaxParcelKind::Misused => rule.misused_rate,
        TaxParcelKind::Encroached => rule.encroached_rate,
        // Residential parcels are tiered; the flat rate is the first tier's.
        TaxParcelKind::Residential => rule
            .residential_tiers
            .first()
            .map_or(rule.apartment_rate, |t| t.rate),
    }
}

/// One parcel's exact tax with its own quota (residential) or flat rate.
fn parcel_tax(p: &TaxParcel, rule: &LandTaxRule, line: &mut Line) -> Result<Decimal, FieldError> {
    if p.kind == TaxParcelKind::Residential {
        let quota = p.quota_m2.ok_or_else(|| {
            FieldError::new(FIELD, "quota_m2 is required for residential parcels")
        })?;
        line.base = Some(to_vnd(p.area_m2 * p.price_per_m2, FIELD)?);
        return Ok(tiered(
            p,
            Decimal::ZERO,
            quota,
            &rule.residential_tiers,
            line,
        ));
    }
    let rate = flat_rate(p.kind, rule);
    line.rate = Some(rate);
    let area = if p.kind == TaxParcelKind::Apartment {
        apartment_area(p, line)?
    } else {
        p.area_m2
    };
    let base = area * p.price_per_m2;
    line.base = Some(to_vnd(base, FIELD)?);
    line.explain(format!(
        "{} m² × {} × {} = {}",
        show(area),
        show(p.price_per_m2),
        format_percent(rate),
        show(base * rate)
    ));
    if matches!(p.kind, TaxParcelKind::Misused | TaxParcelKind::Encroached) {
        line.doubt(
            "rates for misused (0,15%) and encroached (0,2%) land are from memory (spec §6)",
        );
    }
    Ok(base * rate)
}

/// `apartment area × (building land area ÷ total floor area)`.
fn apartment_area(p: &TaxParcel, line: &mut Line) -> Result<Decimal, FieldError> {
    let land = p
        .building_land_m2
        .ok_or_else(|| FieldError::new(FIELD, "building_land_m2 is required for apartments"))?;
    let floor = p
        .total_floor_area_m2
        .filter(|f| *f > Decimal::ZERO)
        .ok_or_else(|| FieldError::new(FIELD, "total_floor_area_m2 is required for apartments"))?;
    let area = p.area_m2 * land / floor;
    line.explain(format!(
        "allocated land = {} m² × ({} / {}) = {} m²",
        show(p.area_m2),
        show(land),
        show(floor),
        show(area)
    ));
    Ok(area)
}

/// Tax on the stretch `[start, start + area)` of cumulative residential area,
/// tiers being multiples of `quota`.
fn tiered(
    p: &TaxParcel,
    start: Decimal,
    quota: Decimal,
    tiers: &[TierRule],
    line: &mut Line,
) -> Decimal {
    let end = start + p.area_m2;
    let mut lower = Decimal::ZERO;
    let mut exact = Decimal::ZERO;
    for tier in tiers {
        let upper = tier.quota_multiple.map(|m| m * quota);
        let from = start.max(lower);
        let to = upper.map_or(end, |u| end.min(u));
        if to > from {
            let part = (to - from) * p.price_per_m2 * tier.rate;
            line.explain(format!(
                "{}: {} m² × {} × {} = {}",
                p.parcel_ref,
                show(to - from),
                show(p.price_per_m2),
                format_percent(tier.rate),
                show(part)
            ));
            exact += part;
        }
        lower = upper.unwrap_or(lower);
    }
    exact
}

/// The consolidated return: one chosen quota, residential parcels filling the tiers
/// in `fill_order`; other parcels at their own rate.
fn consolidated_tax(
    parcels: &[TaxParcel],
    c: &Consolidation,
    rule: &LandTaxRule,
    line: &mut Line,
) -> Result<Decimal, Vec<FieldError>> {
    let by_ref = |r: &str| parcels.iter().find(|p| p.parcel_ref == r);
    let quota = by_ref(&c.quota_parcel)
        .and_then(|p| p.quota_m2)
        .ok_or_else(|| {
            vec![FieldError::new(
                "annual_land_tax.consolidate.quota_parcel",
                "must name a residential parcel with quota_m2",
            )]
        })?;
    line.explain(format!(
        "consolidated: quota of {} = {} m², filled in order {}",
        c.quota_parcel,
        show(quota),
        c.fill_order.join(", ")
    ));
    let mut filled = Decimal::ZERO;
    let mut exact = Decimal::ZERO;
    for r in &c.fill_order {
        let p = by_ref(r).ok_or_else(|| {
            vec![FieldError::new(
                "annual_land_tax.consolidate.fill_order",
                "unknown parcel ref",
            )]
        })?;
        exact += tiered(p, filled, quota, &rule.residential_tiers, line);
        filled += p.area_m2;
    }
    for p in parcels
        .iter()
        .filter(|p| p.kind != TaxParcelKind::Residential)
    {
        let mut scratch = Line::new(CODE, NAME, Payer::Taxpayer, &[]);
        let part = parcel_tax(p, rule, &mut scratch).map_err(|e| vec![e])?;
        line.explain(format!(
            "{}: at its own rate = {}",
            p.parcel_ref,
            show(part)
        ));
        exact += part;
    }
    line.explain(format!("consolidated tax = {}", show(exact)));
    Ok(exact)
}
