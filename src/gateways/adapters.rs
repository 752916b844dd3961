//! The gateway trait and the registry built from configuration. Each gateway's adapter (its HTTP
//! calls) is in its own module's `mod.rs`, beside its pure wire format.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;

use super::{GatewayError, GatewayId};
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
    /// The order as its receipt names it (the national rails send it along).
    pub facts: OrderFacts,
}

/// The order as a receipt names it: agency, dossier, payer and lines.
#[derive(Debug, Clone, Default)]
pub struct OrderFacts {
    pub agency_code: Option<String>,
    pub dossier_code: Option<String>,
    pub payer_name: String,
    pub payer_id_no: String,
    pub lines: Vec<FactLine>,
}

/// One line of an order: its budget sub-item (or kind), name and amount in đồng.
#[derive(Debug, Clone)]
pub struct FactLine {
    pub code: String,
    pub name: String,
    pub amount: i64,
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
    /// The agency of the order (agencies may hold their own gateway accounts).
    pub agency_code: Option<String>,
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

/// The enabled gateways of one set of credentials.
pub type Registry = HashMap<GatewayId, Arc<dyn PaymentGateway>>;

/// The enabled gateways: under the default credentials, and for each agency that holds its own
/// (`agencies.<code>.gateways`), under that agency's.
pub struct Gateways {
    default: Registry,
    by_agency: HashMap<String, Registry>,
}

impl Gateways {
    /// Builds every registry from configuration, with one HTTP client.
    pub fn build(settings: &Settings) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let default = registry(settings, None, &http)?;
        let mut by_agency = HashMap::new();
        for agency in settings.agencies_with_gateways() {
            by_agency.insert(agency.to_owned(), registry(settings, Some(agency), &http)?);
        }
        Ok(Self { default, by_agency })
    }

    /// A gateway under the default credentials.
    pub fn get(&self, id: &GatewayId) -> Option<&Arc<dyn PaymentGateway>> {
        self.default.get(id)
    }

    /// Whether a gateway is enabled.
    pub fn contains_key(&self, id: &GatewayId) -> bool {
        self.default.contains_key(id)
    }

    /// Gateway `id` as an order of `agency` uses it.
    pub fn of(&self, agency: Option<&str>, id: GatewayId) -> Option<&Arc<dyn PaymentGateway>> {
        self.for_agency(agency).get(&id)
    }

    /// The gateways as an order of `agency` uses them.
    pub fn for_agency(&self, agency: Option<&str>) -> &Registry {
        agency
            .and_then(|a| self.by_agency.get(a))
            .unwrap_or(&self.default)
    }
}

/// The registry of `agency`'s credentials (the defaults where it has none).
fn registry(
    settings: &Settings,
    agency: Option<&str>,
    http: &reqwest::Client,
) -> anyhow::Result<Registry> {
    let base = settings.base_url().to_owned();
    let g = &settings.gateways;
    let mut out: Registry = HashMap::new();
    if g.vnpay.enabled {
        let vnpay = settings.vnpay_for(agency);
        let payment_url = if vnpay.payment_url.is_empty() {
            format!("{base}/sandbox/vnpay/paymentv2/vpcpay.html")
        } else {
            vnpay.payment_url.clone()
        };
        let api_url = if vnpay.api_url.is_empty() {
            format!("{base}/sandbox/vnpay/merchant_webapi/api/transaction")
        } else {
            vnpay.api_url.clone()
        };
        out.insert(
            GatewayId::Vnpay,
            Arc::new(super::vnpay::Adapter {
                http: http.clone(),
                tmn_code: vnpay.tmn_code,
                secret: vnpay.hash_secret,
                payment_url,
                api_url,
                return_url: format!("{base}/callbacks/vnpay/return"),
            }),
        );
    }
    if g.momo.enabled {
        let momo = settings.momo_for(agency);
        out.insert(
            GatewayId::Momo,
            Arc::new(super::momo::Adapter {
                http: http.clone(),
                partner_code: momo.partner_code,
                access_key: momo.access_key,
                secret_key: momo.secret_key,
                endpoint: momo.endpoint.trim_end_matches('/').to_owned(),
                ipn_url: format!("{base}/callbacks/momo/ipn"),
                redirect_url: format!("{base}/callbacks/momo/return"),
            }),
        );
    }
    if g.zalopay.enabled {
        let zalopay = settings.zalopay_for(agency);
        let app_id = zalopay.app_id.parse::<i64>().map_err(|_| {
            anyhow::anyhow!("gateways.zalopay.app_id (or an agency's) must be a number")
        })?;
        out.insert(
            GatewayId::Zalopay,
            Arc::new(super::zalopay::Adapter {
                http: http.clone(),
                app_id,
                key1: zalopay.key1,
                endpoint: zalopay.endpoint.trim_end_matches('/').to_owned(),
                callback_url: format!("{base}/callbacks/zalopay"),
                redirect_url: format!("{base}/callbacks/zalopay/return"),
            }),
        );
    }
    super::dvcqg::register(settings, http, &mut out);
    super::paygov::register(settings, http, &mut out);
    if g.vietqr.enabled {
        let vietqr = settings.vietqr_for(agency);
        out.insert(
            GatewayId::Vietqr,
            Arc::new(super::vietqr::Adapter {
                bank_bin: vietqr.bank_bin,
                account_no: vietqr.account_no,
                account_name: vietqr.account_name,
            }),
        );
    }
    Ok(out)
}

/// A request id for a gateway API call (unique per day at VNPay, per request at MoMo).
pub fn request_id() -> String {
    ulid::Ulid::new().to_string()
}
