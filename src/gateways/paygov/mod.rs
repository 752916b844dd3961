//! PayGov, through a province's LGSP: the create call and the browser return. A return is
//! browser-borne: it never records money by itself (a settlement file does, or a configured
//! return checksum). The field lists come from an integration's code, not an official
//! specification; they live here only.

pub mod callback;

use std::sync::Arc;

use futures_util::future::BoxFuture;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::config::{PaygovSettings, Settings};
use crate::gateways::adapters::{
    AttemptRef, GatewayFailure, PaymentGateway, QueryOutcome, RefundOutcome, Registry,
    StartRequest, Started,
};
use crate::gateways::{ascii, GatewayId, SignatureError};

/// The header that carries the LGSP's own access token.
pub const LGSP_TOKEN_HEADER: &str = "LGSP-Access-Token";

/// Hex SHA-256 of the parts concatenated without separators.
pub fn checksum(parts: &[&str]) -> String {
    hex::encode(Sha256::digest(parts.concat().as_bytes()))
}

/// Constant-time check of a hex checksum over `parts`.
pub fn verify_checksum(parts: &[&str], given: &str) -> Result<(), SignatureError> {
    let given = given.trim();
    if given.is_empty() {
        return Err(SignatureError::Missing);
    }
    let given = hex::decode(given).map_err(|_| SignatureError::Malformed)?;
    let expected = Sha256::digest(parts.concat().as_bytes());
    if bool::from(expected[..].ct_eq(&given[..])) {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// The create request: every value a string, `checksum` = SHA-256 of
/// `secretKey + accessKey + partnerCode + orderId + requestCode + amount`.
pub fn create_body(
    cfg: &PaygovSettings,
    return_url: &str,
    req: &StartRequest,
) -> serde_json::Value {
    let amount = req.amount_vnd.to_string();
    let sum = checksum(&[
        cfg.secret_key.expose(),
        cfg.access_key.expose(),
        &cfg.partner_code,
        &req.txn_ref,
        &req.txn_ref,
        &amount,
    ]);
    serde_json::json!({
        "partnerCode": cfg.partner_code, "returnUrl": return_url, "orderId": req.txn_ref,
        "amount": amount, "orderInfo": ascii::sanitize(&req.order_info, 255),
        "requestCode": req.txn_ref, "ipAddress": req.client_ip,
        "accessKey": cfg.access_key.expose(), "serviceCode": cfg.service_code, "checksum": sum,
    })
}

/// A browser return's checksum, where `return_checksum_fields` is configured: SHA-256 of
/// `secret_key` then those fields' values in that order. `None` when none is configured.
pub fn return_verified(
    cfg: &PaygovSettings,
    value: impl Fn(&str) -> Option<String>,
) -> Option<Result<(), SignatureError>> {
    if cfg.return_checksum_fields.is_empty() {
        return None;
    }
    let values: Vec<String> = cfg
        .return_checksum_fields
        .iter()
        .map(|f| value(f).unwrap_or_default())
        .collect();
    let mut parts: Vec<&str> = vec![cfg.secret_key.expose()];
    parts.extend(values.iter().map(String::as_str));
    Some(verify_checksum(
        &parts,
        &value("checksum").unwrap_or_default(),
    ))
}

/// Adds the adapter when PayGov is enabled; an empty `create_url` names the simulator.
pub fn register(settings: &Settings, http: &reqwest::Client, out: &mut Registry) {
    let cfg = &settings.gateways.paygov;
    if !cfg.enabled {
        return;
    }
    let base = settings.base_url();
    let create_url = if cfg.create_url.is_empty() {
        format!("{base}/sandbox/paygov/create")
    } else {
        cfg.create_url.clone()
    };
    out.insert(
        GatewayId::Paygov,
        Arc::new(Adapter {
            http: http.clone(),
            cfg: cfg.clone(),
            create_url,
            return_url: format!("{base}/callbacks/paygov/return"),
        }),
    );
}

/// The PayGov adapter.
pub struct Adapter {
    http: reqwest::Client,
    cfg: PaygovSettings,
    create_url: String,
    return_url: String,
}

#[derive(Deserialize)]
struct CreateAnswer {
    #[serde(default)]
    data: Option<CreateData>,
    #[serde(default)]
    message: Option<String>,
}

#[derive(Deserialize)]
struct CreateData {
    url: Option<String>,
}

impl PaymentGateway for Adapter {
    fn id(&self) -> GatewayId {
        GatewayId::Paygov
    }

    fn start<'a>(
        &'a self,
        req: &'a StartRequest,
    ) -> BoxFuture<'a, Result<Started, GatewayFailure>> {
        Box::pin(async move {
            let mut call = self.http.post(&self.create_url).json(&create_body(
                &self.cfg,
                &self.return_url,
                req,
            ));
            if !self.cfg.bearer_token.expose().is_empty() {
                call = call.bearer_auth(self.cfg.bearer_token.expose());
            }
            if !self.cfg.lgsp_token.expose().is_empty() {
                call = call.header(LGSP_TOKEN_HEADER, self.cfg.lgsp_token.expose());
            }
            let answer: CreateAnswer = call.send().await?.json().await?;
            match answer.data.and_then(|d| d.url) {
                Some(url) if url.starts_with("https://") || url.starts_with("http://") => {
                    Ok(Started::Redirect(url))
                }
                _ => Err(GatewayFailure::Unavailable(format!(
                    "PayGov refused the payment: {}",
                    answer.message.unwrap_or_default()
                ))),
            }
        })
    }

    /// PayGov offers no server-side query here: the attempt waits for a settlement file.
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn checksums_concatenate_without_separators() {
        // `printf 'sakpo1' | sha256sum`
        let sum = checksum(&["s", "a", "k", "p", "o1"]);
        assert_eq!(
            sum,
            "c934a429015ac93db40d4473f6775d54ac42379362f72386c4ccb4988c7f16ec"
        );
        assert!(verify_checksum(&["sa", "kpo1"], &sum.to_uppercase()).is_ok());
        assert_eq!(
            verify_checksum(&["sakpo2"], &sum),
            Err(SignatureError::Mismatch)
        );
    }
}
