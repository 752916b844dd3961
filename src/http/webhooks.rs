//! `/v1/webhook-endpoints` (admin), `/v1/events` (the feed) and redelivery.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::{AdminAccess, Auth, ReadAccess};
use crate::error::{ApiError, FieldError};
use crate::events::EventType;
use crate::http::extract::{JsonBody, Query};
use crate::http::state::AppState;
use crate::ids::{new_id, IdKind};
use crate::storage::ts;
use crate::storage::webhooks::EndpointRow;
use crate::webhooks::formats::{self, DvcqgCredentials, OpencpsCredentials};
use crate::webhooks::signing::new_secret;

/// How long the old secret stays valid after a rotation.
const ROTATION_OVERLAP_HOURS: i64 = 24;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointInput {
    url: String,
    #[serde(default)]
    agency_code: Option<String>,
    events: Vec<String>,
    /// `landpay` (default), `opencps` or `dvcqg_land_tax`.
    #[serde(default)]
    format: Option<String>,
    /// With `format: opencps`; never shown again.
    #[serde(default)]
    opencps: Option<OpencpsCredentials>,
    /// With `format: dvcqg_land_tax`; never shown again.
    #[serde(default)]
    dvcqg: Option<DvcqgCredentials>,
}

fn view(e: &EndpointRow, secret: Option<&str>) -> Value {
    let events: Value = serde_json::from_str(&e.events).unwrap_or(Value::Null);
    let url = crate::webhooks::url_policy::masked(&e.url);
    let mut v = json!({"id": e.endpoint_id, "url": url, "agency_code": e.agency_code, "events": events,
                       "format": e.format, "created_at": e.created_at});
    if let (Some(map), Some(secret)) = (v.as_object_mut(), secret) {
        map.insert("secret".into(), json!(secret));
    }
    v
}

/// Checks a receiver URL with the sending client's parser (see `webhooks::url_policy`).
async fn check_url(state: &AppState, url: &str) -> Result<(), FieldError> {
    crate::webhooks::url_policy::Policy::from_settings(&state.settings)
        .check_resolved(url)
        .await
        .map(|_| ())
        .map_err(|m| FieldError::new("url", m))
}

/// Subscribe a webhook endpoint to event types.
#[utoipa::path(post, path = "/v1/webhook-endpoints", tag = "webhooks", security(("bearer" = [])),
    request_body(content = EndpointInput,
        description = "`format` `opencps` takes `opencps: {username, password, group_id, action_code, action_code_offline}`; `dvcqg_land_tax` takes `dvcqg: {auth_url, username, password, dstcode, madonvi}`. Credentials are never shown again.",
        example = json!({"url": "https://motcua.example.gov.vn/landpay/webhook", "agency_code": "HN-VPDKDD", "events": ["payment.paid", "payment.expired"]})),
    responses((status = 201, description = "The endpoint with its secret (shown once)", example = json!({
        "id": "whe_01jd…", "url": "https://motcua.example.gov.vn/landpay/webhook", "agency_code": "HN-VPDKDD",
        "events": ["payment.paid"], "secret": "whsec_…", "created_at": "2026-11-27T08:00:00.000000Z"})),
        (status = 422, body = crate::error::Problem)))]
pub async fn create(
    auth: Auth<AdminAccess>,
    state: web::Data<AppState>,
    body: JsonBody<EndpointInput>,
) -> Result<HttpResponse, ApiError> {
    let input = body.value;
    let mut errors = Vec::new();
    if let Err(e) = check_url(&state, &input.url).await {
        errors.push(e);
    }
    if input.events.is_empty() {
        errors.push(FieldError::new(
            "events",
            "must list at least one event type",
        ));
    }
    for (i, e) in input.events.iter().enumerate() {
        if EventType::parse(e).is_none() {
            errors.push(FieldError::new(format!("events[{i}]"), event_types()));
        }
    }
    let format = input
        .format
        .as_deref()
        .unwrap_or(formats::LANDPAY)
        .to_owned();
    let credentials = formats::validate(
        &format,
        input.opencps.as_ref(),
        input.dvcqg.as_ref(),
        &mut errors,
    );
    if let Some(d) = &input.dvcqg {
        if let Err(e) = check_url(&state, &d.auth_url).await {
            errors.push(FieldError::new("dvcqg.auth_url", e.message));
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::invalid(errors));
    }
    let agency = auth.agency_for_new(input.agency_code.as_deref(), "agency_code")?;
    let secret = new_secret();
    let row = EndpointRow {
        endpoint_id: new_id(IdKind::WebhookEndpoint),
        url: input.url,
        agency_code: agency,
        events: serde_json::to_string(&input.events).unwrap_or_else(|_| "[]".into()),
        secret: secret.clone(),
        previous_secret: None,
        previous_expires_at: None,
        created_at: ts(state.clock.now()),
        deleted_at: None,
        format,
        credentials,
    };
    state.store.insert_endpoint(&row, &auth.sub).await?;
    Ok(HttpResponse::Created().json(view(&row, Some(&secret))))
}

