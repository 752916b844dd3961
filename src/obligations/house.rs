//! The registration-fee value of a house (Circular 13/2022 Art 3(2)), also the
//! PIT floor for houses (Decree 253/2026 Art 57(3), Art 61(4)(c)).
#![warn(clippy::float_arithmetic)]

use rust_decimal::Decimal;

use crate::obligations::fields::FieldError;
use crate::obligations::line::show;
use crate::obligations::request::{House, HouseGrade, QuoteRequest};
use crate::obligations::rule_types::QualityBand;
use crate::obligations::rules::RuleBook;

/// A house value with how it was obtained.
#[derive(Debug, Clone, PartialEq)]
pub struct HouseValue {
    pub value: Decimal,
    pub step: String,
    pub legal_basis: Vec<String>,
    pub uncertain: Vec<String>,
}

/// `floor_area × new_build_price × remaining_quality_pct`, or `None` without a house.
pub fn house_value(req: &QuoteRequest, rules: &RuleBook) -> Result<Option<HouseValue>, FieldError> {
    let Some(house) = &req.house else {
        return Ok(None);
    };
    let (pct, legal_basis, uncertain) = quality(req, house, rules)?;
    let value = house.floor_area_m2 * house.new_build_price_per_m2 * pct / Decimal::ONE_HUNDRED;
    let step = [
        "house value = ",
        &show(house.floor_area_m2),
        " m² × ",
        &show(house.new_build_price_per_m2),
        " × ",
        &show(pct),
        "% = ",
        &show(value),
    ]
    .concat();
    Ok(Some(HouseValue {
        value,
        step,
        legal_basis,
        uncertain,
    }))
}

type Quality = (Decimal, Vec<String>, Vec<String>);

fn quality(req: &QuoteRequest, house: &House, rules: &RuleBook) -> Result<Quality, FieldError> {
    if let Some(pct) = house.remaining_quality_pct {
        return Ok((pct, Vec::new(), Vec::new()));
    }
    if house.first_registration && house.age_years < 5 {
        return Ok((
            Decimal::ONE_HUNDRED,
            vec!["Thông tư 13/2022/TT-BTC Điều 3 khoản 2".to_string()],
            Vec::new(),
        ));
    }
    let province = req.province_code.as_deref().unwrap_or("");
    let row = rules
        .house_quality
        .get(province)
        .and_then(|table| table.pick(req.as_of))
        .ok_or_else(|| {
            FieldError::new(
                "house.remaining_quality_pct",
                format!("is required: no remaining-quality table is loaded for province \"{province}\" on this date"),
            )
        })?;
    let band = row
        .values
        .bands
        .iter()
        .find(|b| b.max_age.is_none_or(|max| house.age_years <= max))
        .ok_or_else(|| {
            FieldError::new(
                "house.age_years",
                "no band of the province's table covers this age",
            )
        })?;
    let pct = Decimal::from(grade_pct(band, house.grade));
    let doubt = format!(
        "remaining quality from the {} table; its effective date and band edges are assumed",
        row.values.province_name
    );
    Ok((pct, row.legal_basis.clone(), vec![doubt]))
}

fn grade_pct(band: &QualityBand, grade: HouseGrade) -> u32 {
    match grade {
        HouseGrade::Villa => band.villa,
        HouseGrade::I => band.grade_1,
        HouseGrade::II => band.grade_2,
        HouseGrade::III => band.grade_3,
        HouseGrade::IV => band.grade_4,
    }
}
