//! Lệ phí trước bạ nhà, đất (registration fee). Domain spec §2.
#![warn(clippy::float_arithmetic)]

use rust_decimal::Decimal;

use crate::money::{format_percent, format_vnd_plain};
use crate::obligations::apartment;
use crate::obligations::engine::Ctx;
use crate::obligations::fields::FieldError;
use crate::obligations::house::HouseValue;
use crate::obligations::line::{land_table_step, need, show, to_vnd, Line, Payer};
use crate::obligations::relief::{Reduction, ReliefKind};
use crate::obligations::request::ObligationCode;
use crate::obligations::request::{
    ApplicantKind, Contract, LandUse, Parcel, Procedure, QuoteRequest,
};
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
    let mut line = Line::new(
        ObligationCode::RegistrationFee,
        NAME,
        payer(req.procedure),
        &row.legal_basis,
    );
    line.budget_sub_item = rule.budget_sub_item.clone();
    line.rate = Some(rule.rate);
    let family = matches!(req.procedure, Procedure::Gift | Procedure::Inheritance)
        && req.relationship.is_family_exempt();
    let (full, due) = match special_base(req, &mut line) {
        Some(base) => {
            let base = capped(base, rule, &mut line);
            (base, base)
        }
        None => parcel_bases(ctx, rule, family, &mut line)?,
    };
    line.base = Some(to_vnd(full, FIELD)?);
    line.round(rule.rate * full, FIELD)?;
    line.explain(
        [
            "fee = ",
            &format_percent(rule.rate),
            " × ",
            &show(full),
            " = ",
            &format_vnd_plain(line.amount.dong()),
        ]
        .concat(),
    );
    if family {
        line.exempt_by(
            "rf_family",
            &rule.family_exemption,
            &rule.family_exemption_basis,
        );
    } else if due < full {
        item_relief(ctx, rule, rule.rate * due, &mut line)?;
    }
    Ok(Some(line))
}

/// Conversion (Circular 13/2022 Art 3(1)(a): the new purpose's table price),
/// allocation (Decree 10/2022 Art 7(1): the table price or the winning bid) and
/// apartments: their base, or `None` for a parcel (and house).
fn special_base(req: &QuoteRequest, line: &mut Line) -> Option<Decimal> {
    if let (Procedure::PurposeConversion, Some(c)) = (req.procedure, &req.conversion) {
        let base = c.area_m2 * c.new_price_per_m2;
        line.explain(format!(
            "converted land at the new purpose's table price = {} m² × {} = {}",
            show(c.area_m2),
            show(c.new_price_per_m2),
            show(base)
        ));
        line.legal_basis
            .push("Thông tư 13/2022/TT-BTC Điều 3 khoản 1 điểm a".to_string());
        return Some(base);
    }
    if let (Procedure::Allocation, Some(a)) = (req.procedure, &req.allocation) {
        let base = a.area_m2 * a.price_per_m2;
        let what = if a.auction {
            "winning bid"
        } else {
            "table price"
        };
        line.explain(format!(
            "allocated land at the {what} = {} m² × {} = {}",
            show(a.area_m2),
            show(a.price_per_m2),
            show(base)
        ));
        line.legal_basis
            .push("Nghị định 10/2022/NĐ-CP Điều 7 khoản 1".to_string());
        return Some(base);
    }
    let a = req.apartment.as_ref()?;
    line.legal_basis.push(
        "Nghị định 10/2022/NĐ-CP Điều 7; Thông tư 13/2022/TT-BTC Điều 3 (giá căn hộ gồm giá trị đất phân bổ, không gồm kinh phí bảo trì)".to_string(),
    );
    Some(if req.procedure == Procedure::Transfer {
        apartment::transfer_base(a, req.contract.as_ref(), line)
    } else {
        apartment::value(a, line)
    })
}

