//! `parse_request`: JSON body → [`QuoteRequest`], collecting every field error.
#![warn(clippy::float_arithmetic)]

use std::collections::BTreeSet;

use rust_decimal::Decimal;
use serde_json::{Map, Value};

use crate::obligations::engine::requirement_errors;
use crate::obligations::fields::{join, Bound, FieldError, Reader};
use crate::obligations::parse_land_tax::annual_land_tax;
use crate::obligations::parse_more;
use crate::obligations::request::{
    Allocation, AnnualLandTax, Contract, Conversion, ConversionOrigin, Extension, House, Lease,
    Parcel, QuoteRequest, Recognition, TransferFacts,
};

/// Parses and validates a quote request body. All errors are collected.
pub fn parse_request(body: &Value) -> Result<QuoteRequest, Vec<FieldError>> {
    let Some(obj) = body.as_object() else {
        return Err(vec![FieldError::new("body", "must be a JSON object")]);
    };
    let mut r = Reader::default();
    let procedure = r.choice(obj, "", "procedure");
    let procedure = r.required(procedure, obj.contains_key("procedure"), "procedure".into());
    let as_of = r.date(obj, "", "as_of");
    let as_of = r.required(as_of, obj.contains_key("as_of"), "as_of".into());
    let province_code = r.string(obj, "", "province_code");
    if let Some(code) = &province_code {
        if code.len() != 2 || !code.chars().all(|c| c.is_ascii_digit()) {
            r.fail(
                "province_code",
                "must be a two-digit province code such as \"01\"",
            );
        }
    }
    let mut sections = Sections::read(&mut r, obj);
    let relationship = r.choice(obj, "", "relationship").unwrap_or_default();
    let transfer_map = obj.get("transfer").and_then(Value::as_object);
    if let (Some(facts), Some(m)) = (sections.transfer.as_mut(), transfer_map) {
        match parse_more::co_owners(&mut r, m, facts, relationship) {
            Some(owners) => {
                facts.ownership_shares = owners.iter().map(|o| o.share).collect();
                facts.co_owners = owners;
            }
            None if m.get("co_owners").is_some_and(|v| !v.is_null()) => {
                sections.invalid.insert("transfer");
            }
            None => {}
        }
    }
    let notice_date = r.date(obj, "", "notice_date");
    if let (Some(n), Some(a)) = (notice_date, as_of) {
        if n < a {
            r.fail("notice_date", "must not be before as_of");
        }
    }
    let extra = Extra::read(&mut r, obj, &mut sections);
    let request = QuoteRequest {
        procedure: procedure.unwrap_or(crate::obligations::request::Procedure::Transfer),
        as_of: as_of.unwrap_or_default(),
        province_code,
        agency_code: r.string(obj, "", "agency_code"),
        dossier_code: r.string(obj, "", "dossier_code"),
        channel: r.choice(obj, "", "channel").unwrap_or_default(),
        applicant_kind: r.choice(obj, "", "applicant_kind").unwrap_or_default(),
        relationship,
        obligations: obligations(&mut r, obj),
        parcel: sections.parcel,
        house: sections.house,
        contract: sections.contract,
        transfer: sections.transfer,
        lease: sections.lease,
        conversion: sections.conversion,
        recognition: sections.recognition,
        allocation: sections.allocation,
        extension: sections.extension,
        annual_land_tax: sections.annual_land_tax,
        notice_date,
        exemptions: parse_more::codes(&mut r, obj, "", "exemptions"),
        reductions: parse_more::codes(&mut r, obj, "", "reductions"),
        seller_kind: parse_more::seller(&mut r, obj),
        apartment: extra.apartment,
        term_extension: extra.term_extension,
        lease_to_allocation: extra.lease_to_allocation,
    };
    if procedure.is_some() {
        r.errors
            .extend(requirement_errors(&request, &sections.invalid));
    }
    if r.errors.is_empty() {
        Ok(request)
    } else {
        Err(r.errors)
    }
}

fn obligations(
    r: &mut Reader,
    obj: &Map<String, Value>,
) -> Option<Vec<crate::obligations::request::ObligationCode>> {
    let value = obj.get("obligations").filter(|v| !v.is_null())?;
    let Some(list) = value.as_array() else {
        r.fail("obligations", "must be null or a list of obligation codes");
        return None;
    };
    let codes: Vec<_> = list
        .iter()
        .enumerate()
        .filter_map(|(i, v)| r.choice_value(v, &format!("obligations[{i}]")))
        .collect();
    Some(codes)
}

