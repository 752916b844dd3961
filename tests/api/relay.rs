//! A TCP relay between the service and PostgreSQL that cuts one connection at a chosen
//! message, once armed: what the database runs, and the answer the service never gets.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::helpers::{spawn_app_driven_on, spawn_app_on, TestApp, TestDb};

/// The relay. A connection is known by a statement whose text contains the relay's marker:
/// its text passes when it is prepared on the connection (a `Parse` message, which names it),
/// and its runs are `Bind` messages naming it.
pub struct Relay {
    /// The database URL through the relay.
    pub url: String,
    /// The [`Cut`] armed, as a number (0: none).
    armed: Arc<AtomicU8>,
    /// How many connections were cut.
    pub cuts: Arc<AtomicUsize>,
    silence: Arc<Silence>,
    /// How many pings the clients sent: a `Sync` message on its own (a connection's test,
    /// which runs nothing), the whole of what a client wrote at once.
    pings: Arc<AtomicUsize>,
}

/// A database that stops answering without closing anything (its host gone): the connections
/// open when it fell silent pass nothing ever again, and new ones are accepted and never
/// answered until it answers again.
#[derive(Default)]
struct Silence {
    on: AtomicBool,
    /// Connections numbered below this one are dead.
    dead_below: AtomicUsize,
    /// Connections opened so far.
    opened: AtomicUsize,
}

impl Silence {
    fn dead(&self, connection: usize) -> bool {
        connection < self.dead_below.load(SeqCst)
    }
}

/// Where the next cut falls, on a connection that has prepared the marked statement.
#[derive(Clone, Copy)]
pub enum Cut {
    /// A run of the marked statement is sent to the server, which runs it (and commits it,
    /// when it is its own transaction); its answer is dropped.
    AfterRun,
    /// A run of the marked statement (or its preparation) is dropped: it never runs.
    BeforeRun,
    /// A `COMMIT` is sent to the server, which commits; its answer is dropped.
    AfterCommit,
    /// Until disarmed, on every connection, marked or not: each message is dropped and its
    /// connection closed, and a new connection is closed at once (the database is down).
    Everything,
}

impl Cut {
    fn code(self) -> u8 {
        match self {
            Self::AfterRun => 1,
            Self::BeforeRun => 2,
            Self::AfterCommit => 3,
            Self::Everything => 4,
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The name a `Parse` message in `chunk` gives the statement containing `marker`, as a `Bind`
/// message carries it (`\0name\0`, after the portal's empty name).
fn prepared_name(chunk: &[u8], marker: &[u8]) -> Option<Vec<u8>> {
    let text = find(chunk, marker)?;
    let name_end = chunk[..text].iter().rposition(|b| *b == 0)?;
    let name_start = chunk[..name_end]
        .windows(7)
        .rposition(|w| w == b"sqlx_s_")?;
    let mut needle = vec![0];
    needle.extend_from_slice(&chunk[name_start..=name_end]);
    Some(needle)
}

/// A fresh PostgreSQL database and an instance of the service reaching it through a relay
/// marking `marker` (its workers running, or `driven`: the test runs them); `None`, with a
/// message, when PostgreSQL does not answer ([`TestDb::postgres_for`]).
pub async fn app_through_relay(
    check: &str,
    marker: &'static [u8],
    driven: bool,
) -> Option<(Relay, TestApp)> {
    app_through_relay_with(check, marker, driven, &[]).await
}

/// [`app_through_relay`] with further settings.
pub async fn app_through_relay_with(
    check: &str,
    marker: &'static [u8],
    driven: bool,
    settings: &[(&str, &str)],
) -> Option<(Relay, TestApp)> {
    let db = Arc::new(TestDb::postgres_for(check).await?);
    let relay = Relay::start(&db.url, marker).await;
    let mut all = vec![("LANDPAY__DATABASE__URL", relay.url.as_str())];
    all.extend_from_slice(settings);
    let app = if driven {
        spawn_app_driven_on(db, &all).await
    } else {
        spawn_app_on(db, &all).await
    };
    Some((relay, app))
}

impl Relay {
    /// Starts a relay to the server of `db_url`, marking connections by `marker`.
    pub async fn start(db_url: &str, marker: &'static [u8]) -> Self {
        // postgres://user@host:port/db: the relay takes the host and port's place.
        let authority = db_url.split_once("//").unwrap().1;
        let authority = authority.split('/').next().unwrap();
        let upstream = authority.rsplit('@').next().unwrap().to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let here = format!("127.0.0.1:{}", listener.local_addr().unwrap().port());
        let url = db_url.replacen(&upstream, &here, 1);
        let (armed, cuts) = (Arc::new(AtomicU8::new(0)), Arc::new(AtomicUsize::new(0)));
        let silence = Arc::new(Silence::default());
        let pings = Arc::new(AtomicUsize::new(0));
        let (a, c, s) = (Arc::clone(&armed), Arc::clone(&cuts), Arc::clone(&silence));
        let p = Arc::clone(&pings);
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if a.load(SeqCst) == Cut::Everything.code() {
                    drop(client);
                    continue;
                }
                let connection = s.opened.fetch_add(1, SeqCst);
                if s.on.load(SeqCst) {
                    // Taken, read and never answered.
                    tokio::spawn(async move {
                        let mut buf = vec![0_u8; 16 * 1024];
                        while let Ok(1..) = client.read(&mut buf).await {}
                    });
                    continue;
                }
                let Ok(server) = TcpStream::connect(&upstream).await else {
                    return;
                };
                let (a, c, p) = (Arc::clone(&a), Arc::clone(&c), Arc::clone(&p));
                let quiet = (Arc::clone(&s), connection);
                tokio::spawn(relay(client, server, marker, (a, c, p), quiet));
            }
        });
        Self {
            url,
            armed,
            cuts,
            silence,
            pings,
        }
    }