/// A parcel (and house): the base before item exemptions and the base after them.
fn parcel_bases(
    ctx: &Ctx<'_>,
    rule: &RegistrationFeeRule,
    family: bool,
    line: &mut Line,
) -> Result<(Decimal, Decimal), FieldError> {
    let req = ctx.req;
    let parcel = need(req.parcel.as_ref(), FIELD)?;
    let land = land_value(req, parcel, rule, line);
    let house = ctx.house_value()?;
    if let Some(h) = house {
        line.explain(h.step.clone());
        line.uncertain.extend(h.uncertain.iter().cloned());
    }
    let full = capped(base(req, land, house, line), rule, line);
    // Exempt items contribute 0 (Decree 10/2022 Art 10 k4, k11).
    let land_exempt = !family && agricultural_land_exempt(req, parcel);
    let house_exempt = !family && house.is_some() && self_built_house_exempt(req, rule);
    if !land_exempt && !house_exempt {
        return Ok((full, full));
    }
    if land_exempt {
        item_exempt(
            line,
            "land",
            &rule.agricultural_exemption,
            &rule.agricultural_exemption_basis,
        );
        line.doubt("agricultural land at first certification is taken to be allocated/recognised for agricultural production");
    }
    if house_exempt {
        let (name, basis) = self_built_names(rule);
        item_exempt(line, "house", name, basis);
        line.doubt("the house is taken to be self-built by the household/individual (phát triển nhà ở riêng lẻ; set house.self_built = false otherwise); clause number k11 unconfirmed");
    }
    let land = if land_exempt { Decimal::ZERO } else { land };
    let house = if house_exempt { None } else { house };
    let mut scratch = line.clone();
    let due = capped(base(req, land, house, &mut scratch), rule, &mut scratch);
    Ok((full, due))
}

/// The exempt items of a parcel line: the whole line exempt when nothing taxable
/// is left, else the house item removed (a fixed amount, rate `null`).
fn item_relief(
    ctx: &Ctx<'_>,
    rule: &RegistrationFeeRule,
    due_exact: Decimal,
    line: &mut Line,
) -> Result<(), FieldError> {
    let req = ctx.req;
    let land_exempt = req
        .parcel
        .as_ref()
        .is_some_and(|p| agricultural_land_exempt(req, p));
    let whole = due_exact == Decimal::ZERO;
    let (code, name, basis) = if land_exempt {
        (
            "rf_agricultural_first_certificate",
            rule.agricultural_exemption.as_str(),
            rule.agricultural_exemption_basis.as_str(),
        )
    } else {
        let (name, basis) = self_built_names(rule);
        ("rf_self_built_house", name, basis)
    };
    if whole {
        line.exempt_by(code, name, basis);
        let house_too = req.house.is_some() && self_built_house_exempt(req, rule);
        if land_exempt && house_too {
            let (house_name, house_basis) = self_built_names(rule);
            line.exemption = Some(format!("{name} ({basis}); {house_name} ({house_basis})"));
        }
        return Ok(());
    }
    let full = line.full_amount;
    line.round(due_exact, FIELD)?;
    line.full_amount = full;
    let mut r = Reduction::new(code, ReliefKind::Exemption, None, basis);
    r.amount = full.checked_sub(line.amount).unwrap_or(full);
    line.explain(format!(
        "exempt item removed ({code}): fee due = {}",
        line.amount
    ));
    line.reduction = Some(r);
    Ok(())
}

/// Agricultural land allocated/leased/recognised for production (Decree 10/2022 Art 10).
fn agricultural_land_exempt(req: &QuoteRequest, parcel: &Parcel) -> bool {
    req.procedure == Procedure::FirstCertificate && parcel.land_use == Some(LandUse::Agricultural)
}

