//! The payment platform of the National Public Service Portal (DVCQG): the create message with
//! its receipt data, the redirect to `UrlThanhToan`, and the query message for the janitor.
//! An agency may hold its own account (`agencies.<code>.gateways.dvcqg`).

pub mod callback;
pub mod wire;

use std::collections::BTreeMap;
use std::sync::Arc;

use futures_util::future::BoxFuture;

use crate::config::{AgencyDvcqg, DvcqgSettings, Settings};
use crate::gateways::adapters::{
    AttemptRef, GatewayFailure, PaymentGateway, QueryOutcome, RefundOutcome, Registry,
    StartRequest, Started,
};
use crate::gateways::{ascii, GatewayId};

/// One account at the platform: the partner code, its key and where the money goes.
#[derive(Clone)]
pub struct Account {
    pub partner_code: String,
    pub hash_key: String,
    pub beneficiary_account: String,
    pub beneficiary_bank: String,
    pub beneficiary_name: String,
    pub agency_name: String,
}

/// The account an agency's orders use: its own fields, else the service's.
pub fn account(
    cfg: &DvcqgSettings,
    agencies: &BTreeMap<String, AgencyDvcqg>,
    agency: Option<&str>,
) -> Account {
    let own = agency.and_then(|a| agencies.get(a));
    let pick = |f: fn(&AgencyDvcqg) -> Option<&String>, default: &str| {
        own.and_then(f)
            .cloned()
            .unwrap_or_else(|| default.to_owned())
    };
    Account {
        partner_code: pick(|a| a.partner_code.as_ref(), &cfg.partner_code),
        hash_key: own.and_then(|a| a.hash_key.as_ref()).map_or_else(
            || cfg.hash_key.expose().to_owned(),
            |k| k.expose().to_owned(),
        ),
        beneficiary_account: pick(|a| a.beneficiary_account.as_ref(), ""),
        beneficiary_bank: pick(|a| a.beneficiary_bank.as_ref(), ""),
        beneficiary_name: pick(|a| a.beneficiary_name.as_ref(), ""),
        agency_name: pick(|a| a.agency_name.as_ref(), agency.unwrap_or_default()),
    }
}

/// The agencies' platform settings, by agency code.
pub fn agency_accounts(settings: &Settings) -> BTreeMap<String, AgencyDvcqg> {
    settings
        .agencies
        .iter()
        .filter_map(|(code, a)| a.gateways.dvcqg.clone().map(|d| (code.clone(), d)))
        .collect()
}

/// Every (partner code, key) a result may be signed with: the service's and each agency's.
pub fn keys(settings: &Settings) -> Vec<(String, String)> {
    let cfg = &settings.gateways.dvcqg;
    let mut out = vec![(cfg.partner_code.clone(), cfg.hash_key.expose().to_owned())];
    for code in agency_accounts(settings).keys() {
        let a = account(cfg, &agency_accounts(settings), Some(code));
        if !out.contains(&(a.partner_code.clone(), a.hash_key.clone())) {
            out.push((a.partner_code, a.hash_key));
        }
    }
    out
}

/// Adds the adapter when the platform is enabled; empty URLs name the built-in simulator.
pub fn register(settings: &Settings, http: &reqwest::Client, out: &mut Registry) {
    let cfg = &settings.gateways.dvcqg;
    if !cfg.enabled {
        return;
    }
    let base = settings.base_url();
    let init_url = if cfg.init_url.is_empty() {
        format!("{base}/sandbox/dvcqg/init")
    } else {
        cfg.init_url.clone()
    };
    let query_url = Some(cfg.query_url.clone()).filter(|q| !q.is_empty());
    out.insert(
        GatewayId::Dvcqg,
        Arc::new(Adapter {
            http: http.clone(),
            cfg: cfg.clone(),
            agencies: agency_accounts(settings),
            init_url,
            query_url,
        }),
    );
}

/// The DVCQG adapter (HTTP calls; the messages are in [`wire`]).
pub struct Adapter {
    http: reqwest::Client,
    cfg: DvcqgSettings,
    agencies: BTreeMap<String, AgencyDvcqg>,
    init_url: String,
    query_url: Option<String>,
}

/// A reference of at most 20 characters (`MaThamChieu`): the tail of the attempt's id.
pub fn reference(base: &str) -> String {
    let skip = base.len().saturating_sub(20);
    base.chars().skip(skip).collect()
}

/// `"2"` (lệ phí, a charge) for lines so named, else `"1"` (phí, a fee).
fn fee_kind(name: &str) -> &'static str {
    if name.to_lowercase().starts_with("lệ phí") {
        "2"
    } else {
        "1"
    }
}

