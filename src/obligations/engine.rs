//! Dispatch by procedure: which obligations a request gives rise to, what facts
//! they need, and the quote itself.
#![warn(clippy::float_arithmetic)]

use std::cell::OnceCell;
use std::collections::BTreeSet;

use crate::money::Vnd;
use crate::obligations::fields::FieldError;
use crate::obligations::house::{house_value, HouseValue};
use crate::obligations::line::{Line, Quote};
use crate::obligations::request::{
    ExtensionPayment, ObligationCode, PriorRegistrationFee, Procedure, QuoteRequest, SellerKind,
};
use crate::obligations::rules::RuleBook;
use crate::obligations::{
    due, land_rent, land_tax, land_use_levy, pit_inheritance_gift, pit_transfer, procedure_fees,
    registration_fee, relief_apply, relief_check, term_extension,
};

use ObligationCode as O;

/// What a calculator sees: the request, the rule book, and where to put warnings.
pub struct Ctx<'a> {
    pub req: &'a QuoteRequest,
    pub rules: &'a RuleBook,
    pub warnings: Vec<String>,
    /// The house's value, worked out once for every line that uses it.
    house: OnceCell<Result<Option<HouseValue>, FieldError>>,
}

impl<'a> Ctx<'a> {
    pub fn new(req: &'a QuoteRequest, rules: &'a RuleBook) -> Self {
        Ctx {
            req,
            rules,
            warnings: Vec::new(),
            house: OnceCell::new(),
        }
    }

    /// The house's value (registration fee and PIT floor alike), `None` without a house.
    pub fn house_value(&self) -> Result<Option<&HouseValue>, FieldError> {
        self.house
            .get_or_init(|| house_value(self.req, self.rules))
            .as_ref()
            .map(Option::as_ref)
            .map_err(Clone::clone)
    }

    /// Reference data is missing: the line is left out, never invented.
    pub fn missing(&mut self, code: ObligationCode, what: &str) {
        let code = serde_json::to_value(code)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        self.warnings
            .push(format!("{code}: {what}; the line is left out"));
    }
}

/// Every obligation a procedure can give rise to, in line order.
pub fn possible_obligations(procedure: Procedure) -> &'static [ObligationCode] {
    match procedure {
        Procedure::Transfer => &[
            O::RegistrationFee,
            O::PitTransfer,
            O::AppraisalFee,
            O::CertificateFee,
        ],
        Procedure::Gift | Procedure::Inheritance => &[
            O::RegistrationFee,
            O::PitInheritanceGift,
            O::AppraisalFee,
            O::CertificateFee,
        ],
        Procedure::FirstCertificate => &[
            O::RegistrationFee,
            O::CertificateFee,
            O::AppraisalFee,
            O::LandUseLevy,
        ],
        Procedure::PurposeConversion | Procedure::Allocation => {
            &[O::LandUseLevy, O::RegistrationFee]
        }
        Procedure::TermExtension => &[O::LandRentOneOff, O::LandRentAnnual, O::LandUseLevy],
        Procedure::LeaseToAllocation => &[O::LandUseLevy],
        Procedure::LeaseAnnual => &[O::LandRentAnnual],
        Procedure::LeaseOneOff => &[O::LandRentOneOff],
        Procedure::LandUseExtension => &[O::LandUseLevy, O::LandRentAnnual],
        Procedure::AnnualLandTax => &[O::NonAgriculturalLandTax],
        // The registration fee only when asked for (a household division or a
        // re-issue, where its exemptions are claimed).
        Procedure::CertificateChange => &[O::CertificateFee, O::AppraisalFee, O::RegistrationFee],
    }
}

/// The obligations to compute: the request's list, or the procedure's defaults.
pub fn selected_obligations(req: &QuoteRequest) -> Result<Vec<ObligationCode>, Vec<FieldError>> {
    let possible = possible_obligations(req.procedure);
    let Some(requested) = &req.obligations else {
        return Ok(possible
            .iter()
            .copied()
            .filter(|code| is_default(req, *code))
            .collect());
    };
    let errors: Vec<FieldError> = requested
        .iter()
        .enumerate()
        .filter_map(|(i, code)| {
            let field = format!("obligations[{i}]");
            if !possible.contains(code) || !arises(req, *code) {
                Some(FieldError::new(field, "does not arise from this procedure"))
            } else if *code == O::PitTransfer && req.seller_kind == SellerKind::Organisation {
                Some(FieldError::new(
                    field,
                    "does not arise: the transferor is an organisation",
                ))
            } else {
                None
            }
        })
        .collect();
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(possible
        .iter()
        .copied()
        .filter(|c| requested.contains(c))
        .collect())
}

