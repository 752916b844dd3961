//! Flags on payment orders that finance resolves (`amount_mismatch`, `paid_after_expiry`,
//! `duplicate_payment`).

use chrono::{DateTime, Utc};
use serde_json::json;

use super::payments::{FlagRow, PaymentStoreError};
use super::txops;
use super::{in_write_tx, on_pool, ts, Store};
use crate::payments::order::FlagStatus;

impl Store {
    /// Resolves an open flag with a note; `false` when there was no open flag.
    pub async fn resolve_flag(
        &self,
        payment_id: &str,
        flag: &str,
        note: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, PaymentStoreError> {
        in_write_tx!(self, tx => {
            let n = sqlx::query(
                "update payment_flag set status = 'resolved', note = $3, resolved_by = $4, resolved_at = $5
                 where payment_id = $1 and flag = $2 and status = 'open'",
            )
            .bind(payment_id)
            .bind(flag)
            .bind(note)
            .bind(actor)
            .bind(ts(now))
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 1 {
                txops::audit(&mut *tx, payment_id, "flag.resolved", actor, &json!({"flag": flag, "note": note}), now).await?;
            }
            tx.commit().await?;
            Ok(n == 1)
        })
    }

    /// Open (or all) flags, oldest first.
    pub async fn flags(
        &self,
        status: Option<&str>,
        agency: Option<&str>,
        limit: i64,
    ) -> Result<Vec<(String, FlagRow)>, sqlx::Error> {
        #[derive(sqlx::FromRow)]
        struct Row {
            payment_id: String,
            flag: String,
            status: FlagStatus,
            detail: Option<String>,
            note: Option<String>,
            created_at: String,
            resolved_at: Option<String>,
        }
        let rows: Vec<Row> = on_pool!(self, pool => {
            sqlx::query_as(
                "select f.payment_id, f.flag, f.status, f.detail, f.note, f.created_at, f.resolved_at
                 from payment_flag f join payment p on p.payment_id = f.payment_id
                 where ($1 is null or f.status = $1) and ($2 is null or p.agency_code = $2)
                 order by f.created_at, f.payment_id limit $3",
            )
            .bind(status)
            .bind(agency)
            .bind(limit)
            .fetch_all(pool)
            .await
        })?;
        Ok(rows
            .into_iter()
            .map(|r| {
                (
                    r.payment_id,
                    FlagRow {
                        flag: r.flag,
                        status: r.status,
                        detail: r.detail,
                        note: r.note,
                        created_at: r.created_at,
                        resolved_at: r.resolved_at,
                    },
                )
            })
            .collect())
    }
}
