//! PostgreSQL: a new order whose batch statement reaches the database but whose answer never
//! comes back (the connection drops after the statement is sent). The order is then written
//! alone: if the batch had committed it, that copy fails on the order's unique keys and the
//! order stored under its id is the batch's. Either way the client is told the order was
//! created, once, and a retry with the same idempotency key replays that answer: never two
//! orders, never a failure for an order that exists.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::helpers::{expect_json, spawn_app_on, TestDb};

/// A TCP relay between the service and PostgreSQL that cuts, once armed ([`Cut`]), the
/// connection that next runs the statement of new orders. That statement is known by its text
/// when it is prepared on a connection (a `Parse` message, which names it), and its runs by a
/// `Bind` message naming it.
struct Relay {
    url: String,
    /// The [`Cut`] armed, as a number (0: none).
    armed: Arc<AtomicU8>,
    cuts: Arc<AtomicUsize>,
}

/// Where the next run of the statement of new orders is cut.
#[derive(Clone, Copy)]
enum Cut {
    /// The run is sent to the server, which runs and commits it; its answer is dropped.
    AfterRun,
    /// The run (or the statement's preparation) is dropped: it never runs.
    BeforeRun,
}

impl Cut {
    fn code(self) -> u8 {
        match self {
            Self::AfterRun => 1,
            Self::BeforeRun => 2,
        }
    }
}

/// The statement of new orders.
const NEW_ORDERS: &[u8] = b"insert into payment (";

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The name a `Parse` message in `chunk` gives the statement of new orders, as a `Bind`
/// message carries it (`\0name\0`, after the portal's empty name).
fn prepared_name(chunk: &[u8]) -> Option<Vec<u8>> {
    let text = find(chunk, NEW_ORDERS)?;
    let name_end = chunk[..text].iter().rposition(|b| *b == 0)?;
    let name_start = chunk[..name_end]
        .windows(7)
        .rposition(|w| w == b"sqlx_s_")?;
    let mut needle = vec![0];
    needle.extend_from_slice(&chunk[name_start..=name_end]);
    Some(needle)
}

impl Relay {
    async fn start(db_url: &str) -> Self {
        // postgres://user@host:port/db: the relay takes the host and port's place.
        let authority = db_url.split_once("//").unwrap().1;
        let authority = authority.split('/').next().unwrap();
        let upstream = authority.rsplit('@').next().unwrap().to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let here = format!("127.0.0.1:{}", listener.local_addr().unwrap().port());
        let url = db_url.replacen(&upstream, &here, 1);
        let (armed, cuts) = (Arc::new(AtomicU8::new(0)), Arc::new(AtomicUsize::new(0)));
        let (a, c) = (Arc::clone(&armed), Arc::clone(&cuts));
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = TcpStream::connect(&upstream).await else {
                    return;
                };
                tokio::spawn(relay(client, server, Arc::clone(&a), Arc::clone(&c)));
            }
        });
        Self { url, armed, cuts }
    }

    fn arm(&self, cut: Cut) {
        self.armed.store(cut.code(), SeqCst);
    }
}

async fn relay(client: TcpStream, server: TcpStream, armed: Arc<AtomicU8>, cuts: Arc<AtomicUsize>) {
    let (mut from_client, mut to_client) = client.into_split();
    let (mut from_server, mut to_server) = server.into_split();
    let cut = Arc::new(AtomicBool::new(false));
    let back = Arc::clone(&cut);
    tokio::spawn(async move {
        let mut buf = vec![0_u8; 64 * 1024];
        while let Ok(n @ 1..) = from_server.read(&mut buf).await {
            if back.load(SeqCst) || to_client.write_all(&buf[..n]).await.is_err() {
                break; // the answer after the cut is dropped, and the client's side closed
            }
        }
    });
    let mut bind: Option<Vec<u8>> = None;
    let mut buf = vec![0_u8; 64 * 1024];
    while let Ok(n @ 1..) = from_client.read(&mut buf).await {
        let chunk = &buf[..n];
        let preparing = prepared_name(chunk);
        let running = bind.as_ref().is_some_and(|b| find(chunk, b).is_some());
        bind = preparing.clone().or(bind);
        let take = |cut: Cut| {
            armed
                .compare_exchange(cut.code(), 0, SeqCst, SeqCst)
                .is_ok()
        };
        let before = (preparing.is_some() || running) && take(Cut::BeforeRun);
        let after = running && preparing.is_none() && take(Cut::AfterRun);
        if before || after {
            cut.store(true, SeqCst);
            cuts.fetch_add(1, SeqCst);
        }
        if before || to_server.write_all(chunk).await.is_err() || after {
            break;
        }
    }
}

fn order_body(notice: &Value, dossier: &str) -> Value {
    json!({"agency_code": "HN-VPDKDD", "dossier_code": dossier,
           "items": [{"notice_id": notice["id"]}], "payer": {"name": "A"}})
}

#[tokio::test]
async fn a_new_order_whose_answer_is_lost_is_written_once_under_its_key() {
    let check = "a_new_order_whose_answer_is_lost_is_written_once_under_its_key";
    let Some(db) = TestDb::postgres_for(check).await else {
        return;
    };
    let relay = Relay::start(&db.url).await;
    let app = spawn_app_on(
        Arc::new(db),
        &[("LANDPAY__DATABASE__URL", relay.url.as_str())],
    )
    .await;
    let token = app.portal();
    // One order first, so a connection of the batches has the statement prepared.
    app.payment(1_000_000).await;

    // Cut after the run and before it, twice each.
    for round in 0..4 {
        let notice = app
            .notice(&format!("N-LOST-{round}"), 2_000_000, "2099-12-31")
            .await;
        let dossier = format!("D-LOST-{round}");
        let body = order_body(&notice, &dossier);
        let key = format!("lost-{round}");
        relay.arm([Cut::AfterRun, Cut::BeforeRun][round % 2]);
        let lost = app.post_idem("/v1/payments", &token, &key, &body).await;
        assert_eq!(relay.cuts.load(SeqCst), round + 1, "the connection was cut");
        let lost = expect_json(lost, 201).await;
        let id = lost["id"].as_str().unwrap().to_owned();

        // The retry with the key replays that answer.
        let again = app.post_idem("/v1/payments", &token, &key, &body).await;
        assert_eq!(again.headers()["idempotent-replayed"], "true");
        assert_eq!(expect_json(again, 201).await, lost);
        let page = expect_json(
            app.get(&format!("/v1/payments?dossier_code={dossier}"), &token)
                .await,
            200,
        )
        .await;
        let orders = page["data"].as_array().unwrap();
        assert_eq!(orders.len(), 1, "one order: {orders:?}");
        assert_eq!(orders[0]["id"], lost["id"]);
        let history = app.store().payment_history(&id).await.unwrap();
        let created = history.iter().filter(|h| h["type"] == "payment.created");
        assert_eq!(created.count(), 1, "{history:#?}");
    }
}