/// Whether a possible obligation arises at all from the request's facts.
fn arises(req: &QuoteRequest, code: ObligationCode) -> bool {
    match (req.procedure, code) {
        (Procedure::TermExtension, _) => {
            let payment = req.term_extension.as_ref().map(|t| t.payment);
            matches!(
                (payment, code),
                (None, _)
                    | (Some(ExtensionPayment::OneOff), O::LandRentOneOff)
                    | (Some(ExtensionPayment::Annual), O::LandRentAnnual)
                    | (Some(ExtensionPayment::Levy), O::LandUseLevy)
            )
        }
        _ => true,
    }
}

fn is_default(req: &QuoteRequest, code: ObligationCode) -> bool {
    if !arises(req, code) {
        return false;
    }
    match (req.procedure, code) {
        (Procedure::CertificateChange, O::RegistrationFee) => false,
        (Procedure::Transfer, O::PitTransfer) => req.seller_kind == SellerKind::Individual,
        (Procedure::PurposeConversion, O::RegistrationFee) => req
            .conversion
            .as_ref()
            .is_some_and(|c| c.prior_registration_fee == Some(PriorRegistrationFee::Exempt)),
        (Procedure::FirstCertificate, O::LandUseLevy) => req.recognition.is_some(),
        (Procedure::LandUseExtension, O::LandUseLevy) => {
            req.extension.as_ref().is_none_or(|e| e.rent_rate.is_none())
        }
        (Procedure::LandUseExtension, O::LandRentAnnual) => req
            .extension
            .as_ref()
            .is_some_and(|e| e.rent_rate.is_some()),
        _ => true,
    }
}

/// Facts the selected obligations need but the request lacks. `invalid` names
/// sections already rejected by the parser (not reported again).
pub fn requirement_errors(req: &QuoteRequest, invalid: &BTreeSet<&str>) -> Vec<FieldError> {
    let codes = match selected_obligations(req) {
        Ok(codes) => codes,
        Err(errors) => return errors,
    };
    let mut needed: BTreeSet<&'static str> = BTreeSet::new();
    for code in codes {
        needed.extend(needs(req, code));
    }
    needed
        .into_iter()
        .filter(|path| !invalid.contains(path.split('.').next().unwrap_or(path)))
        .filter(|path| !(*path == "parcel" && invalid.contains("apartment")))
        .filter(|path| !is_present(req, path))
        .map(|path| FieldError::new(path, "is required for the requested obligations"))
        .collect()
}

fn needs(req: &QuoteRequest, code: ObligationCode) -> Vec<&'static str> {
    match (code, req.procedure) {
        (O::RegistrationFee, Procedure::PurposeConversion) => {
            vec!["conversion", "conversion.prior_registration_fee"]
        }
        (O::RegistrationFee, Procedure::Allocation) => vec!["allocation"],
        (_, Procedure::TermExtension) => vec!["term_extension"],
        (O::LandUseLevy, Procedure::LeaseToAllocation) => vec!["lease_to_allocation"],
        (O::RegistrationFee | O::PitTransfer | O::PitInheritanceGift, _) => {
            if req.apartment.is_some() {
                vec![]
            } else {
                vec!["parcel"]
            }
        }
        (O::LandUseLevy, Procedure::PurposeConversion) => vec!["conversion"],
        (O::LandUseLevy, Procedure::Allocation) => vec!["allocation"],
        (O::LandUseLevy, Procedure::FirstCertificate) => vec!["recognition"],
        (O::LandUseLevy, _) => vec!["extension"],
        (O::LandRentAnnual, Procedure::LandUseExtension) => {
            vec!["extension", "extension.rent_rate"]
        }
        (O::LandRentAnnual, _) => vec!["parcel", "lease", "lease.rent_rate"],
        (O::LandRentOneOff, _) => vec!["parcel", "lease", "lease.term_years"],
        (O::NonAgriculturalLandTax, _) => vec!["annual_land_tax"],
        _ => vec![],
    }
}

fn is_present(req: &QuoteRequest, path: &str) -> bool {
    match path {
        "parcel" => req.parcel.is_some(),
        "conversion.prior_registration_fee" => req
            .conversion
            .as_ref()
            .is_none_or(|c| c.prior_registration_fee.is_some()),
        "term_extension" => req.term_extension.is_some(),
        "lease_to_allocation" => req.lease_to_allocation.is_some(),
        "conversion" => req.conversion.is_some(),
        "allocation" => req.allocation.is_some(),
        "recognition" => req.recognition.is_some(),
        "extension" => req.extension.is_some(),
        "extension.rent_rate" => req.extension.as_ref().is_none_or(|e| e.rent_rate.is_some()),
        "lease" => req.lease.is_some(),
        "lease.rent_rate" => req.lease.as_ref().is_none_or(|l| l.rent_rate.is_some()),
        "lease.term_years" => req.lease.as_ref().is_none_or(|l| l.term_years.is_some()),
        "annual_land_tax" => req.annual_land_tax.is_some(),
        _ => true,
    }
}

