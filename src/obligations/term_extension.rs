//! Gia hạn thời hạn sử dụng đất (term extension) and chuyển từ thuê đất sang giao
//! đất có thu tiền sử dụng đất (lease → allocation).
#![warn(clippy::float_arithmetic)]

use rust_decimal::Decimal;

use crate::money::{format_decimal, format_percent};
use crate::obligations::engine::Ctx;
use crate::obligations::fields::FieldError;
use crate::obligations::line::{need, show, to_vnd, Line, Payer, COEFFICIENT_DOUBT};
use crate::obligations::request::{LeasePayment, ObligationCode};

const ONE_OFF_BASIS: &str = "Nghị định 103/2024/NĐ-CP Điều 26 khoản 2 điểm a (sửa đổi bởi Nghị định 50/2026/NĐ-CP Điều 13 khoản 13); Nghị định 50/2026/NĐ-CP Điều 4 khoản 2 (thời hạn gia hạn sử dụng đất)";
const ANNUAL_BASIS: &str = "Nghị định 103/2024/NĐ-CP Điều 26 khoản 1";
const EXTENSION_LEVY_DOUBT: &str = "term extension paid by levy: levy = area × price × coefficient × extension years / table term, by analogy with one-off rent (the provision was not retrieved)";
const LEASE_DOUBT: &str = "lease → allocation: levy = max(0; area × price × coefficient − value of the remaining one-off lease), by analogy with the conversion rules (Decree 103 Art 8); the provision was not retrieved";

/// The NQ 254 coefficient from `parcel.price_coefficient` when a parcel is given.
fn coefficient(ctx: &Ctx<'_>, line: &mut Line) -> Decimal {
    let k = ctx
        .req
        .parcel
        .as_ref()
        .map_or(Decimal::ONE, |p| p.price_coefficient);
    if k == Decimal::ONE {
        line.doubt(COEFFICIENT_DOUBT);
    } else {
        line.explain(format!(
            "price × adjustment coefficient {}",
            format_decimal(k)
        ));
    }
    k
}

/// The legal basis, name and payer of a line.
type Heading = (Vec<String>, &'static str, Payer);

/// The legal basis, name and payer of a term-extension line; `None` (with a
/// warning) when no rule is loaded for as_of.
fn heading(ctx: &mut Ctx<'_>, code: ObligationCode) -> Result<Option<Heading>, FieldError> {
    let req = ctx.req;
    let t = need(req.term_extension.as_ref(), "term_extension")?;
    if code == ObligationCode::LandUseLevy {
        let Some(row) = ctx.rules.levy_general.pick(req.as_of) else {
            ctx.missing(code, "no land-use-levy rule is loaded for as_of");
            return Ok(None);
        };
        let name = "Tiền sử dụng đất khi gia hạn thời hạn sử dụng đất";
        return Ok(Some((row.legal_basis.clone(), name, Payer::LandUser)));
    }
    let Some(row) = ctx.rules.land_rent.pick(req.as_of) else {
        ctx.missing(code, "no land-rent rule is loaded for as_of");
        return Ok(None);
    };
    let mut basis = row.legal_basis.clone();
    if code == ObligationCode::LandRentOneOff {
        basis.push(ONE_OFF_BASIS.to_string());
        let name = "Tiền thuê đất một lần cho thời gian gia hạn";
        return Ok(Some((basis, name, Payer::Lessee)));
    }
    let rate = *need(t.rent_rate.as_ref(), "term_extension.rent_rate")?;
    if rate < row.values.min_rate || rate > row.values.max_rate {
        return Err(FieldError::new(
            "term_extension.rent_rate",
            format!(
                "must be between {} and {}",
                row.values.min_rate, row.values.max_rate
            ),
        ));
    }
    basis.push(ANNUAL_BASIS.to_string());
    let name = "Tiền thuê đất hằng năm sau khi gia hạn";
    Ok(Some((basis, name, Payer::Lessee)))
}

/// The line of a term extension: one-off rent, annual rent or levy by `payment`.
pub fn line(ctx: &mut Ctx<'_>, code: ObligationCode) -> Result<Option<Line>, FieldError> {
    let Some((basis, name, payer)) = heading(ctx, code)? else {
        return Ok(None);
    };
    let t = need(ctx.req.term_extension.as_ref(), "term_extension")?;
    let mut line = Line::new(code, name, payer, &basis);
    let price = t.price_per_m2 * coefficient(ctx, &mut line);
    let value = t.area_m2 * price;
    line.base = Some(to_vnd(value, "term_extension")?);
    if code == ObligationCode::LandRentAnnual {
        let rate = t.rent_rate.unwrap_or_default();
        line.rate = Some(rate);
        line.round(value * rate, "term_extension")?;
        line.explain(format!(
            "annual rent = {} m² × {} × {} = {}",
            show(t.area_m2),
            show(price),
            format_percent(rate),
            line.amount
        ));
        return Ok(Some(line));
    }
    line.round(
        value * t.extension_years / t.table_term_years,
        "term_extension",
    )?;
    line.explain(format!(
        "{} m² × {} / {} years × {} years extended = {}",
        show(t.area_m2),
        show(price),
        show(t.table_term_years),
        show(t.extension_years),
        line.amount
    ));
    if code == ObligationCode::LandUseLevy {
        line.doubt(EXTENSION_LEVY_DOUBT);
    }
    Ok(Some(line))
}

/// Lease → allocation with levy.
pub fn lease_to_allocation_line(ctx: &mut Ctx<'_>) -> Result<Option<Line>, FieldError> {
    let req = ctx.req;
    let Some(row) = ctx.rules.levy_general.pick(req.as_of) else {
        ctx.missing(
            ObligationCode::LandUseLevy,
            "no land-use-levy rule is loaded for as_of",
        );
        return Ok(None);
    };
    let l = need(req.lease_to_allocation.as_ref(), "lease_to_allocation")?;
    let mut line = Line::new(
        ObligationCode::LandUseLevy,
        "Tiền sử dụng đất khi chuyển từ thuê đất sang giao đất",
        Payer::LandUser,
        &row.legal_basis,
    );
    let k = coefficient(ctx, &mut line);
    let after = l.area_m2 * l.price_per_m2 * k;
    line.explain(format!(
        "value after = {} m² × {} = {}",
        show(l.area_m2),
        show(l.price_per_m2 * k),
        show(after)
    ));
    let before = match l.lease_payment {
        LeasePayment::Annual => {
            line.explain("value before = 0 (land leased with annual rent)");
            Decimal::ZERO
        }
        LeasePayment::OneOff => {
            let price = *need(
                l.lease_price_per_m2.as_ref(),
                "lease_to_allocation.lease_price_per_m2",
            )?;
            let term = Decimal::from(*need(
                l.term_months.as_ref(),
                "lease_to_allocation.term_months",
            )?);
            let left = Decimal::from(*need(
                l.remaining_term_months.as_ref(),
                "lease_to_allocation.remaining_term_months",
            )?);
            let value = l.area_m2 * price * k * left / term;
            line.explain(format!(
                "value before = {} m² × {} × {left} / {term} months = {}",
                show(l.area_m2),
                show(price * k),
                show(value)
            ));
            value
        }
    };
    line.base = Some(to_vnd(after, "lease_to_allocation")?);
    line.round((after - before).max(Decimal::ZERO), "lease_to_allocation")?;
    line.explain(format!(
        "levy = max(0; {} − {}) = {}",
        show(after),
        show(before),
        line.amount
    ));
    line.doubt(LEASE_DOUBT);
    Ok(Some(line))
}
