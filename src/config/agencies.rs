//! `agencies.<code>`: what differs per collecting agency. Each agency (a tax office, a land
//! registration office) may hold its own merchant accounts: `agencies.<code>.gateways.vnpay`,
//! `.momo`, `.zalopay` and `.vietqr` override the gateway defaults for that agency's orders;
//! any subset may be given.

use serde::{Deserialize, Serialize};

use super::rails::AgencyDvcqg;
use super::{
    ConfigError, MomoSettings, Secret, Settings, VietqrSettings, VnpaySettings, ZalopaySettings,
};

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AgencySettings {
    /// The agency's name as shown to payers, in Vietnamese and in English; its address and hotline.
    #[serde(default)]
    pub name_vi: Option<String>,
    #[serde(default)]
    pub name_en: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub hotline: Option<String>,
    /// This agency's own gateway credentials.
    #[serde(default)]
    pub gateways: AgencyGateways,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AgencyGateways {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vnpay: Option<AgencyVnpay>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub momo: Option<AgencyMomo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zalopay: Option<AgencyZalopay>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vietqr: Option<AgencyVietqr>,
    /// The DVCQG payment platform's partner code, key and beneficiary for this agency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dvcqg: Option<AgencyDvcqg>,
}

impl AgencyGateways {
    fn is_empty(&self) -> bool {
        self.vnpay.is_none()
            && self.momo.is_none()
            && self.zalopay.is_none()
            && self.vietqr.is_none()
            && self.dvcqg.is_none()
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AgencyVnpay {
    #[serde(default)]
    pub tmn_code: Option<String>,
    #[serde(default)]
    pub hash_secret: Option<Secret>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AgencyMomo {
    #[serde(default)]
    pub partner_code: Option<String>,
    #[serde(default)]
    pub access_key: Option<Secret>,
    #[serde(default)]
    pub secret_key: Option<Secret>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AgencyZalopay {
    #[serde(default)]
    pub app_id: Option<String>,
    #[serde(default)]
    pub key1: Option<Secret>,
    #[serde(default)]
    pub key2: Option<Secret>,
}

/// The beneficiary of this agency's bank transfers.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AgencyVietqr {
    /// The bank's BIN (NAPAS).
    #[serde(default)]
    pub bin: Option<String>,
    #[serde(default)]
    pub account: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
}

fn set<T: Clone>(target: &mut T, value: Option<&T>) {
    if let Some(v) = value {
        target.clone_from(v);
    }
}

impl Settings {
    fn agency_gateways(&self, agency: Option<&str>) -> Option<&AgencyGateways> {
        agency
            .and_then(|a| self.agencies.get(a))
            .map(|a| &a.gateways)
    }

    /// VNPay as an order of `agency` uses it: the defaults with the agency's overrides.
    pub fn vnpay_for(&self, agency: Option<&str>) -> VnpaySettings {
        let mut out = self.gateways.vnpay.clone();
        if let Some(o) = self.agency_gateways(agency).and_then(|g| g.vnpay.as_ref()) {
            set(&mut out.tmn_code, o.tmn_code.as_ref());
            set(&mut out.hash_secret, o.hash_secret.as_ref());
        }
        out
    }

    pub fn momo_for(&self, agency: Option<&str>) -> MomoSettings {
        let mut out = self.gateways.momo.clone();
        if let Some(o) = self.agency_gateways(agency).and_then(|g| g.momo.as_ref()) {
            set(&mut out.partner_code, o.partner_code.as_ref());
            set(&mut out.access_key, o.access_key.as_ref());
            set(&mut out.secret_key, o.secret_key.as_ref());
        }
        out
    }

    pub fn zalopay_for(&self, agency: Option<&str>) -> ZalopaySettings {
        let mut out = self.gateways.zalopay.clone();
        if let Some(o) = self
            .agency_gateways(agency)
            .and_then(|g| g.zalopay.as_ref())
        {
            set(&mut out.app_id, o.app_id.as_ref());
            set(&mut out.key1, o.key1.as_ref());
            set(&mut out.key2, o.key2.as_ref());
        }
        out
    }

    pub fn vietqr_for(&self, agency: Option<&str>) -> VietqrSettings {
        let mut out = self.gateways.vietqr.clone();
        if let Some(o) = self.agency_gateways(agency).and_then(|g| g.vietqr.as_ref()) {
            set(&mut out.bank_bin, o.bin.as_ref());
            set(&mut out.account_no, o.account.as_ref());
            set(&mut out.account_name, o.name.as_ref());
        }
        out
    }

    /// The agencies that hold gateway credentials of their own.
    pub fn agencies_with_gateways(&self) -> impl Iterator<Item = &str> {
        self.agencies
            .iter()
            .filter(|(_, a)| !a.gateways.is_empty())
            .map(|(code, _)| code.as_str())
    }

    /// The VNPay secret of the merchant `tmn_code` (the defaults' or an agency's); the built-in
    /// simulator signs as the merchant a payment URL names.
    pub fn vnpay_secret_of_merchant(&self, tmn_code: &str) -> Secret {
        self.agencies_with_gateways()
            .map(|a| self.vnpay_for(Some(a)))
            .find(|v| v.tmn_code == tmn_code)
            .map_or_else(
                || self.gateways.vnpay.hash_secret.clone(),
                |v| v.hash_secret,
            )
    }

    /// Agency codes are non-blank; one VNPay merchant code never has two secrets.
    pub(super) fn check_agencies(&self) -> Result<(), ConfigError> {
        for code in self.agencies.keys() {
            if code.trim().is_empty() || code.contains('\0') {
                return Err(ConfigError::invalid(
                    "agencies",
                    "an agency code must not be blank",
                ));
            }
        }
        let mut seen: Vec<(String, String, String)> = vec![(
            String::new(),
            self.gateways.vnpay.tmn_code.clone(),
            self.gateways.vnpay.hash_secret.expose().to_owned(),
        )];
        for code in self.agencies_with_gateways() {
            let v = self.vnpay_for(Some(code));
            let clash = seen
                .iter()
                .find(|(_, tmn, secret)| *tmn == v.tmn_code && secret != v.hash_secret.expose());
            if let Some((other, _, _)) = clash {
                let other = if other.is_empty() {
                    "gateways.vnpay".to_owned()
                } else {
                    format!("agencies.{other}")
                };
                return Err(ConfigError::invalid(
                    &format!("agencies.{code}.gateways.vnpay.tmn_code"),
                    format!("is also the merchant of {other} with another hash_secret; each merchant code has one secret"),
                ));
            }
            seen.push((
                code.to_owned(),
                v.tmn_code,
                v.hash_secret.expose().to_owned(),
            ));
        }
        Ok(())
    }
}
