//! PIT on inheritance and gifts of real estate. Domain spec §3.2, §3.3.
#![warn(clippy::float_arithmetic)]

use rust_decimal::Decimal;

use crate::money::format_percent;
use crate::obligations::engine::Ctx;
use crate::obligations::fields::FieldError;
use crate::obligations::line::{need, show, to_vnd, Line, Payer};
use crate::obligations::pit_transfer::land_floor;
use crate::obligations::request::{ApplicantKind, ObligationCode};

const NAME: &str = "Thuế thu nhập cá nhân từ nhận thừa kế, quà tặng là bất động sản";

/// `10% × max(0, value − threshold)`; the threshold depends on the date.
pub fn line(ctx: &mut Ctx<'_>) -> Result<Option<Line>, FieldError> {
    let req = ctx.req;
    let Some(row) = ctx.rules.pit_inheritance_gift.pick(req.as_of) else {
        ctx.missing(
            ObligationCode::PitInheritanceGift,
            "no inheritance/gift PIT rule is loaded for as_of",
        );
        return Ok(None);
    };
    if req.applicant_kind == ApplicantKind::Organisation {
        ctx.warnings.push("pit_inheritance_gift: personal income tax does not arise when the recipient is an organisation; the line is left out".to_string());
        return Ok(None);
    }
    let rule = &row.values;
    let mut line = Line::new(
        ObligationCode::PitInheritanceGift,
        NAME,
        Payer::Recipient,
        &row.legal_basis,
    );
    line.budget_sub_item = rule.budget_sub_item.clone();
    line.rate = Some(rule.rate);
    let mut value = match &req.apartment {
        Some(a) => {
            line.doubt("the gift/inheritance value of an apartment is taken as the provincial apartment value (floor area × price × remaining quality)");
            crate::obligations::apartment::value(a, &mut line)
        }
        None => land_floor(need(req.parcel.as_ref(), "parcel")?, &mut line),
    };
    if let Some(house) = ctx.house_value()? {
        line.explain(house.step.clone());
        line.uncertain.extend(house.uncertain.iter().cloned());
        value += house.value;
        line.explain(format!("property value = {}", show(value)));
    }
    let taxable = (value - rule.threshold.to_decimal()).max(Decimal::ZERO);
    line.base = Some(to_vnd(taxable, "parcel")?);
    line.explain(format!(
        "taxable = max(0; {} − {}) = {}",
        show(value),
        rule.threshold,
        show(taxable)
    ));
    line.round(rule.rate * taxable, "parcel")?;
    line.explain(format!(
        "PIT = {} × {} = {}",
        format_percent(rule.rate),
        show(taxable),
        line.amount
    ));
    if req.relationship.is_family_exempt() {
        line.exempt_by(
            "pit_family",
            &rule.family_exemption,
            &rule.family_exemption_basis,
        );
    }
    Ok(Some(line))
}
