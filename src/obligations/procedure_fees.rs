//! Provincial procedure fees: lệ phí cấp GCN and phí thẩm định hồ sơ. Domain spec §7.
//! Amounts come only from loaded schedules; a missing one gives a warning.
#![warn(clippy::float_arithmetic)]

use crate::money::{format_vnd_plain, Vnd};
use crate::obligations::engine::Ctx;
use crate::obligations::fields::FieldError;
use crate::obligations::line::{Line, Payer};
use crate::obligations::request::{ApplicantKind, Channel, ObligationCode, Procedure, WardKind};
use crate::obligations::rule_types::{CertificateItems, FeeColumns, FeeSchedule};

const CERTIFICATE: &str =
    "Lệ phí cấp giấy chứng nhận quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất";
const APPRAISAL: &str = "Phí thẩm định hồ sơ cấp giấy chứng nhận";

pub fn line(ctx: &mut Ctx<'_>, code: ObligationCode) -> Result<Option<Line>, FieldError> {
    let req = ctx.req;
    let Some(province) = req.province_code.as_deref() else {
        ctx.missing(
            code,
            "province_code not given, so no provincial fee schedule applies",
        );
        return Ok(None);
    };
    let Some(row) = ctx
        .rules
        .fee_schedules
        .get(province)
        .and_then(|t| t.pick(req.as_of))
    else {
        ctx.missing(
            code,
            &format!("no fee schedule is loaded for province {province} on as_of"),
        );
        return Ok(None);
    };
    let schedule = &row.values;
    let (column, column_name) = column(ctx);
    let has_house = req.house.is_some();
    let (name, item, item_name) = if code == ObligationCode::AppraisalFee {
        let Some(items) = &schedule.appraisal else {
            ctx.missing(
                code,
                &format!(
                    "appraisal-fee amounts for {} are not established in the reference data",
                    schedule.province_name
                ),
            );
            return Ok(None);
        };
        let item = if has_house {
            &items.with_house
        } else {
            &items.land_only
        };
        (APPRAISAL, item, "appraisal")
    } else {
        let found = schedule
            .certificate
            .as_ref()
            .and_then(|c| certificate_item(c, req.procedure, has_house));
        let Some((item, item_name)) = found else {
            ctx.missing(
                code,
                &format!(
                    "no certificate-charge item for this procedure in {}'s schedule",
                    schedule.province_name
                ),
            );
            return Ok(None);
        };
        (CERTIFICATE, item, item_name)
    };
    let counter = column(item);
    let mut line = Line::new(code, name, Payer::Applicant, &row.legal_basis);
    line.amount = counter;
    line.full_amount = counter;
    line.explain(counter_step(
        &schedule.province_name,
        item_name,
        column_name,
        counter,
    ));
    let two_tier = chrono::NaiveDate::from_ymd_opt(2025, 7, 1).is_some_and(|d| req.as_of >= d);
    if req.province_code.as_deref() == Some("01")
        && two_tier
        && !matches!(req.applicant_kind, ApplicantKind::Organisation)
    {
        line.doubt("ward/commune column: how \"phường thuộc quận, thị xã\" maps onto post-2025 wards is not established");
    }
    apply_online(req.channel, code, schedule, &mut line);
    Ok(Some(line))
}

/// "province: item, column: amount", the line's one step.
fn counter_step(province: &str, item: &str, column: &str, counter: Vnd) -> String {
    let amount = format_vnd_plain(counter.dong());
    [province, ": ", item, ", ", column, ": ", &amount].concat()
}

type Column = fn(&FeeColumns) -> Vnd;

fn column(ctx: &Ctx<'_>) -> (Column, &'static str) {
    let ward = match (&ctx.req.parcel, &ctx.req.apartment) {
        (Some(p), _) => p.ward_kind,
        (None, Some(a)) => a.ward_kind,
        (None, None) => WardKind::Ward,
    };
    match (ctx.req.applicant_kind, ward) {
        (ApplicantKind::Organisation, _) => (|c| c.organisation, "organisation"),
        (ApplicantKind::Individual, WardKind::Ward) => (|c| c.ward, "individual, ward"),
        (ApplicantKind::Individual, WardKind::Commune) => (|c| c.commune, "individual, commune"),
    }
}

fn certificate_item(
    c: &CertificateItems,
    procedure: Procedure,
    house: bool,
) -> Option<(&FeeColumns, &'static str)> {
    match (procedure, house) {
        (Procedure::FirstCertificate, false) => {
            Some((&c.new_land_only, "new certificate, land only"))
        }
        (Procedure::FirstCertificate, true) => {
            Some((&c.new_with_house, "new certificate, land + house"))
        }
        (Procedure::Transfer | Procedure::Gift | Procedure::Inheritance, _) => Some((
            &c.change_registration,
            "certification of a registered change",
        )),
        (Procedure::CertificateChange, false) => {
            Some((&c.reissue_land_only, "exchange/re-issue, land only"))
        }
        (Procedure::CertificateChange, true) => {
            Some((&c.reissue_with_house, "exchange/re-issue, land + house"))
        }
        _ => None,
    }
}

/// Online channel: 0 đ where the schedule says so, except the appraisal fee.
fn apply_online(channel: Channel, code: ObligationCode, schedule: &FeeSchedule, line: &mut Line) {
    if channel == Channel::Online && schedule.online_free && code != ObligationCode::AppraisalFee {
        let basis = schedule
            .online_free_basis
            .as_deref()
            .unwrap_or("online channel");
        line.exempt_by(
            "online_channel",
            "thu 0 đồng khi thực hiện thủ tục qua dịch vụ công trực tuyến",
            basis,
        );
    }
}
