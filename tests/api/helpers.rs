#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use landpay::auth::Role;
use landpay::clock::Clock;
use landpay::config::{ConfigSources, Settings};
use landpay::http::state::AppState;
use landpay::startup::Application;
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
            Some(admin_url) => Self::postgres(&admin_url)
                .await
                .expect("TEST_DATABASE_URL must reach PostgreSQL"),
            None => Self::sqlite(),
        }
    }

    /// A fresh SQLite file in a temporary folder.
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("landpay.db").display());
        Self {
            url,
            cleanup: Cleanup::Sqlite(dir),
        }
    }

    /// A fresh database created through `admin_url` (a PostgreSQL server it can reach).
    pub async fn postgres(admin_url: &str) -> Result<Self, sqlx::Error> {
        let name = format!(
            "landpay_test_{}",
            ulid::Ulid::new().to_string().to_ascii_lowercase()
        );
        let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(admin_url).await?;
        sqlx::Executor::execute(&mut conn, format!("create database {name}").as_str()).await?;
        Ok(Self {
            url: replace_db_name(admin_url, &name),
            cleanup: Cleanup::Postgres {
                admin_url: admin_url.to_owned(),
                name,
            },
        })
    }

    /// A fresh PostgreSQL database for a check that needs one whatever backend the suite runs
    /// on: through TEST_DATABASE_URL, else the local default server. `None` (said on stderr)
    /// when no server answers, which is a failure when LANDPAY_REQUIRE_ALL is set (CI).
    pub async fn postgres_for(check: &str) -> Option<Self> {
        let admin_url = std::env::var("TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
        match Self::postgres(&admin_url).await {
            Ok(db) => Some(db),
            Err(e) => {
                assert!(
                    std::env::var_os("LANDPAY_REQUIRE_ALL").is_none(),
                    "PostgreSQL is unreachable at {admin_url} ({e}) and LANDPAY_REQUIRE_ALL is set"
                );
                eprintln!("skipping {check}: PostgreSQL is unreachable ({e})");
                None
            }
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self.cleanup, Cleanup::Postgres { .. })
    }

    /// The rows of `sql`, read on a connection of the test's own: what is stored, whatever the
    /// service says of it.
    pub async fn rows<T>(&self, sql: &str) -> Vec<T>
    where
        T: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
            + for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
            + Send
            + Unpin,
    {
        if self.is_postgres() {
            let pool = sqlx::PgPool::connect(&self.url).await.unwrap();
            let rows = sqlx::query_as(sql).fetch_all(&pool).await.unwrap();
            pool.close().await;
            rows
        } else {
            let pool = sqlx::SqlitePool::connect(&self.url).await.unwrap();
            let rows = sqlx::query_as(sql).fetch_all(&pool).await.unwrap();
            pool.close().await;
            rows
        }
    }

    /// Runs `sql` on a connection of the test's own; returns the rows it changed.
    pub async fn execute(&self, sql: &str) -> u64 {
        if self.is_postgres() {
            let pool = sqlx::PgPool::connect(&self.url).await.unwrap();
            let n = sqlx::query(sql)
                .execute(&pool)
                .await
                .unwrap()
                .rows_affected();
            pool.close().await;
            n
        } else {
            let pool = sqlx::SqlitePool::connect(&self.url).await.unwrap();
            let n = sqlx::query(sql)
                .execute(&pool)
                .await
                .unwrap()
                .rows_affected();
            pool.close().await;
            n
        }
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
            let _ = on_own_thread(async move {
                if let Ok(mut conn) =
                    <sqlx::PgConnection as sqlx::Connection>::connect(&admin_url).await
                {
                    let _ = sqlx::Executor::execute(
                        &mut conn,
                        format!("drop database if exists {name} with (force)").as_str(),
                    )
                    .await;
                }
            })
            .join();
        }
    }
}

/// Sessions of the database `db` is connected to that wait on a lock (PostgreSQL).
pub async fn lock_waiters<'e>(db: impl sqlx::PgExecutor<'e>) -> i64 {
    sqlx::query_scalar(
        "select count(*) from pg_stat_activity
         where datname = current_database() and wait_event_type = 'Lock'",
    )
    .fetch_one(db)
    .await
    .unwrap()
}

