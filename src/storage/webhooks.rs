//! Webhook endpoints, deliveries (the outbox), their tries, and the event feed.

use chrono::{DateTime, Utc};

use super::{in_write_tx, on_pool, on_writer, ts, Store};
use crate::events::DeliveryStatus;
use crate::ids::DeliveryId;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EndpointRow {
    pub endpoint_id: String,
    pub url: String,
    pub agency_code: Option<String>,
    pub events: String,
    pub secret: String,
    pub previous_secret: Option<String>,
    pub previous_expires_at: Option<String>,
    pub created_at: String,
    pub deleted_at: Option<String>,
    /// `landpay`, `opencps` or `dvcqg_land_tax`.
    pub format: String,
    /// The format's credentials (JSON), never shown again.
    pub credentials: Option<String>,
}

/// A delivery claimed by this worker, with everything needed to send it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClaimedDelivery {
    pub delivery_id: String,
    pub endpoint_id: String,
    pub event_id: String,
    pub event_type: String,
    pub tries: i64,
    pub locked_until: String,
}

/// One finished try of a claimed delivery, to be recorded: what came back and what follows.
#[derive(Debug, Clone)]
pub struct DeliveryTry<'a> {
    pub claimed: &'a ClaimedDelivery,
    /// When the try finished.
    pub at: DateTime<Utc>,
    pub status_code: Option<u16>,
    pub error: Option<String>,
    pub duration_ms: i64,
    /// The delivery's status after this try, and when it is next due.
    pub outcome: DeliveryStatus,
    pub next_attempt_at: DateTime<Utc>,
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct DeliveryRow {
    #[serde(rename = "id")]
    pub delivery_id: String,
    pub event_id: String,
    pub event_type: String,
    pub status: DeliveryStatus,
    #[serde(skip)]
    pub event_sequence: Option<i64>,
    pub next_attempt_at: String,
    pub created_at: String,
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct TryRow {
    #[serde(skip)]
    pub delivery_id: String,
    pub at: String,
    pub status_code: Option<i64>,
    pub error: Option<String>,
    pub duration_ms: i64,
}

/// (sequence, type, payment_id, notice_id, agency_code) of an event.
type EventKey = (
    Option<i64>,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

const ENDPOINT_COLUMNS: &str =
    "endpoint_id, url, agency_code, events, secret, previous_secret, previous_expires_at, created_at, deleted_at, format, credentials";

impl Store {
    /// Adds an endpoint; it takes the events committed from now on (those committed before are
    /// numbered, and given their deliveries, first).
    pub async fn insert_endpoint(
        &self,
        e: &EndpointRow,
        created_by: &str,
    ) -> Result<(), sqlx::Error> {
        self.catch_up_events().await?;
        on_writer!(self, pool => {
            sqlx::query(
                "insert into webhook_endpoint (endpoint_id, url, agency_code, events, secret, created_by, created_at, format, credentials)
                 values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(&e.endpoint_id)
            .bind(&e.url)
            .bind(&e.agency_code)
            .bind(&e.events)
            .bind(&e.secret)
            .bind(created_by)
            .bind(&e.created_at)
            .bind(&e.format)
            .bind(&e.credentials)
            .execute(pool)
            .await
            .map(|_| ())
        })
    }

    pub async fn endpoint(&self, id: &str) -> Result<Option<EndpointRow>, sqlx::Error> {
        let sql = format!("select {ENDPOINT_COLUMNS} from webhook_endpoint where endpoint_id = $1 and deleted_at is null");
        on_pool!(self, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)
    }

    /// An endpoint even if deleted (the worker then ends its deliveries).
    pub async fn endpoint_including_deleted(
        &self,
        id: &str,
    ) -> Result<Option<EndpointRow>, sqlx::Error> {
        let sql = format!("select {ENDPOINT_COLUMNS} from webhook_endpoint where endpoint_id = $1");
        on_pool!(self, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)
    }

    pub async fn endpoints(&self, agency: Option<&str>) -> Result<Vec<EndpointRow>, sqlx::Error> {
        let sql = format!(
            "select {ENDPOINT_COLUMNS} from webhook_endpoint where deleted_at is null and ($1 is null or agency_code = $1)
             order by endpoint_id"
        );
        on_pool!(self, pool => sqlx::query_as(&sql).bind(agency).fetch_all(pool).await)
    }

    /// Removes an endpoint. The events committed before are numbered first, so each is given
    /// its deliveries by the endpoints as they were when it committed.
    pub async fn delete_endpoint(&self, id: &str, now: DateTime<Utc>) -> Result<bool, sqlx::Error> {
        self.catch_up_events().await?;
        let n = on_writer!(self, pool => {
            sqlx::query("update webhook_endpoint set deleted_at = $2 where endpoint_id = $1 and deleted_at is null")
                .bind(id)
                .bind(ts(now))
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(n == 1)
    }

    /// Replaces the secret; the old one stays valid until `old_valid_until`.
    pub async fn rotate_endpoint_secret(
        &self,
        id: &str,
        new_secret: &str,
        old_valid_until: DateTime<Utc>,
    ) -> Result<bool, sqlx::Error> {
        let n = on_writer!(self, pool => {
            sqlx::query(
                "update webhook_endpoint set previous_secret = secret, previous_expires_at = $3, secret = $2
                 where endpoint_id = $1 and deleted_at is null",
            )
            .bind(id)
            .bind(new_secret)
            .bind(ts(old_valid_until))
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(n == 1)
    }

    /// The stored bodies of events, with their sequence put in, by event id; an event that
    /// is gone is missing from the map. One query on PostgreSQL, on the pool of reads by key:
    /// planned once per connection (left to choose, the server planned it at every call).
    pub async fn event_bodies(
        &self,
        event_ids: &[&str],
    ) -> Result<std::collections::HashMap<String, String>, sqlx::Error> {
        let rows: Vec<(String, String, Option<i64>)> = match &self.db {
            super::Db::Postgres(pool) => {
                let read = async {
                    super::kept::on_pg_lookup!(self, pool, conn => {
                        sqlx::query_as(
                            "select event_id, body, sequence from event where event_id = any($1)",
                        )
                        .bind(event_ids)
                        .fetch_all(conn)
                        .await
                    })
                };
                super::deadline::bounded(self.timeout, read).await?
            }
            // In-process reads: one per event costs no round trip.
            super::Db::Sqlite(pools) => {
                let mut rows = Vec::with_capacity(event_ids.len());
                for id in event_ids {
                    let row: Option<(String, String, Option<i64>)> = sqlx::query_as(
                        "select event_id, body, sequence from event where event_id = $1",
                    )
                    .bind(id)
                    .fetch_optional(&pools.read)
                    .await?;
                    rows.extend(row);
                }
                rows
            }
        };
        Ok(rows
            .into_iter()
            .map(|(id, b, n)| (id, super::outbox::with_sequence(b, n)))
            .collect())
    }

    /// Deliveries of an endpoint, newest first, with their tries; those of every event
    /// committed before the call included (numbered, and given their deliveries, first).
    pub async fn deliveries(
        &self,
        endpoint_id: &str,
        before: Option<&str>,
        limit: i64,
    ) -> Result<Vec<(DeliveryRow, Vec<TryRow>)>, sqlx::Error> {
        self.catch_up_events().await?;
        let rows: Vec<DeliveryRow> = on_pool!(self, pool => {
            sqlx::query_as(
                "select delivery_id, event_id, event_type, status, event_sequence, next_attempt_at, created_at from delivery
                 where endpoint_id = $1 and ($2 is null or delivery_id < $2) order by delivery_id desc limit $3",
            )
            .bind(endpoint_id)
            .bind(before)
            .bind(limit)
            .fetch_all(pool)
            .await
        })?;
        let ids: Vec<&str> = rows.iter().map(|r| r.delivery_id.as_str()).collect();
        let mut tries = self.tries_of(&ids).await?;
        Ok(rows
            .into_iter()
            .map(|row| {
                let of_row = tries.remove(&row.delivery_id).unwrap_or_default();
                (row, of_row)
            })
            .collect())
    }

    /// The tries of these deliveries, each delivery's in order, read by one query (a page of
    /// deliveries used to cost a query per delivery): a first try from its delivery, the later
    /// ones (and a first one recorded before migration 0028) from their rows.
    async fn tries_of(
        &self,
        ids: &[&str],
    ) -> Result<std::collections::HashMap<String, Vec<TryRow>>, sqlx::Error> {
        // `{ids}` is where the ids are taken from, in each part.
        const SELECT: &str =
            "select delivery_id, first_try_at as at, first_status_code as status_code,
                    first_error as error, first_duration_ms as duration_ms, 1 as attempt_no
             from delivery where first_try_at is not null and delivery_id {ids}
             union all
             select delivery_id, at, status_code, error, duration_ms, attempt_no
             from delivery_try where delivery_id {ids}
             order by delivery_id, attempt_no";
        if ids.is_empty() {
            return Ok(std::collections::HashMap::new());
        }
        // An array on PostgreSQL, a JSON list on SQLite.
        let rows: Vec<TryRow> = match &self.db {
            super::Db::Sqlite(pools) => {
                let list =
                    serde_json::to_string(ids).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
                let sql = SELECT.replace("{ids}", "in (select value from json_each($1))");
                sqlx::query_as(&sql)
                    .bind(list)
                    .fetch_all(&pools.read)
                    .await?
            }
            super::Db::Postgres(pool) => {
                let sql = SELECT.replace("{ids}", "= any($1)");
                let read = sqlx::query_as(&sql).bind(ids).fetch_all(pool);
                super::deadline::bounded(self.timeout, read).await?
            }
        };
        let mut by_delivery: std::collections::HashMap<String, Vec<TryRow>> =
            std::collections::HashMap::new();
        for row in rows {
            by_delivery
                .entry(row.delivery_id.clone())
                .or_default()
                .push(row);
        }
        Ok(by_delivery)
    }

    /// One new delivery of an event per subscribed endpoint (or only `endpoint_id`), due now.
    pub async fn redeliver(
        &self,
        event_id: &str,
        endpoint_id: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Option<usize>, sqlx::Error> {
        self.catch_up_events().await?;
        in_write_tx!(self, tx => {
            let event: Option<EventKey> = sqlx::query_as(
                "select sequence, type, payment_id, notice_id, agency_code from event where event_id = $1",
            )
            .bind(event_id)
            .fetch_optional(&mut *tx)
            .await?;
            // An event not numbered yet is not on the feed yet: nothing to redeliver.
            let Some((Some(sequence), kind, payment_id, notice_id, agency)) = event else {
                tx.commit().await?;
                return Ok(None);
            };
            let endpoints: Vec<(String, String, Option<String>)> = sqlx::query_as(
                "select endpoint_id, events, agency_code from webhook_endpoint where deleted_at is null and ($1 is null or endpoint_id = $1)",
            )
            .bind(endpoint_id)
            .fetch_all(&mut *tx)
            .await?;
            let order_key = payment_id.or(notice_id).unwrap_or_else(|| event_id.to_owned());
            let mut n = 0;
            for (eid, events, eagency) in endpoints {
                if !crate::webhooks::subscription::subscribes(&eid, &events, eagency.as_deref(), &kind, agency.as_deref()) {
                    continue;
                }
                sqlx::query(
                    "insert into delivery (delivery_id, endpoint_id, event_id, event_sequence, event_type, order_key,
                                           status, tries, next_attempt_at, created_at, updated_at)
                     values ($1, $2, $3, $4, $5, $6, 'pending', 0, $7, $7, $7)",
                )
                .bind(DeliveryId::new())
                .bind(&eid)
                .bind(event_id)
                .bind(sequence)
                .bind(&kind)
                .bind(&order_key)
                .bind(ts(now))
                .execute(&mut *tx)
                .await?;
                n += 1;
            }
            tx.commit().await?;
            Ok(Some(n))
        })
    }

    /// The event feed: events after `after`, in sequence (commit) order.
    pub async fn events_after(
        &self,
        after: i64,
        event_type: Option<&str>,
        agency: Option<&str>,
        limit: i64,
    ) -> Result<Vec<(i64, String)>, sqlx::Error> {
        self.catch_up_events().await?;
        let rows: Vec<(i64, String)> = on_pool!(self, pool => {
            sqlx::query_as(super::outbox::FEED_SQL)
            .bind(after)
            .bind(event_type)
            .bind(agency)
            .bind(limit)
            .fetch_all(pool)
            .await
        })?;
        Ok(rows
            .into_iter()
            .map(|(n, body)| (n, super::outbox::with_sequence(body, Some(n))))
            .collect())
    }

    /// The agency of an event (for scoping redelivery).
    pub async fn event_agency(
        &self,
        event_id: &str,
    ) -> Result<Option<Option<String>>, sqlx::Error> {
        let row: Option<(Option<String>,)> = on_pool!(self, pool => {
            sqlx::query_as("select agency_code from event where event_id = $1").bind(event_id).fetch_optional(pool).await
        })?;
        Ok(row.map(|(a,)| a))
    }
}
