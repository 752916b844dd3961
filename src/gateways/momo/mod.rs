//! MoMo All-In-One v2, `requestType=captureWallet`.

pub mod callback;
pub mod wire;

use futures_util::future::BoxFuture;

use crate::gateways::adapters::{
    request_id, AttemptRef, GatewayFailure, PaymentGateway, QueryOutcome, RefundOutcome,
    StartRequest, Started,
};
use crate::gateways::{ascii, GatewayId};

/// The Momo adapter (HTTP calls; the wire format is in this module).
pub struct Adapter {
    pub(crate) http: reqwest::Client,
    pub(crate) partner_code: String,
    pub(crate) access_key: crate::config::Secret,
    pub(crate) secret_key: crate::config::Secret,
    pub(crate) endpoint: String,
    pub(crate) ipn_url: String,
    pub(crate) redirect_url: String,
}

impl PaymentGateway for Adapter {
    fn id(&self) -> GatewayId {
        GatewayId::Momo
    }

    fn start<'a>(
        &'a self,
        req: &'a StartRequest,
    ) -> BoxFuture<'a, Result<Started, GatewayFailure>> {
        Box::pin(async move {
            wire::check_amount(req.amount_vnd)?;
            let body = wire::build_create_request(
                &wire::CreateRequest {
                    partner_code: self.partner_code.clone(),
                    request_id: request_id(),
                    order_id: req.txn_ref.clone(),
                    amount_vnd: req.amount_vnd,
                    order_info: ascii::sanitize(&req.order_info, 255),
                    redirect_url: self.redirect_url.clone(),
                    ipn_url: self.ipn_url.clone(),
                    extra_data: String::new(),
                    lang: if req.locale == "en" {
                        wire::Lang::En
                    } else {
                        wire::Lang::Vi
                    },
                },
                self.access_key.expose(),
                self.secret_key.expose(),
            )?;
            let res = self
                .http
                .post(format!("{}/v2/gateway/api/create", self.endpoint))
                .json(&body)
                .send()
                .await?;
            let answer: wire::CreateResponse = res.json().await?;
            match (answer.result_code, answer.pay_url) {
                (0, Some(url)) => Ok(Started::Redirect(url)),
                (code, _) => Err(GatewayFailure::Unavailable(format!(
                    "MoMo refused the order (resultCode {code}: {})",
                    wire::result_meaning(code)
                ))),
            }
        })
    }

    fn query<'a>(
        &'a self,
        attempt: &'a AttemptRef,
    ) -> BoxFuture<'a, Result<QueryOutcome, GatewayFailure>> {
        Box::pin(async move {
            let body = wire::build_query_request(
                &self.partner_code,
                &request_id(),
                &attempt.txn_ref,
                wire::Lang::Vi,
                self.access_key.expose(),
                self.secret_key.expose(),
            )?;
            let res = self
                .http
                .post(format!("{}/v2/gateway/api/query", self.endpoint))
                .json(&body)
                .send()
                .await?;
            // MoMo signs its callbacks but not this answer (its documentation lists no
            // signature for it): the TLS connection to MoMo's host vouches for it, which is why
            // production refuses an endpoint that is not https or is the sandbox.
            let answer: serde_json::Value = res.json().await?;
            // The answer must be about this order (an answer naming another moves nothing, a
            // paid one must name it), and a payment is recorded only at the amount stated.
            let order = answer["orderId"].as_str();
            if order.is_some_and(|o| o != attempt.txn_ref) {
                return Err(GatewayFailure::Unavailable(
                    "the query answer names another order".into(),
                ));
            }
            let code = answer["resultCode"].as_i64().unwrap_or(-1);
            if matches!(code, 0 | 9000) && order.is_none() {
                return Err(GatewayFailure::Unavailable(
                    "the query answer reports a payment without orderId".into(),
                ));
            }
            Ok(match code {
                0 | 9000 => QueryOutcome::Paid {
                    amount_vnd: answer["amount"].as_i64().ok_or_else(|| {
                        GatewayFailure::Unavailable(
                            "the query answer reports a payment without amount".into(),
                        )
                    })?,
                    gateway_txn_no: answer["transId"].as_i64().map(|t| t.to_string()),
                    bank_code: None,
                    paid_at: None,
                },
                1000 | 7000 | 7002 | 8000 => QueryOutcome::Pending,
                42 => QueryOutcome::NotFound,
                -1 => QueryOutcome::Pending,
                _ => QueryOutcome::Failed,
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
