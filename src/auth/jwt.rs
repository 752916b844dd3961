//! Bearer tokens: verification with an explicit algorithm, issuer, audience and expiry, and
//! minting. A token without a `kid` header is HS256 under `auth.jwt_secret`; a token naming a
//! `kid` is verified with that key of `auth.keys` only, under that key's algorithm only.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use super::{Caller, Role};
use crate::config::{AuthSettings, KeyAlg};
use crate::error::ApiError;

/// Clock leeway for `exp` and `nbf`.
const LEEWAY_SECONDS: u64 = 30;

/// Tokens kept verified at most; when full, the set starts again empty.
const VERIFIED_CAP: usize = 1024;

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

/// One key of `auth.keys`.
struct KidKey {
    decoding: DecodingKey,
    validation: Validation,
    /// HS256 keys can also sign (`landpay token --kid`).
    encoding: Option<EncodingKey>,
}

/// Keys and rules for the API's bearer tokens.
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    by_kid: HashMap<String, KidKey>,
    issuer: String,
    audience: String,
    /// Tokens that verified, by their exact text. Signature, algorithm, issuer, audience and
    /// claims are properties of a token's bytes under keys fixed for the process's life, so a
    /// token sent again needs only its time window checked; a client reusing its token (as
    /// portals do) is not verified again on every request.
    verified: Mutex<HashMap<Box<str>, VerifiedToken>>,
}

/// What a verified token carries, and its time window.
#[derive(Debug, Clone)]
struct VerifiedToken {
    caller: Caller,
    exp: u64,
    nbf: Option<u64>,
}

impl VerifiedToken {
    /// Whether the token is surely inside its window at `now`. Near either end (within the
    /// leeway of `exp`, before `nbf`) it is verified in full again, which gives the exact answer.
    fn live(&self, now: u64) -> bool {
        now.saturating_add(LEEWAY_SECONDS) < self.exp && self.nbf.is_none_or(|nbf| nbf <= now)
    }
}

fn validation_for(alg: Algorithm, settings: &AuthSettings) -> Validation {
    let mut validation = Validation::new(alg);
    validation.algorithms = vec![alg];
    validation.leeway = LEEWAY_SECONDS;
    validation.validate_nbf = true;
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    validation.set_issuer(&[settings.issuer.as_str()]);
    validation.set_audience(&[settings.audience.as_str()]);
    validation
}

fn kid_keys(settings: &AuthSettings) -> HashMap<String, KidKey> {
    let mut out = HashMap::new();
    for key in &settings.keys {
        // Unusable entries are refused when the configuration loads.
        let Some(decoding) = key.decoding_key() else {
            continue;
        };
        let alg = match key.alg {
            KeyAlg::HS256 => Algorithm::HS256,
            KeyAlg::EdDSA => Algorithm::EdDSA,
            KeyAlg::RS256 => Algorithm::RS256,
        };
        let encoding = match (key.alg, &key.secret) {
            (KeyAlg::HS256, Some(secret)) => {
                Some(EncodingKey::from_secret(secret.expose().as_bytes()))
            }
            _ => None,
        };
        let validation = validation_for(alg, settings);
        out.insert(
            key.kid.clone(),
            KidKey {
                decoding,
                validation,
                encoding,
            },
        );
    }
    out
}

