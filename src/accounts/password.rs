//! Password hashing: Argon2id with OWASP's parameters (19 MiB of memory, 2 passes, 1 lane),
//! written in the PHC string format so that the parameters travel with each hash.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

/// Memory cost in KiB, passes and lanes recommended by OWASP for Argon2id.
const MEMORY_KIB: u32 = 19_456;
const PASSES: u32 = 2;
const LANES: u32 = 1;

/// Shortest and longest password accepted (characters).
pub const MIN_LEN: usize = 12;
pub const MAX_LEN: usize = 256;

fn hasher() -> anyhow::Result<Argon2<'static>> {
    let params = Params::new(MEMORY_KIB, PASSES, LANES, None)
        .map_err(|e| anyhow::anyhow!("Argon2 parameters: {e}"))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Why a new password is refused, in both languages.
pub fn check_new(password: &str) -> Result<(), String> {
    let n = password.chars().count();
    if n < MIN_LEN {
        return Err(format!(
            "Mật khẩu cần ít nhất {MIN_LEN} ký tự / the password needs at least {MIN_LEN} characters"
        ));
    }
    if n > MAX_LEN {
        return Err(format!(
            "Mật khẩu dài quá {MAX_LEN} ký tự / the password is longer than {MAX_LEN} characters"
        ));
    }
    if password.chars().any(crate::wording::is_forbidden_char) {
        return Err(
            "Mật khẩu chứa ký tự điều khiển / the password contains a control character".into(),
        );
    }
    Ok(())
}

/// Hashes a password with a fresh random salt.
pub fn hash(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    hasher()?
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))
}

/// Whether `password` matches the stored hash (the comparison is the library's, constant time).
pub fn verify(password: &str, stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    hasher().is_ok_and(|h| h.verify_password(password.as_bytes(), &parsed).is_ok())
}

/// Spends the same work as a real verification, so that an unknown e-mail address answers no
/// faster than a wrong password.
pub fn verify_nothing(password: &str) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let stored = DUMMY.get_or_init(|| hash("an account that does not exist").unwrap_or_default());
    let _ = verify(password, stored);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_is_argon2id_with_the_owasp_parameters_and_verifies_only_its_password() {
        let h = hash("correct horse battery staple").unwrap_or_default();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify("correct horse battery staple", &h));
        assert!(!verify("correct horse battery stapl", &h));
        assert!(!verify("correct horse battery staple", "not a hash"));
        let again = hash("correct horse battery staple").unwrap_or_default();
        assert_ne!(h, again, "a fresh salt each time");
    }

    #[test]
    fn short_long_and_control_passwords_are_refused() {
        assert!(check_new("short").is_err());
        assert!(check_new(&"x".repeat(MAX_LEN + 1)).is_err());
        assert!(check_new("twelve chars\u{0}").is_err());
        assert!(check_new("mật khẩu đủ dài rồi").is_ok());
    }
}
