//! The portal developer's guide at `/docs/portal-guide`: its signature snippets verify a real
//! delivery (and refuse a tampered one) when run by Node, Python and Java; an unknown event type
//! is refused naming the valid ones.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;

use reqwest::Method;
use serde_json::json;

use crate::helpers::{expect_problem, spawn_app, spawn_app_driven, Receiver};

fn snippet(html: &str, id: &str) -> String {
    let start = html.find(&format!("<pre id=\"{id}\"><code>")).unwrap();
    let rest = &html[start..];
    let code = &rest[rest.find("<code>").unwrap() + 6..rest.find("</code>").unwrap()];
    code.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&amp;", "&")
}

fn tool(name: &str) -> bool {
    let found = Command::new(name)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var("LANDPAY_REQUIRE_ALL").is_err(),
            "{name} is required under LANDPAY_REQUIRE_ALL"
        );
        eprintln!("skipping the {name} snippet: {name} is not installed");
    }
    found
}

/// Runs the three snippets on (body file, header, secret); true when the snippet accepts.
fn verdicts(
    html: &str,
    dir: &Path,
    body: &Path,
    header: &str,
    secret: &str,
) -> Vec<(&'static str, bool)> {
    let mut out = Vec::new();
    if tool("node") {
        std::fs::write(dir.join("verify.js"), snippet(html, "verify-node")).unwrap();
        let harness = "const { verifyLandpaySignature } = require(process.argv[1] + '/verify.js');\
            const body = require('node:fs').readFileSync(process.argv[2]);\
            process.exit(verifyLandpaySignature(body, process.argv[3], process.argv[4]) ? 0 : 1);";
        let s = Command::new("node")
            .args([
                "-e",
                harness,
                dir.to_str().unwrap(),
                body.to_str().unwrap(),
                header,
                secret,
            ])
            .status()
            .unwrap();
        out.push(("node", s.success()));
    }
    if tool("python3") {
        std::fs::write(
            dir.join("landpay_verify.py"),
            snippet(html, "verify-python"),
        )
        .unwrap();
        let harness = "import sys; sys.path.insert(0, sys.argv[1]); from landpay_verify import verify_landpay_signature as v;\
            sys.exit(0 if v(open(sys.argv[2], 'rb').read(), sys.argv[3], sys.argv[4]) else 1)";
        let s = Command::new("python3")
            .args([
                "-c",
                harness,
                dir.to_str().unwrap(),
                body.to_str().unwrap(),
                header,
                secret,
            ])
            .status()
            .unwrap();
        out.push(("python", s.success()));
    }
    if tool("javac") && tool("java") {
        std::fs::write(
            dir.join("LandpaySignature.java"),
            snippet(html, "verify-java"),
        )
        .unwrap();
        std::fs::write(
            dir.join("Check.java"),
            "public class Check { public static void main(String[] a) throws Exception {\
             byte[] body = java.nio.file.Files.readAllBytes(java.nio.file.Path.of(a[0]));\
             System.exit(LandpaySignature.verify(body, a[1], a[2], 300) ? 0 : 1); } }",
        )
        .unwrap();
        if !dir.join("Check.class").exists() {
            let s = Command::new("javac")
                .current_dir(dir)
                .args(["LandpaySignature.java", "Check.java"])
                .status()
                .unwrap();
            assert!(s.success(), "the Java snippet does not compile");
        }
        let s = Command::new("java")
            .current_dir(dir)
            .args(["-cp", ".", "Check", body.to_str().unwrap(), header, secret])
            .status()
            .unwrap();
        out.push(("java", s.success()));
    }
    out
}

#[tokio::test]
async fn the_guides_snippets_verify_a_real_delivery_and_refuse_a_forged_one() {
    let app = spawn_app_driven(&[]).await;
    let receiver = Receiver::start(&[200]).await;
    let endpoint = app.subscribe(&receiver.url, &["payment.paid"]).await;
    let secret = endpoint["secret"].as_str().unwrap().to_owned();
    app.paid_payment(175_000_000).await;
    assert_eq!(app.deliver().await, 1);
    assert_eq!(receiver.all().len(), 1);
    let delivery = receiver.all().remove(0);

    let res = app
        .request(Method::GET, "/docs/portal-guide")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let html = res.text().await.unwrap();

    let dir = tempfile::tempdir().unwrap();
    let body = dir.path().join("body.json");
    std::fs::write(&body, delivery.body.as_bytes()).unwrap();
    let accepted = verdicts(&html, dir.path(), &body, &delivery.signature, &secret);
    for (lang, ok) in &accepted {
        assert!(ok, "the {lang} snippet refused a real delivery");
    }
    // A changed body, another secret, and an old timestamp are refused by each.
    let tampered = dir.path().join("tampered.json");
    std::fs::write(&tampered, delivery.body.replace("175000000", "175000001")).unwrap();
    for (lang, ok) in verdicts(&html, dir.path(), &tampered, &delivery.signature, &secret) {
        assert!(!ok, "the {lang} snippet accepted a tampered body");
    }
    for (lang, ok) in verdicts(
        &html,
        dir.path(),
        &body,
        &delivery.signature,
        "whsec_not-the-secret",
    ) {
        assert!(!ok, "the {lang} snippet accepted another secret");
    }
    let old = delivery
        .signature
        .split(',')
        .map(|p| {
            if p.starts_with("t=") {
                "t=1000000000".to_owned()
            } else {
                p.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(",");
    for (lang, ok) in verdicts(&html, dir.path(), &body, &old, &secret) {
        assert!(!ok, "the {lang} snippet accepted a stale timestamp");
    }
}

#[tokio::test]
async fn an_unknown_event_type_is_refused_naming_the_valid_ones() {
    let app = spawn_app().await;
    let res = app
        .post_json(
            "/v1/webhook-endpoints",
            &app.admin(),
            &json!({"url": "https://portal.example.gov.vn/hook", "events": ["payment.paid", "payment.done"]}),
        )
        .await;
    let problem = expect_problem(res, 422, "validation_failed").await;
    let error = &problem["errors"][0];
    assert_eq!(error["field"], "events[1]");
    let message = error["message"].as_str().unwrap();
    for t in landpay::events::ALL_EVENT_TYPES {
        assert!(
            message.contains(t.as_str()),
            "{message} does not name {}",
            t.as_str()
        );
    }
}
