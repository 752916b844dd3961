//! The second factor: time-based one-time passwords (RFC 6238; HMAC-SHA-1, 6 digits, 30 s),
//! the parameters every authenticator app reads from an `otpauth://` URI.

use totp_rs::{Algorithm, Secret, TOTP};

const DIGITS: usize = 6;
const STEP: u64 = 30;
const ISSUER: &str = "landpay";

fn totp(secret_b32: &str, account: &str) -> anyhow::Result<TOTP> {
    let bytes = Secret::Encoded(secret_b32.to_owned())
        .to_bytes()
        .map_err(|e| anyhow::anyhow!("TOTP secret: {e:?}"))?;
    TOTP::new(
        Algorithm::SHA1,
        DIGITS,
        0,
        STEP,
        bytes,
        Some(ISSUER.to_owned()),
        account.to_owned(),
    )
    .map_err(|e| anyhow::anyhow!("TOTP: {e}"))
}

/// A fresh 160-bit secret, base32 (RFC 4648, no padding).
pub fn new_secret() -> String {
    let mut bytes = [0u8; 20];
    rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut bytes);
    Secret::Raw(bytes.to_vec()).to_encoded().to_string()
}

/// The enrolment URI for an authenticator app.
pub fn enrolment_uri(secret_b32: &str, account: &str) -> anyhow::Result<String> {
    let mut uri = totp(secret_b32, account)?.get_url();
    // Apps assume these defaults, but saying them keeps every app on the same parameters.
    for (key, value) in [("algorithm", "SHA1"), ("digits", "6"), ("period", "30")] {
        if !uri.contains(&format!("{key}=")) {
            uri.push_str(&format!("&{key}={value}"));
        }
    }
    Ok(uri)
}

/// The time step (Unix seconds / 30) whose code `code` is, looking one step either side of
/// `unix` for clock drift; `None` when it is none of them.
pub fn matching_step(secret_b32: &str, code: &str, unix: u64) -> Option<u64> {
    let code = code.trim();
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // The account name plays no part in the code; a placeholder keeps the constructor happy.
    let t = totp(secret_b32, "check").ok()?;
    let now = unix / STEP;
    [now.saturating_sub(1), now, now + 1]
        .into_iter()
        .find(|step| t.check(code, step * STEP))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1 (the 8-digit vectors end in these six digits).
    #[test]
    fn the_rfc_6238_vectors_match() {
        let secret = base32_of(b"12345678901234567890");
        assert_eq!(matching_step(&secret, "287082", 59), Some(1));
        assert_eq!(
            matching_step(&secret, "081804", 1_111_111_109),
            Some(37_037_036)
        );
        assert_eq!(
            matching_step(&secret, "050471", 1_111_111_111),
            Some(37_037_037)
        );
        assert_eq!(
            matching_step(&secret, "005924", 1_234_567_890),
            Some(41_152_263)
        );
        assert_eq!(
            matching_step(&secret, "279037", 2_000_000_000),
            Some(66_666_666)
        );
        assert_eq!(
            matching_step(&secret, "279037", 2_000_000_000 + 90),
            None,
            "too late"
        );
        assert_eq!(matching_step(&secret, "27903", 2_000_000_000), None);
        assert_eq!(matching_step(&secret, "27903x", 2_000_000_000), None);
    }

    #[test]
    fn the_enrolment_uri_names_the_parameters() {
        let s = new_secret();
        let uri = enrolment_uri(&s, "ke.toan@example.vn").unwrap_or_default();
        assert!(
            uri.starts_with("otpauth://totp/landpay:ke.toan%40example.vn?"),
            "{uri}"
        );
        assert!(uri.contains(&format!("secret={s}")), "{uri}");
        assert!(uri.contains("issuer=landpay"), "{uri}");
        for p in ["algorithm=SHA1", "digits=6", "period=30"] {
            assert!(uri.contains(p), "{uri}");
        }
    }

    fn base32_of(bytes: &[u8]) -> String {
        Secret::Raw(bytes.to_vec()).to_encoded().to_string()
    }
}
