//! VNPay payment gateway, API version 2.1.0.
//!
//! - [`wire`]: payment URL, IPN/return verification and parsing, dates, and the
//!   only place where đồng are converted to VNPay's ×100 amounts.
//! - [`transaction`]: `querydr` and `refund` JSON requests and responses (client side).
//! - [`sandbox`]: what the local VNPay simulator needs (verify our payment URL, sign an
//!   IPN/return as VNPay would, answer `querydr`).
//! - [`codes`]: response/status code tables with Vietnamese and English meanings, and the
//!   merchant's IPN answer ([`codes::IpnAnswer`]).

pub mod callback;
pub mod codes;
pub mod sandbox;
pub mod transaction;
pub mod wire;

use chrono::Utc;
use futures_util::future::BoxFuture;

use crate::gateways::adapters::{
    request_id, AttemptRef, GatewayFailure, PaymentGateway, QueryOutcome, RefundOutcome,
    StartRequest, Started,
};
use crate::gateways::GatewayId;
use transaction::{
    build_querydr_request, build_refund_request, parse_querydr_response, parse_refund_response,
    QueryDrRequest, RefundRequest as VnpRefund, RefundType,
};
use wire::{build_payment_url, Locale, PaymentRequest};

/// The Vnpay adapter (HTTP calls; the wire format is in this module).
pub struct Adapter {
    pub(crate) http: reqwest::Client,
    pub(crate) tmn_code: String,
    pub(crate) secret: crate::config::Secret,
    pub(crate) payment_url: String,
    pub(crate) api_url: String,
    pub(crate) return_url: String,
}

impl PaymentGateway for Adapter {
    fn id(&self) -> GatewayId {
        GatewayId::Vnpay
    }

    fn start<'a>(
        &'a self,
        req: &'a StartRequest,
    ) -> BoxFuture<'a, Result<Started, GatewayFailure>> {
        Box::pin(async move {
            let request = PaymentRequest {
                tmn_code: self.tmn_code.clone(),
                amount_vnd: req.amount_vnd,
                txn_ref: req.txn_ref.clone(),
                order_info: req.order_info.clone(),
                order_type: "billpayment".into(),
                locale: if req.locale == "en" {
                    Locale::En
                } else {
                    Locale::Vn
                },
                return_url: self.return_url.clone(),
                ip_addr: req.client_ip.clone(),
                create_date: req.created,
                expire_date: req.expires,
                bank_code: req.bank_code.clone(),
            };
            Ok(Started::Redirect(build_payment_url(
                &self.payment_url,
                &request,
                self.secret.expose(),
            )?))
        })
    }

    fn query<'a>(
        &'a self,
        attempt: &'a AttemptRef,
    ) -> BoxFuture<'a, Result<QueryOutcome, GatewayFailure>> {
        Box::pin(async move {
            let body = build_querydr_request(
                &QueryDrRequest {
                    request_id: request_id(),
                    tmn_code: self.tmn_code.clone(),
                    txn_ref: attempt.txn_ref.clone(),
                    transaction_date: attempt.created,
                    create_date: Utc::now(),
                    ip_addr: "127.0.0.1".into(),
                    order_info: format!("Truy van GD {}", attempt.txn_ref),
                },
                self.secret.expose(),
            );
            let res = self.http.post(&self.api_url).json(&body).send().await?;
            let bytes = res.bytes().await?;
            let answer = parse_querydr_response(&bytes, self.secret.expose())?;
            // Signed is not enough: an answer naming another transaction, or a `00` answer
            // naming none, is not about this one; and a payment is recorded only at the amount
            // the gateway states.
            let named = !answer.txn_ref.is_empty() || answer.response_code.code() == "00";
            if named && answer.txn_ref != attempt.txn_ref {
                return Err(GatewayFailure::Unavailable(
                    "the querydr answer names another transaction".into(),
                ));
            }
            Ok(match answer.response_code.code() {
                "00" => match answer.transaction_status.as_ref().map(|s| s.code()) {
                    Some("00") => QueryOutcome::Paid {
                        amount_vnd: answer.amount_vnd.ok_or_else(|| {
                            GatewayFailure::Unavailable(
                                "the querydr answer reports a payment without vnp_Amount".into(),
                            )
                        })?,
                        gateway_txn_no: answer.transaction_no.clone(),
                        bank_code: answer.bank_code.clone(),
                        paid_at: answer.pay_date,
                    },
                    Some("01") | Some("05") => QueryOutcome::Pending,
                    _ => QueryOutcome::Failed,
                },
                "91" => QueryOutcome::NotFound,
                _ => QueryOutcome::Pending,
            })
        })
    }

    fn refund<'a>(
        &'a self,
        attempt: &'a AttemptRef,
        amount_vnd: i64,
        full: bool,
        operator: &'a str,
    ) -> BoxFuture<'a, Result<RefundOutcome, GatewayFailure>> {
        Box::pin(async move {
            let body = build_refund_request(
                &VnpRefund {
                    request_id: request_id(),
                    tmn_code: self.tmn_code.clone(),
                    refund_type: if full {
                        RefundType::Full
                    } else {
                        RefundType::Partial
                    },
                    txn_ref: attempt.txn_ref.clone(),
                    amount_vnd,
                    transaction_no: attempt.gateway_txn_no.clone(),
                    transaction_date: attempt.created,
                    create_by: super::ascii::sanitize(operator, 64),
                    create_date: Utc::now(),
                    ip_addr: "127.0.0.1".into(),
                    order_info: format!("Hoan tien GD {}", attempt.txn_ref),
                },
                self.secret.expose(),
            )?;
            let res = self.http.post(&self.api_url).json(&body).send().await?;
            let bytes = res.bytes().await?;
            let answer = parse_refund_response(&bytes, self.secret.expose())?;
            Ok(match answer.response_code.code() {
                "00" => RefundOutcome::Succeeded,
                other => RefundOutcome::Failed(format!(
                    "VNPay refused the refund (code {other}: {})",
                    answer.message
                )),
            })
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;
