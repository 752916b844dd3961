//! The OpenAPI document as served at `/openapi.json`: utoipa's document from the handlers, with
//! the request schemas utoipa cannot derive (the obligation engine reads JSON by hand) and the
//! links from the operations that create something to those that use it.

mod links;
pub mod quote;
mod requests;

use serde_json::{json, Value};
use utoipa::OpenApi;

use crate::obligations::RuleBook;

/// The whole document, as JSON.
pub fn document(rules: &RuleBook) -> Value {
    let mut doc = serde_json::to_value(crate::http::docs::ApiDoc::openapi()).unwrap_or(Value::Null);
    let schemas = &mut doc["components"]["schemas"];
    schemas["QuoteRequest"] = quote::quote_request(rules);
    schemas["LateInterestRequest"] = requests::late_interest();
    for (path, schema) in [
        ("/v1/quotes", "QuoteRequest"),
        ("/v1/assessments", "QuoteRequest"),
        ("/v1/late-interest", "LateInterestRequest"),
    ] {
        let media = &mut doc["paths"][path]["post"]["requestBody"]["content"]["application/json"];
        media["schema"] = json!({"$ref": format!("#/components/schemas/{schema}")});
    }
    requests::tighten(&mut doc);
    links::add(&mut doc);
    doc
}

/// The operation at `method path` of `doc`, if it is there.
fn operation<'a>(doc: &'a mut Value, method: &str, path: &str) -> Option<&'a mut Value> {
    doc.get_mut("paths")?.get_mut(path)?.get_mut(method)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn quotes_assessments_and_late_interest_have_real_request_schemas() {
        let doc = document(&RuleBook::builtin().unwrap());
        for path in ["/v1/quotes", "/v1/assessments", "/v1/late-interest"] {
            let schema =
                &doc["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"];
            assert!(schema["$ref"].is_string(), "{path}: {schema}");
        }
        assert!(doc["components"]["schemas"]["QuoteRequest"]["oneOf"].is_array());
    }

    #[test]
    fn patching_leaves_no_operation_with_parameters_that_are_not_a_list() {
        let doc = document(&RuleBook::builtin().unwrap());
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                if let Some(params) = op.get("parameters") {
                    assert!(params.is_array(), "{method} {path}: {params}");
                }
            }
        }
    }
}