/// The sections of procedures and assets added later (apartment, term extension,
/// lease → allocation), with their cross-checks.
struct Extra {
    apartment: Option<crate::obligations::request::Apartment>,
    term_extension: Option<crate::obligations::request::TermExtension>,
    lease_to_allocation: Option<crate::obligations::request::LeaseToAllocation>,
}

impl Extra {
    fn read(r: &mut Reader, obj: &Map<String, Value>, sections: &mut Sections) -> Extra {
        let mut read = |r: &mut Reader, key: &'static str| {
            let before = r.errors.len();
            let map = r.object(obj, "", key);
            if r.errors.len() > before {
                sections.invalid.insert(key);
            }
            map
        };
        let apartment = read(r, "apartment").and_then(|m| parse_more::apartment(r, m));
        let term = read(r, "term_extension").and_then(|m| parse_more::term_extension(r, m));
        let lease =
            read(r, "lease_to_allocation").and_then(|m| parse_more::lease_to_allocation(r, m));
        if obj.get("apartment").is_some_and(|v| !v.is_null()) && apartment.is_none() {
            sections.invalid.insert("apartment");
        }
        if let Some(a) = &apartment {
            if obj.get("house").is_some_and(|v| !v.is_null()) {
                r.fail(
                    "apartment",
                    "an apartment is not a house on a parcel; give one of them",
                );
            }
            let total = sections.contract.as_ref().and_then(|c| c.total_price);
            if let (Some(fund), Some(total)) = (a.maintenance_fund, total) {
                if fund >= total {
                    r.fail(
                        "apartment.maintenance_fund",
                        "must be less than contract.total_price",
                    );
                }
            }
        }
        Extra {
            apartment,
            term_extension: term,
            lease_to_allocation: lease,
        }
    }
}

/// The optional sections; `invalid` names those present but rejected, so that a
/// requirement check does not report them missing as well.
struct Sections {
    parcel: Option<Parcel>,
    house: Option<House>,
    contract: Option<Contract>,
    transfer: Option<TransferFacts>,
    lease: Option<Lease>,
    conversion: Option<Conversion>,
    recognition: Option<Recognition>,
    allocation: Option<Allocation>,
    extension: Option<Extension>,
    annual_land_tax: Option<AnnualLandTax>,
    invalid: BTreeSet<&'static str>,
}

impl Sections {
    fn read(r: &mut Reader, obj: &Map<String, Value>) -> Sections {
        let mut invalid = BTreeSet::new();
        let mut section = |r: &mut Reader, key: &'static str| {
            let before = r.errors.len();
            let map = r.object(obj, "", key);
            if map.is_none() && r.errors.len() > before {
                invalid.insert(key);
            }
            map
        };
        let maps = [
            section(r, "parcel"),
            section(r, "house"),
            section(r, "contract"),
            section(r, "transfer"),
            section(r, "lease"),
            section(r, "conversion"),
            section(r, "recognition"),
            section(r, "allocation"),
            section(r, "extension"),
            section(r, "annual_land_tax"),
        ];
        let mut sections = Sections {
            parcel: maps[0].and_then(|m| parcel(r, m)),
            house: maps[1].and_then(|m| house(r, m)),
            contract: maps[2].map(|m| contract(r, m)),
            transfer: maps[3].and_then(|m| transfer(r, m)),
            lease: maps[4].map(|m| lease(r, m)),
            conversion: maps[5].and_then(|m| conversion(r, m)),
            recognition: maps[6].and_then(|m| recognition(r, m)),
            allocation: maps[7].and_then(|m| allocation(r, m)),
            extension: maps[8].and_then(|m| extension(r, m)),
            annual_land_tax: maps[9].and_then(|m| annual_land_tax(r, m)),
            invalid,
        };
        let names = [
            "parcel",
            "house",
            "contract",
            "transfer",
            "lease",
            "conversion",
            "recognition",
            "allocation",
            "extension",
            "annual_land_tax",
        ];
        let parsed = [
            sections.parcel.is_some(),
            sections.house.is_some(),
            sections.contract.is_some(),
            sections.transfer.is_some(),
            sections.lease.is_some(),
            sections.conversion.is_some(),
            sections.recognition.is_some(),
            sections.allocation.is_some(),
            sections.extension.is_some(),
            sections.annual_land_tax.is_some(),
        ];
        for ((name, map), ok) in names.iter().zip(maps.iter()).zip(parsed) {
            if map.is_some() && !ok {
                sections.invalid.insert(name);
            }
        }
        sections
    }
}

