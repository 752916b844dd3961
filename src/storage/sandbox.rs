//! The sandbox gateway's own ledger (what it "processed"), so that it can answer `querydr`.

use chrono::{DateTime, Utc};

use super::{on_pool, on_writer, ts, Store};
use crate::gateways::vnpay::wire::decode_query;

pub struct SandboxTxn {
    pub response_code: String,
    pub transaction_no: String,
    pub amount_vnd: Option<i64>,
    pub pay_date: Option<DateTime<Utc>>,
}

impl Store {
    pub async fn record_sandbox_txn(
        &self,
        txn_ref: &str,
        signed_params: &str,
        response_code: &str,
        transaction_no: &str,
        now: DateTime<Utc>,
    ) -> Result<(), sqlx::Error> {
        on_writer!(self, pool => {
            sqlx::query(
                "insert into sandbox_txn (txn_ref, params, response_code, transaction_no, created_at) values ($1, $2, $3, $4, $5)
                 on conflict (txn_ref) do nothing",
            )
            .bind(txn_ref)
            .bind(signed_params)
            .bind(response_code)
            .bind(transaction_no)
            .bind(ts(now))
            .execute(pool)
            .await
            .map(|_| ())
        })
    }

    pub async fn sandbox_txn(&self, txn_ref: &str) -> Result<Option<SandboxTxn>, sqlx::Error> {
        let row: Option<(String, String, String)> = on_pool!(self, pool => {
            sqlx::query_as("select params, response_code, transaction_no from sandbox_txn where txn_ref = $1")
                .bind(txn_ref)
                .fetch_optional(pool)
                .await
        })?;
        Ok(row.map(|(params, response_code, transaction_no)| {
            let map = decode_query(&params).unwrap_or_default();
            SandboxTxn {
                response_code,
                transaction_no,
                amount_vnd: map
                    .get("vnp_Amount")
                    .and_then(|a| a.parse::<i64>().ok())
                    .map(|a| a / 100),
                pay_date: map
                    .get("vnp_PayDate")
                    .and_then(|d| crate::gateways::vnpay::wire::parse_date("vnp_PayDate", d).ok()),
            }
        }))
    }
}
