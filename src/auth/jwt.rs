//! HS256 tokens: verification with an explicit algorithm, issuer, audience and expiry, and minting.

use std::time::Duration;

use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use super::{Caller, Role};
use crate::config::AuthSettings;
use crate::error::ApiError;

/// Clock leeway for `exp` and `nbf`.
const LEEWAY_SECONDS: u64 = 30;

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    #[serde(default)]
    roles: Vec<Role>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    agency: Option<String>,
    iss: String,
    aud: String,
    exp: u64,
    iat: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    nbf: Option<u64>,
}

/// Keys and rules for the API's bearer tokens.
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    audience: String,
}

impl JwtKeys {
    pub fn new(settings: &AuthSettings) -> Self {
        let secret = settings.jwt_secret.expose().as_bytes();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.set_issuer(&[settings.issuer.as_str()]);
        validation.set_audience(&[settings.audience.as_str()]);
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            issuer: settings.issuer.clone(),
            audience: settings.audience.clone(),
        }
    }

    /// Verifies a token; every failure is 401 and says only what kind of failure it was.
    pub fn verify(&self, token: &str) -> Result<Caller, ApiError> {
        let data = decode::<Claims>(token, &self.decoding, &self.validation).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind;
            let why = match e.kind() {
                ErrorKind::ExpiredSignature => "the token has expired",
                ErrorKind::ImmatureSignature => "the token is not valid yet (nbf)",
                ErrorKind::InvalidIssuer => "the token's issuer is not accepted",
                ErrorKind::InvalidAudience => "the token's audience is not accepted",
                ErrorKind::InvalidAlgorithm => "the token's algorithm is not accepted",
                ErrorKind::InvalidSignature => "the token's signature does not verify",
                ErrorKind::MissingRequiredClaim(_) => "the token lacks a required claim",
                _ => "the token is malformed",
            };
            ApiError::Unauthorized(why.to_owned())
        })?;
        let claims = data.claims;
        if claims.sub.is_empty() {
            return Err(ApiError::Unauthorized(
                "the token's subject is empty".into(),
            ));
        }
        // A present but empty agency must never widen into "every agency".
        if claims
            .agency
            .as_deref()
            .is_some_and(|a| a.trim().is_empty())
        {
            return Err(ApiError::Unauthorized(
                "the token's agency claim is empty".into(),
            ));
        }
        Ok(Caller {
            sub: claims.sub,
            roles: claims.roles,
            agency: claims.agency,
        })
    }

    /// Mints a token for `sub` with `roles`, optionally bound to an agency.
    pub fn mint(
        &self,
        sub: &str,
        roles: &[Role],
        agency: Option<&str>,
        ttl: Duration,
    ) -> anyhow::Result<String> {
        if agency.is_some_and(|a| a.trim().is_empty()) {
            anyhow::bail!(
                "--agency must not be blank (omit it for a token that sees every agency)"
            );
        }
        let now = jsonwebtoken::get_current_timestamp();
        let claims = Claims {
            sub: sub.to_owned(),
            roles: roles.to_vec(),
            agency: agency.map(str::to_owned),
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            exp: now.saturating_add(ttl.as_secs()),
            iat: now,
            nbf: None,
        };
        Ok(encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &self.encoding,
        )?)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::config::Secret;
    use base64::Engine;

    fn keys(secret: &str, iss: &str, aud: &str) -> JwtKeys {
        JwtKeys::new(&AuthSettings {
            jwt_secret: Secret::new(secret),
            issuer: iss.into(),
            audience: aud.into(),
            link_secret: Secret::new("link-secret-for-tests"),
        })
    }

    #[test]
    fn a_minted_token_verifies() {
        let k = keys("a-secret-of-enough-length", "landpay", "landpay");
        let t = k
            .mint(
                "portal-hn",
                &[Role::Portal],
                Some("HN-VPDKDD"),
                Duration::from_secs(60),
            )
            .unwrap();
        let c = k.verify(&t).unwrap();
        assert_eq!(c.sub, "portal-hn");
        assert_eq!(c.roles, vec![Role::Portal]);
        assert_eq!(c.agency.as_deref(), Some("HN-VPDKDD"));
    }

    #[test]
    fn wrong_key_issuer_audience_and_alg_none_are_refused() {
        let good = keys("a-secret-of-enough-length", "landpay", "landpay");
        let t = keys("another-secret-entirely", "landpay", "landpay")
            .mint("x", &[Role::Admin], None, Duration::from_secs(60))
            .unwrap();
        assert!(good.verify(&t).is_err());
        let t = keys("a-secret-of-enough-length", "other", "landpay")
            .mint("x", &[Role::Admin], None, Duration::from_secs(60))
            .unwrap();
        assert!(good.verify(&t).is_err());
        let t = keys("a-secret-of-enough-length", "landpay", "other")
            .mint("x", &[Role::Admin], None, Duration::from_secs(60))
            .unwrap();
        assert!(good.verify(&t).is_err());
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let none = format!(
            "{}.{}.",
            b64.encode(r#"{"alg":"none","typ":"JWT"}"#),
            b64.encode(r#"{"sub":"x","roles":["admin"],"iss":"landpay","aud":"landpay","exp":99999999999,"iat":1}"#)
        );
        assert!(good.verify(&none).is_err());
    }

    fn forge(k: &JwtKeys, claims: serde_json::Value) -> String {
        encode(&Header::new(Algorithm::HS256), &claims, &k.encoding).unwrap()
    }

    #[test]
    fn a_blank_agency_or_a_future_nbf_is_refused() {
        let k = keys("a-secret-of-enough-length", "landpay", "landpay");
        let now = jsonwebtoken::get_current_timestamp();
        let base = serde_json::json!({"sub": "p", "roles": ["portal"], "iss": "landpay",
            "aud": "landpay", "exp": now + 600, "iat": now});
        for blank in ["", "   "] {
            let mut c = base.clone();
            c["agency"] = blank.into();
            let err = k.verify(&forge(&k, c)).unwrap_err();
            assert!(matches!(err, ApiError::Unauthorized(_)), "{blank:?}");
        }
        let mut c = base.clone();
        c["nbf"] = (now + 300).into();
        assert!(matches!(
            k.verify(&forge(&k, c)).unwrap_err(),
            ApiError::Unauthorized(_)
        ));
        let mut c = base.clone();
        c["nbf"] = (now - 5).into();
        assert!(k.verify(&forge(&k, c)).is_ok());
        assert!(k.verify(&forge(&k, base)).is_ok());
        assert!(k
            .mint("p", &[Role::Portal], Some(" "), Duration::from_secs(60))
            .is_err());
    }
}
