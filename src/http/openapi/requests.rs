//! Request schemas tightened to what the handlers accept: formats, patterns, bounds and enums
//! that the derived schemas leave out.

use serde_json::{json, Value};

use super::quote::{date, money, text};
use crate::events::ALL_EVENT_TYPES;
use crate::gateways::GatewayId;
use crate::http::paging::MAX_LIMIT;
use crate::payments::order::ALL_STATUSES;

/// `POST /v1/late-interest`.
pub fn late_interest() -> Value {
    json!({"type": "object", "required": ["amount", "due_date", "paid_on"],
           "properties": {"amount": money(), "due_date": date(), "paid_on": date()},
           "description": "Interest of 0.03% a day on `amount` from the day after `due_date` to `paid_on`"})
}

/// Text with at least one character that is not a space (the handlers trim, then refuse "").
fn non_blank() -> Value {
    json!({"type": "string", "pattern": r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"})
}

fn nullable(mut schema: Value) -> Value {
    let kind = schema["type"].as_str().unwrap_or("string").to_owned();
    schema["type"] = json!([kind, "null"]);
    schema
}

fn one_of<'a>(values: impl IntoIterator<Item = &'a str>) -> Value {
    json!({"type": "string", "enum": values.into_iter().collect::<Vec<_>>()})
}

fn gateways() -> Value {
    one_of(GatewayId::ALL.iter().map(|g| g.as_str()))
}

fn timestamp() -> Value {
    json!({"type": "string", "format": "date-time"})
}

fn budget_code(digits: usize) -> Value {
    json!({"type": "string", "pattern": format!("^[0-9]{{{digits}}}$")})
}

/// Sets `properties.name` of the component schema `component`.
fn prop(doc: &mut Value, component: &str, name: &str, schema: Value) {
    doc["components"]["schemas"][component]["properties"][name] = schema;
}

/// Sets the schema (and, when given, whether it is required) of a parameter of an operation.
fn param(doc: &mut Value, op: (&str, &str), name: &str, schema: Value, required: Option<bool>) {
    let Some(op) = super::operation(doc, op.0, op.1) else {
        return;
    };
    let params = op.get_mut("parameters").and_then(Value::as_array_mut);
    for p in params.into_iter().flatten() {
        if p["name"] == name {
            p["schema"] = schema.clone();
            if let Some(required) = required {
                p["required"] = json!(required);
            }
        }
    }
}

fn notices(doc: &mut Value) {
    let notice_no = json!({"type": "string", "minLength": 1, "maxLength": 100,
                           "pattern": non_blank()["pattern"].clone()});
    prop(doc, "NoticeInput", "notice_no", notice_no);
    prop(doc, "NoticeInput", "issued_at", timestamp());
    prop(doc, "NoticeInput", "agency_code", nullable(text()));
    prop(doc, "NoticeInput", "dossier_code", nullable(text()));
    doc["components"]["schemas"]["NoticeInput"]["properties"]["lines"]["minItems"] = json!(1);
    prop(doc, "Taxpayer", "name", non_blank());
    prop(doc, "Taxpayer", "id_no", nullable(text()));
    prop(doc, "Taxpayer", "tax_code", nullable(text()));
    for name in ["shkb", "account", "tax_office_code"] {
        prop(doc, "Treasury", name, non_blank());
    }
    prop(doc, "Treasury", "admin_unit_code", nullable(text()));
    prop(doc, "NoticeLineInput", "sub_item", budget_code(4));
    prop(
        doc,
        "NoticeLineInput",
        "interest_sub_item",
        nullable(budget_code(4)),
    );
    prop(doc, "NoticeLineInput", "chapter", nullable(budget_code(3)));
    prop(doc, "NoticeLineInput", "name", non_blank());
    prop(doc, "NoticeLineInput", "amount", money());
    prop(doc, "NoticeLineInput", "due_date", date());
}

fn payments(doc: &mut Value) {
    let items = &mut doc["components"]["schemas"]["PaymentInput"]["properties"]["items"];
    items["minItems"] = json!(1);
    items["maxItems"] = json!(crate::payments::service::MAX_ITEMS);
    prop(
        doc,
        "PaymentInput",
        "return_url",
        json!({"type": ["string", "null"], "format": "uri", "pattern": "^https?://[^\\s\\x00-\\x1f\\x7f]+$", "maxLength": 1000}),
    );
    prop(
        doc,
        "PaymentInput",
        "locale",
        nullable(one_of(["vi", "en"])),
    );
    prop(doc, "PaymentInput", "agency_code", nullable(text()));
    prop(doc, "PaymentInput", "dossier_code", nullable(text()));
    prop(doc, "PayerInput", "name", non_blank());
    prop(doc, "PayerInput", "email", nullable(text()));
    prop(doc, "PayerInput", "phone", nullable(text()));
    // Exactly one of: a notice, a notice line, or an assessment with its fee line.
    let item = &mut doc["components"]["schemas"]["ItemInput"];
    for key in ["notice_id", "notice_line_id", "assessment_id"] {
        item["properties"][key] = text();
    }
    item["properties"]["line"] = one_of(["appraisal_fee", "certificate_fee"]);
    let without = |keys: &[&str]| json!({"anyOf": keys.iter().map(|k| json!({"required": [k]})).collect::<Vec<_>>()});
    item["oneOf"] = json!([
        {"required": ["notice_id"], "not": without(&["notice_line_id", "assessment_id", "line"])},
        {"required": ["notice_line_id"], "not": without(&["notice_id", "assessment_id", "line"])},
        {"required": ["assessment_id", "line"], "not": without(&["notice_id", "notice_line_id"])},
    ]);
    prop(doc, "AttemptInput", "gateway", gateways());
    prop(doc, "AttemptInput", "bank_code", nullable(text()));
    prop(
        doc,
        "AttemptInput",
        "client_ip",
        nullable(json!({"type": "string", "anyOf": [{"format": "ipv4"}, {"format": "ipv6"}]})),
    );
    prop(doc, "RefundInput", "amount", money());
    prop(doc, "RefundInput", "reason", non_blank());
    prop(doc, "RefundInput", "attempt_id", nullable(text()));
    prop(doc, "ResolveInput", "note", non_blank());
    let statuses = one_of(ALL_STATUSES.iter().map(|s| s.as_str()));
    param(
        doc,
        ("get", "/v1/payments"),
        "status",
        nullable(statuses),
        None,
    );
    for name in ["created_from", "created_to"] {
        param(
            doc,
            ("get", "/v1/payments"),
            name,
            nullable(timestamp()),
            None,
        );
    }
    param(
        doc,
        ("get", "/v1/flags"),
        "status",
        nullable(one_of(["open", "resolved", "all"])),
        None,
    );
    let idempotency = json!({"type": "string", "pattern": "^[\\x21-\\x7e]{1,255}$"});
    for op in [
        ("post", "/v1/payments"),
        ("post", "/v1/payments/{id}/refunds"),
        ("post", "/v1/assessments"),
    ] {
        param(doc, op, "Idempotency-Key", idempotency.clone(), None);
    }
}

fn webhooks_and_finance(doc: &mut Value) {
    let events = one_of(ALL_EVENT_TYPES.iter().map(|t| t.as_str()));
    prop(
        doc,
        "EndpointInput",
        "url",
        json!({"type": "string", "format": "uri", "pattern": "^https?://[^\\s\\x00-\\x1f\\x7f]+$"}),
    );
    prop(
        doc,
        "EndpointInput",
        "events",
        json!({"type": "array", "minItems": 1, "uniqueItems": true, "items": events.clone()}),
    );
    prop(doc, "EndpointInput", "agency_code", nullable(text()));
    param(doc, ("get", "/v1/events"), "type", nullable(events), None);
    param(
        doc,
        ("get", "/v1/events"),
        "after",
        json!({"type": ["integer", "null"], "minimum": 0}),
        None,
    );
    let run = ("post", "/v1/reconciliations");
    param(doc, run, "gateway", gateways(), Some(true));
    param(doc, run, "statement_date", date(), Some(true));
    let kinds = one_of(crate::http::reconciliation::KINDS);
    param(
        doc,
        ("get", "/v1/reconciliations/{id}/items"),
        "kind",
        nullable(kinds),
        None,
    );
    let report = ("get", "/v1/reports/collections");
    param(doc, report, "from", date(), Some(true));
    param(doc, report, "to", date(), Some(true));
    let groups = one_of(["day", "sub_item", "gateway", "agency"]);
    param(doc, report, "group_by", nullable(groups), None);
    let form = &mut doc["paths"]["/pay/{id}/attempts"]["post"]["requestBody"]["content"]
        ["application/x-www-form-urlencoded"];
    if form.is_object() {
        form["schema"] = json!({"type": "object", "required": ["gateway"], "properties": {"gateway": gateways()}});
    }
}

/// Every `limit` is 1 to 500 and every `cursor` is the URL-safe base64 this service issues.
fn paging(doc: &mut Value) {
    let Some(paths) = doc["paths"].as_object_mut() else {
        return;
    };
    for op in paths
        .values_mut()
        .filter_map(Value::as_object_mut)
        .flat_map(|i| i.values_mut())
    {
        let params = op.get_mut("parameters").and_then(Value::as_array_mut);
        for p in params.into_iter().flatten() {
            if p["in"] != "query" {
                continue;
            }
            if p["name"] == "limit" {
                p["schema"] =
                    json!({"type": ["integer", "null"], "minimum": 1, "maximum": MAX_LIMIT});
            } else if p["name"] == "cursor" {
                p["schema"] = json!({"type": ["string", "null"], "pattern": "^[A-Za-z0-9_-]*$"});
            }
        }
    }
}

/// Narrows the derived schemas of the other operations.
pub fn tighten(doc: &mut Value) {
    notices(doc);
    payments(doc);
    webhooks_and_finance(doc);
    paging(doc);
}
