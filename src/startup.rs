//! Builds the application: migrations before binding, the route table, workers, shutdown.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::http::StatusCode;
use actix_web::middleware::{from_fn, ErrorHandlers};
use actix_web::{web, App, HttpServer};
use anyhow::Context;
use tokio::sync::watch;

use utoipa_swagger_ui::SwaggerUi;

use crate::clock::Clock;
use crate::config::Settings;
use crate::http::{
    callback_log, callbacks, docs, error_docs, errors, finance, notices, obligations, ops, pages,
    pay_page, payments, receipt, reconciliation, result_page, sandbox, sandbox_rails, verify,
    webhooks,
};
use crate::storage::Store;

pub use crate::http::state::AppState;

/// A built service: bound, migrated, not yet running.
pub struct Application {
    port: u16,
    server: Server,
    state: web::Data<AppState>,
}

impl Application {
    /// Connects, migrates, then binds: `/readyz` is 200 whenever `/healthz` answers.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        Self::build_with_clock(settings, Arc::new(Clock::default())).await
    }

    pub async fn build_with_clock(settings: Settings, clock: Arc<Clock>) -> anyhow::Result<Self> {
        let store = Store::connect(&settings.database).await?;
        store.migrate().await?;
        let settings = Arc::new(settings);
        let services = crate::app::Services::new(settings.clone(), store, clock)?;
        let state = web::Data::new(AppState::new(services)?);
        let listener = TcpListener::bind((settings.server.host.as_str(), settings.server.port))
            .with_context(|| {
                format!("binding {}:{}", settings.server.host, settings.server.port)
            })?;
        let port = listener.local_addr()?.port();
        let server_state = state.clone();
        let sandbox_enabled = settings.gateways.sandbox.enabled;
        let max_body = settings.server.max_body_bytes;
        let server = HttpServer::new(move || {
            App::new()
                .wrap(
                    ErrorHandlers::new()
                        .handler(StatusCode::NOT_FOUND, errors::problem_for_framework_error)
                        .handler(
                            StatusCode::METHOD_NOT_ALLOWED,
                            errors::problem_for_framework_error,
                        )
                        .handler(
                            StatusCode::PAYLOAD_TOO_LARGE,
                            errors::problem_for_framework_error,
                        ),
                )
                .wrap(from_fn(crate::http::rate_limit::per_ip))
                .wrap(from_fn(crate::http::guard::guard))
                .wrap(from_fn(ops::observe))
                .app_data(server_state.clone())
                .app_data(web::PathConfig::default().error_handler(errors::path_error))
                .app_data(web::QueryConfig::default().error_handler(errors::query_error))
                .configure(routes)
                .configure(|cfg| {
                    if sandbox_enabled {
                        sandbox_routes(cfg, max_body);
                    }
                })
                .default_service(web::to(errors::not_found))
        })
        .listen(listener)?
        .shutdown_timeout(settings.server.shutdown_timeout.0.as_secs())
        .run();
        Ok(Self {
            port,
            server,
            state,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The shared state, for tests that drive workers by hand.
    pub fn state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    /// Serves until SIGTERM/SIGINT (actix stops accepting, drains in-flight requests), then stops
    /// the background workers and closes the pool.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.serve(true).await
    }

    /// Serves like [`Self::run_until_stopped`] but starts no background worker: the caller
    /// (a test) drives each worker's pass itself, on the state's clock.
    pub async fn run_without_workers(self) -> anyhow::Result<()> {
        self.serve(false).await
    }

    async fn serve(self, with_workers: bool) -> anyhow::Result<()> {
        let (stop_tx, stop_rx) = watch::channel(false);
        let workers = if with_workers {
            crate::workers::spawn_all(self.state.clone(), stop_rx)
        } else {
            Vec::new()
        };
        let result = self.server.await;
        let _ = stop_tx.send(true);
        for worker in workers {
            let _ = worker.await;
        }
        self.state.store.close().await;
        result.context("HTTP server")
    }
}

/// The whole route table.
fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/healthz").get(ops::healthz))
        .service(web::resource("/readyz").get(ops::readyz))
        .service(web::resource("/metrics").get(ops::metrics))
        .service(web::resource("/docs").get(docs::docs_redirect))
        .service(web::resource("/docs/errors").get(error_docs::errors_page))
        .service(web::resource("/docs/portal-guide").get(crate::http::guide::guide_page))
        .service(web::resource("/v1/quotes").post(obligations::quote))
        .service(web::resource("/v1/assessments").post(obligations::create_assessment))
        .service(web::resource("/v1/assessments/{id}").get(obligations::get_assessment))
        .service(web::resource("/v1/late-interest").post(obligations::late_interest))
        .service(
            web::resource("/v1/notices")
                .post(notices::create)
                .get(notices::list),
        )
        .service(web::resource("/v1/notices/{id}").get(notices::get))
        .service(
            web::resource("/v1/payments")
                .post(payments::create)
                .get(payments::list),
        )
        .service(web::resource("/v1/payments/{id}").get(payments::get))
        .service(web::resource("/v1/payments/{id}/cancel").post(payments::cancel))
        .service(web::resource("/v1/payments/{id}/pay-link").post(payments::pay_link))
        .service(web::resource("/v1/payments/{id}/attempts").post(payments::create_attempt))
        .service(web::resource("/v1/payments/{id}/events").get(payments::events))
        .service(web::resource("/v1/payments/{id}/refunds").post(payments::refund))
        .service(web::resource("/v1/payments/{id}/receipt").get(receipt::for_portal))
        .service(
            web::resource("/v1/payments/{id}/flags/{flag}/resolve").post(payments::resolve_flag),
        )
        .service(web::resource("/v1/flags").get(payments::flags))
        .service(web::resource("/v1/callbacks").get(callback_log::list))
        .service(web::resource("/v1/reconciliations").post(reconciliation::create))
        .service(web::resource("/v1/reconciliations/{id}").get(reconciliation::get))
        .service(web::resource("/v1/reconciliations/{id}/items").get(reconciliation::items))
        .service(web::resource("/v1/reports/collections").get(reconciliation::report))
        .service(
            web::resource("/v1/webhook-endpoints")
                .post(webhooks::create)
                .get(webhooks::list),
        )
        .service(
            web::resource("/v1/webhook-endpoints/{id}")
                .get(webhooks::get)
                .delete(webhooks::delete),
        )
        .service(web::resource("/v1/webhook-endpoints/{id}/rotate-secret").post(webhooks::rotate))
        .service(web::resource("/v1/webhook-endpoints/{id}/deliveries").get(webhooks::deliveries))
        .service(web::resource("/v1/events").get(webhooks::feed))
        .service(web::resource("/v1/events/{id}/redeliver").post(webhooks::redeliver))
        .service(web::resource("/callbacks/vnpay/ipn").get(callbacks::vnpay_ipn))
        .service(web::resource("/callbacks/vnpay/return").get(callbacks::vnpay_return))
        .service(web::resource("/callbacks/momo/ipn").post(callbacks::momo_ipn))
        .service(web::resource("/callbacks/momo/return").get(callbacks::momo_return))
        .service(web::resource("/callbacks/zalopay").post(callbacks::zalopay_callback))
        .service(web::resource("/callbacks/zalopay/return").get(callbacks::zalopay_return))
        .service(web::resource("/callbacks/dvcqg").post(callbacks::dvcqg_result))
        .service(web::resource("/callbacks/dvcqg/return").get(callbacks::dvcqg_return))
        .service(web::resource("/callbacks/paygov/return").get(callbacks::paygov_return))
        .service(web::resource("/pay/{id}").get(pay_page::pay))
        .service(web::resource("/pay/{id}/attempts").post(pages::choose))
        .service(web::resource("/pay/{id}/result").get(result_page::result))
        .service(web::resource("/pay/{id}/receipt").get(receipt::page))
        .service(web::resource("/pay/{id}/receipt.pdf").get(receipt::pdf))
        .service(web::resource("/pay/{id}/qr.png").get(verify::qr_png))
        .service(web::resource("/verify/{confirmation_no}").get(verify::verify))
        .service(web::resource("/static/pay.css").get(pages::stylesheet))
        .service(web::resource("/static/pay.js").get(pages::script))
        .service(web::resource("/static/finance.css").get(finance::stylesheet))
        .configure(finance_routes)
        .service(web::resource("/openapi.json").get(docs::openapi_json))
        .service(
            SwaggerUi::new("/docs/{_:.*}")
                // The default validator badge would load an image from another host.
                .config(utoipa_swagger_ui::Config::from("/openapi.json").validator_url("none")),
        );
}

