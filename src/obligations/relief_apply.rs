//! Applying claimed reliefs to computed lines, with the law's combination rules:
//! registration fee and PIT — the line is exempt, automatic reliefs first, then
//! claimed ones in list order; land use levy — an exemption beats reductions, and
//! of reductions the one removing the most applies (Decree 103/2024 Art 17(3));
//! NALT — Law 48/2010 Art 11(1).
#![warn(clippy::float_arithmetic)]

use rust_decimal::Decimal;

use crate::obligations::fields::FieldError;
use crate::obligations::line::{show, to_vnd, Line, ROUNDING_DOUBT};
use crate::obligations::relief::{Reduction, Relief, ReliefKind, Scope};
use crate::obligations::request::{ObligationCode, Procedure, QuoteRequest};
use crate::obligations::rules::RuleBook;

/// The top-level claimed reliefs for `code`, in list order (exemptions first).
fn claimed<'r>(req: &QuoteRequest, rules: &'r RuleBook, code: ObligationCode) -> Vec<&'r Relief> {
    req.exemptions
        .iter()
        .chain(req.reductions.iter())
        .filter_map(|c| rules.reliefs.get(c))
        .filter(|r| r.def.obligation == code && !r.def.automatic)
        .collect()
}

/// The relief's legal basis, item by item, on the line (once each); the joined
/// form stays on the `reduction` object only.
fn add_bases(line: &mut Line, relief: &Relief, req: &QuoteRequest, joined: &str) {
    line.legal_basis.retain(|b| b != joined);
    for b in relief
        .in_force(req.as_of)
        .map(|row| row.legal_basis.clone())
        .unwrap_or_default()
    {
        if !line.legal_basis.contains(&b) {
            line.legal_basis.push(b);
        }
    }
}

fn note(line: &mut Line, relief: &Relief, req: &QuoteRequest) {
    if let Some(u) = relief
        .in_force(req.as_of)
        .and_then(|p| p.values.uncertain.clone())
    {
        line.doubt(&u);
    }
}

/// Applies the request's claimed reliefs to every line they concern.
pub fn apply(req: &QuoteRequest, rules: &RuleBook, lines: &mut [Line]) -> Result<(), FieldError> {
    for line in lines.iter_mut() {
        let reliefs = claimed(req, rules, line.code);
        if reliefs.is_empty() {
            continue;
        }
        match line.code {
            ObligationCode::LandUseLevy => levy(req, &reliefs, line)?,
            _ => exempt_line(req, &reliefs, line),
        }
    }
    Ok(())
}

/// Registration fee and PIT: the line becomes exempt by the first applicable relief.
fn exempt_line(req: &QuoteRequest, reliefs: &[&Relief], line: &mut Line) {
    let already = line
        .reduction
        .as_ref()
        .is_some_and(|r| r.kind == ReliefKind::Exemption && line.amount.dong() == 0);
    if already {
        if let Some(r) = line.reduction.as_mut() {
            r.not_applied
                .extend(reliefs.iter().map(|x| x.def.code.clone()));
        }
        return;
    }
    let (first, rest) = (reliefs[0], &reliefs[1..]);
    let basis = first.basis(req.as_of);
    line.exempt_by(&first.def.code, &first.def.name, &basis);
    add_bases(line, first, req, &basis);
    if let Some(r) = line.reduction.as_mut() {
        r.not_applied
            .extend(rest.iter().map(|x| x.def.code.clone()));
    }
    note(line, first, req);
}

/// The area and quota the in-quota share of a levy line is prorated on.
fn quota_share(req: &QuoteRequest) -> Option<(Decimal, Decimal)> {
    match req.procedure {
        Procedure::Allocation => req
            .allocation
            .as_ref()
            .and_then(|a| Some((a.area_m2, a.residential_quota_m2?))),
        Procedure::FirstCertificate => req
            .recognition
            .as_ref()
            .and_then(|r| Some((r.residential_area_m2, r.residential_quota_m2?))),
        Procedure::PurposeConversion => req
            .conversion
            .as_ref()
            .and_then(|c| Some((c.area_m2, c.residential_quota_m2?))),
        _ => None,
    }
}

/// The exact amount a relief removes from a levy line of exact amount `l`.
fn removed(req: &QuoteRequest, relief: &Relief, line: &Line) -> Decimal {
    let l = line.exact;
    let scoped = match relief.def.scope {
        Scope::Whole => l,
        Scope::InQuota => match (line.in_quota_exact, quota_share(req)) {
            (Some(q), _) => q,
            (None, Some((area, quota))) => l * area.min(quota) / area,
            (None, None) => l,
        },
    };
    relief.def.rate * scoped
}

