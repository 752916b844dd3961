//! Settings of the national rails: the payment platform of the National Public Service Portal
//! (`gateways.dvcqg`), PayGov (`gateways.paygov`) and their per-agency parts
//! (`agencies.<code>.gateways.dvcqg`). Every field is optional in the files.

use serde::{Deserialize, Serialize};

use super::Secret;

/// The message types (`LoaiBanTin`) of the DVCQG payment platform: set by each platform's kit.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct DvcqgMessageTypes {
    pub init: String,
    pub result: String,
    pub query: String,
}

impl Default for DvcqgMessageTypes {
    fn default() -> Self {
        Self {
            init: "1".into(),
            result: "2".into(),
            query: "3".into(),
        }
    }
}

/// `gateways.dvcqg`: the payment platform of the National Public Service Portal.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct DvcqgSettings {
    pub enabled: bool,
    /// Where the create message goes; empty = the built-in simulator.
    pub init_url: String,
    /// Where the janitor asks about an attempt; empty = nobody is asked (the attempt waits for
    /// the result message).
    pub query_url: String,
    pub partner_code: String,
    pub hash_key: Secret,
    pub version: String,
    pub message_types: DvcqgMessageTypes,
    pub payment_kind: String,
    pub channel: String,
    pub device: String,
}

impl Default for DvcqgSettings {
    fn default() -> Self {
        Self {
            enabled: false,
            init_url: String::new(),
            query_url: String::new(),
            partner_code: "LANDPAY".into(),
            hash_key: Secret::new("dev-only-dvcqg-hash-key"),
            version: "1.0.0".into(),
            message_types: DvcqgMessageTypes::default(),
            payment_kind: "1".into(),
            channel: "1".into(),
            device: "1".into(),
        }
    }
}

/// `gateways.paygov`: PayGov, reached through a province's LGSP.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct PaygovSettings {
    pub enabled: bool,
    /// The create endpoint; empty = the built-in simulator.
    pub create_url: String,
    pub partner_code: String,
    pub access_key: Secret,
    pub secret_key: Secret,
    pub service_code: String,
    pub bearer_token: Secret,
    pub lgsp_token: Secret,
    /// Fields of the browser return whose values, after `secret_key`, make its SHA-256
    /// `checksum`; empty = a return never records money (a settlement file does).
    pub return_checksum_fields: Vec<String>,
}

impl Default for PaygovSettings {
    fn default() -> Self {
        Self {
            enabled: false,
            create_url: String::new(),
            partner_code: "LANDPAY".into(),
            access_key: Secret::new("dev-only-paygov-access-key"),
            secret_key: Secret::new("dev-only-paygov-secret"),
            service_code: "LANDPAY".into(),
            bearer_token: Secret::new(""),
            lgsp_token: Secret::new(""),
            return_checksum_fields: Vec::new(),
        }
    }
}

/// `agencies.<code>.gateways.dvcqg`: one agency's own account at the platform and the account
/// that receives its money. Unset fields fall back to `gateways.dvcqg`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct AgencyDvcqg {
    pub partner_code: Option<String>,
    pub hash_key: Option<Secret>,
    pub beneficiary_account: Option<String>,
    pub beneficiary_bank: Option<String>,
    pub beneficiary_name: Option<String>,
    pub agency_name: Option<String>,
}
