//! Checks on the relief codes a request claims: known, of the right kind, listed
//! once, in force, applicable to what the request computes, conditions met, the
//! inputs they need present, and no two codes that exclude each other.
#![warn(clippy::float_arithmetic)]

use crate::obligations::fields::FieldError;
use crate::obligations::relief::{Condition, Relief, ReliefKind, Scope};
use crate::obligations::request::{
    ApplicantKind, LandUse, ObligationCode, Procedure, QuoteRequest, Relationship, SellerKind,
    TaxParcel,
};
use crate::obligations::rules::RuleBook;

/// A claimed code and where it was given.
struct Claim<'a> {
    code: &'a str,
    field: String,
    listed_as: ReliefKind,
}

fn claims<'a>(prefix: &str, exemptions: &'a [String], reductions: &'a [String]) -> Vec<Claim<'a>> {
    let list = |key: &str, codes: &'a [String], kind: ReliefKind| {
        let path = if prefix.is_empty() {
            key.to_string()
        } else {
            format!("{prefix}.{key}")
        };
        codes
            .iter()
            .enumerate()
            .map(move |(i, code)| Claim {
                code,
                field: format!("{path}[{i}]"),
                listed_as: kind,
            })
            .collect::<Vec<_>>()
    };
    let mut all = list("exemptions", exemptions, ReliefKind::Exemption);
    all.extend(list("reductions", reductions, ReliefKind::Reduction));
    all
}

