//! OpenAPI links: from each operation that creates (or lists) something to the operations that
//! take its id, so that a client generator — or a stateful test — can follow them.

use serde_json::{json, Map, Value};

/// `#/paths/…/method` for a link's `operationRef`.
fn op_ref(method: &str, path: &str) -> String {
    format!(
        "#/paths/{}/{method}",
        path.replace('~', "~0").replace('/', "~1")
    )
}

/// One link to `method path`, passing `parameters` (and an optional request body).
fn link(method: &str, path: &str, parameters: Value, body: Option<Value>) -> Value {
    let mut l = json!({"operationRef": op_ref(method, path), "parameters": parameters});
    if let Some(body) = body {
        l["requestBody"] = body;
    }
    l
}

/// Named links from one response.
type Links = Vec<(&'static str, Value)>;
/// A source response (method, path, status) and its links.
type Source = (&'static str, &'static str, &'static str, Links);

fn payment_ops(p: &Value) -> Links {
    let to = |method, path| link(method, path, p.clone(), None);
    vec![
        ("GetPayment", to("get", "/v1/payments/{id}")),
        ("GetPaymentEvents", to("get", "/v1/payments/{id}/events")),
        ("CreateAttempt", to("post", "/v1/payments/{id}/attempts")),
        ("CreatePayLink", to("post", "/v1/payments/{id}/pay-link")),
        ("CreateRefund", to("post", "/v1/payments/{id}/refunds")),
        ("CancelPayment", to("post", "/v1/payments/{id}/cancel")),
    ]
}

fn endpoint_ops(p: &Value) -> Links {
    let to = |method, path| link(method, path, p.clone(), None);
    vec![
        ("GetEndpoint", to("get", "/v1/webhook-endpoints/{id}")),
        (
            "GetDeliveries",
            to("get", "/v1/webhook-endpoints/{id}/deliveries"),
        ),
        (
            "RotateSecret",
            to("post", "/v1/webhook-endpoints/{id}/rotate-secret"),
        ),
        ("DeleteEndpoint", to("delete", "/v1/webhook-endpoints/{id}")),
    ]
}

fn run_ops(p: &Value) -> Links {
    vec![
        (
            "GetRun",
            link("get", "/v1/reconciliations/{id}", p.clone(), None),
        ),
        (
            "GetRunItems",
            link("get", "/v1/reconciliations/{id}/items", p.clone(), None),
        ),
    ]
}

fn payer() -> Value {
    json!({"name": "Nguyễn Văn An"})
}

/// A notice read, and paid whole, by the id at `pointer` of the answer.
fn notice_ops(pointer: &str) -> Links {
    let id = format!("$response.body#{pointer}");
    let body = json!({"items": [{"notice_id": id}], "payer": payer()});
    vec![
        (
            "GetNotice",
            link("get", "/v1/notices/{id}", json!({"path.id": id}), None),
        ),
        (
            "PayNotice",
            link("post", "/v1/payments", json!({}), Some(body)),
        ),
    ]
}

fn assessment_ops() -> Links {
    let body = json!({"items": [{"assessment_id": "$response.body#/id", "line": "appraisal_fee"}],
                      "payer": payer()});
    vec![
        (
            "GetAssessment",
            link(
                "get",
                "/v1/assessments/{id}",
                json!({"path.id": "$response.body#/id"}),
                None,
            ),
        ),
        (
            "PayAppraisalFee",
            link("post", "/v1/payments", json!({}), Some(body)),
        ),
    ]
}

fn table() -> Vec<Source> {
    let id = json!({"path.id": "$response.body#/id"});
    let same = json!({"path.id": "$request.path.id"});
    vec![
        ("post", "/v1/assessments", "201", assessment_ops()),
        ("post", "/v1/notices", "201", notice_ops("/id")),
        ("post", "/v1/notices", "200", notice_ops("/id")),
        ("post", "/v1/payments", "201", payment_ops(&id)),
        (
            "post",
            "/v1/payments/{id}/attempts",
            "201",
            payment_ops(&same),
        ),
        (
            "post",
            "/v1/payments/{id}/refunds",
            "201",
            payment_ops(&same),
        ),
        (
            "post",
            "/v1/payments/{id}/cancel",
            "200",
            payment_ops(&same),
        ),
        ("post", "/v1/webhook-endpoints", "201", endpoint_ops(&id)),
        (
            "post",
            "/v1/webhook-endpoints/{id}/rotate-secret",
            "200",
            endpoint_ops(&same),
        ),
        ("post", "/v1/reconciliations", "201", run_ops(&id)),
    ]
}

/// Adds the links to the responses of `doc` (a response the document lacks is left alone).
pub fn add(doc: &mut Value) {
    for (method, path, status, links) in table() {
        let Some(op) = super::operation(doc, method, path) else {
            continue;
        };
        let Some(response) = op.get_mut("responses").and_then(|r| r.get_mut(status)) else {
            continue;
        };
        let map: Map<String, Value> = links.into_iter().map(|(n, l)| (n.to_owned(), l)).collect();
        response["links"] = Value::Object(map);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn every_link_leads_to_an_operation_of_the_document_with_its_path_parameters() {
        let doc = super::super::document(&crate::obligations::RuleBook::builtin().unwrap());
        let mut count = 0;
        for (method, path, status, links) in table() {
            let response = &doc["paths"][path][method]["responses"][status];
            assert!(response.is_object(), "{method} {path} has no {status}");
            for (name, _) in links {
                let l = &response["links"][name];
                let target = l["operationRef"].as_str().unwrap();
                let parts: Vec<&str> = target
                    .trim_start_matches("#/paths/")
                    .rsplitn(2, '/')
                    .collect();
                let (m, p) = (parts[0], parts[1].replace("~1", "/").replace("~0", "~"));
                let op = &doc["paths"][p.as_str()][m];
                assert!(op.is_object(), "{name}: no operation {m} {p}");
                for param in op["parameters"].as_array().into_iter().flatten() {
                    if param["in"] == "path" {
                        let key = format!("path.{}", param["name"].as_str().unwrap());
                        assert!(
                            l["parameters"][&key].is_string(),
                            "{name}: {key} not passed"
                        );
                    }
                }
                count += 1;
            }
        }
        assert!(count >= 30, "{count}");
    }
}
