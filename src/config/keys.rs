//! `auth.keys`: token keys by `kid` — HS256 secrets and EdDSA / RS256 public keys side by side,
//! so that one portal's key can be removed (revoking its tokens) without touching the others.

use jsonwebtoken::DecodingKey;
use serde::{Deserialize, Serialize};

use super::{ConfigError, Secret};

/// The algorithms a keyed token may be signed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub enum KeyAlg {
    HS256,
    EdDSA,
    RS256,
}

/// One key of `auth.keys`: `secret` (or `secret_file`) for HS256, `public_key_file` (PEM) for
/// EdDSA and RS256.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct KeySettings {
    pub kid: String,
    pub alg: KeyAlg,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<Secret>,
    /// The PEM text read from `public_key_file`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
}

impl KeySettings {
    /// The verification key; `None` when the entry is unusable (refused at load).
    pub fn decoding_key(&self) -> Option<DecodingKey> {
        match (self.alg, &self.secret, &self.public_key) {
            (KeyAlg::HS256, Some(secret), None) => {
                Some(DecodingKey::from_secret(secret.expose().as_bytes()))
            }
            (KeyAlg::EdDSA, None, Some(pem)) => DecodingKey::from_ed_pem(pem.as_bytes()).ok(),
            (KeyAlg::RS256, None, Some(pem)) => DecodingKey::from_rsa_pem(pem.as_bytes()).ok(),
            _ => None,
        }
    }
}

/// Checks every key, naming `auth.keys[i].<field>`: a unique, non-blank `kid`; a secret of at
/// least `min_secret` bytes for HS256; a readable PEM public key of the right kind otherwise.
pub fn check_keys(keys: &[KeySettings], min_secret: usize) -> Result<(), ConfigError> {
    for (i, key) in keys.iter().enumerate() {
        let at = |field: &str| format!("auth.keys[{i}].{field}");
        if key.kid.trim().is_empty() {
            return Err(ConfigError::invalid(&at("kid"), "must not be blank"));
        }
        if keys[..i].iter().any(|k| k.kid == key.kid) {
            return Err(ConfigError::invalid(
                &at("kid"),
                format!("`{}` is given twice", key.kid),
            ));
        }
        match key.alg {
            KeyAlg::HS256 => {
                if key.public_key.is_some() {
                    return Err(ConfigError::invalid(
                        &at("public_key_file"),
                        "is for EdDSA and RS256 keys; an HS256 key takes `secret` or `secret_file`",
                    ));
                }
                let len = key.secret.as_ref().map_or(0, |s| s.expose().len());
                if len < min_secret {
                    return Err(ConfigError::invalid(
                        &at("secret"),
                        format!("an HS256 key needs a secret of at least {min_secret} bytes"),
                    ));
                }
            }
            KeyAlg::EdDSA | KeyAlg::RS256 => {
                if key.secret.is_some() {
                    return Err(ConfigError::invalid(
                        &at("secret"),
                        "EdDSA and RS256 keys take only `public_key_file`",
                    ));
                }
                if key.public_key.is_none() {
                    return Err(ConfigError::invalid(
                        &at("public_key_file"),
                        "must name the PEM file of the public key",
                    ));
                }
                if key.decoding_key().is_none() {
                    return Err(ConfigError::invalid(
                        &at("public_key_file"),
                        format!("is not a PEM public key for {:?}", key.alg),
                    ));
                }
            }
        }
    }
    Ok(())
}
