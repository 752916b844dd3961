//! Secrets from files (with where each value came from) and token keys by `kid`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;

use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::json;

use crate::helpers::{config_dir, expect_problem, settings_for, spawn_app_on, TestDb};

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

fn key_file(name: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/keys")).join(name)
}

#[tokio::test]
async fn a_secret_is_read_from_a_file_and_check_config_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("jwt_secret");
    std::fs::write(&file, "a-secret-kept-in-a-file-0123456789\n").unwrap();
    let path = file.display().to_string();
    let db = TestDb::new().await;
    let settings = settings_for(&db, &[("LANDPAY__AUTH__JWT_SECRET_FILE", &path)]);
    assert_eq!(
        settings.auth.jwt_secret.expose(),
        "a-secret-kept-in-a-file-0123456789",
        "the content, one trailing newline trimmed"
    );

    let out = landpay()
        .arg("check-config")
        .env("LANDPAY__AUTH__JWT_SECRET_FILE", &path)
        .env("LANDPAY__SERVER__PORT", "8099")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains("a-secret-kept-in-a-file"), "{text}");
    assert!(text.contains("jwt_secret = \"[redacted]\""), "{text}");
    let origin = |key: &str| {
        text.lines()
            .find(|l| l.starts_with(&format!("#   {key} = ")))
            .unwrap_or_else(|| panic!("no origin for {key} in {text}"))
            .to_owned()
    };
    assert_eq!(
        origin("auth.jwt_secret"),
        format!(
            "#   auth.jwt_secret = file {path} (auth.jwt_secret_file, environment variable LANDPAY__AUTH__JWT_SECRET_FILE)"
        )
    );
    assert!(origin("server.port").ends_with("environment variable LANDPAY__SERVER__PORT"));
    assert!(
        origin("log.filter").ends_with("config/default.toml"),
        "{text}"
    );
    assert!(origin("log.format").contains("local.toml"), "{text}");
    // The parsed output is still TOML (the origins are comments).
    assert!(toml::from_str::<toml::Table>(&text).is_ok());

    // Run from a folder without configuration files: the built-in defaults.
    let empty = tempfile::tempdir().unwrap();
    let out = landpay()
        .arg("check-config")
        .env("LANDPAY_CONFIG_DIR", empty.path())
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("#   log.filter = built-in defaults"),
        "{text}"
    );

    // A missing file stops start-up naming the key and the path.
    let out = landpay()
        .arg("check-config")
        .env(
            "LANDPAY__GATEWAYS__VNPAY__HASH_SECRET_FILE",
            "/nonexistent/vnpay",
        )
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("gateways.vnpay.hash_secret_file") && err.contains("/nonexistent/vnpay"),
        "{err}"
    );
}

fn keys_env(with_ed: bool, hs_file: &str) -> String {
    let ed = format!(
        r#"{{kid = "portal-ed", alg = "EdDSA", public_key_file = "{}"}},"#,
        key_file("ed25519-test-public.pem").display()
    );
    format!(
        r#"[{} {{kid = "portal-hs", alg = "HS256", secret_file = "{hs_file}"}}, {{kid = "portal-rs", alg = "RS256", public_key_file = "{}"}}]"#,
        if with_ed { ed.as_str() } else { "" },
        key_file("rsa-test-public.pem").display()
    )
}

fn signed(alg: Algorithm, kid: &str, key: &EncodingKey, agency: &str) -> String {
    let now = jsonwebtoken::get_current_timestamp();
    let claims = json!({"sub": format!("portal-{kid}"), "roles": ["portal"], "agency": agency,
        "iss": "landpay", "aud": "landpay", "exp": now + 600, "iat": now});
    let mut header = Header::new(alg);
    header.kid = Some(kid.to_owned());
    encode(&header, &claims, key).unwrap()
}

