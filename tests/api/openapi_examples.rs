//! `/openapi.json`: every operation has a summary, and every example validates against the
//! schema it illustrates (with `$ref`s resolved into `components`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{json, Value};

use crate::helpers::{expect_json, spawn_app};

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "patch", "head", "options", "trace",
];

/// (where, example, schema) for every example that has a schema beside it.
fn examples(doc: &Value) -> Vec<(String, Value, Value)> {
    let mut found = Vec::new();
    if let Some(schemas) = doc["components"]["schemas"].as_object() {
        for (name, schema) in schemas {
            schema_examples(&format!("components.schemas.{name}"), schema, &mut found);
        }
    }
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            let at = format!("{method} {path}");
            for (i, p) in op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .enumerate()
            {
                media_examples(&format!("{at} parameters[{i}]"), p, &mut found);
            }
            if let Some(content) = op["requestBody"]["content"].as_object() {
                for (ct, media) in content {
                    media_examples(&format!("{at} requestBody {ct}"), media, &mut found);
                }
            }
            for (status, res) in op["responses"].as_object().into_iter().flatten() {
                for (ct, media) in res["content"].as_object().into_iter().flatten() {
                    media_examples(&format!("{at} {status} {ct}"), media, &mut found);
                }
            }
        }
    }
    found
}

/// `example` and `examples.*.value` of a media type or parameter, against its `schema`.
fn media_examples(at: &str, media: &Value, found: &mut Vec<(String, Value, Value)>) {
    let schema = media.get("schema").cloned();
    if let Some(schema) = &schema {
        schema_examples(&format!("{at} schema"), schema, found);
    }
    let mut add = |label: String, example: &Value| {
        let schema = schema
            .clone()
            .unwrap_or_else(|| panic!("{label}: an example with no schema to validate it against"));
        found.push((label, example.clone(), schema));
    };
    if let Some(example) = media.get("example") {
        add(format!("{at} example"), example);
    }
    for (name, ex) in media["examples"].as_object().into_iter().flatten() {
        add(format!("{at} examples.{name}"), &ex["value"]);
    }
}

/// `example`/`examples` inside a schema and its sub-schemas.
fn schema_examples(at: &str, schema: &Value, found: &mut Vec<(String, Value, Value)>) {
    let Some(map) = schema.as_object() else {
        return;
    };
    if let Some(example) = map.get("example") {
        found.push((format!("{at} example"), example.clone(), schema.clone()));
    }
    if let Some(list) = map.get("examples").and_then(Value::as_array) {
        for (i, example) in list.iter().enumerate() {
            found.push((
                format!("{at} examples[{i}]"),
                example.clone(),
                schema.clone(),
            ));
        }
    }
    for (key, sub) in map {
        match key.as_str() {
            "properties" => {
                for (name, s) in sub.as_object().into_iter().flatten() {
                    schema_examples(&format!("{at}.{name}"), s, found);
                }
            }
            "items" | "additionalProperties" | "not" => {
                schema_examples(&format!("{at}.{key}"), sub, found)
            }
            "allOf" | "anyOf" | "oneOf" => {
                for (i, s) in sub.as_array().into_iter().flatten().enumerate() {
                    schema_examples(&format!("{at}.{key}[{i}]"), s, found);
                }
            }
            _ => {}
        }
    }
}

/// Problems of one example against its schema, resolving `#/components/...` references.
fn problems(doc: &Value, example: &Value, schema: &Value) -> Vec<String> {
    let mut root = schema.clone();
    if let Some(map) = root.as_object_mut() {
        map.insert("components".into(), doc["components"].clone());
    } else {
        root = json!({"allOf": [schema], "components": doc["components"]});
    }
    let validator = jsonschema::draft202012::new(&root).expect("a valid JSON Schema");
    validator
        .iter_errors(example)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

#[tokio::test]
async fn every_example_in_the_openapi_document_is_valid_against_its_schema() {
    let app = spawn_app().await;
    let res = app
        .request(reqwest::Method::GET, "/openapi.json")
        .send()
        .await
        .unwrap();
    let doc = expect_json(res, 200).await;
    if let Ok(path) = std::env::var("LANDPAY_DUMP_OPENAPI") {
        std::fs::write(path, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
    }
    let all = examples(&doc);
    assert!(all.len() > 10, "only {} examples found", all.len());
    let mut bad = Vec::new();
    for (at, example, schema) in &all {
        let text = example.to_string();
        if text.contains('…') {
            bad.push(format!("{at}: a placeholder (…) in {text}"));
        }
        for p in problems(&doc, example, schema) {
            bad.push(format!("{at}: {p}"));
        }
    }
    assert!(
        bad.is_empty(),
        "{} invalid examples:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

#[test]
fn the_checker_refuses_an_example_that_breaks_its_schema() {
    let doc = json!({"components": {"schemas": {"Amount": {"type": "integer"}}}});
    let schema = json!({"$ref": "#/components/schemas/Amount"});
    assert!(problems(&doc, &json!(35000000), &schema).is_empty());
    assert!(!problems(&doc, &json!(35000000.5), &schema).is_empty());
    assert!(!problems(&doc, &json!("01JD8Z…"), &schema).is_empty());
}

#[tokio::test]
async fn every_operation_has_a_summary() {
    let app = spawn_app().await;
    let res = app
        .request(reqwest::Method::GET, "/openapi.json")
        .send()
        .await
        .unwrap();
    let doc = expect_json(res, 200).await;
    let mut missing = Vec::new();
    let mut count = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in METHODS {
            if let Some(op) = item.get(method) {
                count += 1;
                let summary = op["summary"].as_str().unwrap_or("").trim();
                if summary.is_empty() {
                    missing.push(format!("{method} {path}"));
                }
            }
        }
    }
    assert!(count > 30, "{count} operations");
    assert!(
        missing.is_empty(),
        "operations without a summary:\n{}",
        missing.join("\n")
    );
}
