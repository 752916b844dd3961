//! Webhook endpoints as an administrator manages them: subscribe (with the receiver URL checked
//! by the sending client's parser), list, read, delete, rotate the secret, read the deliveries;
//! and the event feed and redelivery.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::app::Services;
use crate::auth::Caller;
use crate::error::{ApiError, FieldError};
use crate::events::EventType;
use crate::ids::{new_id, IdKind, WebhookEndpointId};
use crate::storage::ts;
use crate::storage::webhooks::{DeliveryRow, EndpointRow, TryRow};
use crate::webhooks::formats::{self, DvcqgCredentials, OpencpsCredentials};
use crate::webhooks::signing::new_secret;
use crate::webhooks::url_policy::Policy;

/// How long the old secret stays valid after a rotation.
const ROTATION_OVERLAP_HOURS: i64 = 24;

// No doc comment: it would become the schema's description in the OpenAPI document.
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

/// Checks a receiver URL with the sending client's parser (see `webhooks::url_policy`).
async fn check_url(state: &Services, url: &str) -> Result<(), FieldError> {
    Policy::from_settings(&state.settings)
        .check_resolved(url)
        .await
        .map(|_| ())
        .map_err(|m| FieldError::new("url", m))
}

/// "must be one of: payment.created, …".
pub fn event_types() -> String {
    crate::wording::one_of(crate::events::ALL_EVENT_TYPES.iter().map(|t| t.as_str()))
}

/// Every problem of an endpoint input, and the format's credentials when they are valid.
async fn check_input(
    state: &Services,
    input: &EndpointInput,
    format: &str,
) -> Result<Option<String>, ApiError> {
    let mut errors = Vec::new();
    if let Err(e) = check_url(state, &input.url).await {
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
    let credentials = formats::validate(
        format,
        input.opencps.as_ref(),
        input.dvcqg.as_ref(),
        &mut errors,
    );
    if let Some(d) = &input.dvcqg {
        if let Err(e) = check_url(state, &d.auth_url).await {
            errors.push(FieldError::new("dvcqg.auth_url", e.message));
        }
    }
    if errors.is_empty() {
        Ok(credentials)
    } else {
        Err(ApiError::invalid(errors))
    }
}

/// Subscribes a new endpoint; returns it with its secret (shown this once).
pub async fn create(
    state: &Services,
    caller: &Caller,
    input: EndpointInput,
) -> Result<(EndpointRow, String), ApiError> {
    let format = input
        .format
        .as_deref()
        .unwrap_or(formats::LANDPAY)
        .to_owned();
    let credentials = check_input(state, &input, &format).await?;
    let agency = caller.agency_for_new(input.agency_code.as_deref(), "agency_code")?;
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
    state.store.insert_endpoint(&row, &caller.sub).await?;
    Ok((row, secret))
}

/// The endpoints the caller may see.
pub async fn list(state: &Services, caller: &Caller) -> Result<Vec<EndpointRow>, ApiError> {
    let rows = state.store.endpoints(caller.agency_scope()).await?;
    for row in &rows {
        super::warn_if_disabled(&row.endpoint_id, &row.events);
    }
    Ok(rows)
}

/// An endpoint the caller may see (404 otherwise).
pub async fn visible(
    state: &Services,
    caller: &Caller,
    id: &WebhookEndpointId,
) -> Result<EndpointRow, ApiError> {
    let row = state
        .store
        .endpoint(id.as_str())
        .await?
        .filter(|e| caller.can_see(e.agency_code.as_deref()))
        .ok_or_else(|| ApiError::NotFound(format!("webhook endpoint {id}")))?;
    super::warn_if_disabled(&row.endpoint_id, &row.events);
    Ok(row)
}

/// Deletes an endpoint the caller may see; its pending deliveries end.
pub async fn delete(
    state: &Services,
    caller: &Caller,
    id: &WebhookEndpointId,
) -> Result<(), ApiError> {
    let e = visible(state, caller, id).await?;
    state
        .store
        .delete_endpoint(&e.endpoint_id, state.clock.now())
        .await?;
    Ok(())
}

/// A rotated endpoint: the new secret, and until when the old one stays valid.
pub struct Rotated {
    pub endpoint: EndpointRow,
    pub secret: String,
    pub previous_valid_until: DateTime<Utc>,
}

/// Gives an endpoint a new secret; the old one stays valid for 24 h.
pub async fn rotate(
    state: &Services,
    caller: &Caller,
    id: &WebhookEndpointId,
) -> Result<Rotated, ApiError> {
    let e = visible(state, caller, id).await?;
    let secret = new_secret();
    let until = state.clock.now() + chrono::Duration::hours(ROTATION_OVERLAP_HOURS);
    state
        .store
        .rotate_endpoint_secret(&e.endpoint_id, &secret, until)
        .await?;
    Ok(Rotated {
        endpoint: visible(state, caller, id).await?,
        secret,
        previous_valid_until: until,
    })
}

/// Deliveries of an endpoint the caller may see, newest first: `page` is what the caller
/// asked for (before which delivery, how many), or why that request was refused; it is looked
/// at only once the endpoint is known to be visible.
pub async fn deliveries(
    state: &Services,
    caller: &Caller,
    id: &WebhookEndpointId,
    page: Result<(Option<String>, i64), ApiError>,
) -> Result<Vec<(DeliveryRow, Vec<TryRow>)>, ApiError> {
    let e = visible(state, caller, id).await?;
    let (before, limit) = page?;
    Ok(state
        .store
        .deliveries(&e.endpoint_id, before.as_deref(), limit)
        .await?)
}

/// Queues an event again for its subscribed endpoints (or one of them); how many deliveries.
pub async fn redeliver(
    state: &Services,
    caller: &Caller,
    event_id: &str,
    endpoint_id: Option<&str>,
) -> Result<usize, ApiError> {
    let not_found = || ApiError::NotFound(format!("event {event_id}"));
    let agency = state
        .store
        .event_agency(event_id)
        .await?
        .ok_or_else(not_found)?;
    if !caller.can_see(agency.as_deref()) {
        return Err(not_found());
    }
    if let Some(eid) = endpoint_id {
        let no_such = || ApiError::invalid_field("endpoint_id", "no such endpoint");
        let eid = WebhookEndpointId::parse(eid).ok_or_else(no_such)?;
        visible(state, caller, &eid).await.map_err(|_| no_such())?;
    }
    let n = state
        .store
        .redeliver(event_id, endpoint_id, state.clock.now())
        .await?
        .ok_or_else(not_found)?;
    state.delivery_kick.notify_one();
    Ok(n)
}

/// Up to `limit` events after `after` in commit order (sequence, body), of one type or all.
pub async fn feed(
    state: &Services,
    caller: &Caller,
    after: Option<i64>,
    event_type: Option<&str>,
    limit: i64,
) -> Result<Vec<(i64, String)>, ApiError> {
    let after = after.unwrap_or(0);
    if after < 0 {
        return Err(ApiError::invalid_field("after", "must be ≥ 0"));
    }
    if event_type.is_some_and(|t| EventType::parse(t).is_none()) {
        return Err(ApiError::invalid_field("type", event_types()));
    }
    Ok(state
        .store
        .events_after(after, event_type, caller.agency_scope(), limit)
        .await?)
}
