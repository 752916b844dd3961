//! People's accounts for the finance dashboard: Argon2id passwords, a TOTP second factor,
//! server-side sessions (idle 30 min, absolute 12 h, ended on sign-out and password change),
//! a lock after five failed sign-ins in 15 minutes, and a record of every sign-in and failure.
//! API tokens stay for machines; a person signs in here.

pub mod cli;
pub mod password;
pub mod sessions;
pub mod totp;

use chrono::Duration;

use crate::auth::{Caller, Role};
use crate::storage::accounts::UserRow;

/// A session ends after this long without a request…
pub const IDLE: Duration = Duration::minutes(30);
/// …and this long after sign-in, whatever happens.
pub const ABSOLUTE: Duration = Duration::hours(12);
/// Failed sign-ins that lock an account, counted over [`LOCK_WINDOW`]…
pub const MAX_FAILURES: i64 = 5;
pub const LOCK_WINDOW: Duration = Duration::minutes(15);
/// …and how long the lock lasts.
pub const LOCK_FOR: Duration = Duration::minutes(15);

/// The one written form of an e-mail address: trimmed, lower case.
pub fn normalise_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Whether `email` looks like an address (one `@`, something either side, no spaces or controls).
pub fn valid_email(email: &str) -> bool {
    let mut parts = email.split('@');
    matches!((parts.next(), parts.next(), parts.next()), (Some(l), Some(d), None) if !l.is_empty() && d.contains('.') && !d.starts_with('.') && !d.ends_with('.'))
        && email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// The caller a signed-in person acts as: the account's role and agency; audit records name the
/// e-mail address.
pub fn caller_of(user: &UserRow) -> Caller {
    let role = match user.role.as_str() {
        "admin" => Role::Admin,
        _ => Role::Finance,
    };
    Caller {
        sub: user.email.clone(),
        roles: vec![role],
        agency: user.agency_code.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_checked_and_normalised() {
        assert_eq!(
            normalise_email("  Ke.Toan@Example.VN "),
            "ke.toan@example.vn"
        );
        assert!(valid_email("ke.toan@example.vn"));
        for bad in [
            "",
            "a",
            "a@b",
            "@b.vn",
            "a@@b.vn",
            "a b@c.vn",
            "a@b.vn.",
            "a\u{0}@b.vn",
        ] {
            assert!(!valid_email(bad), "{bad:?}");
        }
    }
}
