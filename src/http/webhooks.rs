//! `/v1/webhook-endpoints` (admin), `/v1/events` (the feed) and redelivery.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::{AdminAccess, Auth, ReadAccess};
use crate::clock::ts;
use crate::error::ApiError;
use crate::http::extract::{JsonBody, Query};
use crate::http::state::AppState;
use crate::storage::webhooks::EndpointRow;
use crate::webhooks::endpoints;
pub use crate::webhooks::endpoints::EndpointInput;

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

/// Subscribe a webhook endpoint to event types.
#[utoipa::path(post, path = "/v1/webhook-endpoints", tag = "webhooks", security(("bearer" = [])),
    request_body(content = EndpointInput,
        description = "`format` `opencps` takes `opencps: {username, password, group_id, action_code, action_code_offline}`; `dvcqg_land_tax` takes `dvcqg: {auth_url, username, password, dstcode, madonvi}`. Credentials are never shown again.",
        example = json!({"url": "https://motcua.example.gov.vn/landpay/webhook", "agency_code": "HN-VPDKDD", "events": ["payment.paid", "payment.expired"]})),
    responses((status = 201, description = "The endpoint with its secret (shown once)", example = json!({
        "id": "whe_01jd…", "url": "https://motcua.example.gov.vn/landpay/webhook", "agency_code": "HN-VPDKDD",
        "events": ["payment.paid"], "secret": "whsec_…", "created_at": "2026-11-27T08:00:00.000000Z"})),
        (status = 422, body = crate::http::errors::Problem)))]
pub async fn create(
    auth: Auth<AdminAccess>,
    state: web::Data<AppState>,
    body: JsonBody<EndpointInput>,
) -> Result<HttpResponse, ApiError> {
    let (row, secret) = endpoints::create(&state, &auth, body.value).await?;
    Ok(HttpResponse::Created().json(view(&row, Some(&secret))))
}

/// The endpoint a path names (404 for an id of another shape, as for an unknown one).
fn endpoint_id(raw: &str) -> Result<crate::ids::WebhookEndpointId, ApiError> {
    crate::http::extract::path_id(
        raw,
        crate::ids::WebhookEndpointId::parse,
        "webhook endpoint",
    )
}

/// List webhook endpoints.
#[utoipa::path(get, path = "/v1/webhook-endpoints", tag = "webhooks", security(("bearer" = [])),
    responses((status = 200, description = "`{data: [endpoint], next_cursor: null}` (secrets are not shown)")))]
pub async fn list(
    auth: Auth<AdminAccess>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let rows = endpoints::list(&state, &auth).await?;
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
    let id = endpoint_id(&id)?;
    Ok(HttpResponse::Ok().json(view(&endpoints::visible(&state, &auth, &id).await?, None)))
}

/// Delete a webhook endpoint.
#[utoipa::path(delete, path = "/v1/webhook-endpoints/{id}", tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 204, description = "Deleted; pending deliveries end")))]
pub async fn delete(
    auth: Auth<AdminAccess>,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    endpoints::delete(&state, &auth, &endpoint_id(&id)?).await?;
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
    let rotated = endpoints::rotate(&state, &auth, &endpoint_id(&id)?).await?;
    let mut v = view(&rotated.endpoint, Some(&rotated.secret));
    if let Some(map) = v.as_object_mut() {
        map.insert(
            "previous_secret_expires_at".into(),
            json!(ts(rotated.previous_valid_until)),
        );
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
    // An unknown endpoint answers 404 before a bad page request answers 422.
    let (wanted, page) =
        crate::http::paging::PageRequest::parse_deferred(q.limit, q.cursor.as_deref());
    let rows = endpoints::deliveries(&state, &auth, &endpoint_id(&id)?, wanted).await?;
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
    let n = endpoints::redeliver(&state, &auth, &id, input.endpoint_id.as_deref()).await?;
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
    let rows = endpoints::feed(&state, &auth, q.after, q.event_type.as_deref(), page.limit).await?;
    let next = (i64::try_from(rows.len()).unwrap_or(0) == page.limit)
        .then(|| rows.last().map(|(s, _)| s.to_string()))
        .flatten();
    let data: Vec<Value> = rows
        .into_iter()
        .map(|(_, body)| serde_json::from_str(&body).unwrap_or(Value::Null))
        .collect();
    Ok(HttpResponse::Ok().json(json!({"data": data, "next_cursor": next})))
}
