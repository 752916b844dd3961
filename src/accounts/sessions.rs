//! Signing in and out, and finding the session of a request. The cookie holds 256 random bits;
//! the database keeps only their SHA-256, so a copy of the database signs nobody in.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{
    caller_of, normalise_email, password, totp, ABSOLUTE, IDLE, LOCK_FOR, LOCK_WINDOW, MAX_FAILURES,
};
use crate::app::Services;
use crate::auth::Caller;
use crate::storage::accounts::UserRow;
use crate::storage::parse_ts;

/// What a sign-in form sent.
pub struct Credentials<'a> {
    pub email: &'a str,
    pub password: &'a str,
    pub totp: &'a str,
    pub ip: &'a str,
}

/// A new session: the cookie's value and the form token of its pages.
pub struct NewSession {
    pub token: String,
    pub csrf: String,
}

/// A live session.
pub struct SignedIn {
    pub caller: Caller,
    pub csrf: String,
    pub token_hash: String,
}

/// Why a sign-in was refused. The page says only "wrong e-mail, password or code" for all but
/// a lock, so that the form does not tell which part was wrong.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    Wrong,
    Locked,
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The stored form of a session cookie.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Constant-time equality of two form tokens.
pub fn same_token(a: &str, b: &str) -> bool {
    !a.is_empty() && a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// The form token of the sign-in page, bound to the browser's pre-session cookie `nonce` with
/// the link secret (a signed double-submit token).
pub fn login_csrf(secret: &str, nonce: &str) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(b"finance-login:");
    mac.update(nonce.as_bytes());
    URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

/// A fresh pre-session nonce for the sign-in form.
pub fn new_nonce() -> String {
    random_token()
}

async fn audit(state: &Services, email: &str, kind: &str, ip: &str, detail: Option<&str>) {
    if let Err(e) = state
        .store
        .account_event(email, kind, Some(ip), detail, state.clock.now())
        .await
    {
        tracing::error!(error = %e, kind, "recording an account event");
    }
}

/// Records a failure and locks the account at the fifth within the window.
async fn failed(state: &Services, user: &UserRow, ip: &str, why: &str) -> anyhow::Result<Refused> {
    let now = state.clock.now();
    audit(state, &user.email, "sign_in.failed", ip, Some(why)).await;
    let mut since = now - LOCK_WINDOW;
    if let Some(until) = user.locked_until.as_deref().and_then(|t| parse_ts(t).ok()) {
        since = since.max(until);
    }
    let failures = state.store.failures_since(&user.email, since).await?;
    if failures >= MAX_FAILURES {
        state.store.lock_user(&user.email, now + LOCK_FOR).await?;
        audit(
            state,
            &user.email,
            "account.locked",
            ip,
            Some(&format!("{failures} failed sign-ins")),
        )
        .await;
        return Ok(Refused::Locked);
    }
    Ok(Refused::Wrong)
}

fn locked(user: &UserRow, now: DateTime<Utc>) -> bool {
    user.locked_until
        .as_deref()
        .and_then(|t| parse_ts(t).ok())
        .is_some_and(|until| until > now)
}

async fn password_ok(password: &str, stored: Option<String>) -> bool {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || match stored {
        Some(hash) => password::verify(&password, &hash),
        None => {
            password::verify_nothing(&password);
            false
        }
    })
    .await
    .unwrap_or(false)
}

/// Signs a person in: password, then the TOTP code (each step usable once), then a new session.
pub async fn sign_in(
    state: &Services,
    c: &Credentials<'_>,
) -> anyhow::Result<Result<NewSession, Refused>> {
    let email = normalise_email(c.email);
    let now = state.clock.now();
    let controls = [c.email, c.password, c.totp]
        .iter()
        .any(|t| t.chars().any(crate::wording::is_forbidden_char));
    if controls || email.len() > 254 {
        let _ = password_ok(c.password, None).await;
        return Ok(Err(Refused::Wrong));
    }
    let user = state.store.user(&email).await?;
    let Some(user) = user.filter(|u| u.disabled_at.is_none()) else {
        let _ = password_ok(c.password, None).await;
        audit(
            state,
            &email,
            "sign_in.failed",
            c.ip,
            Some("unknown or disabled account"),
        )
        .await;
        return Ok(Err(Refused::Wrong));
    };
    if locked(&user, now) {
        audit(state, &email, "sign_in.refused_locked", c.ip, None).await;
        return Ok(Err(Refused::Locked));
    }
    if !password_ok(c.password, Some(user.password_hash.clone())).await {
        return Ok(Err(failed(state, &user, c.ip, "password").await?));
    }
    if let Some(secret) = &user.totp_secret {
        let unix = u64::try_from(now.timestamp()).unwrap_or(0);
        let step = totp::matching_step(secret, c.totp, unix).and_then(|s| i64::try_from(s).ok());
        let fresh = match step {
            Some(step) => state.store.use_totp_step(&email, step).await?,
            None => false,
        };
        if !fresh {
            return Ok(Err(failed(
                state,
                &user,
                c.ip,
                if step.is_some() {
                    "totp reused"
                } else {
                    "totp"
                },
            )
            .await?));
        }
    }
    let session = NewSession {
        token: random_token(),
        csrf: random_token(),
    };
    state
        .store
        .insert_session(&token_hash(&session.token), &email, &session.csrf, now)
        .await?;
    audit(state, &email, "sign_in.succeeded", c.ip, None).await;
    Ok(Ok(session))
}

/// The live session a cookie names, touched; `None` when it is unknown, revoked, idle for 30
/// minutes, older than 12 hours, older than the account's password, or its account disabled.
pub async fn session_of(state: &Services, token: &str) -> anyhow::Result<Option<SignedIn>> {
    let hash = token_hash(token);
    let Some((s, user)) = state.store.session(&hash).await? else {
        return Ok(None);
    };
    let now = state.clock.now();
    let created = parse_ts(&s.created_at)?;
    let live = s.revoked_at.is_none()
        && user.disabled_at.is_none()
        && now - parse_ts(&s.last_seen_at)? < IDLE
        && now - created < ABSOLUTE
        && created >= parse_ts(&user.password_changed_at)?;
    if !live {
        return Ok(None);
    }
    state.store.touch_session(&hash, now).await?;
    Ok(Some(SignedIn {
        caller: caller_of(&user),
        csrf: s.csrf,
        token_hash: hash,
    }))
}

/// Ends a session server-side; the cookie is worthless afterwards.
pub async fn sign_out(state: &Services, who: &SignedIn, ip: &str) -> anyhow::Result<()> {
    if state
        .store
        .revoke_session(&who.token_hash, state.clock.now())
        .await?
    {
        audit(state, &who.caller.sub, "sign_out", ip, None).await;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_compared_whole() {
        let (a, b) = (random_token(), random_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert!(same_token(&a, &a.clone()));
        assert!(!same_token(&a, &b));
        assert!(!same_token("", ""));
        assert!(!same_token(&a, &a[..42]));
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(login_csrf("k", &a), login_csrf("k", &b));
        assert_ne!(login_csrf("k", &a), login_csrf("other key", &a));
    }
}
