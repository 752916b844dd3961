//! Signed, expiring links for the payer pages: `t=<expiry unix>.<nonce>.<hmac>`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

fn mac(secret: &str, payment_id: &str, expires: i64, nonce: &str) -> Option<HmacSha256> {
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).ok()?;
    mac.update(format!("pay|{payment_id}|{expires}|{nonce}").as_bytes());
    Some(mac)
}

/// A token for `payment_id` valid until `expires` (unix seconds).
pub fn issue(secret: &str, payment_id: &str, expires: i64) -> String {
    let mut bytes = [0u8; 9];
    rand::thread_rng().fill_bytes(&mut bytes);
    let nonce = URL_SAFE_NO_PAD.encode(bytes);
    let sig = mac(secret, payment_id, expires, &nonce)
        .map(|m| URL_SAFE_NO_PAD.encode(m.finalize().into_bytes()))
        .unwrap_or_default();
    format!("{expires}.{nonce}.{sig}")
}

/// Why a link is refused.
#[derive(Debug, PartialEq, Eq)]
pub enum LinkError {
    Forged,
    Expired,
}

/// Checks a token for `payment_id` at `now` (unix seconds), in constant time.
pub fn verify(secret: &str, payment_id: &str, token: &str, now: i64) -> Result<(), LinkError> {
    let mut parts = token.splitn(3, '.');
    let (Some(expires), Some(nonce), Some(sig)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(LinkError::Forged);
    };
    let expires: i64 = expires.parse().map_err(|_| LinkError::Forged)?;
    let sig = URL_SAFE_NO_PAD.decode(sig).map_err(|_| LinkError::Forged)?;
    let mac = mac(secret, payment_id, expires, nonce).ok_or(LinkError::Forged)?;
    mac.verify_slice(&sig).map_err(|_| LinkError::Forged)?;
    if now > expires {
        return Err(LinkError::Expired);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_verify_forge_expire() {
        let t = issue("secret-for-links", "pay_1", 1000);
        assert_eq!(verify("secret-for-links", "pay_1", &t, 999), Ok(()));
        assert_eq!(
            verify("secret-for-links", "pay_1", &t, 1001),
            Err(LinkError::Expired)
        );
        assert_eq!(
            verify("secret-for-links", "pay_2", &t, 999),
            Err(LinkError::Forged)
        );
        assert_eq!(
            verify("other-secret", "pay_1", &t, 999),
            Err(LinkError::Forged)
        );
        let forged = t.replacen("1000.", "9999.", 1);
        assert_eq!(
            verify("secret-for-links", "pay_1", &forged, 999),
            Err(LinkError::Forged)
        );
        assert_ne!(
            issue("secret-for-links", "pay_1", 1000),
            t,
            "each token is fresh"
        );
    }
}