async fn visible(
    state: &AppState,
    caller: &crate::auth::Caller,
    id: &str,
) -> Result<EndpointRow, ApiError> {
    state
        .store
        .endpoint(id)
        .await?
        .filter(|e| caller.can_see(e.agency_code.as_deref()))
        .ok_or_else(|| ApiError::NotFound(format!("webhook endpoint {id}")))
}

/// List webhook endpoints.
#[utoipa::path(get, path = "/v1/webhook-endpoints", tag = "webhooks", security(("bearer" = [])),
    responses((status = 200, description = "`{data: [endpoint], next_cursor: null}` (secrets are not shown)")))]
pub async fn list(
    auth: Auth<AdminAccess>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let rows = state.store.endpoints(auth.agency_scope()).await?;
    Ok(HttpResponse::Ok().json(json!({"data": rows.iter().map(|e| view(e, None)).collect::<Vec<_>>(), "next_cursor": null})))
}

/// Read a webhook endpoint.
#[utoipa::path(get, path = "/v1/webhook-endpoints/{id}", tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, description = "The endpoint (no secret)")))]
pub async fn get(
    auth: Auth<AdminAccess>,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(view(&visible(&state, &auth, &id).await?, None)))
}

/// Delete a webhook endpoint.
#[utoipa::path(delete, path = "/v1/webhook-endpoints/{id}", tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 204, description = "Deleted; pending deliveries end")))]
pub async fn delete(
    auth: Auth<AdminAccess>,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let e = visible(&state, &auth, &id).await?;
    state
        .store
        .delete_endpoint(&e.endpoint_id, state.clock.now())
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Rotate a webhook endpoint's signing secret.
#[utoipa::path(post, path = "/v1/webhook-endpoints/{id}/rotate-secret", tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, description = "The new secret; the old one stays valid for 24 h and both sign meanwhile")))]
pub async fn rotate(
    auth: Auth<AdminAccess>,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let e = visible(&state, &auth, &id).await?;
    let secret = new_secret();
    let until = state.clock.now() + chrono::Duration::hours(ROTATION_OVERLAP_HOURS);
    state
        .store
        .rotate_endpoint_secret(&e.endpoint_id, &secret, until)
        .await?;
    let e = visible(&state, &auth, &id).await?;
    let mut v = view(&e, Some(&secret));
    if let Some(map) = v.as_object_mut() {
        map.insert("previous_secret_expires_at".into(), json!(ts(until)));
    }
    Ok(HttpResponse::Ok().json(v))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct DeliveriesQuery {
    limit: Option<i64>,
    cursor: Option<String>,
}

/// List an endpoint's deliveries with every try.
#[utoipa::path(get, path = "/v1/webhook-endpoints/{id}/deliveries", tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path), DeliveriesQuery),
    responses((status = 200, description = "Newest first, each with every try", example = json!({"data": [{"id": "dlv_…", "event_id": "evt_…",
        "event_type": "payment.paid", "status": "delivered", "tries": [{"at": "…", "status_code": 200, "error": null, "duration_ms": 12}]}], "next_cursor": null}))))]
