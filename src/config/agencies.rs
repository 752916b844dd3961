//! `agencies.<code>`: what one agency configures for itself. An agency may give any subset.

use serde::{Deserialize, Serialize};

use super::rails::AgencyDvcqg;

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct AgencySettings {
    /// The agency's name as shown to payers, in Vietnamese and in English.
    pub name_vi: Option<String>,
    pub name_en: Option<String>,
    pub address: Option<String>,
    pub hotline: Option<String>,
    pub gateways: AgencyGateways,
}

/// `agencies.<code>.gateways`: the agency's own gateway accounts.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct AgencyGateways {
    pub dvcqg: Option<AgencyDvcqg>,
}