/// The finance dashboard: sign-in, collections, reconciliation, flags, a payment's story.
fn finance_routes(cfg: &mut web::ServiceConfig) {
    use crate::http::{
        finance_auth as auth, finance_exports as exports, finance_flags as flags,
        finance_payment as payment, finance_recon as recon,
    };
    cfg.service(web::resource("/finance").get(finance::dashboard))
        .service(
            web::resource("/finance/login")
                .get(auth::login_form)
                .post(auth::login),
        )
        .service(web::resource("/finance/logout").post(auth::logout))
        .service(web::resource("/finance/reports/collections.xlsx").get(exports::collections_xlsx))
        .service(web::resource("/finance/reports/collections.csv").get(exports::collections_csv))
        .service(
            web::resource("/finance/reconciliations")
                .get(recon::runs)
                .post(recon::upload),
        )
        .service(web::resource("/finance/reconciliations/{id}").get(recon::run))
        .service(
            web::resource("/finance/reconciliations/{id}/findings.xlsx")
                .get(exports::findings_xlsx),
        )
        .service(
            web::resource("/finance/reconciliations/{id}/findings.csv").get(exports::findings_csv),
        )
        .service(
            web::resource("/finance/reconciliations/{id}/findings/{position}/resolve")
                .post(recon::resolve),
        )
        .service(web::resource("/finance/flags").get(flags::page))
        .service(web::resource("/finance/flags.xlsx").get(exports::flags_xlsx))
        .service(web::resource("/finance/flags/resolve").post(flags::resolve))
        .service(web::resource("/finance/payments/{id}").get(payment::payment))
        .service(web::resource("/finance/payments/{id}/refund").post(payment::refund_form))
        .service(
            web::resource("/finance/payments/{id}/refund/confirm").post(payment::refund_confirm),
        );
}