impl JwtKeys {
    pub fn new(settings: &AuthSettings) -> Self {
        let secret = settings.jwt_secret.expose().as_bytes();
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation: validation_for(Algorithm::HS256, settings),
            by_kid: kid_keys(settings),
            issuer: settings.issuer.clone(),
            audience: settings.audience.clone(),
            verified: Mutex::default(),
        }
    }

    /// Verifies a token; every failure is 401 and says only what kind of failure it was.
    pub fn verify(&self, token: &str) -> Result<Caller, ApiError> {
        let now = jsonwebtoken::get_current_timestamp();
        if let Some(caller) = self.already_verified(token, now) {
            return Ok(caller);
        }
        let verified = self.verify_in_full(token)?;
        let caller = verified.caller.clone();
        if verified.live(now) {
            let mut known = self.verified.lock().unwrap_or_else(|p| p.into_inner());
            if known.len() >= VERIFIED_CAP {
                known.clear();
            }
            known.insert(token.into(), verified);
        }
        Ok(caller)
    }

    /// The caller of a token that verified before and is still inside its window at `now`.
    fn already_verified(&self, token: &str, now: u64) -> Option<Caller> {
        let known = self.verified.lock().unwrap_or_else(|p| p.into_inner());
        known
            .get(token)
            .filter(|v| v.live(now))
            .map(|v| v.caller.clone())
    }

    fn verify_in_full(&self, token: &str) -> Result<VerifiedToken, ApiError> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| ApiError::Unauthorized("the token is malformed".to_owned()))?;
        let (decoding, validation) = match header.kid.as_deref() {
            None => (&self.decoding, &self.validation),
            Some(kid) => {
                let key = self.by_kid.get(kid).ok_or_else(|| {
                    ApiError::Unauthorized("the token's key (kid) is not accepted".to_owned())
                })?;
                (&key.decoding, &key.validation)
            }
        };
        let data = decode::<Claims>(token, decoding, validation).map_err(|e| {
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
        // Subject and agency are written into records and compared in queries: a control
        // character (NUL above all) in either is no identity this service can keep.
        let controlled = |text: &str| text.chars().any(char::is_control);
        if controlled(&claims.sub) || claims.agency.as_deref().is_some_and(controlled) {
            return Err(ApiError::Unauthorized(
                "the token's subject or agency holds a control character".into(),
            ));
        }
        Ok(VerifiedToken {
            caller: Caller {
                sub: claims.sub,
                roles: claims.roles,
                agency: claims.agency,
            },
            exp: claims.exp,
            nbf: claims.nbf,
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
        self.mint_with_kid(None, sub, roles, agency, ttl)
    }

    /// Mints a token signed with the HS256 key `kid` of `auth.keys` (its header names the kid),
    /// or with `auth.jwt_secret` when `kid` is `None`.
    pub fn mint_with_kid(
        &self,
        kid: Option<&str>,
        sub: &str,
        roles: &[Role],
        agency: Option<&str>,
        ttl: Duration,
    ) -> anyhow::Result<String> {
        let (encoding, mut header) = match kid {
            None => (&self.encoding, Header::new(Algorithm::HS256)),
            Some(kid) => {
                let key = self
                    .by_kid
                    .get(kid)
                    .and_then(|k| k.encoding.as_ref())
                    .ok_or_else(|| {
                        anyhow::anyhow!("--kid {kid} is not an HS256 key of auth.keys")
                    })?;
                (key, Header::new(Algorithm::HS256))
            }
        };
        header.kid = kid.map(str::to_owned);
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
        Ok(encode(&header, &claims, encoding)?)
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
            keys: Vec::new(),
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
        for (claim, controlled) in [("sub", "p\u{0}"), ("agency", "\u{0}"), ("agency", "HN\n")] {
            let mut c = base.clone();
            c[claim] = controlled.into();
            let err = k.verify(&forge(&k, c)).unwrap_err();
            assert!(
                matches!(err, ApiError::Unauthorized(_)),
                "{claim} {controlled:?}"
            );
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

    #[test]
    fn a_verified_token_is_kept_only_inside_its_window() {
        let k = keys("a-secret-of-enough-length", "landpay", "landpay");
        let now = jsonwebtoken::get_current_timestamp();
        let claims = |exp: u64, nbf: Option<u64>| {
            let mut c = serde_json::json!({"sub": "p", "roles": ["portal"], "agency": "HN-VPDKDD",
                "iss": "landpay", "aud": "landpay", "exp": exp, "iat": now});
            if let Some(nbf) = nbf {
                c["nbf"] = nbf.into();
            }
            c
        };
        let token = forge(&k, claims(now + 600, Some(now - 5)));
        assert!(
            k.already_verified(&token, now).is_none(),
            "nothing before a verification"
        );
        let first = k.verify(&token).unwrap();
        let kept = k
            .already_verified(&token, now)
            .expect("kept after verifying");
        assert_eq!(
            (kept.sub, kept.roles, kept.agency),
            (first.sub, first.roles, first.agency)
        );
        // Not past the edge of its window: a kept token is verified in full again there.
        assert!(k
            .already_verified(&token, now + 600 - LEEWAY_SECONDS)
            .is_none());
        assert!(
            k.already_verified(&token, now - 6).is_none(),
            "before its nbf"
        );

        // Another token, even one character off (a forged signature), is never taken for it.
        let at = token.len() - 10; // inside the signature
        let was = &token[at..=at];
        let forged = format!(
            "{}{}{}",
            &token[..at],
            if was == "A" { "B" } else { "A" },
            &token[at + 1..]
        );
        assert!(k.already_verified(&forged, now).is_none());
        assert!(k.verify(&forged).is_err());
        // A refused token is not kept; one close to its expiry is verified every time.
        let blank = forge(&k, claims(now + 600, None)).replace('.', ".x");
        assert!(k.verify(&blank).is_err());
        assert!(k.already_verified(&blank, now).is_none());
        let ending = forge(&k, claims(now + 10, None));
        assert!(k.verify(&ending).is_ok());
        assert!(k.already_verified(&ending, now).is_none());

        // The set is bounded: past its cap it starts again.
        for i in 0..VERIFIED_CAP {
            let mut c = claims(now + 600, None);
            c["sub"] = format!("p{i}").into();
            k.verify(&forge(&k, c)).unwrap();
        }
        let known = k.verified.lock().unwrap().len();
        assert!(known <= VERIFIED_CAP, "{known}");
    }
}
