//! The binary's `serve` started as a child process on a free port, for the tests that run the
//! real executable (signals, a hard kill, the example configuration, telemetry export).
//!
//! A free port is found by binding port 0 and letting it go; the child binds it a moment later,
//! after its migrations. Another process may take the port in between (the local port of an
//! outgoing connection, another test's instance): the child then exits saying the address is in
//! use, and [`serve`] starts it again on another free port. A port taken by a listener that
//! itself answers `GET /readyz` with 200 is not told apart from the child's own.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Seek};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// How many times a child whose port was taken is started again on another.
const RETRIES: u32 = 5;

/// A port the kernel gives for port 0, released again.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `command` set to serve on `port` of 127.0.0.1, with that address as its public base URL, and
/// its standard output discarded.
pub fn on_port(command: &mut Command, port: u16) -> &mut Command {
    command
        .arg("serve")
        .env("LANDPAY__SERVER__HOST", "127.0.0.1")
        .env("LANDPAY__SERVER__PORT", port.to_string())
        .env(
            "LANDPAY__SERVER__PUBLIC_BASE_URL",
            format!("http://127.0.0.1:{port}"),
        )
        .stdout(std::process::Stdio::null())
}

/// Why a child did not become ready.
#[derive(Debug)]
enum NotReady {
    /// It exited: its status and standard error.
    Exited(String),
    /// It was still running, not ready, when the wait ran out (and was killed).
    Late,
}

impl NotReady {
    fn port_taken(&self) -> bool {
        matches!(self, Self::Exited(why) if why.contains("Address already in use"))
    }

    fn explain(self, within: Duration) -> String {
        match self {
            Self::Exited(why) => why,
            Self::Late => format!("not ready within {} s", within.as_secs()),
        }
    }
}

/// Starts `command(port)` on a free port and waits up to `within` for its `GET /readyz` to
/// answer 200. Returns the running child and its port, or why it did not become ready: its exit
/// status and standard error, or the wait. The child's standard error goes to a file of its own
/// (read when it exits); `command` sets the rest, standard output included.
pub async fn serve(
    command: impl Fn(u16) -> Command,
    within: Duration,
) -> Result<(Child, u16), String> {
    serve_from(command, within, free_port()).await
}

/// [`serve`], trying `first` before any free port.
async fn serve_from(
    command: impl Fn(u16) -> Command,
    within: Duration,
    first: u16,
) -> Result<(Child, u16), String> {
    // Each try is bounded: a port held by a listener that never answers must not hold the wait.
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    let mut port = first;
    let mut tries = 0;
    loop {
        match start_once(command(port), port, within, &client).await {
            Ok(child) => return Ok((child, port)),
            Err(e) if tries < RETRIES && e.port_taken() => {
                tries += 1;
                port = free_port();
            }
            Err(e) => return Err(e.explain(within)),
        }
    }
}

async fn start_once(
    mut command: Command,
    port: u16,
    within: Duration,
    client: &reqwest::Client,
) -> Result<Child, NotReady> {
    let mut stderr = tempfile::tempfile().unwrap();
    let mut child = command
        .stderr(stderr.try_clone().unwrap())
        .spawn()
        .expect("the landpay binary starts");
    let started = Instant::now();
    while started.elapsed() < within {
        if let Some(status) = child.try_wait().unwrap() {
            let mut text = String::new();
            stderr.rewind().unwrap();
            stderr.read_to_string(&mut text).unwrap();
            return Err(NotReady::Exited(format!("exited {status}: {text}")));
        }
        let ready = client
            .get(format!("http://127.0.0.1:{port}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        if ready {
            return Ok(child);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    Err(NotReady::Late)
}

/// A child started on a port that another listener holds exits saying so, and is started
/// again on another port; a child that fails for another reason is not tried again.
#[tokio::test]
async fn a_child_whose_port_was_taken_is_started_on_another() {
    let db = crate::helpers::TestDb::new().await;
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let held = taken.local_addr().unwrap().port();
    let starts = std::sync::atomic::AtomicU32::new(0);
    let command = |port: u16| {
        starts.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut c = Command::new(env!("CARGO_BIN_EXE_landpay"));
        on_port(&mut c, port)
            .env("LANDPAY_CONFIG_DIR", crate::helpers::config_dir())
            .env("LANDPAY_ENV", "test")
            .env("LANDPAY__DATABASE__URL", &db.url);
        c
    };
    let (mut child, port) = serve_from(&command, Duration::from_secs(30), held)
        .await
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert_ne!(port, held);
    assert_eq!(starts.load(std::sync::atomic::Ordering::Relaxed), 2);

    // A configuration the binary refuses: one start, and its reason.
    let refused = |port: u16| {
        let mut c = command(port);
        c.env("LANDPAY__DATABASE__MAX_CONNECTIONS", "0");
        c
    };
    let err = serve_from(refused, Duration::from_secs(30), free_port())
        .await
        .unwrap_err();
    assert!(err.contains("database.max_connections"), "{err}");
    assert_eq!(starts.load(std::sync::atomic::Ordering::Relaxed), 3);
    drop(taken);
}