impl Adapter {
    fn init_message(&self, req: &StartRequest) -> wire::InitMessage {
        let f = &req.facts;
        let acc = account(&self.cfg, &self.agencies, f.agency_code.as_deref());
        let fees = f
            .lines
            .iter()
            .map(|l| wire::FeeEntry {
                kind: fee_kind(&l.name).into(),
                code: l.code.clone(),
                name: l.name.clone(),
                amount: l.amount,
            })
            .collect();
        let items = f
            .lines
            .iter()
            .map(|l| wire::PaidItem {
                content: l.name.clone(),
                amount: l.amount,
            })
            .collect();
        let receipt = wire::Receipt {
            service: "2".into(),
            unit_code: f.agency_code.clone().unwrap_or_default(),
            unit_name: acc.agency_name.clone(),
            dossier_code: f.dossier_code.clone().unwrap_or_default(),
            beneficiary_account: acc.beneficiary_account.clone(),
            beneficiary_bank: acc.beneficiary_bank.clone(),
            beneficiary_name: acc.beneficiary_name.clone(),
            fees,
            content: req.order_info.clone(),
            payer_name: f.payer_name.clone(),
            payer_id_no: f.payer_id_no.clone(),
            items,
            ..wire::Receipt::default()
        };
        wire::InitMessage {
            message_type: self.cfg.message_types.init.clone(),
            version: self.cfg.version.clone(),
            partner_code: acc.partner_code,
            reference: req.txn_ref.clone(),
            amount: req.amount_vnd.to_string(),
            payment_kind: self.cfg.payment_kind.clone(),
            channel: self.cfg.channel.clone(),
            device: self.cfg.device.clone(),
            language: if req.locale == "en" { "en" } else { "vi" }.into(),
            currency: "VND".into(),
            bank_code: req.bank_code.clone().unwrap_or_default(),
            description: ascii::sanitize(&req.order_info, 255),
            time: wire::format_time(req.created),
            ip: req.client_ip.clone(),
            receipt,
            mac: String::new(),
        }
        .sign(&acc.hash_key)
    }
}

impl PaymentGateway for Adapter {
    fn id(&self) -> GatewayId {
        GatewayId::Dvcqg
    }

    fn reference(&self, base: &str, _now: chrono::DateTime<chrono::Utc>) -> String {
        reference(base)
    }

    fn start<'a>(
        &'a self,
        req: &'a StartRequest,
    ) -> BoxFuture<'a, Result<Started, GatewayFailure>> {
        Box::pin(async move {
            let message = self.init_message(req);
            let res = self.http.post(&self.init_url).json(&message).send().await?;
            let answer: wire::InitAnswer = res.json().await?;
            match (answer.code.as_str(), answer.payment_url) {
                (wire::OK, Some(url))
                    if url.starts_with("https://") || url.starts_with("http://") =>
                {
                    Ok(Started::Redirect(url))
                }
                (code, _) => Err(GatewayFailure::Unavailable(format!(
                    "the DVCQG payment platform refused the payment (MaLoi {code}: {})",
                    answer.message
                ))),
            }
        })
    }

    fn query<'a>(
        &'a self,
        attempt: &'a AttemptRef,
    ) -> BoxFuture<'a, Result<QueryOutcome, GatewayFailure>> {
        Box::pin(async move {
            let Some(url) = &self.query_url else {
                return Ok(QueryOutcome::Pending);
            };
            let acc = account(&self.cfg, &self.agencies, attempt.agency_code.as_deref());
            let message = wire::QueryMessage {
                message_type: self.cfg.message_types.query.clone(),
                version: self.cfg.version.clone(),
                partner_code: acc.partner_code.clone(),
                reference: attempt.txn_ref.clone(),
                time: wire::format_time(chrono::Utc::now()),
                mac: String::new(),
            }
            .sign(&acc.hash_key);
            let res = self.http.post(url).json(&message).send().await?;
            let body = res.bytes().await?;
            query_outcome(&body, &acc, &attempt.txn_ref)
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

/// The answer to a query: a result message signed as the platform signs results. `00` is
/// paid; any other code leaves the attempt to be asked again.
fn query_outcome(
    body: &[u8],
    acc: &Account,
    txn_ref: &str,
) -> Result<QueryOutcome, GatewayFailure> {
    let mut answer = wire::ResultMessage::parse(body)?;
    if answer.partner_code.is_empty() {
        answer.partner_code.clone_from(&acc.partner_code);
    }
    answer
        .verify(&acc.hash_key)
        .map_err(|e| GatewayFailure::Unavailable(format!("query answer: {e}")))?;
    if answer.reference != txn_ref || answer.partner_code != acc.partner_code {
        return Err(GatewayFailure::Unavailable(
            "the query answer names another transaction".into(),
        ));
    }
    if answer.code != wire::OK {
        return Ok(QueryOutcome::Pending);
    }
    let amount_vnd = answer.amount_vnd().ok_or_else(|| {
        GatewayFailure::Unavailable("query answer: SoTien is not whole đồng".into())
    })?;
    Ok(QueryOutcome::Paid {
        amount_vnd,
        gateway_txn_no: Some(answer.transaction_no.clone()).filter(|n| !n.is_empty()),
        bank_code: Some(answer.bank_code.clone()).filter(|b| !b.is_empty()),
        paid_at: wire::parse_time(&answer.time),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn references_are_at_most_20_characters() {
        assert_eq!(
            reference("01KBF6B3M0D5N6D2CQ1W3V9HZX"),
            "B3M0D5N6D2CQ1W3V9HZX"
        );
        assert_eq!(reference("SHORT"), "SHORT");
        assert_eq!(fee_kind("Lệ phí trước bạ nhà đất"), "2");
        assert_eq!(fee_kind("Phí thẩm định hồ sơ"), "1");
    }
}
