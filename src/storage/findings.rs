//! Reconciliation runs as the dashboard lists them, and findings resolved by a person.

use chrono::{DateTime, Utc};

use super::reconciliation::{PositionedItem, RunRow};
use super::{on_pool, on_writer, ts, Store};

impl Store {
    /// One run by its id.
    pub async fn run(&self, rec_id: &str) -> Result<Option<RunRow>, sqlx::Error> {
        on_pool!(self, pool => {
            sqlx::query_as(
                "select rec_id, gateway, statement_date, status, superseded_by, summary, rows_total, created_at, agency_code
                 from reconciliation where rec_id = $1",
            )
            .bind(rec_id)
            .fetch_optional(pool)
            .await
        })
    }

    /// The latest runs, newest first; of one agency's runs when `agency` is given.
    pub async fn runs(&self, agency: Option<&str>, limit: i64) -> Result<Vec<RunRow>, sqlx::Error> {
        on_pool!(self, pool => {
            sqlx::query_as(
                "select rec_id, gateway, statement_date, status, superseded_by, summary, rows_total, created_at, agency_code
                 from reconciliation where status <> 'running' and ($1 is null or agency_code = $1)
                 order by created_at desc, rec_id desc limit $2",
            )
            .bind(agency)
            .bind(limit)
            .fetch_all(pool)
            .await
        })
    }

    /// One finding of a run by its position.
    pub async fn run_item(
        &self,
        rec_id: &str,
        position: i64,
    ) -> Result<Option<PositionedItem>, sqlx::Error> {
        let mut page = self
            .run_items_page(rec_id, None, Some(position - 1), 1)
            .await?;
        Ok(page.pop().filter(|i| i.position == position))
    }

    /// Resolves an open finding with a person's note; `false` when it was not open.
    pub async fn resolve_item(
        &self,
        rec_id: &str,
        position: i64,
        note: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, sqlx::Error> {
        let n = on_writer!(self, pool => {
            sqlx::query(
                "update reconciliation_item set status = 'resolved', resolved_by = $3, note = $4, resolved_at = $5
                 where rec_id = $1 and position = $2 and status = 'open'",
            )
            .bind(rec_id)
            .bind(position)
            .bind(actor)
            .bind(note)
            .bind(ts(now))
            .execute(pool)
            .await
                .map(|r| r.rows_affected())
        })?;
        Ok(n == 1)
    }
}
