//! The gateway adapters behind one trait, and the registry built from configuration. The pure
//! wire formats live in each gateway's module; this file does the HTTP calls.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;

use super::vnpay::transaction::{
    build_querydr_request, build_refund_request, parse_querydr_response, parse_refund_response,
    QueryDrRequest, RefundRequest as VnpRefund, RefundType,
};
use super::vnpay::wire::{build_payment_url, Locale, PaymentRequest};
use super::{momo, vietqr, zalopay, GatewayError, GatewayId};
use crate::config::Settings;

/// What the service asks a gateway to start.
#[derive(Debug, Clone)]
pub struct StartRequest {
    pub txn_ref: String,
    pub amount_vnd: i64,
    pub order_info: String,
    pub client_ip: String,
    pub bank_code: Option<String>,
    pub locale: String,
    pub created: DateTime<Utc>,
    pub expires: DateTime<Utc>,
}

/// Where the payer goes next.
#[derive(Debug, Clone)]
pub enum Started {
    Redirect(String),
    Qr {
        payload: String,
        svg: String,
        reference: String,
    },
}

/// The gateway's word on an attempt when asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueryOutcome {
    Paid {
        amount_vnd: i64,
        gateway_txn_no: Option<String>,
        bank_code: Option<String>,
        paid_at: Option<DateTime<Utc>>,
    },
    Failed,
    /// The gateway has no such transaction: the payer never paid.
    NotFound,
    /// Still in flight, or the gateway cannot say yet.
    Pending,
}

/// The attempt being asked about or refunded.
#[derive(Debug, Clone)]
pub struct AttemptRef {
    pub txn_ref: String,
    pub created: DateTime<Utc>,
    pub gateway_txn_no: Option<String>,
    pub amount_vnd: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefundOutcome {
    Succeeded,
    /// The gateway takes no refunds through its API (bank transfers): finance pays back by hand.
    Manual,
    Failed(String),
}

/// A gateway could not be used.
#[derive(Debug, thiserror::Error)]
pub enum GatewayFailure {
    /// The request itself is not acceptable to this gateway (e.g. an amount over its limit).
    #[error("{0}")]
    Refused(String),
    /// No usable answer (network, timeout, bad signature on the answer).
    #[error("gateway unavailable: {0}")]
    Unavailable(String),
}

impl From<GatewayError> for GatewayFailure {
    fn from(e: GatewayError) -> Self {
        match e {
            GatewayError::AmountOutOfRange { .. } => Self::Refused(e.to_string()),
            other => Self::Unavailable(other.to_string()),
        }
    }
}

impl From<reqwest::Error> for GatewayFailure {
    fn from(e: reqwest::Error) -> Self {
        // Without the URL: it may carry credentials in a query string.
        Self::Unavailable(e.without_url().to_string())
    }
}

/// One payment gateway.
pub trait PaymentGateway: Send + Sync {
    fn id(&self) -> GatewayId;
    /// The reference the gateway will echo back, derived from our base reference.
    fn reference(&self, base: &str, now: DateTime<Utc>) -> String {
        let _ = now;
        base.to_owned()
    }
    fn start<'a>(&'a self, req: &'a StartRequest)
        -> BoxFuture<'a, Result<Started, GatewayFailure>>;
    fn query<'a>(
        &'a self,
        attempt: &'a AttemptRef,
    ) -> BoxFuture<'a, Result<QueryOutcome, GatewayFailure>>;
    fn refund<'a>(
        &'a self,
        attempt: &'a AttemptRef,
        amount_vnd: i64,
        full: bool,
        operator: &'a str,
    ) -> BoxFuture<'a, Result<RefundOutcome, GatewayFailure>>;
}

/// The enabled gateways.
pub type Registry = HashMap<GatewayId, Arc<dyn PaymentGateway>>;

