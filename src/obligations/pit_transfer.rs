//! PIT on real-estate transfers (thuế TNCN từ chuyển nhượng BĐS). Domain spec §3.1, §3.3.
#![warn(clippy::float_arithmetic)]

use rust_decimal::Decimal;

use crate::money::{format_decimal, format_percent, format_vnd_plain};
use crate::obligations::apartment;
use crate::obligations::engine::Ctx;
use crate::obligations::fields::FieldError;
use crate::obligations::line::{
    land_table_step, need, show, to_vnd, Line, Payer, COEFFICIENT_DOUBT,
};
use crate::obligations::registration_fee::contract_base;
use crate::obligations::request::{CoOwner, ObligationCode, Parcel, QuoteRequest, TransferFacts};
use crate::obligations::rule_types::PitTransferRule;

const NAME: &str = "Thuế thu nhập cá nhân từ chuyển nhượng bất động sản";

/// One line per co-owner (Decree 253/2026 Art 57(6)(a)), each judged alone
/// (Art 19(2)(a), second paragraph).
pub fn lines(ctx: &mut Ctx<'_>) -> Result<Vec<Line>, FieldError> {
    let req = ctx.req;
    let Some(row) = ctx.rules.pit_transfer.pick(req.as_of) else {
        ctx.missing(
            ObligationCode::PitTransfer,
            "no transfer PIT rule is loaded for as_of",
        );
        return Ok(Vec::new());
    };
    let rule = &row.values;
    let facts = req.transfer.clone().unwrap_or_default();
    let mut template = Line::new(
        ObligationCode::PitTransfer,
        NAME,
        Payer::Transferor,
        &row.legal_basis,
    );
    template.budget_sub_item = rule.budget_sub_item.clone();
    template.rate = Some(rule.rate);
    let price = match &req.apartment {
        Some(a) => {
            template.doubt("apartment: the PIT price is floored at the provincial apartment value, like the registration fee");
            apartment::transfer_base(a, req.contract.as_ref(), &mut template)
        }
        None => transfer_price(ctx, need(req.parcel.as_ref(), "parcel")?, &mut template)?,
    };
    template.base = Some(to_vnd(price, "contract")?);
    let owners = co_owners(req, &facts);
    owners
        .iter()
        .enumerate()
        .map(|(i, owner)| {
            let mut line = template.clone();
            line.co_owner_index = Some(i);
            line.share = Some(owner.share);
            co_owner_line(
                req,
                rule,
                &facts,
                price,
                (i, owner, owners.len()),
                &mut line,
            )?;
            Ok(line)
        })
        .collect()
}

/// The co-owners given, or one per ownership share with the transfer's facts.
fn co_owners(req: &QuoteRequest, facts: &TransferFacts) -> Vec<CoOwner> {
    if !facts.co_owners.is_empty() {
        return facts.co_owners.clone();
    }
    facts
        .ownership_shares
        .iter()
        .map(|share| CoOwner {
            share: *share,
            sole_home: facts.sole_home,
            held_since: facts.held_since,
            owns_off_plan_home: facts.owns_off_plan_home,
            relationship: req.relationship,
        })
        .collect()
}

fn co_owner_line(
    req: &QuoteRequest,
    rule: &PitTransferRule,
    facts: &TransferFacts,
    price: Decimal,
    (index, owner, count): (usize, &CoOwner, usize),
    line: &mut Line,
) -> Result<(), FieldError> {
    let share = owner.share;
    let exact = rule.rate * price * share;
    line.round(exact, "contract")?;
    if count > 1 {
        line.name = format!(
            "{NAME} (đồng sở hữu {}, tỷ lệ {})",
            index + 1,
            format_decimal(share)
        );
        line.explain(
            [
                "PIT = ",
                &format_percent(rule.rate),
                " × ",
                &show(price),
                " × share ",
                &format_decimal(share),
                " = ",
                &format_vnd_plain(line.amount.dong()),
            ]
            .concat(),
        );
    } else {
        line.explain(
            [
                "PIT = ",
                &format_percent(rule.rate),
                " × ",
                &show(price),
                " = ",
                &format_vnd_plain(line.amount.dong()),
            ]
            .concat(),
        );
    }
    apply_exemptions(req, rule, facts.whole_property, owner, line);
    Ok(())
}

/// Contract price with the table floors (Decree 253/2026 Art 57(1)–(3)).
fn transfer_price(ctx: &Ctx<'_>, parcel: &Parcel, line: &mut Line) -> Result<Decimal, FieldError> {
    let land = land_floor(parcel, line);
    let house = ctx.house_value()?;
    if let Some(h) = house {
        line.explain(h.step.clone());
        line.uncertain.extend(h.uncertain.iter().cloned());
    }
    let house = house.map(|h| h.value);
    Ok(match &ctx.req.contract {
        Some(contract) => {
            if house.is_some() {
                line.doubt("house and land: the contract is floored part by part when it splits the price, else its total against land + house floors (spec §3.1 recommendation)");
            }
            contract_base(contract, land, house, line)
        }
        None => {
            let value = land + house.unwrap_or(Decimal::ZERO);
            line.explain(format!(
                "no contract price: price = table values = {}",
                show(value)
            ));
            value
        }
    })
}

/// `area × table price × adjustment coefficient (if any)`.
pub fn land_floor(parcel: &Parcel, line: &mut Line) -> Decimal {
    let value = parcel.area_m2 * parcel.table_price_per_m2 * parcel.price_coefficient;
    let coefficient = if parcel.price_coefficient == Decimal::ONE {
        line.doubt(COEFFICIENT_DOUBT);
        None
    } else {
        Some(parcel.price_coefficient)
    };
    line.explain(land_table_step(parcel, coefficient, value));
    value
}

fn apply_exemptions(
    req: &QuoteRequest,
    rule: &PitTransferRule,
    whole_property: bool,
    owner: &CoOwner,
    line: &mut Line,
) {
    if owner.relationship.is_family_exempt() {
        line.exempt_by(
            "pit_family",
            &rule.family_exemption,
            &rule.family_exemption_basis,
        );
        return;
    }
    if !owner.sole_home {
        return;
    }
    let Some(since) = owner.held_since else {
        line.explain(
            "sole-home exemption not claimed: held_since (certificate issue date) not given",
        );
        return;
    };
    let days = (req.as_of - since).num_days();
    if days >= rule.sole_home_min_days && whole_property && !owner.owns_off_plan_home {
        line.explain(format!(
            "sole home held {days} days (≥ {}), whole property transferred",
            rule.sole_home_min_days
        ));
        line.exempt_by(
            "pit_sole_home",
            &rule.sole_home_exemption,
            &rule.sole_home_exemption_basis,
        );
        line.doubt("sole-home status is self-declared by each co-owner");
    } else {
        line.explain(format!(
            "sole-home exemption not met: held {days} days (needs ≥ {}), whole property {}, off-plan home {}",
            rule.sole_home_min_days, whole_property, owner.owns_off_plan_home
        ));
    }
}
