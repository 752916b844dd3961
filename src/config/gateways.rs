//! `[gateways.*]`: the payment gateways, each enabled or not, with its keys and endpoints.

use serde::{Deserialize, Serialize};

use super::{ConfigDuration, DvcqgSettings, PaygovSettings, Secret, SettlementCutoff};

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct GatewaySettings {
    pub sandbox: SandboxSettings,
    pub vnpay: VnpaySettings,
    pub momo: MomoSettings,
    pub zalopay: ZalopaySettings,
    pub vietqr: VietqrSettings,
    #[serde(default)]
    pub dvcqg: DvcqgSettings,
    #[serde(default)]
    pub paygov: PaygovSettings,
}

impl GatewaySettings {
    /// The settlement cut-off of a gateway by its id (`vnpay`, `momo`, `zalopay`, `vietqr`).
    pub fn settlement_cutoff(&self, gateway: &str) -> SettlementCutoff {
        match gateway {
            "vnpay" => self.vnpay.settlement_cutoff,
            "momo" => self.momo.settlement_cutoff,
            "zalopay" => self.zalopay.settlement_cutoff,
            "vietqr" => self.vietqr.settlement_cutoff,
            _ => SettlementCutoff::default(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SandboxSettings {
    pub enabled: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct VnpaySettings {
    pub enabled: bool,
    pub tmn_code: String,
    pub hash_secret: Secret,
    pub payment_url: String,
    pub api_url: String,
    /// When the gateway closes its settlement day (UTC+7).
    #[serde(default)]
    pub settlement_cutoff: SettlementCutoff,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MomoSettings {
    pub enabled: bool,
    pub partner_code: String,
    pub access_key: Secret,
    pub secret_key: Secret,
    pub endpoint: String,
    /// When the gateway closes its settlement day (UTC+7).
    #[serde(default)]
    pub settlement_cutoff: SettlementCutoff,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ZalopaySettings {
    pub enabled: bool,
    pub app_id: String,
    pub key1: Secret,
    pub key2: Secret,
    pub endpoint: String,
    /// When the gateway closes its settlement day (UTC+7).
    #[serde(default)]
    pub settlement_cutoff: SettlementCutoff,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct VietqrSettings {
    pub enabled: bool,
    pub bank_bin: String,
    pub account_no: String,
    pub account_name: String,
    pub order_ttl: ConfigDuration,
    /// When the gateway closes its settlement day (UTC+7).
    #[serde(default)]
    pub settlement_cutoff: SettlementCutoff,
}