/// Builds the registry from configuration: every enabled gateway, with one HTTP client.
pub fn registry(settings: &Settings) -> anyhow::Result<Registry> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let base = settings.base_url().to_owned();
    let g = &settings.gateways;
    let mut out: Registry = HashMap::new();
    if g.vnpay.enabled {
        let payment_url = if g.vnpay.payment_url.is_empty() {
            format!("{base}/sandbox/vnpay/paymentv2/vpcpay.html")
        } else {
            g.vnpay.payment_url.clone()
        };
        let api_url = if g.vnpay.api_url.is_empty() {
            format!("{base}/sandbox/vnpay/merchant_webapi/api/transaction")
        } else {
            g.vnpay.api_url.clone()
        };
        out.insert(
            GatewayId::Vnpay,
            Arc::new(Vnpay {
                http: http.clone(),
                tmn_code: g.vnpay.tmn_code.clone(),
                secret: g.vnpay.hash_secret.clone(),
                payment_url,
                api_url,
                return_url: format!("{base}/callbacks/vnpay/return"),
            }),
        );
    }
    if g.momo.enabled {
        out.insert(
            GatewayId::Momo,
            Arc::new(Momo {
                http: http.clone(),
                partner_code: g.momo.partner_code.clone(),
                access_key: g.momo.access_key.clone(),
                secret_key: g.momo.secret_key.clone(),
                endpoint: g.momo.endpoint.trim_end_matches('/').to_owned(),
                ipn_url: format!("{base}/callbacks/momo/ipn"),
                redirect_url: format!("{base}/callbacks/momo/return"),
            }),
        );
    }
    if g.zalopay.enabled {
        let app_id = g
            .zalopay
            .app_id
            .parse::<i64>()
            .map_err(|_| anyhow::anyhow!("gateways.zalopay.app_id must be a number"))?;
        out.insert(
            GatewayId::Zalopay,
            Arc::new(Zalopay {
                http: http.clone(),
                app_id,
                key1: g.zalopay.key1.clone(),
                endpoint: g.zalopay.endpoint.trim_end_matches('/').to_owned(),
                callback_url: format!("{base}/callbacks/zalopay"),
                redirect_url: format!("{base}/callbacks/zalopay/return"),
            }),
        );
    }
    if g.vietqr.enabled {
        out.insert(
            GatewayId::Vietqr,
            Arc::new(Vietqr {
                bank_bin: g.vietqr.bank_bin.clone(),
                account_no: g.vietqr.account_no.clone(),
                account_name: g.vietqr.account_name.clone(),
            }),
        );
    }
    Ok(out)
}

struct Vnpay {
    http: reqwest::Client,
    tmn_code: String,
    secret: crate::config::Secret,
    payment_url: String,
    api_url: String,
    return_url: String,
}

fn request_id() -> String {
    ulid::Ulid::new().to_string()
}

