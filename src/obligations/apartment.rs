//! Apartments (căn hộ chung cư): the provincial value per m² of floor area includes
//! the allocated land; the maintenance fund is not part of the price.
#![warn(clippy::float_arithmetic)]

use rust_decimal::Decimal;

use crate::obligations::line::{show, Line};
use crate::obligations::request::{Apartment, Contract};

/// `floor area × price per m² × remaining quality`.
pub fn value(a: &Apartment, line: &mut Line) -> Decimal {
    let value = a.floor_area_m2 * a.price_per_m2 * a.remaining_quality_pct / Decimal::ONE_HUNDRED;
    line.explain(format!(
        "apartment value = {} m² × {} × {}% = {}",
        show(a.floor_area_m2),
        show(a.price_per_m2),
        show(a.remaining_quality_pct),
        show(value)
    ));
    value
}

/// A transfer: the higher of the contract price less the maintenance fund and the
/// apartment value.
pub fn transfer_base(a: &Apartment, contract: Option<&Contract>, line: &mut Line) -> Decimal {
    let floor = value(a, line);
    let Some(total) = contract.and_then(|c| c.total_price) else {
        line.explain("no contract price: base = apartment value");
        return floor;
    };
    let fund = a.maintenance_fund.map_or(Decimal::ZERO, |f| f.to_decimal());
    let price = total.to_decimal() - fund;
    let base = price.max(floor);
    line.explain(format!(
        "base = max(contract {} − maintenance fund {} = {}; {}) = {}",
        show(total.to_decimal()),
        show(fund),
        show(price),
        show(floor),
        show(base)
    ));
    base
}