#[tokio::test]
async fn tokens_of_two_kids_are_accepted_and_a_removed_kid_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let hs_file = dir.path().join("hs");
    std::fs::write(&hs_file, "hs256-secret-of-portal-hs-0123456789\n").unwrap();
    let hs_path = hs_file.display().to_string();
    let db = Arc::new(TestDb::new().await);
    let keys = keys_env(true, &hs_path);
    let app = spawn_app_on(db.clone(), &[("LANDPAY__AUTH__KEYS", &keys)]).await;

    let ed_private = std::fs::read(key_file("ed25519-test-private.pem")).unwrap();
    let ed_token = signed(
        Algorithm::EdDSA,
        "portal-ed",
        &EncodingKey::from_ed_pem(&ed_private).unwrap(),
        "HN-VPDKDD",
    );
    let rs_private = std::fs::read(key_file("rsa-test-private.pem")).unwrap();
    let rs_token = signed(
        Algorithm::RS256,
        "portal-rs",
        &EncodingKey::from_rsa_pem(&rs_private).unwrap(),
        "HN-VPDKDD",
    );
    // `landpay token --kid` signs with the HS256 key of that kid.
    let out = landpay()
        .args([
            "token",
            "--sub",
            "portal-hs",
            "--role",
            "portal",
            "--kid",
            "portal-hs",
        ])
        .args(["--agency", "HN-VPDKDD"])
        .env("LANDPAY__AUTH__KEYS", &keys)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let hs_token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let header = jsonwebtoken::decode_header(&hs_token).unwrap();
    assert_eq!(header.kid.as_deref(), Some("portal-hs"));

    for (name, token) in [
        ("EdDSA", &ed_token),
        ("HS256", &hs_token),
        ("RS256", &rs_token),
    ] {
        let res = app.get("/v1/payments?limit=1", token).await;
        assert_eq!(res.status().as_u16(), 200, "{name} token refused");
    }
    let caller = app.state.jwt.verify(&ed_token).unwrap();
    assert_eq!(caller.sub, "portal-portal-ed");
    assert_eq!(caller.agency.as_deref(), Some("HN-VPDKDD"));
    // A token without a kid is still verified with auth.jwt_secret.
    assert_eq!(
        app.get("/v1/payments?limit=1", &app.portal())
            .await
            .status(),
        200
    );

    // A kid's key only: the public key used as an HS256 secret (algorithm confusion), an
    // unknown kid, and the HS256 kid signed with another secret are all refused.
    let ed_public = std::fs::read(key_file("ed25519-test-public.pem")).unwrap();
    let confused = signed(
        Algorithm::HS256,
        "portal-ed",
        &EncodingKey::from_secret(&ed_public),
        "HN-VPDKDD",
    );
    let unknown = signed(
        Algorithm::HS256,
        "nobody",
        &EncodingKey::from_secret(b"hs256-secret-of-portal-hs-0123456789"),
        "HN-VPDKDD",
    );
    let forged = signed(
        Algorithm::HS256,
        "portal-hs",
        &EncodingKey::from_secret(b"another-secret-entirely-0123456789"),
        "HN-VPDKDD",
    );
    for token in [&confused, &unknown, &forged] {
        expect_problem(
            app.get("/v1/payments?limit=1", token).await,
            401,
            "unauthorized",
        )
        .await;
    }
    // `--kid` of an unknown or a public key cannot sign.
    for kid in ["nobody", "portal-ed"] {
        let out = landpay()
            .args(["token", "--sub", "x", "--role", "portal", "--kid", kid])
            .env("LANDPAY__AUTH__KEYS", &keys)
            .output()
            .unwrap();
        assert!(!out.status.success(), "--kid {kid} signed a token");
    }

    // The same service without the EdDSA key: its tokens are revoked, the others still work.
    let without = keys_env(false, &hs_path);
    let app2 = spawn_app_on(db, &[("LANDPAY__AUTH__KEYS", &without)]).await;
    expect_problem(
        app2.get("/v1/payments?limit=1", &ed_token).await,
        401,
        "unauthorized",
    )
    .await;
    assert_eq!(
        app2.get("/v1/payments?limit=1", &hs_token).await.status(),
        200
    );
    assert_eq!(
        app2.get("/v1/payments?limit=1", &rs_token).await.status(),
        200
    );
}

#[test]
fn a_bad_key_entry_is_named() {
    let cases = [
        (
            r#"[{kid = "a", alg = "HS256", secret = "short"}]"#,
            "auth.keys[0].secret",
        ),
        (
            r#"[{kid = "a", alg = "EdDSA"}]"#,
            "auth.keys[0].public_key_file",
        ),
        (
            r#"[{kid = "a", alg = "HS256", secret = "0123456789abcdef0123"}, {kid = "a", alg = "HS256", secret = "0123456789abcdef0123"}]"#,
            "auth.keys[1].kid",
        ),
        (
            r#"[{kid = "a", alg = "PS512", secret = "0123456789abcdef0123"}]"#,
            "auth.keys",
        ),
    ];
    for (keys, named) in cases {
        let out = landpay()
            .arg("check-config")
            .env("LANDPAY__AUTH__KEYS", keys)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{keys} accepted");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(named), "{keys}: {err}");
    }
    let rsa_as_ed = format!(
        r#"[{{kid = "a", alg = "EdDSA", public_key_file = "{}"}}]"#,
        key_file("rsa-test-public.pem").display()
    );
    let out = landpay()
        .arg("check-config")
        .env("LANDPAY__AUTH__KEYS", &rsa_as_ed)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("auth.keys[0].public_key_file"));
}
