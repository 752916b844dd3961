//! The formats a webhook endpoint may speak: `landpay` (our own signed events), `opencps` (the
//! dossier action an OpenCPS one-stop-shop exposes to be told "paid") and `dvcqg_land_tax` (the
//! `NhanChungTuThueDat` voucher of a DVCQG adapter). Their credentials are checked here when an
//! endpoint is registered, stored, and never shown again.

use serde::{Deserialize, Serialize};

use crate::error::FieldError;

pub const LANDPAY: &str = "landpay";
pub const OPENCPS: &str = "opencps";
pub const DVCQG_LAND_TAX: &str = "dvcqg_land_tax";
pub const ALL: [&str; 3] = [LANDPAY, OPENCPS, DVCQG_LAND_TAX];

/// OpenCPS: HTTP Basic credentials, the site's `groupId` and its action codes.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpencpsCredentials {
    pub username: String,
    pub password: String,
    pub group_id: String,
    pub action_code: String,
    /// Used for orders paid by bank transfer (VietQR); `action_code` when absent.
    #[serde(default)]
    pub action_code_offline: Option<String>,
}

/// A DVCQG adapter: where sessions come from, its account, `dstcode` and `madonvi`.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DvcqgCredentials {
    pub auth_url: String,
    pub username: String,
    pub password: String,
    pub dstcode: String,
    pub madonvi: String,
}

/// The stored credentials of an endpoint, by format.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(untagged)]
pub enum Credentials {
    Opencps(OpencpsCredentials),
    Dvcqg(DvcqgCredentials),
}

fn text_ok(errors: &mut Vec<FieldError>, field: String, value: &str, required: bool) {
    if required && value.trim().is_empty() {
        errors.push(FieldError::new(field, "must not be empty"));
    } else if value.len() > 500 || value.chars().any(char::is_control) {
        errors.push(FieldError::new(
            field,
            "must be at most 500 characters without control characters",
        ));
    }
}

/// Checks a format and its credentials; returns the credentials to store (JSON), or the
/// problems, each naming its field (the adapter's `auth_url` is checked by the caller).
pub fn validate(
    format: &str,
    opencps: Option<&OpencpsCredentials>,
    dvcqg: Option<&DvcqgCredentials>,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    match (format, opencps, dvcqg) {
        (LANDPAY, None, None) => None,
        (OPENCPS, Some(c), None) => {
            for (name, value, required) in [
                ("username", &c.username, true),
                ("password", &c.password, true),
                ("group_id", &c.group_id, true),
                ("action_code", &c.action_code, true),
            ] {
                text_ok(errors, format!("opencps.{name}"), value, required);
            }
            if let Some(off) = &c.action_code_offline {
                text_ok(errors, "opencps.action_code_offline".into(), off, false);
            }
            serde_json::to_string(&Credentials::Opencps(c.clone())).ok()
        }
        (DVCQG_LAND_TAX, None, Some(c)) => {
            for (name, value) in [
                ("auth_url", &c.auth_url),
                ("username", &c.username),
                ("password", &c.password),
                ("dstcode", &c.dstcode),
                ("madonvi", &c.madonvi),
            ] {
                text_ok(errors, format!("dvcqg.{name}"), value, true);
            }
            serde_json::to_string(&Credentials::Dvcqg(c.clone())).ok()
        }
        (OPENCPS, None, _) => {
            errors.push(FieldError::new(
                "opencps",
                "is required with format opencps",
            ));
            None
        }
        (DVCQG_LAND_TAX, _, None) => {
            errors.push(FieldError::new(
                "dvcqg",
                "is required with format dvcqg_land_tax",
            ));
            None
        }
        (LANDPAY | OPENCPS | DVCQG_LAND_TAX, _, _) => {
            errors.push(FieldError::new(
                "format",
                "give only the credentials object of the endpoint's format",
            ));
            None
        }
        _ => {
            errors.push(FieldError::new("format", crate::wording::one_of(ALL)));
            None
        }
    }
}