pub async fn deliveries(
    auth: Auth<AdminAccess>,
    state: web::Data<AppState>,
    id: web::Path<String>,
    q: Query<DeliveriesQuery>,
) -> Result<HttpResponse, ApiError> {
    let e = visible(&state, &auth, &id).await?;
    let page = crate::http::paging::PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let rows = state
        .store
        .deliveries(&e.endpoint_id, page.after.as_deref(), page.fetch_limit())
        .await?;
    let items: Vec<Value> = rows
        .into_iter()
        .map(|(d, tries)| {
            json!({"id": d.delivery_id, "event_id": d.event_id, "event_type": d.event_type, "status": d.status,
                   "next_attempt_at": if d.status == crate::events::DeliveryStatus::Pending { Some(d.next_attempt_at) } else { None },
                   "created_at": d.created_at, "tries": tries})
        })
        .collect();
    let page_out = crate::http::paging::Page::build(items, &page, |v| {
        v["id"].as_str().unwrap_or_default().to_owned()
    });
    Ok(HttpResponse::Ok().json(page_out))
}

#[derive(Deserialize, utoipa::ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct RedeliverInput {
    #[serde(default)]
    endpoint_id: Option<String>,
}

/// Deliver an event again to its subscribed endpoints.
#[utoipa::path(post, path = "/v1/events/{id}/redeliver", tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path, description = "evt_…")),
    request_body(content = Option<RedeliverInput>, description = "Optional: narrow to one endpoint"),
    responses((status = 202, description = "New deliveries queued, tried at once", example = json!({"deliveries": 1}))))]
pub async fn redeliver(
    auth: Auth<AdminAccess>,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let input: RedeliverInput = if body.iter().all(u8::is_ascii_whitespace) {
        RedeliverInput::default()
    } else {
        crate::http::extract::parse_json(&body)?
    };
    let agency = state
        .store
        .event_agency(&id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("event {id}")))?;
    if !auth.can_see(agency.as_deref()) {
        return Err(ApiError::NotFound(format!("event {id}")));
    }
    if let Some(eid) = &input.endpoint_id {
        visible(&state, &auth, eid)
            .await
            .map_err(|_| ApiError::invalid_field("endpoint_id", "no such endpoint"))?;
    }
    let n = state
        .store
        .redeliver(&id, input.endpoint_id.as_deref(), state.clock.now())
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("event {id}")))?;
    state.delivery_kick.notify_one();
    Ok(HttpResponse::Accepted().json(json!({"deliveries": n})))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct FeedQuery {
    /// Exclusive; default 0.
    after: Option<i64>,
    limit: Option<i64>,
    #[serde(rename = "type")]
    #[param(rename = "type")]
    event_type: Option<String>,
}

/// The ordered event feed, for pollers.
#[utoipa::path(get, path = "/v1/events", tag = "webhooks", security(("bearer" = [])), params(FeedQuery),
    responses((status = 200, description = "Events in commit order: `{data: [event], next_cursor}`; pass the last `sequence` as `after`")))]
pub async fn feed(
    auth: Auth<ReadAccess>,
    state: web::Data<AppState>,
    q: Query<FeedQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = crate::http::paging::PageRequest::parse(q.limit, None)?;
    let after = q.after.unwrap_or(0);
    if after < 0 {
        return Err(ApiError::invalid_field("after", "must be ≥ 0"));
    }
    if let Some(t) = &q.event_type {
        if EventType::parse(t).is_none() {
            return Err(ApiError::invalid_field("type", event_types()));
        }
    }
    let rows = state
        .store
        .events_after(
            after,
            q.event_type.as_deref(),
            auth.agency_scope(),
            page.limit,
        )
        .await?;
    let next = (i64::try_from(rows.len()).unwrap_or(0) == page.limit)
        .then(|| rows.last().map(|(s, _)| s.to_string()))
        .flatten();
    let data: Vec<Value> = rows
        .into_iter()
        .map(|(_, body)| serde_json::from_str(&body).unwrap_or(Value::Null))
        .collect();
    Ok(HttpResponse::Ok().json(json!({"data": data, "next_cursor": next})))
}

/// "must be one of: payment.created, …".
fn event_types() -> String {
    crate::wording::one_of(crate::events::ALL_EVENT_TYPES.iter().map(|t| t.as_str()))
}
