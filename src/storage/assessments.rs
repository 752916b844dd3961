//! Stored estimates (`/v1/assessments`).

use chrono::{DateTime, Utc};

use super::{on_pool, on_writer, ts, Store};

/// A stored assessment: who may see it and the response as it was given.
pub struct StoredAssessment {
    pub id: String,
    pub agency_code: Option<String>,
    pub response: serde_json::Value,
}

pub struct NewAssessment<'a> {
    pub id: &'a str,
    pub agency_code: Option<&'a str>,
    pub dossier_code: Option<&'a str>,
    pub created_by: &'a str,
    pub procedure: &'a str,
    pub as_of: &'a str,
    pub rule_set: &'a str,
    pub total: i64,
    pub request: &'a serde_json::Value,
    pub response: &'a serde_json::Value,
}

impl Store {
    pub async fn insert_assessment(
        &self,
        a: &NewAssessment<'_>,
        now: DateTime<Utc>,
    ) -> Result<(), sqlx::Error> {
        on_writer!(self, pool => {
            sqlx::query(
                "insert into assessment (assessment_id, agency_code, dossier_code, created_by, procedure, as_of, rule_set,
                                         total, request, response, created_at)
                 values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(a.id)
            .bind(a.agency_code)
            .bind(a.dossier_code)
            .bind(a.created_by)
            .bind(a.procedure)
            .bind(a.as_of)
            .bind(a.rule_set)
            .bind(a.total)
            .bind(a.request.to_string())
            .bind(a.response.to_string())
            .bind(ts(now))
            .execute(pool)
            .await
            .map(|_| ())
        })
    }

    pub async fn assessment(&self, id: &str) -> Result<Option<StoredAssessment>, sqlx::Error> {
        let row: Option<(String, Option<String>, String)> = on_pool!(self, pool => {
            sqlx::query_as("select assessment_id, agency_code, response from assessment where assessment_id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await
        })?;
        Ok(row.map(|(id, agency_code, response)| StoredAssessment {
            id,
            agency_code,
            response: serde_json::from_str(&response).unwrap_or_default(),
        }))
    }

    pub async fn count_assessments(&self) -> Result<i64, sqlx::Error> {
        let (n,): (i64,) = on_pool!(self, pool => {
            sqlx::query_as("select count(*) from assessment").fetch_one(pool).await
        })?;
        Ok(n)
    }
}
