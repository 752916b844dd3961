//! The binary's commands: token, check-config, the production guard, start-up.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;
use std::time::{Duration, Instant};

use crate::helpers::{config_dir, spawn_app};
use crate::serve_child;

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

#[tokio::test]
async fn sigterm_stops_the_service_gracefully() {
    let db = crate::helpers::TestDb::new().await;
    let serve = |port: u16| {
        let mut c = landpay();
        serve_child::on_port(&mut c, port)
            .env("LANDPAY_ENV", "test")
            .env("LANDPAY__DATABASE__URL", &db.url);
        c
    };
    // Ready: the migrations ran before the port was bound.
    let (mut child, _) = serve_child::serve(serve, Duration::from_secs(15))
        .await
        .unwrap_or_else(|why| panic!("the service did not become ready: {why}"));
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(code) = child.try_wait().unwrap() {
            assert!(code.success(), "exit status {code}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "still running 15 s after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Kills the child process when the test ends, passed or failed.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The binary cargo built, run in `dir` with no configuration folder and no `LANDPAY_…` variables.
fn bare_landpay(dir: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_landpay"));
    c.current_dir(dir)
        .env_remove("LANDPAY_CONFIG_DIR")
        .env_remove("LANDPAY_ENV");
    for (k, _) in std::env::vars() {
        if k.starts_with("LANDPAY__") {
            c.env_remove(k);
        }
    }
    c
}

#[tokio::test]
async fn the_binary_serves_from_an_empty_directory_with_built_in_defaults_and_rules() {
    let dir = tempfile::tempdir().unwrap();
    let serve = |port: u16| {
        let mut c = bare_landpay(dir.path());
        serve_child::on_port(&mut c, port);
        c
    };
    let (child, port) = serve_child::serve(serve, Duration::from_secs(20))
        .await
        .unwrap_or_else(|why| panic!("/readyz never answered 200: {why}"));
    let _child = Running(child);
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    assert!(
        dir.path().join("data/landpay.db").is_file(),
        "the default SQLite file is created under the working directory"
    );
    // The built-in rule tables answer a quote; the token comes from the built-in defaults too.
    let out = bare_landpay(dir.path())
        .args(["token", "--sub", "portal-hn", "--role", "portal"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let quote = serde_json::json!({"procedure": "transfer", "as_of": "2026-11-20", "province_code": "01",
        "parcel": {"area_m2": "100", "land_use": "residential_urban", "table_price_per_m2": "50000000"},
        "contract": {"total_price": 7000000000i64}});
    let res = client
        .post(format!("{base}/v1/quotes"))
        .bearer_auth(token)
        .json(&quote)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["rule_set"], "VN-2026-07-01", "{body}");
    assert!(!body["lines"].as_array().unwrap().is_empty(), "{body}");
}

#[test]
fn files_of_the_config_folder_only_override_the_built_in_defaults() {
    let cwd = tempfile::tempdir().unwrap();
    let config = tempfile::tempdir().unwrap();
    std::fs::write(
        config.path().join("default.toml"),
        "[payments]\norder_ttl = \"2h\"\n",
    )
    .unwrap();
    let out = bare_landpay(cwd.path())
        .arg("check-config")
        .env("LANDPAY_CONFIG_DIR", config.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("order_ttl = \"2h\""), "{text}");
    // Every other key still comes from the built-in defaults.
    for key in [
        "tmn_code = \"LANDPAY1\"",
        "attempt_ttl = \"15m\"",
        "retry_schedule",
    ] {
        assert!(text.contains(key), "{key} missing from {text}");
    }
}
