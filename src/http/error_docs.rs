//! `/docs/errors`: the page every problem's `type` points at, one section per `code`.

use actix_web::http::header;
use actix_web::HttpResponse;

use crate::error::ErrorCode;

/// What `validation_failed` means and what to do.
const VALIDATION_FAILED: (&str, &str) = (
    "The request was read, but some of it is not acceptable: a field is missing, has the wrong \
     JSON type, names a value that is not allowed, or breaks a rule. Each entry of `errors` names \
     one field by its JSON path (`payer`, `lines[0].amount`), a header by its name \
     (`Idempotency-Key`) or a CSV cell as `line <n>, column <name>`. Status 400 for a body that \
     is not JSON or a missing required header, 422 otherwise. Nothing was changed.",
    "Correct every field listed in `errors` and send the request again. Money is a JSON integer \
     of whole đồng; rates and unit prices are decimal strings; dates are YYYY-MM-DD.",
);

/// What `database_unavailable` means and what to do.
const DATABASE_UNAVAILABLE: (&str, &str) = (
    "The service could not reach its database, lost its connection in the middle of the \
     request, found no connection free in time, or waited longer than it waits for the \
     database's answer (`database.timeout`). Nothing is wrong with the request. A write may \
     or may not have been stored.",
    "Retry after the seconds in the `Retry-After` header. Retry a write with the same \
     `Idempotency-Key` and body: if it was stored, its first answer is replayed.",
);

/// What a code means and what the caller should do about it.
fn explain(code: ErrorCode) -> (&'static str, &'static str) {
    match code {
        ErrorCode::ValidationFailed => VALIDATION_FAILED,
        ErrorCode::Unauthorized => (
            "No valid bearer token came with the request: the `Authorization` header is missing, the \
             token is expired or not yet valid, or its signature, issuer or audience does not match.",
            "Send `Authorization: Bearer <JWT>` with a fresh token issued for this service.",
        ),
        ErrorCode::Forbidden => (
            "The token is valid but lacks a role this operation needs (portal, finance or admin).",
            "Use a token that carries the role named in `detail`, or ask the operator for one.",
        ),
        ErrorCode::NotFound => (
            "Nothing with this id exists, or it belongs to another agency than the token's \
             (records of other agencies are not shown), or the path is not one of this API.",
            "Check the id and the path. An agency-bound token sees only that agency's records.",
        ),
        ErrorCode::MethodNotAllowed => (
            "The path exists but does not accept this HTTP method.",
            "Use the method that the API reference (`/docs`) lists for the path.",
        ),
        ErrorCode::Conflict => (
            "The request contradicts what is already stored: an item is already paid or held by \
             another live payment (the payment is named when the caller may see it), or a notice \
             number was registered before with different content.",
            "Read the record named in `detail` (for a held item, that payment: pay it, or cancel it \
             before creating a new one) rather than retrying unchanged.",
        ),
        ErrorCode::PayloadTooLarge => (
            "The request body is larger than the service accepts.",
            "Send a smaller body; split a large import into several requests.",
        ),
        ErrorCode::UnsupportedMediaType => (
            "The `Content-Type` of the body is not one this operation reads.",
            "Send JSON bodies as `application/json` (CSV statements as `text/csv`).",
        ),
        ErrorCode::IdempotencyKeyReused => (
            "This `Idempotency-Key` was used before with a different request body.",
            "Use a new key for a new request; reuse a key only to retry exactly the same request.",
        ),
        ErrorCode::IdempotencyKeyInUse => (
            "A request with this `Idempotency-Key` is still being processed.",
            "Wait a moment and retry with the same key and body: the first answer will be replayed.",
        ),
        ErrorCode::InvalidState => (
            "The record is not in a state that allows this: for example cancelling a payment that \
             is processing (money may be in flight), or paying an order that expired.",
            "Read the record again to see its current status, then act on that status.",
        ),
        ErrorCode::RateLimited => (
            "Too many requests came from this address or this token in a short time.",
            "Wait for the number of seconds in the `Retry-After` header, then retry.",
        ),
        ErrorCode::GatewayUnavailable => (
            "The payment gateway did not answer, or answered with an error, when asked to start \
             or query a payment. The attempt was recorded as failed; no money moved.",
            "Retry later, or let the payer choose another gateway.",
        ),
        ErrorCode::DatabaseUnavailable => DATABASE_UNAVAILABLE,
        ErrorCode::Internal => (
            "Something failed inside the service. The body never carries internal detail.",
            "Retry later; if it persists, report it quoting `request_id` (also in the \
             `X-Request-Id` header).",
        ),
        ErrorCode::RequestTimeout => (
            "The request body took longer to arrive than the service waits for a whole body \
             (`server.body_timeout`), stalled or sent too slowly; the connection was closed.",
            "Send the whole body promptly; retry on a new connection.",
        ),
    }
}

/// Replaces `code` spans written with backticks by `<code>` elements.
fn inline_code(text: &str) -> String {
    let escaped = text
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    let mut out = String::with_capacity(escaped.len());
    for (i, part) in escaped.split('`').enumerate() {
        if i % 2 == 1 {
            out.push_str("<code>");
            out.push_str(part);
            out.push_str("</code>");
        } else {
            out.push_str(part);
        }
    }
    out
}

/// The whole page: self-contained, no scripts, no assets from elsewhere.
pub fn page() -> String {
    let mut sections = String::new();
    for code in ErrorCode::ALL {
        let (meaning, todo) = explain(code);
        sections.push_str(&format!(
            "<section id=\"{c}\"><h2><a href=\"#{c}\"><code>{c}</code></a> — {title}</h2>\
             <p><strong>What it means.</strong> {meaning}</p>\
             <p><strong>What to do.</strong> {todo}</p></section>\n",
            c = code.as_str(),
            title = code.title(),
            meaning = inline_code(meaning),
            todo = inline_code(todo),
        ));
    }
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>landpay — error codes</title></head><body><main>\
         <h1>landpay error codes</h1>\
         <p>Every error is an <code>application/problem+json</code> body: <code>type</code> (a link to \
         this page), <code>title</code>, <code>status</code>, <code>code</code>, <code>detail</code>, \
         <code>errors</code> (one <code>{{field, message}}</code> per problem, <code>field</code> being \
         a JSON path such as <code>lines[0].amount</code>) and <code>request_id</code>, equal to the \
         <code>X-Request-Id</code> header: quote it when asking for support.</p>\n{sections}\
         <p><a href=\"/docs/\">API reference</a></p></main></body></html>\n"
    )
}

/// `GET /docs/errors`.
pub async fn errors_page() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .body(page())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_an_anchor_and_both_paragraphs() {
        let html = page();
        for code in ErrorCode::ALL {
            let anchor = format!("<section id=\"{}\">", code.as_str());
            assert!(html.contains(&anchor), "{anchor}");
        }
        assert_eq!(html.matches("What to do.").count(), ErrorCode::ALL.len());
        assert!(!html.contains("http://") && !html.contains("https://"));
    }
}
