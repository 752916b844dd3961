//! `/v1/quotes`, `/v1/assessments`, `/v1/late-interest`: estimates from the obligation engine.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use crate::assessments;
use crate::auth::{AnyRole, Auth, PortalAccess, ReadAccess};
use crate::error::ApiError;
use crate::http::extract::JsonBody;
use crate::http::state::AppState;
use crate::idempotency::{self, IdempotencyKey, JsonReply};
use crate::obligations;

/// The documented transfer example, shown in the OpenAPI document.
fn transfer_example() -> Value {
    json!({
        "procedure": "transfer", "as_of": "2026-11-20", "province_code": "01", "channel": "online",
        "agency_code": "HN-VPDKDD", "dossier_code": "000.00.12.H26-261120-0001",
        "parcel": {"area_m2": "100", "land_use": "residential_urban", "table_price_per_m2": "50000000", "ward_kind": "ward"},
        "house": {"floor_area_m2": "150", "new_build_price_per_m2": "6500000", "grade": "III", "age_years": 15,
                  "first_registration": false, "remaining_quality_pct": "70"},
        "contract": {"total_price": 7000000000i64}
    })
}

/// Compute what a land procedure costs, without storing it.
#[utoipa::path(post, path = "/v1/quotes", tag = "obligations", security(("bearer" = [])),
    request_body(content = Object, description = "Procedure facts", examples(
        ("transfer" = (summary = "Transfer of a house and land", value = json!(transfer_example()))),
        ("gift_between_parent_and_child" = (summary = "Gift between parent and child (exempt)", value = json!({
            "procedure": "gift", "as_of": "2026-11-20", "province_code": "01", "relationship": "parent_child",
            "parcel": {"area_m2": "80", "land_use": "residential_urban", "table_price_per_m2": "40000000"}}))),
        ("levy_with_reduction" = (summary = "Recognition with a claimed reduction, due dates and instalments (docs/quote-requests.md)", value = json!({
            "procedure": "first_certificate", "as_of": "2026-07-14", "province_code": "01", "notice_date": "2026-07-20",
            "recognition": {"residential_area_m2": "120", "price_per_m2": "6000000", "case": "unauthorized_allocation_no_proof"},
            "reductions": ["levy_poor_or_ethnic_minority_50"], "obligations": ["land_use_levy"]}))),
        ("co_owners" = (summary = "Co-owners judged one by one for PIT", value = json!({
            "procedure": "transfer", "as_of": "2026-08-20", "province_code": "01", "notice_date": "2026-08-27",
            "parcel": {"area_m2": "90", "land_use": "residential_urban", "table_price_per_m2": "40000000"},
            "contract": {"total_price": 5000000000i64},
            "transfer": {"co_owners": [{"share": "0.6", "sole_home": false}, {"share": "0.4", "sole_home": true, "held_since": "2021-03-15"}]}}))),
        ("annual_land_tax" = (summary = "Non-agricultural land use tax", value = json!({
            "procedure": "annual_land_tax", "as_of": "2026-11-20",
            "annual_land_tax": {"parcels": [{"ref": "A", "area_m2": "120", "quota_m2": "100", "price_per_m2": "20000000", "kind": "residential"}]}})))
    )),
    responses(
        (status = 200, description = "The lines with legal basis and arithmetic", example = json!({
            "kind": "estimate", "rule_set": "VN-2026-07-01", "procedure": "transfer", "as_of": "2026-11-20", "total": 175000000,
            "lines": [{"code": "registration_fee", "name": "Lệ phí trước bạ nhà, đất", "payer": "transferee", "amount": 35000000,
                       "base": 7000000000i64, "rate": "0.005", "exempt": false, "exemption": null, "parcel_ref": null,
                       "budget_sub_item": "2801", "legal_basis": ["Nghị định 10/2022/NĐ-CP Điều 8 khoản 1"],
                       "explanation": ["fee = 0,5% × 7.000.000.000 = 35.000.000"], "uncertain": [],
                       "full_amount": 35000000, "reduction": null,
                       "due": {"rule": "notice_30_days", "legal_basis": "Nghị định 252/2026/NĐ-CP Điều 21 khoản 7", "dates": []}}],
            "warnings": []})),
        (status = 422, description = "Invalid facts, naming the field", body = crate::http::errors::Problem)))]
pub async fn quote(
    _auth: Auth<AnyRole>,
    state: web::Data<AppState>,
    body: JsonBody<Value>,
) -> Result<HttpResponse, ApiError> {
    let (_, quote) = assessments::estimate(&state, &body.value)?;
    // Written into room for a whole quote (a few kB) rather than grown from a few bytes.
    let mut text = Vec::with_capacity(8 * 1024);
    sonic_rs::to_writer(&mut text, &quote).map_err(|e| ApiError::Internal(e.into()))?;
    Ok(HttpResponse::Ok()
        .content_type(actix_web::http::header::ContentType::json())
        .body(text))
}

/// Compute and store an estimate of a land procedure's obligations.
#[utoipa::path(post, path = "/v1/assessments", tag = "obligations", security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for the same key and body")),
    request_body(content = Object, description = "Same body as /v1/quotes", example = json!(transfer_example())),
    responses(
        (status = 201, description = "Stored estimate, with `id` (asm_…)"),
        (status = 422, description = "Invalid facts", body = crate::http::errors::Problem)))]
pub async fn create_assessment(
    auth: Auth<PortalAccess>,
    req: HttpRequest,
    state: web::Data<AppState>,
    body: JsonBody<Value>,
) -> Result<HttpResponse, ApiError> {
    let key = IdempotencyKey::from_request(&req, false)?;
    let fingerprint = idempotency::fingerprint(&req, &body.raw);
    let caller = auth.caller.clone();
    idempotency::run(&state, &caller, key, fingerprint, || async {
        let quote = assessments::create(&state, &caller, &body.value).await?;
        JsonReply::created(quote)
    })
    .await
}

/// Read a stored estimate.
#[utoipa::path(get, path = "/v1/assessments/{id}", tag = "obligations", security(("bearer" = [])),
    params(("id" = String, Path, description = "asm_…")),
    responses((status = 200, description = "The stored estimate"), (status = 404, body = crate::http::errors::Problem)))]
pub async fn get_assessment(
    auth: Auth<ReadAccess>,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let found = assessments::visible(&state, &auth, &id).await?;
    Ok(HttpResponse::Ok().json(found))
}

/// Compute late-payment interest on an amount.
#[utoipa::path(post, path = "/v1/late-interest", tag = "obligations", security(("bearer" = [])),
    request_body(content = Object, example = json!({"amount": 40000000, "due_date": "2026-04-01", "paid_on": "2026-04-21"})),
    responses((status = 200, description = "Late-payment interest", example = json!({
        "days": 19, "rate_per_day": "0.0003", "interest": 228000, "legal_basis": ["Luật Quản lý thuế 2019 Điều 59"]})),
        (status = 422, body = crate::http::errors::Problem)))]
pub async fn late_interest(
    _auth: Auth<AnyRole>,
    state: web::Data<AppState>,
    body: JsonBody<Value>,
) -> Result<HttpResponse, ApiError> {
    let (amount, due, paid_on) =
        obligations::parse_late_interest_request(&body.value).map_err(ApiError::invalid)?;
    Ok(HttpResponse::Ok().json(obligations::late_interest(
        amount,
        due,
        paid_on,
        &state.rules,
    )))
}
