//! Bare actix-web endpoints, the baselines of `bench/run.sh` for `POST /v1/quotes`: a
//! "Hello, World!" and a JSON echo.
//!
//! Built with the service's own actix-web: `cargo build --release --example bare_plaintext`.
//! Listens on 127.0.0.1 at the port given as the first argument, or `BARE_PORT`, or 8099.
//! `POST /json-echo` parses its JSON body (serde_json, as the service does) and writes it back;
//! `POST /hook` is the benchmark's webhook receiver: it reads the delivery's body, as any
//! receiver must to check its signature, and answers `200 text/plain "ok"`; every other path
//! and method answers `200 text/plain "Hello, World!"`.
//!
//! The receiver reads what it is sent: actix-web closes a connection whose request body was
//! left unread, and a receiver that never reads would make every delivery pay for a new
//! connection, which a real receiver does not.

use actix_web::{web, App, HttpResponse, HttpServer};

async fn hello() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain")
        .body("Hello, World!")
}

async fn hook(body: web::Bytes) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain")
        .body(if body.is_empty() { "empty" } else { "ok" })
}

async fn json_echo(body: web::Json<serde_json::Value>) -> HttpResponse {
    HttpResponse::Ok().json(body.into_inner())
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let port = std::env::args()
        .nth(1)
        .or_else(|| std::env::var("BARE_PORT").ok())
        .unwrap_or_else(|| "8099".to_owned());
    let port: u16 = port.parse().map_err(|e| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("port {port:?}: {e}"),
        )
    })?;
    HttpServer::new(|| {
        App::new()
            .route("/json-echo", web::post().to(json_echo))
            .route("/hook", web::post().to(hook))
            .default_service(web::to(hello))
    })
    .bind(("127.0.0.1", port))?
    .run()
    .await
}