fn parcel(r: &mut Reader, m: &Map<String, Value>) -> Option<Parcel> {
    let p = "parcel";
    let area = r.req_decimal(m, p, "area_m2", Bound::Positive);
    let price = r.req_decimal(m, p, "table_price_per_m2", Bound::Positive);
    let coefficient = r.decimal(m, p, "price_coefficient", Bound::Positive);
    let land_use = r.choice(m, p, "land_use");
    let ward_kind = r.choice(m, p, "ward_kind").unwrap_or_default();
    Some(Parcel {
        area_m2: area?,
        land_use,
        table_price_per_m2: price?,
        price_coefficient: coefficient.unwrap_or(Decimal::ONE),
        ward_kind,
    })
}

fn house(r: &mut Reader, m: &Map<String, Value>) -> Option<House> {
    let p = "house";
    let floor = r.req_decimal(m, p, "floor_area_m2", Bound::Positive);
    let price = r.req_decimal(m, p, "new_build_price_per_m2", Bound::Positive);
    let grade = r.choice(m, p, "grade");
    let grade = r.required(grade, m.contains_key("grade"), join(p, "grade"));
    let age = r.count(m, p, "age_years");
    let age = r.required(age, m.contains_key("age_years"), join(p, "age_years"));
    let first = r.boolean(m, p, "first_registration").unwrap_or(false);
    let quality = r.decimal(m, p, "remaining_quality_pct", Bound::Percent);
    let self_built = r.boolean(m, p, "self_built");
    Some(House {
        floor_area_m2: floor?,
        new_build_price_per_m2: price?,
        grade: grade?,
        age_years: age?,
        first_registration: first,
        remaining_quality_pct: quality,
        self_built,
    })
}

fn contract(r: &mut Reader, m: &Map<String, Value>) -> Contract {
    Contract {
        total_price: r.money(m, "contract", "total_price"),
        land_price: r.money(m, "contract", "land_price"),
        house_price: r.money(m, "contract", "house_price"),
    }
}

fn transfer(r: &mut Reader, m: &Map<String, Value>) -> Option<TransferFacts> {
    let p = "transfer";
    let defaults = TransferFacts::default();
    let both = m.get("co_owners").is_some_and(|v| !v.is_null());
    let shares = match m.get("ownership_shares").filter(|v| !v.is_null() && !both) {
        None => defaults.ownership_shares.clone(),
        Some(value) => ownership_shares(r, value)?,
    };
    Some(TransferFacts {
        sole_home: r.boolean(m, p, "sole_home").unwrap_or(defaults.sole_home),
        held_since: r.date(m, p, "held_since"),
        whole_property: r
            .boolean(m, p, "whole_property")
            .unwrap_or(defaults.whole_property),
        owns_off_plan_home: r.boolean(m, p, "owns_off_plan_home").unwrap_or(false),
        ownership_shares: shares,
        co_owners: Vec::new(),
    })
}

fn ownership_shares(r: &mut Reader, value: &Value) -> Option<Vec<Decimal>> {
    let field = "transfer.ownership_shares";
    let Some(list) = value.as_array().filter(|l| !l.is_empty()) else {
        r.fail(field, "must be a non-empty list of decimal fractions");
        return None;
    };
    let before = r.errors.len();
    let shares: Vec<Decimal> = list
        .iter()
        .enumerate()
        .filter_map(|(i, v)| r.decimal_value(v, &format!("{field}[{i}]"), Bound::Fraction))
        .collect();
    if r.errors.len() > before {
        return None;
    }
    if shares.iter().copied().sum::<Decimal>() != Decimal::ONE {
        r.fail(field, "shares must sum to 1");
        return None;
    }
    Some(shares)
}

fn lease(r: &mut Reader, m: &Map<String, Value>) -> Lease {
    let p = "lease";
    Lease {
        rent_rate: r.decimal(m, p, "rent_rate", Bound::Fraction),
        term_years: r.decimal(m, p, "term_years", Bound::Positive),
        table_term_years: r.decimal(m, p, "table_term_years", Bound::Positive),
        infra_cost_per_m2: r.decimal(m, p, "infra_cost_per_m2", Bound::NonNegative),
    }
}

