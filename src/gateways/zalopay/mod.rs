//! ZaloPay Open API v2.

pub mod callback;
pub mod wire;

use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;

use crate::gateways::adapters::{
    AttemptRef, GatewayFailure, PaymentGateway, QueryOutcome, RefundOutcome, StartRequest, Started,
};
use crate::gateways::{ascii, GatewayId};

/// The Zalopay adapter (HTTP calls; the wire format is in this module).
pub struct Adapter {
    pub(crate) http: reqwest::Client,
    pub(crate) app_id: i64,
    pub(crate) key1: crate::config::Secret,
    pub(crate) endpoint: String,
    pub(crate) callback_url: String,
    pub(crate) redirect_url: String,
}

impl PaymentGateway for Adapter {
    fn id(&self) -> GatewayId {
        GatewayId::Zalopay
    }

    fn reference(&self, base: &str, now: DateTime<Utc>) -> String {
        wire::app_trans_id(now, base).unwrap_or_else(|_| base.to_owned())
    }

    fn start<'a>(
        &'a self,
        req: &'a StartRequest,
    ) -> BoxFuture<'a, Result<Started, GatewayFailure>> {
        Box::pin(async move {
            let seconds = (req.expires - req.created).num_seconds().max(300);
            let body = wire::build_create_order(
                &wire::CreateOrder {
                    app_id: self.app_id,
                    app_user: "landpay".into(),
                    app_trans_id: req.txn_ref.clone(),
                    app_time: req.created,
                    amount_vnd: req.amount_vnd,
                    item: "[]".into(),
                    embed_data: serde_json::json!({"redirecturl": self.redirect_url}).to_string(),
                    description: ascii::sanitize(&req.order_info, 255),
                    bank_code: String::new(),
                    callback_url: Some(self.callback_url.clone()),
                    expire_duration_seconds: Some(seconds),
                },
                self.key1.expose(),
            )?;
            let res = self
                .http
                .post(format!("{}/v2/create", self.endpoint))
                .json(&body)
                .send()
                .await?;
            let answer: wire::CreateOrderResponse = res.json().await?;
            match (answer.return_code, answer.order_url) {
                (1, Some(url)) => Ok(Started::Redirect(url)),
                (code, _) => Err(GatewayFailure::Unavailable(format!(
                    "ZaloPay refused the order (return_code {code}: {})",
                    answer.return_message
                ))),
            }
        })
    }

    fn query<'a>(
        &'a self,
        attempt: &'a AttemptRef,
    ) -> BoxFuture<'a, Result<QueryOutcome, GatewayFailure>> {
        Box::pin(async move {
            let body = wire::build_query_request(self.app_id, &attempt.txn_ref, self.key1.expose());
            let res = self
                .http
                .post(format!("{}/v2/query", self.endpoint))
                .json(&body)
                .send()
                .await?;
            // ZaloPay signs its callbacks but not this answer: the TLS connection to ZaloPay's
            // host vouches for it, which is why production refuses an endpoint that is not
            // https or is the sandbox.
            let answer: wire::QueryResponse = res.json().await?;
            Ok(match answer.return_code {
                // A payment is recorded only at the amount the gateway states.
                1 => QueryOutcome::Paid {
                    amount_vnd: answer.amount.ok_or_else(|| {
                        GatewayFailure::Unavailable(
                            "the query answer reports a payment without amount".into(),
                        )
                    })?,
                    gateway_txn_no: answer.zp_trans_id.map(|t| t.to_string()),
                    bank_code: None,
                    paid_at: answer.server_time.and_then(DateTime::from_timestamp_millis),
                },
                2 => QueryOutcome::Failed,
                _ => QueryOutcome::Pending,
            })
        })
    }

    fn refund<'a>(
        &'a self,
        _attempt: &'a AttemptRef,
        _amount_vnd: i64,
        _full: bool,
        _operator: &'a str,
    ) -> BoxFuture<'a, Result<RefundOutcome, GatewayFailure>> {
        Box::pin(async move { Ok(RefundOutcome::Manual) })
    }
}