impl PaymentGateway for Vnpay {
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
            Ok(match answer.response_code.code() {
                "00" => match answer.transaction_status.as_ref().map(|s| s.code()) {
                    Some("00") => QueryOutcome::Paid {
                        amount_vnd: answer.amount_vnd.unwrap_or(attempt.amount_vnd),
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

struct Momo {
    http: reqwest::Client,
    partner_code: String,
    access_key: crate::config::Secret,
    secret_key: crate::config::Secret,
    endpoint: String,
    ipn_url: String,
    redirect_url: String,
}

impl PaymentGateway for Momo {
    fn id(&self) -> GatewayId {
        GatewayId::Momo
    }

    fn start<'a>(
        &'a self,
        req: &'a StartRequest,
    ) -> BoxFuture<'a, Result<Started, GatewayFailure>> {
        Box::pin(async move {
            momo::wire::check_amount(req.amount_vnd)?;
            let body = momo::wire::build_create_request(
                &momo::wire::CreateRequest {
                    partner_code: self.partner_code.clone(),
                    request_id: request_id(),
                    order_id: req.txn_ref.clone(),
                    amount_vnd: req.amount_vnd,
                    order_info: super::ascii::sanitize(&req.order_info, 255),
                    redirect_url: self.redirect_url.clone(),
                    ipn_url: self.ipn_url.clone(),
                    extra_data: String::new(),
                    lang: if req.locale == "en" {
                        momo::wire::Lang::En
                    } else {
                        momo::wire::Lang::Vi
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
            let answer: momo::wire::CreateResponse = res.json().await?;
            match (answer.result_code, answer.pay_url) {
                (0, Some(url)) => Ok(Started::Redirect(url)),
                (code, _) => Err(GatewayFailure::Unavailable(format!(
                    "MoMo refused the order (resultCode {code}: {})",
                    momo::wire::result_meaning(code)
                ))),
            }
        })
    }

    fn query<'a>(
        &'a self,
        attempt: &'a AttemptRef,
    ) -> BoxFuture<'a, Result<QueryOutcome, GatewayFailure>> {
        Box::pin(async move {
            let body = momo::wire::build_query_request(
                &self.partner_code,
                &request_id(),
                &attempt.txn_ref,
                momo::wire::Lang::Vi,
                self.access_key.expose(),
                self.secret_key.expose(),
            )?;
            let res = self
                .http
                .post(format!("{}/v2/gateway/api/query", self.endpoint))
                .json(&body)
                .send()
                .await?;
            let answer: serde_json::Value = res.json().await?;
            let code = answer["resultCode"].as_i64().unwrap_or(-1);
            Ok(match code {
                0 | 9000 => QueryOutcome::Paid {
                    amount_vnd: answer["amount"].as_i64().unwrap_or(attempt.amount_vnd),
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

struct Zalopay {
    http: reqwest::Client,
    app_id: i64,
    key1: crate::config::Secret,
    endpoint: String,
    callback_url: String,
    redirect_url: String,
}

impl PaymentGateway for Zalopay {
    fn id(&self) -> GatewayId {
        GatewayId::Zalopay
    }

    fn reference(&self, base: &str, now: DateTime<Utc>) -> String {
        zalopay::wire::app_trans_id(now, base).unwrap_or_else(|_| base.to_owned())
    }

    fn start<'a>(
        &'a self,
        req: &'a StartRequest,
    ) -> BoxFuture<'a, Result<Started, GatewayFailure>> {
        Box::pin(async move {
            let seconds = (req.expires - req.created).num_seconds().max(300);
            let body = zalopay::wire::build_create_order(
                &zalopay::wire::CreateOrder {
                    app_id: self.app_id,
                    app_user: "landpay".into(),
                    app_trans_id: req.txn_ref.clone(),
                    app_time: req.created,
                    amount_vnd: req.amount_vnd,
                    item: "[]".into(),
                    embed_data: serde_json::json!({"redirecturl": self.redirect_url}).to_string(),
                    description: super::ascii::sanitize(&req.order_info, 255),
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
            let answer: zalopay::wire::CreateOrderResponse = res.json().await?;
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
            let body = zalopay::wire::build_query_request(
                self.app_id,
                &attempt.txn_ref,
                self.key1.expose(),
            );
            let res = self
                .http
                .post(format!("{}/v2/query", self.endpoint))
                .json(&body)
                .send()
                .await?;
            let answer: zalopay::wire::QueryResponse = res.json().await?;
            Ok(match answer.return_code {
                1 => QueryOutcome::Paid {
                    amount_vnd: answer.amount.unwrap_or(attempt.amount_vnd),
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

struct Vietqr {
    bank_bin: String,
    account_no: String,
    account_name: String,
}

impl PaymentGateway for Vietqr {
    fn id(&self) -> GatewayId {
        GatewayId::Vietqr
    }

    fn start<'a>(
        &'a self,
        req: &'a StartRequest,
    ) -> BoxFuture<'a, Result<Started, GatewayFailure>> {
        Box::pin(async move {
            let payload = vietqr::emv::build_payload(&vietqr::emv::VietQr {
                bank_bin: self.bank_bin.clone(),
                account_no: self.account_no.clone(),
                service: vietqr::emv::Service::ToAccount,
                amount_vnd: Some(req.amount_vnd),
                purpose: Some(req.txn_ref.clone()),
                merchant_name: Some(super::ascii::sanitize(&self.account_name, 25)),
                merchant_city: None,
            })?;
            let svg = vietqr::svg::render_svg(&payload)?;
            Ok(Started::Qr {
                payload,
                svg,
                reference: req.txn_ref.clone(),
            })
        })
    }

    /// Bank transfers have no status API: the statement import (reconciliation) settles them.
    fn query<'a>(
        &'a self,
        _attempt: &'a AttemptRef,
    ) -> BoxFuture<'a, Result<QueryOutcome, GatewayFailure>> {
        Box::pin(async move { Ok(QueryOutcome::Pending) })
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