fn conversion(r: &mut Reader, m: &Map<String, Value>) -> Option<Conversion> {
    let p = "conversion";
    let area = r.req_decimal(m, p, "area_m2", Bound::Positive);
    let new_price = r.req_decimal(m, p, "new_price_per_m2", Bound::Positive);
    let old_price = r.decimal(m, p, "old_price_per_m2", Bound::Positive);
    let origin: Option<ConversionOrigin> = r.choice(m, p, "origin");
    let origin = r.required(origin, m.contains_key("origin"), join(p, "origin"));
    let garden = r.boolean(m, p, "garden_pond_same_parcel").unwrap_or(false);
    let used = r.boolean(m, p, "preference_used").unwrap_or(false);
    let quota = r.decimal(m, p, "residential_quota_m2", Bound::Positive);
    let term = r.count(m, p, "term_months").filter(|t| *t > 0);
    let remaining = r.count(m, p, "remaining_term_months");
    let recompute = r.boolean(m, p, "nq254_recompute").unwrap_or(false);
    let prior = r.choice(m, p, "prior_registration_fee");
    let origin = origin?;
    let mut ok = true;
    let needs_old = origin != ConversionOrigin::LeasedAnnual;
    if needs_old && old_price.is_none() && !m.contains_key("old_price_per_m2") {
        r.fail(join(p, "old_price_per_m2"), "is required for this origin");
        ok = false;
    }
    let with_term = matches!(
        origin,
        ConversionOrigin::AgriculturalLeasedOneOff | ConversionOrigin::NonAgriculturalWithTerm
    );
    if with_term {
        match (term, remaining) {
            (Some(t), Some(rem)) if rem > t => {
                r.fail(
                    join(p, "remaining_term_months"),
                    "must not exceed term_months",
                );
                ok = false;
            }
            (Some(_), Some(_)) => {}
            _ => {
                r.fail(
                    join(p, "term_months"),
                    "term_months (> 0) and remaining_term_months are required for this origin",
                );
                ok = false;
            }
        }
    }
    ok.then_some(())?;
    Some(Conversion {
        area_m2: area?,
        new_price_per_m2: new_price?,
        old_price_per_m2: old_price,
        origin,
        garden_pond_same_parcel: garden,
        preference_used: used,
        residential_quota_m2: quota,
        term_months: term,
        remaining_term_months: remaining,
        nq254_recompute: recompute,
        prior_registration_fee: prior,
    })
}

fn recognition(r: &mut Reader, m: &Map<String, Value>) -> Option<Recognition> {
    let p = "recognition";
    let area = r.req_decimal(m, p, "residential_area_m2", Bound::Positive);
    let price = r.req_decimal(m, p, "price_per_m2", Bound::Positive);
    let case = r.choice(m, p, "case");
    let case = r.required(case, m.contains_key("case"), join(p, "case"));
    let paid = r.money(m, p, "paid_amount");
    let paid_per_m2 = r.decimal(m, p, "paid_levy_per_m2", Bound::Positive);
    let quota = r.decimal(m, p, "residential_quota_m2", Bound::Positive);
    Some(Recognition {
        residential_area_m2: area?,
        price_per_m2: price?,
        case: case?,
        paid_amount: paid,
        paid_levy_per_m2: paid_per_m2,
        residential_quota_m2: quota,
    })
}

fn allocation(r: &mut Reader, m: &Map<String, Value>) -> Option<Allocation> {
    let p = "allocation";
    let area = r.req_decimal(m, p, "area_m2", Bound::Positive);
    let price = r.req_decimal(m, p, "price_per_m2", Bound::Positive);
    let infra = r.decimal(m, p, "infra_cost_per_m2", Bound::NonNegative);
    let auction = r.boolean(m, p, "auction").unwrap_or(false);
    let quota = r.decimal(m, p, "residential_quota_m2", Bound::Positive);
    Some(Allocation {
        area_m2: area?,
        price_per_m2: price?,
        infra_cost_per_m2: infra,
        auction,
        residential_quota_m2: quota,
    })
}

/// Months for the extension surcharge: a remainder of 15 days or more counts as one
/// month, less as none (Decree 103 Art 15(1)); a month is taken as 30 days.
pub fn months_from_days(days: u32) -> u32 {
    days / 30 + u32::from(days % 30 >= 15)
}

fn extension(r: &mut Reader, m: &Map<String, Value>) -> Option<Extension> {
    let p = "extension";
    let area = r.req_decimal(m, p, "area_m2", Bound::Positive);
    let price = r.req_decimal(m, p, "price_per_m2", Bound::Positive);
    let months = r.count(m, p, "months");
    let days = r.count(m, p, "days");
    let rent_rate = r.decimal(m, p, "rent_rate", Bound::Fraction);
    let months = match (months, days) {
        (Some(_), Some(_)) => {
            r.fail(join(p, "days"), "give either months or days, not both");
            None
        }
        (Some(mo), None) => Some(mo),
        (None, Some(d)) => Some(months_from_days(d)),
        (None, None) => {
            if !m.contains_key("months") && !m.contains_key("days") {
                r.fail(join(p, "months"), "months or days is required");
            }
            None
        }
    };
    Some(Extension {
        area_m2: area?,
        price_per_m2: price?,
        months: months?,
        days,
        rent_rate,
    })
}
