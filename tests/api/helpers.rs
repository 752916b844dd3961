#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use landpay::auth::Role;
use landpay::clock::Clock;
use landpay::config::{ConfigSources, Settings};
use landpay::startup::{AppState, Application};
use landpay::storage::Store;
use reqwest::{Method, RequestBuilder, Response};
use serde_json::Value;

/// A fresh database for one test, removed when dropped (set LANDPAY_TEST_KEEP_DB=1 to keep it).
pub struct TestDb {
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Sqlite(tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

impl TestDb {
    pub async fn new() -> Self {
        match std::env::var("TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty())
        {
            Some(admin_url) => {
                let name = format!(
                    "landpay_test_{}",
                    ulid::Ulid::new().to_string().to_ascii_lowercase()
                );
                let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&admin_url)
                    .await
                    .expect("TEST_DATABASE_URL must reach PostgreSQL");
                sqlx::Executor::execute(&mut conn, format!("create database {name}").as_str())
                    .await
                    .unwrap();
                let url = replace_db_name(&admin_url, &name);
                Self {
                    url,
                    cleanup: Cleanup::Postgres { admin_url, name },
                }
            }
            None => {
                let dir = tempfile::tempdir().unwrap();
                let url = format!("sqlite://{}", dir.path().join("landpay.db").display());
                Self {
                    url,
                    cleanup: Cleanup::Sqlite(dir),
                }
            }
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self.cleanup, Cleanup::Postgres { .. })
    }
}

fn replace_db_name(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let slash = base.rfind('/').expect("a postgres URL has a path");
    let host_part = &base[..slash];
    // postgres://host (no path) has its last slash inside "//".
    let host_part = if host_part.ends_with('/') {
        base
    } else {
        host_part
    };
    match query {
        Some(q) => format!("{host_part}/{name}?{q}"),
        None => format!("{host_part}/{name}"),
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if std::env::var("LANDPAY_TEST_KEEP_DB").is_ok() {
            return;
        }
        if let Cleanup::Postgres { admin_url, name } = &self.cleanup {
            let admin_url = admin_url.clone();
            let name = name.clone();
            // Drop runs outside async; use a thread with its own runtime.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async move {
                    if let Ok(mut conn) =
                        <sqlx::PgConnection as sqlx::Connection>::connect(&admin_url).await
                    {
                        let _ = sqlx::Executor::execute(
                            &mut conn,
                            format!("drop database if exists {name} with (force)").as_str(),
                        )
                        .await;
                    }
                });
            })
            .join();
        }
    }
}

pub fn config_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/config"))
}

/// Test settings (config/test.toml) pointed at `db`, with extra `LANDPAY__…` overrides.
pub fn settings_for(db: &TestDb, overrides: &[(&str, &str)]) -> Settings {
    let sources = ConfigSources {
        dir: config_dir(),
        environment: "test".into(),
        extra_file: None,
    };
    let mut env: Vec<(String, String)> = vec![("LANDPAY__DATABASE__URL".into(), db.url.clone())];
    env.extend(
        overrides
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    Settings::load_with_env(&sources, &env).unwrap()
}

/// A running application on a random port.
pub struct TestApp {
    pub address: String,
    pub port: u16,
    pub client: reqwest::Client,
    pub state: actix_web::web::Data<AppState>,
    pub db: Arc<TestDb>,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

pub async fn spawn_app_with(overrides: &[(&str, &str)]) -> TestApp {
    let db = Arc::new(TestDb::new().await);
    spawn_app_on(db, overrides).await
}

/// Another application instance on the same database (several instances, one PostgreSQL).
pub async fn spawn_app_on(db: Arc<TestDb>, overrides: &[(&str, &str)]) -> TestApp {
    // The public base URL must name the port, which is only known after binding: bind first
    // to learn a free port, then build with it.
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = probe.local_addr().unwrap().port();
    drop(probe);
    let port_s = port.to_string();
    let base = format!("http://127.0.0.1:{port}");
    let mut all: Vec<(&str, &str)> = vec![
        ("LANDPAY__SERVER__PORT", port_s.as_str()),
        ("LANDPAY__SERVER__PUBLIC_BASE_URL", base.as_str()),
    ];
    all.extend_from_slice(overrides);
    let settings = settings_for(&db, &all);
    let app = Application::build_with_clock(settings, Arc::new(Clock::default()))
        .await
        .expect("the application builds");
    let state = app.state();
    tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    TestApp {
        address: base,
        port,
        client,
        state,
        db,
    }
}

impl TestApp {
    pub fn token(&self, roles: &[Role], agency: Option<&str>) -> String {
        self.state
            .jwt
            .mint("test-client", roles, agency, Duration::from_secs(3600))
            .unwrap()
    }

    pub fn token_for(&self, sub: &str, roles: &[Role], agency: Option<&str>) -> String {
        self.state
            .jwt
            .mint(sub, roles, agency, Duration::from_secs(3600))
            .unwrap()
    }

    pub fn admin(&self) -> String {
        self.token(&[Role::Admin], None)
    }

    pub fn portal(&self) -> String {
        self.token(&[Role::Portal], None)
    }

    pub fn finance(&self) -> String {
        self.token(&[Role::Finance], None)
    }

    pub fn store(&self) -> &Store {
        &self.state.store
    }

    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, format!("{}{}", self.address, path))
    }

    pub async fn get(&self, path: &str, token: &str) -> Response {
        self.request(Method::GET, path)
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    pub async fn post_json(&self, path: &str, token: &str, body: &Value) -> Response {
        self.request(Method::POST, path)
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn post_idem(&self, path: &str, token: &str, key: &str, body: &Value) -> Response {
        self.request(Method::POST, path)
            .bearer_auth(token)
            .header("Idempotency-Key", key)
            .json(body)
            .send()
            .await
            .unwrap()
    }
}

/// Reads a JSON body, printing it when the status is not the expected one.
pub async fn expect_json(res: Response, status: u16) -> Value {
    let got = res.status().as_u16();
    let text = res.text().await.unwrap();
    assert_eq!(got, status, "unexpected status {got}; body: {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// Asserts a problem+json answer with the given status and code; returns the body.
pub async fn expect_problem(res: Response, status: u16, code: &str) -> Value {
    let ct = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = expect_json(res, status).await;
    assert!(
        ct.starts_with("application/problem+json"),
        "content type {ct}; body {body}"
    );
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["status"], status, "{body}");
    body
}

/// Whether this run is on PostgreSQL (for the few tests that only make sense there).
pub fn on_postgres() -> bool {
    std::env::var("TEST_DATABASE_URL")
        .map(|u| !u.is_empty())
        .unwrap_or(false)
}
