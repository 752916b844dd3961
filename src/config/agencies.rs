//! `agencies.<code>`: what one agency configures for itself. An agency may give any subset.

use serde::{Deserialize, Serialize};

use super::rails::AgencyDvcqg;

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct AgencySettings {
    pub gateways: AgencyGateways,
}

/// `agencies.<code>.gateways`: the agency's own gateway accounts.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct AgencyGateways {
    pub dvcqg: Option<AgencyDvcqg>,
}
