//! Start-up: the three environments, a production check that names every problem at once and
//! requires only what is enabled, and the README's `docker run` example starting as written.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Stdio};
use std::time::Duration;

use crate::helpers::{config_dir, project_root, TestDb};
use crate::serve_child;

fn landpay(env: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_landpay"));
    c.env("LANDPAY_CONFIG_DIR", config_dir())
        .env("LANDPAY_ENV", env);
    for (k, _) in std::env::vars() {
        if k.starts_with("LANDPAY__") {
            c.env_remove(k);
        }
    }
    c
}

#[test]
fn an_unknown_environment_stops_start_up_naming_the_three() {
    for env in ["prod", "Production", "staging", ""] {
        let out = landpay(env).arg("check-config").output().unwrap();
        assert!(!out.status.success(), "{env:?} was accepted");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("local, test, production"), "{env:?}: {err}");
    }
}

#[test]
fn production_names_every_problem_at_once_and_only_for_what_is_enabled() {
    let out = landpay("production")
        .arg("check-config")
        .env("LANDPAY__AUTH__JWT_SECRET", "only-twenty-bytes-xx")
        .env("LANDPAY__AUTH__LINK_SECRET", "l".repeat(40))
        .env("LANDPAY__GATEWAYS__VNPAY__HASH_SECRET", "h".repeat(40))
        .env("LANDPAY__GATEWAYS__VNPAY__PAYMENT_URL", "")
        .env(
            "LANDPAY__GATEWAYS__VNPAY__API_URL",
            "https://pay.example.gov.vn/sandbox/vnpay/merchant_webapi/api/transaction",
        )
        .env(
            "LANDPAY__SERVER__PUBLIC_BASE_URL",
            "https://pay.example.gov.vn",
        )
        .env("LANDPAY__GATEWAYS__DVCQG__ENABLED", "true")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    for key in [
        "auth.jwt_secret",
        "gateways.vnpay.tmn_code",
        "gateways.vnpay.payment_url",
        "gateways.vnpay.api_url",
        "gateways.vietqr.account_no",
        "gateways.dvcqg.init_url",
        "gateways.dvcqg.hash_key",
    ] {
        assert!(err.contains(key), "{key} not named in: {err}");
    }
    // MoMo, ZaloPay and PayGov are disabled: their development keys are no problem.
    for key in [
        "gateways.momo",
        "gateways.zalopay",
        "gateways.paygov",
        "auth.link_secret",
    ] {
        assert!(!err.contains(key), "{key} named in: {err}");
    }
    assert!(!err.contains("only-twenty-bytes"), "{err}");
}

/// `check-config` in production with every other setting as production wants it, MoMo and
/// ZaloPay enabled with keys of their own, and `vars` on top.
fn production_with_wallets(vars: &[(&str, &str)]) -> std::process::Output {
    let mut c = landpay("production");
    c.arg("check-config");
    for (k, v) in [
        ("LANDPAY__AUTH__JWT_SECRET", "j".repeat(40)),
        ("LANDPAY__AUTH__LINK_SECRET", "l".repeat(40)),
        ("LANDPAY__GATEWAYS__VNPAY__TMN_CODE", "LANDVN01".into()),
        ("LANDPAY__GATEWAYS__VNPAY__HASH_SECRET", "h".repeat(40)),
        ("LANDPAY__GATEWAYS__VIETQR__ENABLED", "false".into()),
        (
            "LANDPAY__SERVER__PUBLIC_BASE_URL",
            "https://pay.example.gov.vn".into(),
        ),
        ("LANDPAY__GATEWAYS__MOMO__ENABLED", "true".into()),
        ("LANDPAY__GATEWAYS__MOMO__ACCESS_KEY", "a".repeat(20)),
        ("LANDPAY__GATEWAYS__MOMO__SECRET_KEY", "s".repeat(32)),
        ("LANDPAY__GATEWAYS__ZALOPAY__ENABLED", "true".into()),
        ("LANDPAY__GATEWAYS__ZALOPAY__KEY1", "k".repeat(32)),
        ("LANDPAY__GATEWAYS__ZALOPAY__KEY2", "m".repeat(32)),
    ] {
        c.env(k, v);
    }
    for (k, v) in vars {
        c.env(k, v);
    }
    c.output().unwrap()
}