fn name<T: serde::Serialize>(value: T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// Every error in the request's claimed codes (top level and per NALT parcel).
pub fn validate(
    req: &QuoteRequest,
    rules: &RuleBook,
    computed: &[ObligationCode],
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let top = claims("", &req.exemptions, &req.reductions);
    check_list(req, rules, computed, &top, None, &mut errors);
    if let Some(tax) = &req.annual_land_tax {
        for (i, parcel) in tax.parcels.iter().enumerate() {
            let prefix = format!("annual_land_tax.parcels[{i}]");
            let list = claims(&prefix, &parcel.exemptions, &parcel.reductions);
            if !list.is_empty() && tax.consolidate.is_some() {
                errors.push(FieldError::new(
                    "annual_land_tax.consolidate",
                    "reliefs on a consolidated return are not supported",
                ));
            }
            check_list(req, rules, computed, &list, Some((i, parcel)), &mut errors);
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    errors.retain(|e| seen.insert((e.field.clone(), e.message.clone())));
    errors
}

fn check_list(
    req: &QuoteRequest,
    rules: &RuleBook,
    computed: &[ObligationCode],
    list: &[Claim<'_>],
    parcel: Option<(usize, &TaxParcel)>,
    errors: &mut Vec<FieldError>,
) {
    let mut valid: Vec<&Claim<'_>> = Vec::new();
    for (i, claim) in list.iter().enumerate() {
        if claim.code.is_empty() {
            continue; // not a string: reported by the parser
        }
        if list[..i].iter().any(|c| c.code == claim.code) {
            errors.push(FieldError::new(&claim.field, "listed twice"));
            continue;
        }
        match check_one(req, rules, computed, claim, parcel) {
            Ok(()) => valid.push(claim),
            Err(mut more) => errors.append(&mut more),
        }
    }
    for (i, a) in valid.iter().enumerate() {
        for b in valid.iter().skip(i + 1) {
            if let Some(reason) = rules.reliefs.conflict(a.code, b.code) {
                for (x, y) in [(a, b), (b, a)] {
                    errors.push(FieldError::new(
                        &x.field,
                        format!("cannot be combined with {} ({}): {reason}", y.code, y.field),
                    ));
                }
            }
        }
    }
}

fn check_one(
    req: &QuoteRequest,
    rules: &RuleBook,
    computed: &[ObligationCode],
    claim: &Claim<'_>,
    parcel: Option<(usize, &TaxParcel)>,
) -> Result<(), Vec<FieldError>> {
    let fail = |message: String| Err(vec![FieldError::new(&claim.field, message)]);
    let word = match claim.listed_as {
        ReliefKind::Exemption => "exemption",
        ReliefKind::Reduction => "reduction",
    };
    let Some(relief) = rules.reliefs.get(claim.code) else {
        return fail(format!("unknown {word} code"));
    };
    let def = &relief.def;
    if def.automatic {
        return fail("is decided from the request; do not claim it".to_string());
    }
    if def.kind != claim.listed_as {
        return fail(match def.kind {
            ReliefKind::Reduction => "is a reduction; list it under reductions".to_string(),
            ReliefKind::Exemption => "is an exemption; list it under exemptions".to_string(),
        });
    }
    if relief.in_force(req.as_of).is_none() {
        return fail(format!("not in force on {}", req.as_of));
    }
    let per_parcel = def.obligation == ObligationCode::NonAgriculturalLandTax;
    let applies = computed.contains(&def.obligation)
        && (def.procedures.is_empty() || def.procedures.contains(&req.procedure))
        && per_parcel == parcel.is_some();
    if !applies {
        return fail(applies_message(relief, per_parcel));
    }
    let mut errors: Vec<FieldError> = def
        .conditions
        .iter()
        .filter_map(|c| unmet(req, *c))
        .map(|m| FieldError::new(&claim.field, m))
        .collect();
    if let Some((i, p)) = parcel {
        if !def.parcel_kinds.is_empty() && !def.parcel_kinds.contains(&p.kind) {
            let kinds: Vec<String> = def.parcel_kinds.iter().map(|k| name(*k)).collect();
            errors.push(FieldError::new(
                &claim.field,
                format!(
                    "needs annual_land_tax.parcels[{i}].kind {}",
                    kinds.join(" or ")
                ),
            ));
        }
    } else if def.scope == Scope::InQuota && def.obligation == ObligationCode::LandUseLevy {
        if let Some(missing) = missing_quota(req) {
            errors.push(FieldError::new(
                missing,
                format!("is required by {}", claim.code),
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

fn applies_message(relief: &Relief, per_parcel: bool) -> String {
    let def = &relief.def;
    let procedures = if def.procedures.is_empty() {
        "any procedure".to_string()
    } else {
        def.procedures
            .iter()
            .map(|p| name(*p))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let place = if per_parcel {
        " (claimed on an annual_land_tax parcel)"
    } else {
        ""
    };
    format!(
        "applies to {} on {procedures}{place}, which this request does not compute",
        name(def.obligation)
    )
}

/// The in-quota levy reliefs need the section's residential quota.
fn missing_quota(req: &QuoteRequest) -> Option<&'static str> {
    match req.procedure {
        Procedure::Allocation => req
            .allocation
            .as_ref()
            .filter(|a| a.residential_quota_m2.is_none())
            .map(|_| "allocation.residential_quota_m2"),
        Procedure::FirstCertificate => req
            .recognition
            .as_ref()
            .filter(|r| r.residential_quota_m2.is_none())
            .map(|_| "recognition.residential_quota_m2"),
        Procedure::PurposeConversion => req
            .conversion
            .as_ref()
            .filter(|c| c.residential_quota_m2.is_none())
            .map(|_| "conversion.residential_quota_m2"),
        _ => None,
    }
}

/// The message for an unmet condition, `None` when met.
fn unmet(req: &QuoteRequest, condition: Condition) -> Option<&'static str> {
    let land_use = req.parcel.as_ref().and_then(|p| p.land_use);
    let met = match condition {
        Condition::AgriculturalParcel => land_use == Some(LandUse::Agricultural),
        Condition::IndividualApplicant => req.applicant_kind == ApplicantKind::Individual,
        Condition::IndividualSeller => req.seller_kind == SellerKind::Individual,
        Condition::Spouse => req.relationship == Relationship::Spouse,
        Condition::ResidentialOrHouse => {
            matches!(
                land_use,
                Some(LandUse::ResidentialUrban | LandUse::ResidentialRural)
            ) || req.house.is_some()
                || req.apartment.is_some()
                || matches!(
                    req.procedure,
                    Procedure::Allocation | Procedure::PurposeConversion
                )
        }
        Condition::HousePresent => req.house.is_some(),
        Condition::NotAuction => !req.allocation.as_ref().is_some_and(|a| a.auction),
    };
    if met {
        return None;
    }
    Some(match condition {
        Condition::AgriculturalParcel => "needs parcel.land_use agricultural",
        Condition::IndividualApplicant => "households and individuals only (applicant_kind)",
        Condition::IndividualSeller => "needs an individual transferor (seller.kind)",
        Condition::Spouse => "needs relationship spouse",
        Condition::ResidentialOrHouse => {
            "needs residential land (parcel.land_use residential_*) or a house or apartment"
        }
        Condition::HousePresent => "needs a house (house)",
        Condition::NotAuction => "not on auctions (allocation.auction)",
    })
}
