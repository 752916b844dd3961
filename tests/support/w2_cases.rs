//! Checks a quote answer against a worked case of `tests/fixtures/cases.json` whose
//! inputs are a request body (`inputs.request`): expected lines are matched by
//! `code` (and `co_owner_index` / `parcel_ref`) and compared field by field; the
//! listed lines are all the lines unless `allow_extra` names more; `forbid` codes
//! must not appear; 422 cases name their `error_fields`.
#![allow(dead_code)]

use serde_json::Value;

/// The cases whose inputs are a request body.
pub fn request_cases(all: &[Value]) -> Vec<Value> {
    all.iter()
        .filter(|c| c["inputs"]["request"].is_object())
        .cloned()
        .collect()
}

/// `expected` is contained in `actual`: objects key by key (recursively), all
/// else equal.
fn contains(actual: &Value, expected: &Value, path: &str) -> Result<(), String> {
    match (actual, expected) {
        (Value::Object(a), Value::Object(e)) => {
            for (k, v) in e {
                let got = a.get(k).unwrap_or(&Value::Null);
                contains(got, v, &format!("{path}.{k}"))?;
            }
            Ok(())
        }
        _ if actual == expected => Ok(()),
        _ => Err(format!("{path}: expected {expected}, got {actual}")),
    }
}

fn same_line(actual: &Value, expected: &Value) -> bool {
    actual["code"] == expected["code"]
        && ["co_owner_index", "parcel_ref"]
            .iter()
            .all(|k| expected.get(*k).is_none() || actual[*k] == expected[*k])
}

/// Compares one answer with the case; `Err` says what differs.
pub fn check(case: &Value, status: u16, body: &Value) -> Result<(), String> {
    let id = case["id"].as_str().unwrap_or("?");
    let expected = &case["expected"];
    let want = expected["status"].as_u64().unwrap_or(200);
    if u64::from(status) != want {
        return Err(format!("{id}: status {status}, expected {want}: {body}"));
    }
    if want == 422 {
        return check_errors(id, expected, body);
    }
    let lines = body["lines"].as_array().ok_or(format!("{id}: no lines"))?;
    let wanted = expected["lines"]
        .as_array()
        .ok_or(format!("{id}: no expected lines"))?;
    for e in wanted {
        let found: Vec<&Value> = lines.iter().filter(|a| same_line(a, e)).collect();
        let [line] = found.as_slice() else {
            return Err(format!("{id}: {} lines match {e}: {body}", found.len()));
        };
        contains(line, e, &format!("{id} {}", e["code"]))?;
        let ok = |k: &str| line[k].as_array().is_some_and(|l| !l.is_empty());
        if !ok("legal_basis") || !ok("explanation") {
            return Err(format!(
                "{id}: a line without legal basis or explanation: {line}"
            ));
        }
    }
    let extra = |code: &Value| {
        expected["allow_extra"]
            .as_array()
            .is_some_and(|a| a.contains(code))
    };
    let unlisted: Vec<&Value> = lines
        .iter()
        .filter(|a| !wanted.iter().any(|e| same_line(a, e)) && !extra(&a["code"]))
        .collect();
    if !unlisted.is_empty() {
        return Err(format!("{id}: unexpected lines {unlisted:?}"));
    }
    for code in expected["forbid"].as_array().into_iter().flatten() {
        if lines.iter().any(|l| l["code"] == *code) {
            return Err(format!("{id}: forbidden line {code}"));
        }
    }
    for word in expected["warnings_mention"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let word = word.as_str().unwrap_or_default();
        let warned = body["warnings"].as_array().is_some_and(|w| {
            w.iter()
                .any(|w| w.as_str().is_some_and(|w| w.contains(word)))
        });
        if !warned {
            return Err(format!("{id}: no warning mentions {word}: {body}"));
        }
    }
    let total: i64 = lines.iter().filter_map(|l| l["amount"].as_i64()).sum();
    if body["total"].as_i64() != Some(total) {
        return Err(format!("{id}: total is not the sum of the lines"));
    }
    Ok(())
}

fn check_errors(id: &str, expected: &Value, body: &Value) -> Result<(), String> {
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["field"].as_str())
        .collect();
    for f in expected["error_fields"].as_array().into_iter().flatten() {
        let f = f.as_str().unwrap_or_default();
        if !fields.contains(&f) {
            return Err(format!("{id}: no error for {f}: {body}"));
        }
    }
    let text = body.to_string();
    for word in expected["body_mentions"].as_array().into_iter().flatten() {
        if !text.contains(word.as_str().unwrap_or_default()) {
            return Err(format!("{id}: the errors do not mention {word}: {body}"));
        }
    }
    Ok(())
}
