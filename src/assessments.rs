//! Estimates from the obligation engine: computed on request (a quote), or computed and stored
//! under an `asm_…` id for the portal to read and pay later (an assessment).

use serde_json::{json, Value};

use crate::app::Services;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::ids::{new_id, IdKind};
use crate::obligations::{self, Quote, QuoteRequest};
use crate::storage::assessments::NewAssessment;

/// Reads the procedure facts and computes what the procedure costs, storing nothing.
pub fn estimate(state: &Services, body: &Value) -> Result<(QuoteRequest, Quote), ApiError> {
    let request = obligations::parse_request(body).map_err(ApiError::invalid)?;
    let quote = obligations::quote(&request, &state.rules).map_err(ApiError::invalid)?;
    Ok((request, quote))
}

/// Computes an estimate and stores it under the caller's agency; the stored answer, with its id.
pub async fn create(state: &Services, caller: &Caller, body: &Value) -> Result<Value, ApiError> {
    let (request, quote) = estimate(state, body)?;
    let mut quote = serde_json::to_value(&quote).map_err(|e| ApiError::Internal(e.into()))?;
    let agency = caller.agency_for_new(request.agency_code.as_deref(), "agency_code")?;
    let id = new_id(IdKind::Assessment);
    if let Some(map) = quote.as_object_mut() {
        map.insert("id".into(), json!(id));
        map.insert("agency_code".into(), json!(agency));
        map.insert("dossier_code".into(), json!(request.dossier_code));
    }
    let text = |v: &Value| {
        v.as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| v.to_string())
    };
    state
        .store
        .insert_assessment(
            &NewAssessment {
                id: &id,
                agency_code: agency.as_deref(),
                dossier_code: request.dossier_code.as_deref(),
                created_by: &caller.sub,
                procedure: &text(&quote["procedure"]),
                as_of: &text(&quote["as_of"]),
                rule_set: &text(&quote["rule_set"]),
                total: quote["total"].as_i64().unwrap_or(0),
                request: body,
                response: &quote,
            },
            state.clock.now(),
        )
        .await?;
    Ok(quote)
}

/// A stored estimate the caller may see (404 otherwise), as it was answered.
pub async fn visible(state: &Services, caller: &Caller, id: &str) -> Result<Value, ApiError> {
    state
        .store
        .assessment(id)
        .await?
        .filter(|a| caller.can_see(a.agency_code.as_deref()))
        .map(|a| a.response)
        .ok_or_else(|| ApiError::NotFound(format!("assessment {id}")))
}