/// Land use levy: relief computed on the levy of Decree 103 Arts 6–12 (Art 17(4)).
fn levy(req: &QuoteRequest, reliefs: &[&Relief], line: &mut Line) -> Result<(), FieldError> {
    let exemption = reliefs.iter().find(|r| r.def.kind == ReliefKind::Exemption);
    let chosen = match exemption {
        Some(e) => *e,
        None => {
            let mut best = reliefs[0];
            for r in &reliefs[1..] {
                if removed(req, r, line) > removed(req, best, line) {
                    best = r;
                }
            }
            best
        }
    };
    let cut = removed(req, chosen, line);
    let basis = chosen.basis(req.as_of);
    let full = line.full_amount;
    let amount = to_vnd((line.exact - cut).max(Decimal::ZERO), "body")?;
    let mut reduction = Reduction::new(
        &chosen.def.code,
        chosen.def.kind,
        Some(chosen.def.rate),
        &basis,
    );
    reduction.amount = full.checked_sub(amount).unwrap_or(full);
    reduction.not_applied = reliefs
        .iter()
        .filter(|r| r.def.code != chosen.def.code)
        .map(|r| r.def.code.clone())
        .collect();
    line.explain(format!(
        "{}: {} ({basis}) removes {} → {}",
        chosen.def.code,
        chosen.def.name,
        show(cut),
        amount
    ));
    add_bases(line, chosen, req, &basis);
    if !reduction.not_applied.is_empty() {
        line.explain(format!(
            "not cumulative (Decree 103/2024 Art 17(3)): {} not applied",
            reduction.not_applied.join(", ")
        ));
    }
    line.amount = amount;
    line.exempt = chosen.def.kind == ReliefKind::Exemption && amount.dong() == 0;
    if line.exempt {
        line.uncertain.retain(|u| u != ROUNDING_DOUBT);
        line.exemption = Some(format!("{} ({})", chosen.def.name, reduction.legal_basis));
    }
    line.reduction = Some(reduction);
    note(line, chosen, req);
    Ok(())
}

/// NALT reliefs of one parcel (Law 48/2010 Art 11(1)): an exemption wins; two or
/// more reductions exempt the parcel; one reduction removes its rate.
/// `quota_tax` is the exact tax on the part within the quota at the first tier's rate.
pub fn nalt_parcel(
    req: &QuoteRequest,
    rules: &RuleBook,
    parcel: &crate::obligations::request::TaxParcel,
    quota_tax: Decimal,
    line: &mut Line,
) -> Result<(), FieldError> {
    let claimed: Vec<&Relief> = parcel
        .exemptions
        .iter()
        .chain(parcel.reductions.iter())
        .filter_map(|c| rules.reliefs.get(c))
        .collect();
    let Some(first) = claimed.first().copied() else {
        return Ok(());
    };
    let (chosen, cut, combined) = nalt_choice(rules, &claimed, first, quota_tax, line.exact)?;
    let basis = chosen.basis(req.as_of);
    let full = line.full_amount;
    let amount = to_vnd((line.exact - cut).max(Decimal::ZERO), "annual_land_tax")?;
    let mut reduction = Reduction::new(
        &chosen.def.code,
        chosen.def.kind,
        Some(chosen.def.rate),
        &basis,
    );
    reduction.amount = full.checked_sub(amount).unwrap_or(full);
    reduction.not_applied = claimed
        .iter()
        .filter(|r| r.def.code != chosen.def.code && !combined.contains(&r.def.code))
        .map(|r| r.def.code.clone())
        .collect();
    line.explain(format!(
        "{}: {} ({basis}) removes {} → {}",
        chosen.def.code,
        chosen.def.name,
        show(cut),
        amount
    ));
    if !combined.is_empty() {
        line.explain(format!(
            "two or more reductions on one parcel exempt it (Law 48/2010 Art 11(1)): {}",
            combined.join(", ")
        ));
    }
    reduction.combined = combined;
    add_bases(line, chosen, req, &basis);
    line.amount = amount;
    line.exempt = chosen.def.kind == ReliefKind::Exemption && amount.dong() == 0;
    if line.exempt {
        line.uncertain.retain(|u| u != ROUNDING_DOUBT);
        line.exemption = Some(format!("{} ({})", chosen.def.name, reduction.legal_basis));
    }
    line.reduction = Some(reduction);
    note(line, chosen, req);
    Ok(())
}

/// Law 48/2010 Art 11(1): the relief that applies to a parcel, the exact amount it
/// removes, and the reductions combined into an exemption.
fn nalt_choice<'r>(
    rules: &'r RuleBook,
    claimed: &[&'r Relief],
    first: &'r Relief,
    quota_tax: Decimal,
    exact: Decimal,
) -> Result<(&'r Relief, Decimal, Vec<String>), FieldError> {
    let scoped = |scope: Scope| match scope {
        Scope::Whole => exact,
        Scope::InQuota => quota_tax.min(exact),
    };
    if let Some(e) = claimed.iter().find(|r| r.def.kind == ReliefKind::Exemption) {
        return Ok((*e, scoped(e.def.scope), Vec::new()));
    }
    if claimed.len() < 2 {
        return Ok((first, first.def.rate * scoped(first.def.scope), Vec::new()));
    }
    let Some(combo) = rules.reliefs.get("nalt_combined_exemption") else {
        return Err(FieldError::new(
            "annual_land_tax",
            "the combined-exemption rule is not loaded",
        ));
    };
    let scope = if claimed.iter().any(|r| r.def.scope == Scope::Whole) {
        Scope::Whole
    } else {
        Scope::InQuota
    };
    let codes = claimed.iter().map(|r| r.def.code.clone()).collect();
    Ok((combo, scoped(scope), codes))
}
