//! Lệ phí trước bạ nhà, đất (registration fee). Domain spec §2.
#![warn(clippy::float_arithmetic)]

use rust_decimal::Decimal;

use crate::money::format_percent;
use crate::obligations::engine::Ctx;
use crate::obligations::fields::FieldError;
use crate::obligations::house::{house_value, HouseValue};
use crate::obligations::line::{need, show, to_vnd, Line, Payer};
use crate::obligations::request::ObligationCode;
use crate::obligations::request::{Contract, LandUse, Parcel, Procedure, QuoteRequest};
use crate::obligations::rule_types::RegistrationFeeRule;

const NAME: &str = "Lệ phí trước bạ nhà, đất";
const FIELD: &str = "parcel";

/// The registration-fee line, or `None` (with a warning) when no rule is loaded.
pub fn line(ctx: &mut Ctx<'_>) -> Result<Option<Line>, FieldError> {
    let req = ctx.req;
    let Some(row) = ctx.rules.registration_fee.pick(req.as_of) else {
        ctx.missing(
            ObligationCode::RegistrationFee,
            "no registration-fee rule is loaded for as_of",
        );
        return Ok(None);
    };
    let rule = &row.values;
    let parcel = need(req.parcel.as_ref(), FIELD)?;
    let mut line = Line::new(
        ObligationCode::RegistrationFee,
        NAME,
        payer(req.procedure),
        &row.legal_basis,
    );
    line.budget_sub_item = rule.budget_sub_item.clone();
    line.rate = Some(rule.rate);
    let land = land_value(req, parcel, rule, &mut line);
    let house = house_value(req, ctx.rules)?;
    if let Some(h) = &house {
        line.explain(h.step.clone());
        line.uncertain.extend(h.uncertain.iter().cloned());
    }
    let base = base(req, land, house.as_ref(), &mut line);
    let base = capped(base, rule, &mut line);
    line.base = Some(to_vnd(base, FIELD)?);
    let exact = rule.rate * base;
    line.amount = to_vnd(exact, FIELD)?;
    line.explain(format!(
        "fee = {} × {} = {}",
        format_percent(rule.rate),
        show(base),
        line.amount
    ));
    apply_exemptions(req, parcel, rule, &mut line);
    Ok(Some(line))
}

fn payer(procedure: Procedure) -> Payer {
    match procedure {
        Procedure::Transfer => Payer::Transferee,
        Procedure::Gift | Procedure::Inheritance => Payer::Recipient,
        _ => Payer::Applicant,
    }
}

/// `area × table price`, prorated for land leased for less than the table's term.
/// No NQ 254 adjustment coefficient: the LPTB texts say "bảng giá đất" only.
fn land_value(
    req: &QuoteRequest,
    parcel: &Parcel,
    rule: &RegistrationFeeRule,
    line: &mut Line,
) -> Decimal {
    let table = parcel.area_m2 * parcel.table_price_per_m2;
    line.explain(format!(
        "land table value = {} m² × {} = {}",
        show(parcel.area_m2),
        show(parcel.table_price_per_m2),
        show(table)
    ));
    if parcel.price_coefficient != Decimal::ONE {
        line.doubt("the land-price adjustment coefficient is not applied to the registration-fee base (spec §2.1 default)");
    }
    let lease = req.lease.as_ref();
    let term = lease.and_then(|l| l.term_years);
    let table_term = lease
        .and_then(|l| l.table_term_years)
        .unwrap_or(rule.table_term_years);
    match term {
        Some(term) if term < table_term => {
            let value = table * term / table_term;
            line.explain(format!(
                "leased-land value = {} × {} years / {} years = {}",
                show(table),
                show(term),
                show(table_term),
                show(value)
            ));
            line.doubt("lease-term proration (table price × term / table term) carried over from Decree 140/2016");
            value
        }
        _ => table,
    }
}

/// The base: table values, or for transfers the higher of contract and table values
/// (Circular 13/2022 Art 3(1)(a), (c) and 3(2)).
fn base(req: &QuoteRequest, land: Decimal, house: Option<&HouseValue>, line: &mut Line) -> Decimal {
    let house_value = house.map(|h| h.value);
    let floor = land + house_value.unwrap_or(Decimal::ZERO);
    let contract = match (req.procedure, &req.contract) {
        (Procedure::Transfer, Some(c)) => c,
        _ => {
            if house.is_some() {
                line.explain(format!(
                    "base = {} + {} = {}",
                    show(land),
                    show(floor - land),
                    show(floor)
                ));
            }
            return floor;
        }
    };
    contract_base(contract, land, house_value, line)
}

/// Shared with PIT: the higher of the contract price and the floor values.
pub fn contract_base(
    contract: &Contract,
    land: Decimal,
    house: Option<Decimal>,
    line: &mut Line,
) -> Decimal {
    let dec = |v: Option<crate::money::Vnd>| v.map(|v| v.to_decimal());
    match house {
        Some(house) => match (
            dec(contract.land_price),
            dec(contract.house_price),
            dec(contract.total_price),
        ) {
            (Some(cl), Some(ch), _) => {
                let value = cl.max(land) + ch.max(house);
                line.explain(format!(
                    "base = max(contract land {}; {}) + max(contract house {}; {}) = {}",
                    show(cl),
                    show(land),
                    show(ch),
                    show(house),
                    show(value)
                ));
                line.doubt("contract splits land and house: each part floored separately (spec §3.1 recommendation)");
                value
            }
            (_, _, Some(total)) => max_step(total, land + house, line),
            _ => {
                let value = land + house;
                line.explain(format!(
                    "base = {} + {} = {}",
                    show(land),
                    show(house),
                    show(value)
                ));
                value
            }
        },
        None => match dec(contract.land_price.or(contract.total_price)) {
            Some(price) => max_step(price, land, line),
            None => land,
        },
    }
}

fn max_step(contract: Decimal, floor: Decimal, line: &mut Line) -> Decimal {
    let value = contract.max(floor);
    line.explain(format!(
        "base = max(contract {}; {}) = {}",
        show(contract),
        show(floor),
        show(value)
    ));
    value
}

fn capped(base: Decimal, rule: &RegistrationFeeRule, line: &mut Line) -> Decimal {
    match rule.cap {
        Some(cap) if base > cap.to_decimal() => {
            line.explain(format!("base capped at {cap}"));
            cap.to_decimal()
        }
        _ => base,
    }
}

fn apply_exemptions(
    req: &QuoteRequest,
    parcel: &Parcel,
    rule: &RegistrationFeeRule,
    line: &mut Line,
) {
    let gift = matches!(req.procedure, Procedure::Gift | Procedure::Inheritance);
    if gift && req.relationship.is_family_exempt() {
        line.exempt_by(&rule.family_exemption, &rule.family_exemption_basis);
    } else if req.procedure == Procedure::FirstCertificate
        && parcel.land_use == Some(LandUse::Agricultural)
    {
        line.exempt_by(
            &rule.agricultural_exemption,
            &rule.agricultural_exemption_basis,
        );
        line.doubt("agricultural land at first certification is taken to be allocated/recognised for agricultural production");
    }
}
