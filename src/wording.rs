//! The project's words for input problems: what a JSON parser reports ("invalid type: floating
//! point `1.5`, expected i64") is turned into a field path and a message a portal developer can
//! act on ("must be a whole number of đồng (a JSON integer)").

use crate::error::FieldError;

/// The one message for money that is not a JSON integer, wherever money is read.
pub const MONEY_MESSAGE: &str = "must be a whole number of đồng (a JSON integer)";

/// What a money field expects, as serde's `expecting` text: a type error on such a field then
/// reads "must be " followed by this.
pub const MONEY_EXPECTED: &str = "a whole number of đồng (a JSON integer)";

/// "must be one of: a, b, c".
pub fn one_of<I, S>(allowed: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let names: Vec<String> = allowed.into_iter().map(|s| s.as_ref().to_owned()).collect();
    format!("must be one of: {}", names.join(", "))
}

/// Turns one serde data error at `path` ("." or "" for the whole body, `lines[0]`, …) into a
/// field error: a missing field is named by its own path, types and enums in the project's words.
pub fn field_error(path: &str, message: &str) -> FieldError {
    let parent = match path {
        "." | "" => "",
        p => p,
    };
    let message = strip_position(message);
    if let Some(name) = between_ticks(&message, "missing field ") {
        return FieldError::new(join(parent, &name), "is required");
    }
    if let Some(name) = between_ticks(&message, "unknown field ") {
        let field = if parent.ends_with(&name) {
            parent.to_owned()
        } else {
            join(parent, &name)
        };
        return FieldError::new(field, "is not a known field");
    }
    if let Some(name) = between_ticks(&message, "duplicate field ") {
        return FieldError::new(join(parent, &name), "is given twice");
    }
    let field = if parent.is_empty() { "body" } else { parent };
    FieldError::new(field, value_message(&message))
}

/// The message for a value of the wrong type or outside an enum, without the field.
pub fn value_message(message: &str) -> String {
    let message = strip_position(message);
    if message.starts_with("unknown variant ") {
        return one_of(ticked(message.split_once("expected ").map_or("", |p| p.1)));
    }
    if let Some(expected) = message
        .strip_prefix("invalid type: ")
        .or_else(|| message.strip_prefix("invalid value: "))
        .and_then(|rest| rest.rsplit_once(", expected ").map(|p| p.1))
    {
        return must_be(expected);
    }
    // What Rust's integer parsing says of a query value such as `limit=ten`.
    if message.contains("invalid digit")
        || message.contains("parse integer")
        || message.contains("number too large")
        || message.contains("number too small")
    {
        return "must be an integer".to_owned();
    }
    if message.starts_with("invalid length ") {
        return "has the wrong number of items".to_owned();
    }
    message.to_owned()
}

/// "expected i64" → "must be an integer", in the project's words.
fn must_be(expected: &str) -> String {
    let expected = expected.trim();
    let words = match expected {
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" => "an integer",
        "u8" | "u16" | "u32" | "u64" | "u128" | "usize" => "a whole number >= 0",
        "f32" | "f64" => "a number",
        "a string" | "a borrowed string" | "a character" => "a string",
        "a boolean" => "true or false",
        "a sequence" | "a tuple" => "a list",
        "a map" => "an object",
        "unit" => "null",
        e if e.starts_with("struct ") => "an object",
        e if e.starts_with("variant identifier") => "one of the listed values",
        e => e,
    };
    format!("must be {words}")
}

fn strip_position(message: &str) -> String {
    match message.find(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// `prefix `name` …` → `name`.
fn between_ticks(message: &str, prefix: &str) -> Option<String> {
    let rest = message.strip_prefix(prefix)?;
    ticked(rest).into_iter().next()
}

/// Every `…` quoted word of a serde message, in order.
fn ticked(text: &str) -> Vec<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

fn join(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_owned()
    } else {
        format!("{parent}.{name}")
    }
}

/// `#[serde(deserialize_with = "crate::wording::whole_dong")]` on an `i64` money field: accepts
/// only a JSON integer, and says so in [`MONEY_MESSAGE`]'s words otherwise.
pub fn whole_dong<'de, D: serde::Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    struct Dong;
    impl serde::de::Visitor<'_> for Dong {
        type Value = i64;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(MONEY_EXPECTED)
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<i64, E> {
            Ok(v)
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<i64, E> {
            i64::try_from(v)
                .map_err(|_| E::invalid_value(serde::de::Unexpected::Unsigned(v), &MONEY_EXPECTED))
        }
    }
    d.deserialize_i64(Dong)
}

/// NUL and the other C0 controls (TAB, LF and CR aside) and DEL are never data here.
pub fn is_forbidden_char(c: char) -> bool {
    (c < ' ' && !matches!(c, '\t' | '\n' | '\r')) || c == '\u{7f}'
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fe(path: &str, message: &str) -> (String, String) {
        let e = field_error(path, message);
        (e.field, e.message)
    }

    #[test]
    fn missing_fields_are_named_by_their_own_path() {
        assert_eq!(
            fe(".", "missing field `payer` at line 1 column 2").0,
            "payer"
        );
        assert_eq!(
            fe("lines[0]", "missing field `amount`"),
            ("lines[0].amount".into(), "is required".into())
        );
    }

    #[test]
    fn types_and_enums_read_in_the_projects_words() {
        assert_eq!(
            fe("payer.name", "invalid type: integer `5`, expected a string").1,
            "must be a string"
        );
        assert_eq!(
            fe("x", "invalid type: floating point `1.5`, expected a whole number of đồng (a JSON integer)").1,
            MONEY_MESSAGE
        );
        assert_eq!(
            fe("kind", "unknown variant `x`, expected one of `a`, `b`, `c`").1,
            "must be one of: a, b, c"
        );
        assert_eq!(
            fe("kind", "unknown variant `x`, expected `a` or `b`").1,
            "must be one of: a, b"
        );
        assert_eq!(
            fe("items", "invalid type: map, expected a sequence").1,
            "must be a list"
        );
    }

    #[test]
    fn money_refuses_floats_and_strings() {
        #[derive(serde::Deserialize, Debug)]
        struct M {
            #[serde(deserialize_with = "whole_dong")]
            #[allow(dead_code)]
            amount: i64,
        }
        for body in [r#"{"amount": 35000000.0}"#, r#"{"amount": "35000000"}"#] {
            let err = serde_json::from_str::<M>(body).expect_err(body);
            assert_eq!(value_message(&err.to_string()), MONEY_MESSAGE, "{body}");
        }
        assert!(serde_json::from_str::<M>(r#"{"amount": 35000000}"#).is_ok());
    }
}