/// Runs `work` on a new thread with a runtime of its own, whatever the calling thread is doing.
pub fn on_own_thread<T: Send + 'static>(
    work: impl std::future::Future<Output = T> + Send + 'static,
) -> std::thread::JoinHandle<T> {
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(work)
    })
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
    start_app(db, overrides, true).await
}

/// An application whose background workers do not run: the test drives them pass by pass
/// ([`TestApp::deliver`], [`TestApp::retry`]) on the service clock, which it moves forward
/// instead of waiting.
pub async fn spawn_app_driven(overrides: &[(&str, &str)]) -> TestApp {
    spawn_app_driven_on(Arc::new(TestDb::new().await), overrides).await
}

/// A driven instance (see [`spawn_app_driven`]) on an existing database.
pub async fn spawn_app_driven_on(db: Arc<TestDb>, overrides: &[(&str, &str)]) -> TestApp {
    start_app(db, overrides, false).await
}

async fn start_app(db: Arc<TestDb>, overrides: &[(&str, &str)], workers: bool) -> TestApp {
    if std::env::var("TEST_LOG").is_ok() {
        landpay::telemetry::init(&landpay::config::LogSettings {
            format: "pretty".into(),
            filter: "info,sqlx=warn".into(),
        });
    }
    // The public base URL must name the port, which is only known after binding: bind first
    // to learn a free port, then build with it. Another process (any outgoing connection) may
    // take the port in between: then the build fails with "address in use", and another free
    // port is tried.
    let mut tries = 0;
    let (app, port) = loop {
        let port = crate::serve_child::free_port();
        match Application::build_with_clock(
            app_settings(&db, overrides, port),
            Arc::new(Clock::default()),
        )
        .await
        {
            Ok(app) => break (app, port),
            Err(e) if tries < 5 && address_in_use(&e) => tries += 1,
            Err(e) => panic!("the application builds: {e:?}"),
        }
    };
    let state = app.state();
    if workers {
        tokio::spawn(app.run_until_stopped());
    } else {
        tokio::spawn(app.run_without_workers());
    }
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        port,
        client,
        state,
        db,
    }
}

/// Whether building failed because the port was taken meanwhile.
fn address_in_use(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::AddrInUse)
    })
}

/// The settings of a test instance on `port`, with `overrides`.
fn app_settings(db: &TestDb, overrides: &[(&str, &str)], port: u16) -> landpay::config::Settings {
    let port_s = port.to_string();
    let base = format!("http://127.0.0.1:{port}");
    let mut all: Vec<(&str, &str)> = vec![
        ("LANDPAY__SERVER__PORT", port_s.as_str()),
        ("LANDPAY__SERVER__PUBLIC_BASE_URL", base.as_str()),
    ];
    all.extend_from_slice(overrides);
    // `LANDPAY_ENV` among the overrides labels the environment (its file is not loaded).
    let label = all
        .iter()
        .find(|(k, _)| *k == "LANDPAY_ENV")
        .map(|(_, v)| *v);
    all.retain(|(k, _)| *k != "LANDPAY_ENV");
    let mut settings = settings_for(db, &all);
    if let Some(env) = label {
        settings.environment = env.to_owned();
    }
    settings
}

impl TestApp {
    /// One pass of the delivery worker at the service clock's now; returns how many deliveries
    /// it tried. Every try has reached its receiver and is recorded when this returns.
    pub async fn deliver(&self) -> usize {
        landpay::webhooks::delivery::run_once(&self.state)
            .await
            .unwrap()
    }

    /// Delivery passes until one finds nothing due; returns how many tries they made.
    pub async fn deliver_all(&self) -> usize {
        let mut total = 0;
        for _ in 0..100 {
            match self.deliver().await {
                0 => return total,
                n => total += n,
            }
        }
        panic!("deliveries were still due after 100 passes");
    }

    /// Moves the service clock past the wait before retry `n` (1 = the wait after the first
    /// try, jitter included), then delivers what came due; returns how many tries were made.
    pub async fn retry(&self, n: usize) -> usize {
        let wait = self.state.settings.webhooks.retry_schedule[n - 1].0;
        self.advance(wait.mul_f64(1.1) + Duration::from_millis(1));
        self.deliver_all().await
    }