    /// The pings sent so far, on every connection.
    pub fn pings(&self) -> usize {
        self.pings.load(SeqCst)
    }

    /// The database stops answering: nothing passes on the connections open now, ever again,
    /// and new connections are taken and never answered, until [`Relay::answer_again`].
    pub fn fall_silent(&self) {
        let s = &self.silence;
        s.on.store(true, SeqCst);
        s.dead_below.store(s.opened.load(SeqCst), SeqCst);
    }

    /// New connections reach the database again (the connections open while it was silent
    /// stay dead).
    pub fn answer_again(&self) {
        self.silence.on.store(false, SeqCst);
    }

    pub fn arm(&self, cut: Cut) {
        self.armed.store(cut.code(), SeqCst);
    }

    pub fn disarm(&self) {
        self.armed.store(0, SeqCst);
    }
}

async fn relay(
    client: TcpStream,
    server: TcpStream,
    marker: &[u8],
    (armed, cuts, pings): (Arc<AtomicU8>, Arc<AtomicUsize>, Arc<AtomicUsize>),
    (silence, connection): (Arc<Silence>, usize),
) {
    let (mut from_client, mut to_client) = client.into_split();
    let (mut from_server, mut to_server) = server.into_split();
    let cut = Arc::new(AtomicBool::new(false));
    let back = Arc::clone(&cut);
    let quiet = Arc::clone(&silence);
    tokio::spawn(async move {
        let mut buf = vec![0_u8; 64 * 1024];
        while let Ok(n @ 1..) = from_server.read(&mut buf).await {
            if quiet.dead(connection) {
                continue;
            }
            if back.load(SeqCst) || to_client.write_all(&buf[..n]).await.is_err() {
                break; // the answer after the cut is dropped, and the client's side closed
            }
        }
    });
    let mut bind: Option<Vec<u8>> = None;
    let mut buf = vec![0_u8; 64 * 1024];
    while let Ok(n @ 1..) = from_client.read(&mut buf).await {
        if silence.dead(connection) {
            continue;
        }
        let chunk = &buf[..n];
        if chunk == b"S\0\0\0\x04" {
            pings.fetch_add(1, SeqCst);
        }
        let preparing = prepared_name(chunk, marker);
        let running = bind.as_ref().is_some_and(|b| find(chunk, b).is_some());
        let committing = bind.is_some() && find(chunk, b"COMMIT\0").is_some();
        bind = preparing.clone().or(bind);
        let take = |cut: Cut| {
            armed
                .compare_exchange(cut.code(), 0, SeqCst, SeqCst)
                .is_ok()
        };
        let down = armed.load(SeqCst) == Cut::Everything.code();
        let before = down || ((preparing.is_some() || running) && take(Cut::BeforeRun));
        let after = (running && preparing.is_none() && take(Cut::AfterRun))
            || (committing && take(Cut::AfterCommit));
        if before || after {
            cut.store(true, SeqCst);
            cuts.fetch_add(1, SeqCst);
        }
        if before || to_server.write_all(chunk).await.is_err() || after {
            break;
        }
    }
}
