//! The OpenAPI 3.1 document, generated from the handlers, and the browsable reference at `/docs`.

use actix_web::{web, HttpResponse};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::error::FieldError;
use crate::http::errors::Problem;
use crate::http::{
    callback_log, callbacks, finance, finance_auth, finance_flags, finance_payment, finance_recon,
    notices, obligations, ops, pages, pay_page, payments, receipt, reconciliation, result_page,
    sandbox, sandbox_rails, verify, webhooks,
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "landpay",
        description = "Pay the financial obligations of Vietnamese land procedures online, and report \
                       paid status to the procedure workflow. Money is a JSON integer of whole đồng; \
                       rates are decimal strings; errors are application/problem+json, and each \
                       problem's `type` links the explanation of its `code` at /docs/errors.",
        license(name = "MIT OR Apache-2.0")
    ),
    paths(
        ops::healthz, ops::readyz, ops::metrics,
        obligations::quote, obligations::create_assessment, obligations::get_assessment, obligations::late_interest,
        notices::create, notices::get, notices::list,
        payments::create, payments::get, payments::list, payments::cancel, payments::pay_link,
        payments::create_attempt, payments::events, payments::refund, payments::flags, payments::resolve_flag, callback_log::list,
        callbacks::vnpay_ipn, callbacks::vnpay_return, callbacks::momo_ipn, callbacks::zalopay_callback,
        callbacks::dvcqg_result, callbacks::dvcqg_return, callbacks::paygov_return,
        webhooks::create, webhooks::list, webhooks::get, webhooks::delete, webhooks::rotate, webhooks::deliveries,
        webhooks::redeliver, webhooks::feed,
        reconciliation::create, reconciliation::get, reconciliation::items, reconciliation::report,
        pay_page::pay, pages::choose, result_page::result, receipt::page, receipt::pdf, receipt::for_portal,
        verify::verify, verify::qr_png, finance::dashboard, finance_auth::login_form, finance_recon::runs,
        finance_recon::run, finance_flags::page, finance_payment::payment, sandbox::payment_page,
        sandbox::transaction_api, sandbox_rails::dvcqg_init, sandbox_rails::paygov_create,
    ),
    components(schemas(Problem, FieldError, crate::notices::Notice, crate::notices::NoticeInput)),
    modifiers(&BearerAuth),
    tags(
        (name = "operations", description = "Health, readiness and metrics"),
        (name = "obligations", description = "What a land procedure costs, line by line, with legal basis"),
        (name = "notices", description = "Official payment notices of the tax authority"),
        (name = "payments", description = "Payment orders, gateway attempts, refunds and flags"),
        (name = "callbacks", description = "Gateway callbacks, authenticated by the gateway's signature"),
        (name = "finance", description = "Reconciliation against settlement files, collections reports"),
        (name = "pages", description = "Server-rendered pages: the payer's pages and the finance dashboard"),
        (name = "sandbox", description = "The built-in simulators: VNPay 2.1.0, the DVCQG payment platform, PayGov (off in production)"),
        (name = "webhooks", description = "Signed webhooks and the ordered event feed for the procedure workflow"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// `/docs` → `/docs/`, where the bundled Swagger UI lives.
pub async fn docs_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header(("Location", "/docs/"))
        .finish()
}

/// `/openapi.json`: the document of [`crate::http::openapi::document`].
pub async fn openapi_json(state: web::Data<crate::http::state::AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(state.openapi_json.clone())
}