    /// Delivers, then moves the clock past the longest retry wait and delivers again, until a
    /// round tries nothing: every delivery ends delivered or dead. Returns how many tries were
    /// made.
    pub async fn deliver_with_retries(&self) -> usize {
        let schedule = &self.state.settings.webhooks.retry_schedule;
        let longest = schedule.iter().map(|d| d.0).max().unwrap_or_default();
        let mut total = self.deliver_all().await;
        for _ in 0..100 {
            self.advance(longest.mul_f64(1.1) + Duration::from_millis(1));
            match self.deliver_all().await {
                0 => return total,
                n => total += n,
            }
        }
        panic!("deliveries were still due after 100 rounds of retries");
    }

    /// Moves the service clock forward.
    pub fn advance(&self, by: Duration) {
        self.state
            .clock
            .advance(chrono::Duration::from_std(by).unwrap());
    }

    /// Subscribes a receiver URL to `events` (admin API); returns the endpoint with its secret.
    pub async fn subscribe(&self, url: &str, events: &[&str]) -> Value {
        let res = self
            .post_json(
                "/v1/webhook-endpoints",
                &self.admin(),
                &serde_json::json!({"url": url, "events": events}),
            )
            .await;
        expect_json(res, 201).await
    }

    /// Starts a VNPay attempt and answers it on the sandbox page (`pay` or `decline`), as a payer
    /// would; the sandbox then calls the IPN and keeps the transaction for querydr and refunds.
    pub async fn pay_through_sandbox(&self, payment_id: &str, decision: &str) -> Value {
        let a = self.attempt(payment_id, "vnpay").await;
        let url = a["redirect_url"].as_str().unwrap();
        let q = url.split_once('?').unwrap().1;
        let res = self
            .client
            .post(format!("{}/sandbox/vnpay/paymentv2/complete", self.address))
            .form(&[("q", q), ("decision", decision)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 303);
        a
    }

    /// Pays a fresh payment through a signed IPN; returns the payment id.
    pub async fn paid_payment(&self, amount: i64) -> String {
        let p = self.payment(amount).await;
        let id = p["id"].as_str().unwrap().to_owned();
        let a = self.attempt(&id, "vnpay").await;
        let answer = self
            .ipn(
                &self.ipn_params(a["reference"].as_str().unwrap(), amount, "00"),
                &self.vnpay_secret(),
            )
            .await;
        assert_eq!(answer["RspCode"], "00");
        id
    }

    /// The first page of an endpoint's deliveries, newest first, each with its tries.
    pub async fn deliveries_of(&self, endpoint: &Value) -> Vec<Value> {
        let id = endpoint["id"].as_str().unwrap();
        let page = expect_json(
            self.get(
                &format!("/v1/webhook-endpoints/{id}/deliveries"),
                &self.admin(),
            )
            .await,
            200,
        )
        .await;
        page["data"].as_array().unwrap().clone()
    }

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

/// A webhook receiver on loopback that records every request and answers from a script of
/// statuses (the last one repeats; 0 never answers).
pub struct Receiver {
    pub url: String,
    pub received: Arc<std::sync::Mutex<Vec<Received>>>,
    script: Arc<std::sync::Mutex<Vec<u16>>>,
    _server: tokio::task::JoinHandle<()>,
}

#[derive(Clone, Debug)]
pub struct Received {
    pub event_id: String,
    pub event_type: String,
    pub signature: String,
    pub body: String,
}

impl Receiver {
    pub async fn start(statuses: &[u16]) -> Self {
        use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
        let received: Arc<std::sync::Mutex<Vec<Received>>> = Arc::default();
        let script = Arc::new(std::sync::Mutex::new(statuses.to_vec()));
        let (r, s) = (received.clone(), script.clone());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = HttpServer::new(move || {
            let (r, s) = (r.clone(), s.clone());
            App::new().default_service(web::to(move |req: HttpRequest, body: web::Bytes| {
                let (r, s) = (r.clone(), s.clone());
                async move {
                    let h = |n: &str| {
                        req.headers()
                            .get(n)
                            .map(|v| v.to_str().unwrap_or_default().to_owned())
                            .unwrap_or_default()
                    };
                    r.lock().unwrap().push(Received {
                        event_id: h("landpay-event-id"),
                        event_type: h("landpay-event-type"),
                        signature: h("landpay-signature"),
                        body: String::from_utf8_lossy(&body).into_owned(),
                    });
                    let status = {
                        let mut s = s.lock().unwrap();
                        if s.len() > 1 {
                            s.remove(0)
                        } else {
                            s.first().copied().unwrap_or(200)
                        }
                    };
                    if status == 0 {
                        // Never answers: the try stays in flight.
                        std::future::pending::<()>().await;
                    }
                    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap())
                        .finish()
                }
            }))
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        let handle = tokio::spawn(async move {
            let _ = server.await;
        });
        Self {
            url: format!("http://127.0.0.1:{port}/hook"),
            received,
            script,
            _server: handle,
        }
    }

    pub fn all(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    pub fn set_script(&self, statuses: &[u16]) {
        *self.script.lock().unwrap() = statuses.to_vec();
    }
}

/// Polls `check` until it holds, for at most a second: for what another task or process does
/// (a background worker, a receiver) and nothing that needs time to pass.
pub async fn within_a_second<F: FnMut() -> bool>(mut check: F) -> bool {
    let deadline = std::time::Instant::now() + Duration::from_secs(1);
    while std::time::Instant::now() < deadline {
        if check() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    check()
}

/// A notice body with one line of `amount` due on `due_date`.
pub fn notice_body(notice_no: &str, agency: &str, amount: i64, due_date: &str) -> Value {
    serde_json::json!({
        "notice_no": notice_no,
        "issued_at": "2026-01-05T09:00:00+07:00",
        "agency_code": agency,
        "dossier_code": format!("000.00.12.H26-{notice_no}"),
        "taxpayer": {"name": "Nguyễn Văn A", "tax_code": "8000000001", "id_no": "001080000001"},
        "treasury": {"shkb": "0012", "account": "7111", "tax_office_code": "1054634", "admin_unit_code": "00001"},
        "lines": [{"chapter": "757", "sub_item": "2801", "name": "Lệ phí trước bạ nhà đất", "amount": amount,
                   "due_date": due_date, "interest_sub_item": "4944"}]
    })
}

impl TestApp {
    /// Registers a notice (portal token) and returns it.
    pub async fn notice(&self, notice_no: &str, amount: i64, due_date: &str) -> Value {
        let res = self
            .post_json(
                "/v1/notices",
                &self.portal(),
                &notice_body(notice_no, "HN-VPDKDD", amount, due_date),
            )
            .await;
        expect_json(res, 201).await
    }

    /// A pending payment for one fresh notice of `amount` due far in the future.
    pub async fn payment(&self, amount: i64) -> Value {
        let no = format!("N-{}", ulid::Ulid::new());
        let notice = self.notice(&no, amount, "2099-12-31").await;
        self.payment_for(&serde_json::json!([{"notice_id": notice["id"]}]))
            .await
    }

    pub async fn payment_for(&self, items: &Value) -> Value {
        let body = serde_json::json!({
            "agency_code": "HN-VPDKDD", "dossier_code": "000.00.12.H26-261120-0001", "items": items,
            "payer": {"name": "Nguyễn Văn A"}, "return_url": "https://dichvucong.example.gov.vn/hoso/1", "locale": "vi"
        });
        let key = ulid::Ulid::new().to_string();
        expect_json(
            self.post_idem("/v1/payments", &self.portal(), &key, &body)
                .await,
            201,
        )
        .await
    }

    /// Starts an attempt at `gateway` and returns it.
    pub async fn attempt(&self, payment_id: &str, gateway: &str) -> Value {
        let res = self
            .post_json(
                &format!("/v1/payments/{payment_id}/attempts"),
                &self.portal(),
                &serde_json::json!({"gateway": gateway, "client_ip": "203.0.113.10"}),
            )
            .await;
        expect_json(res, 201).await
    }

    pub async fn payment_status(&self, payment_id: &str) -> Value {
        expect_json(
            self.get(&format!("/v1/payments/{payment_id}"), &self.admin())
                .await,
            200,
        )
        .await
    }

    /// Sends a VNPay IPN with these parameters, signed with `secret`; returns the answer body.
    pub async fn ipn(&self, params: &[(&str, String)], secret: &str) -> Value {
        let query = vnpay_sign(params, secret);
        let res = self
            .request(Method::GET, &format!("/callbacks/vnpay/ipn?{query}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 200);
        res.json().await.unwrap()
    }

    pub fn vnpay_secret(&self) -> String {
        self.state
            .settings
            .gateways
            .vnpay
            .hash_secret
            .expose()
            .to_owned()
    }

    /// The parameters of an IPN for `txn_ref`: paid (`00`) or another response code.
    pub fn ipn_params(
        &self,
        txn_ref: &str,
        amount_vnd: i64,
        response_code: &str,
    ) -> Vec<(&'static str, String)> {
        let paid = response_code == "00";
        vec![
            ("vnp_Amount", (amount_vnd * 100).to_string()),
            ("vnp_BankCode", "NCB".into()),
            ("vnp_CardType", "ATM".into()),
            ("vnp_OrderInfo", "Thanh toan ho so".into()),
            ("vnp_PayDate", "20261120101500".into()),
            ("vnp_ResponseCode", response_code.into()),
            (
                "vnp_TmnCode",
                self.state.settings.gateways.vnpay.tmn_code.clone(),
            ),
            (
                "vnp_TransactionNo",
                if paid { "14226112".into() } else { "0".into() },
            ),
            (
                "vnp_TransactionStatus",
                if paid { "00".into() } else { "02".into() },
            ),
            ("vnp_TxnRef", txn_ref.into()),
        ]
    }
}

/// VNPay's signing, written independently of the service's: sort by key, PHP-style urlencode
/// (space as '+'), join with '&', HMAC-SHA512 hex; returns the full query string.
pub fn vnpay_sign(params: &[(&str, String)], secret: &str) -> String {
    use hmac::{Hmac, Mac};
    let mut sorted: Vec<&(&str, String)> = params.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let data = sorted
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&");
    let mut mac = Hmac::<sha2::Sha512>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(data.as_bytes());
    format!(
        "{data}&vnp_SecureHash={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

/// Debian's Chromium, which the browser tests drive through playwright-core.
pub const CHROMIUM: &str = "/usr/bin/chromium";

/// The project folder (where `tests/browser/` lives).
pub fn project_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Whether a browser test can run here. When it cannot, it says why and the test skips, unless
/// `LANDPAY_REQUIRE_ALL` is set (CI), where that is a failure.
pub fn browser_available(test: &str) -> bool {
    let root = project_root();
    let missing = if !std::path::Path::new(CHROMIUM).exists() {
        Some(format!("{CHROMIUM} is missing (apt-get install chromium)"))
    } else if !std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        Some("node is not on PATH".to_owned())
    } else if !root
        .join("tests/browser/node_modules/playwright-core")
        .is_dir()
    {
        Some(
            "tests/browser/node_modules/playwright-core is missing (npm ci --prefix tests/browser)"
                .to_owned(),
        )
    } else {
        None
    };
    match missing {
        None => true,
        Some(why) if std::env::var_os("LANDPAY_REQUIRE_ALL").is_some() => {
            panic!("{test} cannot run: {why} (LANDPAY_REQUIRE_ALL is set, so it may not skip)")
        }
        Some(why) => {
            eprintln!("skipping {test}: {why}");
            false
        }
    }
}

/// Runs a browser script of `tests/browser/` with `args`, plus the screenshot folder and Chromium,
/// off the test's runtime (the service under test runs on it), and asserts that it passed.
pub async fn run_browser_script(script: &str, mut args: Vec<String>) {
    let root = project_root();
    args.insert(0, format!("tests/browser/{script}"));
    args.extend([
        "--screenshots".to_owned(),
        root.join("tests/browser/screenshots").display().to_string(),
        "--chromium".to_owned(),
        CHROMIUM.to_owned(),
    ]);
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("node")
            .current_dir(root)
            .args(&args)
            .output()
    })
    .await
    .unwrap()
    .expect("node starts");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    eprintln!("{stderr}");
    assert!(
        out.status.success(),
        "{script} failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
}

/// A port taken between the probe and the build is recognised, so that another is tried.
#[tokio::test]
async fn a_port_taken_before_the_build_is_told_apart_from_other_failures() {
    let db = TestDb::new().await;
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let Err(e) =
        Application::build_with_clock(app_settings(&db, &[], port), Arc::new(Clock::default()))
            .await
    else {
        panic!("a port in use cannot be bound");
    };
    assert!(address_in_use(&e), "{e:?}");
    let other = anyhow::anyhow!("the database is unreachable");
    assert!(!address_in_use(&other));
}