/// Houses of households/individuals created by building them themselves
/// ("phát triển nhà ở riêng lẻ"; Decree 10/2022 Art 10, k11 [clause UNCERTAIN]):
/// at a first certificate, unless the request says the house was not self-built.
fn self_built_house_exempt(req: &QuoteRequest, rule: &RegistrationFeeRule) -> bool {
    req.procedure == Procedure::FirstCertificate
        && req.applicant_kind == ApplicantKind::Individual
        && rule.self_built_house_exemption.is_some()
        && req
            .house
            .as_ref()
            .is_some_and(|h| h.self_built != Some(false))
}

fn self_built_names(rule: &RegistrationFeeRule) -> (&str, &str) {
    (
        rule.self_built_house_exemption
            .as_deref()
            .unwrap_or_default(),
        rule.self_built_house_exemption_basis
            .as_deref()
            .unwrap_or_default(),
    )
}

fn item_exempt(line: &mut Line, item: &str, name: &str, basis: &str) {
    line.explain(format!("{item} exempt: {name} ({basis}) → contributes 0"));
    if !line.legal_basis.iter().any(|b| b == basis) {
        line.legal_basis.push(basis.to_string());
    }
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
    line.explain(land_table_step(parcel, None, table));
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
/// With a house: a contract that splits the price is floored part by part (land at
/// the table value, house at the registration-fee house value; Circular 13/2022
/// Art 3(1)(a), 3(2)); an undivided total is compared with the sum of the floors
/// (Art 3(1)(c)). A part the contract does not price is taken at its floor.
pub fn contract_base(
    contract: &Contract,
    land: Decimal,
    house: Option<Decimal>,
    line: &mut Line,
) -> Decimal {
    let dec = |v: Option<crate::money::Vnd>| v.map(|v| v.to_decimal());
    let Some(house) = house else {
        return match dec(contract.land_price.or(contract.total_price)) {
            Some(price) => max_step(price, land, line),
            None => land,
        };
    };
    let (cl, ch, total) = (
        dec(contract.land_price),
        dec(contract.house_price),
        dec(contract.total_price),
    );
    match (cl, ch, total) {
        (None, None, Some(total)) => max_step(total, land + house, line),
        (None, None, None) => {
            let value = land + house;
            line.explain(format!(
                "base = {} + {} = {}",
                show(land),
                show(house),
                show(value)
            ));
            value
        }
        (cl, ch, total) => {
            // A total with one priced part prices the other part as the remainder.
            let (cl, ch) = match (cl, ch, total) {
                (Some(l), None, Some(t)) if t > l => (Some(l), Some(t - l)),
                (None, Some(h), Some(t)) if t > h => (Some(t - h), Some(h)),
                other => (other.0, other.1),
            };
            let part = |c: Option<Decimal>, floor: Decimal| c.map_or(floor, |c| c.max(floor));
            let value = part(cl, land) + part(ch, house);
            let shown = |c: Option<Decimal>| c.map_or_else(|| "—".to_string(), show);
            line.explain(format!(
                "base = max(contract land {}; {}) + max(contract house {}; {}) = {}",
                shown(cl),
                show(land),
                shown(ch),
                show(house),
                show(value)
            ));
            value
        }
    }
}

fn max_step(contract: Decimal, floor: Decimal, line: &mut Line) -> Decimal {
    let value = contract.max(floor);
    line.explain(
        [
            "base = max(contract ",
            &show(contract),
            "; ",
            &show(floor),
            ") = ",
            &show(value),
        ]
        .concat(),
    );
    value
}

fn capped(base: Decimal, rule: &RegistrationFeeRule, line: &mut Line) -> Decimal {
    match rule.cap {
        Some(cap) if base > cap.to_decimal() => {
            line.explain(format!("base capped at {cap}"));
            cap.to_decimal()
        }
        Some(_) => base,
        None => {
            if base > Decimal::from(500_000_000) {
                line.doubt("no 500,000,000 đ cap per asset since Decree 10/2022 (01/03/2022); the cap of Decree 140/2016 is taken as abolished (spec §2, §10.7)");
            }
            base
        }
    }
}