/// Computes an estimate. Errors are facts missing that a line needs, as field errors.
pub fn quote(req: &QuoteRequest, rules: &RuleBook) -> Result<Quote, Vec<FieldError>> {
    let missing = requirement_errors(req, &BTreeSet::new());
    if !missing.is_empty() {
        return Err(missing);
    }
    let Some(rule_set) = rules.rule_set_id(req.as_of) else {
        return Err(vec![FieldError::new(
            "as_of",
            "no rule set is loaded for this date (rule sets start 2022-03-01)",
        )]);
    };
    let codes = selected_obligations(req)?;
    let relief_errors = relief_check::validate(req, rules, &codes);
    if !relief_errors.is_empty() {
        return Err(relief_errors);
    }
    let mut ctx = Ctx::new(req, rules);
    let mut lines: Vec<Line> = Vec::new();
    let mut errors: Vec<FieldError> = Vec::new();
    for code in codes {
        match compute(&mut ctx, code) {
            Ok(mut more) => lines.append(&mut more),
            Err(mut errs) => errors.append(&mut errs),
        }
    }
    if !errors.is_empty() {
        let mut seen = BTreeSet::new();
        errors.retain(|e| seen.insert((e.field.clone(), e.message.clone())));
        return Err(errors);
    }
    leave_out(&mut ctx, &mut lines);
    relief_apply::apply(req, rules, &mut lines).map_err(|e| vec![e])?;
    due::assign(req, &rules.deadlines, &mut lines).map_err(|e| vec![e])?;
    let total = lines
        .iter()
        .try_fold(Vnd::ZERO, |sum, line| sum.checked_add(line.amount))
        .ok_or_else(|| vec![FieldError::new("body", "the total is too large")])?;
    Ok(Quote {
        kind: "estimate",
        rule_set,
        procedure: req.procedure,
        as_of: req.as_of,
        total,
        lines,
        warnings: ctx.warnings,
    })
}

/// Lines the facts rule out, with a warning: PIT when the transferor is an
/// organisation; the registration fee on a conversion whose earlier registration
/// paid it.
fn leave_out(ctx: &mut Ctx<'_>, lines: &mut Vec<Line>) {
    let req = ctx.req;
    if req.procedure == Procedure::Transfer && req.seller_kind == SellerKind::Organisation {
        ctx.warnings.push("pit_transfer: the transferor is an organisation; personal income tax does not arise (corporate income tax is not quoted); the line is left out".to_string());
    }
    let paid = req
        .conversion
        .as_ref()
        .is_some_and(|c| c.prior_registration_fee == Some(PriorRegistrationFee::Paid));
    if req.procedure == Procedure::PurposeConversion && paid {
        lines.retain(|l| l.code != O::RegistrationFee);
        ctx.warnings.push("registration_fee: the fee was paid when the land was first registered; whether it arises again on the conversion is not established, so the line is left out".to_string());
    }
}

fn compute(ctx: &mut Ctx<'_>, code: ObligationCode) -> Result<Vec<Line>, Vec<FieldError>> {
    let one = |r: Result<Option<Line>, FieldError>| {
        r.map(|l| l.into_iter().collect()).map_err(|e| vec![e])
    };
    match code {
        O::RegistrationFee => one(registration_fee::line(ctx)),
        O::LandRentAnnual | O::LandRentOneOff | O::LandUseLevy
            if ctx.req.procedure == Procedure::TermExtension =>
        {
            one(term_extension::line(ctx, code))
        }
        O::PitTransfer => pit_transfer::lines(ctx).map_err(|e| vec![e]),
        O::PitInheritanceGift => one(pit_inheritance_gift::line(ctx)),
        O::LandUseLevy if ctx.req.procedure == Procedure::LeaseToAllocation => {
            one(term_extension::lease_to_allocation_line(ctx))
        }
        O::LandUseLevy => one(land_use_levy::line(ctx)),
        O::LandRentAnnual => one(land_rent::annual_line(ctx)),
        O::LandRentOneOff => one(land_rent::one_off_line(ctx)),
        O::NonAgriculturalLandTax => land_tax::lines(ctx),
        O::AppraisalFee | O::CertificateFee => one(procedure_fees::line(ctx, code)),
        O::LatePaymentInterest => Ok(Vec::new()),
    }
}
