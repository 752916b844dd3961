//! The binary's commands: token, check-config, the production guard, start-up.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;
use std::time::{Duration, Instant};

use crate::helpers::{config_dir, spawn_app};

fn landpay() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_landpay"));
    c.env("LANDPAY_CONFIG_DIR", config_dir())
        .env_remove("LANDPAY_ENV");
    for (k, _) in std::env::vars() {
        if k.starts_with("LANDPAY__") {
            c.env_remove(k);
        }
    }
    c
}

#[tokio::test]
async fn a_minted_token_is_accepted_by_the_service() {
    let app = spawn_app().await;
    let out = landpay()
        .args([
            "token",
            "--sub",
            "portal-hn",
            "--role",
            "portal",
            "--role",
            "finance",
            "--agency",
            "HN-VPDKDD",
            "--ttl",
            "1h",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1, "only the token on stdout");
    let token = stdout.trim();
    let caller = app.state.jwt.verify(token).unwrap();
    assert_eq!(caller.sub, "portal-hn");
    assert_eq!(caller.agency.as_deref(), Some("HN-VPDKDD"));
    let res = app.get("/v1/payments?limit=1", token).await;
    assert_eq!(res.status().as_u16(), 200);
}

#[test]
fn check_config_prints_every_key_but_no_secret() {
    let out = landpay()
        .arg("check-config")
        .env("LANDPAY__AUTH__JWT_SECRET", "a-very-secret-value-123")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for key in [
        "[server]",
        "public_base_url",
        "[gateways.vnpay]",
        "tmn_code",
        "retry_schedule",
        "jwt_secret = \"[redacted]\"",
    ] {
        assert!(text.contains(key), "{key} missing from {text}");
    }
    assert!(
        !text.contains("a-very-secret-value-123") && !text.contains("dev-only"),
        "{text}"
    );
    let out = landpay()
        .arg("check-config")
        .env("LANDPAY__SERVER__PORT", "eighty")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("server.port"));
}

#[test]
fn production_refuses_development_secrets_naming_each() {
    let started = Instant::now();
    let out = landpay()
        .arg("serve")
        .env("LANDPAY_ENV", "production")
        .env("LANDPAY__SERVER__PORT", "0")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(started.elapsed() < Duration::from_secs(5));
    let err = String::from_utf8_lossy(&out.stderr);
    for key in [
        "auth.jwt_secret",
        "gateways.vnpay.hash_secret",
        "server.public_base_url",
    ] {
        assert!(err.contains(key), "{key} not named in: {err}");
    }
    assert!(!err.contains("dev-only"), "{err}");
}