#[test]
fn production_wants_momo_and_zalopay_with_their_own_ids_on_their_https_hosts() {
    // Their status answers are unsigned and can record money: only TLS to the gateway vouches
    // for them, so production refuses plain http and the sandbox hosts, and the shipped ids.
    let out = production_with_wallets(&[
        (
            "LANDPAY__GATEWAYS__MOMO__ENDPOINT",
            "http://payment.momo.vn",
        ),
        (
            "LANDPAY__GATEWAYS__ZALOPAY__ENDPOINT",
            "https://SB-OpenAPI.zalopay.vn/",
        ),
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    for problem in [
        "`gateways.momo.partner_code` still has its development default",
        "`gateways.momo.endpoint` must be an https URL",
        "`gateways.zalopay.app_id` still has its development default",
        "`gateways.zalopay.endpoint` must not be the sandbox (sb-openapi.zalopay.vn)",
    ] {
        assert!(err.contains(problem), "{problem} not named in: {err}");
    }
    for (endpoint, problem) in [
        ("", "must be an https URL"),
        ("https://test-payment.momo.vn", "must not be the sandbox"),
    ] {
        let out = production_with_wallets(&[
            ("LANDPAY__GATEWAYS__MOMO__PARTNER_CODE", "MOMOLANDVN"),
            ("LANDPAY__GATEWAYS__ZALOPAY__APP_ID", "9127"),
            ("LANDPAY__GATEWAYS__MOMO__ENDPOINT", endpoint),
        ]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{endpoint:?} was accepted");
        assert!(
            err.contains(&format!("`gateways.momo.endpoint` {problem}")),
            "{endpoint:?}: {err}"
        );
        assert!(!err.contains("gateways.zalopay"), "{err}");
    }
    // Their own ids, and the production hosts the production configuration sets: it starts.
    let out = production_with_wallets(&[
        ("LANDPAY__GATEWAYS__MOMO__PARTNER_CODE", "MOMOLANDVN"),
        ("LANDPAY__GATEWAYS__ZALOPAY__APP_ID", "9127"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The `-e KEY=VALUE` pairs of the README's `docker run` example.
fn readme_docker_env() -> Vec<(String, String)> {
    let readme = std::fs::read_to_string(project_root().join("README.md")).unwrap();
    let start = readme.find("docker run ").expect("a docker run example");
    let example: String = readme[start..]
        .lines()
        .take_while(|l| !l.starts_with("```"))
        .collect::<Vec<_>>()
        .join(" ");
    example
        .split_whitespace()
        .collect::<Vec<_>>()
        .windows(2)
        .filter(|w| w[0] == "-e")
        .map(|w| {
            let (k, v) = w[1].split_once('=').unwrap();
            (k.to_owned(), v.to_owned())
        })
        .collect()
}

async fn start(vars: &[(String, String)], db: &TestDb) -> Result<(), String> {
    let command = |port: u16| {
        let mut cmd = landpay("production");
        for (k, v) in vars {
            // The example's placeholders become real values; the database is this test's.
            let v = match (k.as_str(), v.as_str()) {
                ("LANDPAY__DATABASE__URL", _) => db.url.clone(),
                (_, "…") => format!("{}-{}", k.to_ascii_lowercase(), "x".repeat(32)),
                _ => v.clone(),
            };
            cmd.env(k, v);
        }
        cmd.arg("serve")
            .env("LANDPAY__SERVER__HOST", "127.0.0.1")
            .env("LANDPAY__SERVER__PORT", port.to_string())
            .stdout(Stdio::null());
        cmd
    };
    let (mut child, _) = serve_child::serve(command, Duration::from_secs(20)).await?;
    child.kill().unwrap();
    let _ = child.wait();
    Ok(())
}

#[tokio::test]
async fn the_readme_docker_example_starts_with_exactly_the_settings_it_names() {
    let vars = readme_docker_env();
    assert!(vars.len() >= 5, "{vars:?}");
    let db = TestDb::new().await;
    start(&vars, &db).await.expect("the README example starts");
    // Each named setting is needed: without it production refuses to start.
    for skip in vars.iter().filter(|(k, _)| k != "LANDPAY__DATABASE__URL") {
        let fewer: Vec<_> = vars.iter().filter(|v| *v != skip).cloned().collect();
        let err = start(&fewer, &db).await.expect_err(&skip.0);
        assert!(err.contains("production configuration refused"), "{err}");
    }
}