/// The built-in simulators (refused in production by the configuration check). A DVCQG create
/// message lists a fee per order line: it may be as large as any request body
/// (`server.max_body_bytes`), not only the framework's default 256 kB.
fn sandbox_routes(cfg: &mut web::ServiceConfig, max_body: usize) {
    cfg.service(web::resource("/sandbox/vnpay/paymentv2/vpcpay.html").get(sandbox::payment_page))
        .service(web::resource("/sandbox/vnpay/paymentv2/complete").post(sandbox::complete))
        .service(
            web::resource("/sandbox/vnpay/merchant_webapi/api/transaction")
                .post(sandbox::transaction_api),
        )
        .service(
            web::resource("/sandbox/dvcqg/init")
                .app_data(web::PayloadConfig::new(max_body))
                .post(sandbox_rails::dvcqg_init),
        )
        .service(web::resource("/sandbox/dvcqg/pay").get(sandbox_rails::dvcqg_page))
        .service(web::resource("/sandbox/dvcqg/complete").post(sandbox_rails::dvcqg_complete))
        .service(web::resource("/sandbox/paygov/create").post(sandbox_rails::paygov_create))
        .service(web::resource("/sandbox/paygov/pay").get(sandbox_rails::paygov_page))
        .service(web::resource("/sandbox/paygov/complete").post(sandbox_rails::paygov_complete));
}
