//! Field-level JSON readers that collect [`FieldError`]s with JSON paths.
#![warn(clippy::float_arithmetic)]

use std::str::FromStr;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::money::Vnd;

pub use crate::error::FieldError;

/// Largest accepted decimal input (areas, prices): keeps every product far inside
/// `Decimal`'s range.
const MAX_DECIMAL: Decimal = dec!(1_000_000_000_000);
/// Largest accepted money input, 10^15 đồng.
const MAX_MONEY: i64 = 1_000_000_000_000_000;

/// What a decimal must satisfy.
#[derive(Debug, Clone, Copy)]
pub enum Bound {
    Positive,
    NonNegative,
    /// 0 < x ≤ 1
    Fraction,
    /// 0 ≤ x ≤ 100
    Percent,
}

pub fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

/// Collects errors while reading one JSON object.
#[derive(Debug, Default)]
pub struct Reader {
    pub errors: Vec<FieldError>,
}

impl Reader {
    pub fn fail(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, message));
    }

    /// The value read, or its error recorded against `field` (whose path is only written out
    /// for an error).
    fn settle<T>(
        &mut self,
        read: Result<T, impl Into<String>>,
        field: impl FnOnce() -> String,
    ) -> Option<T> {
        match read {
            Ok(v) => Some(v),
            Err(message) => {
                self.fail(field(), message);
                None
            }
        }
    }

    fn present<'v>(obj: &'v Map<String, Value>, key: &str) -> Option<&'v Value> {
        obj.get(key).filter(|v| !v.is_null())
    }

    /// A nested object; `None` when absent/null, error when not an object.
    pub fn object<'v>(
        &mut self,
        obj: &'v Map<String, Value>,
        prefix: &str,
        key: &str,
    ) -> Option<&'v Map<String, Value>> {
        let value = Self::present(obj, key)?;
        let map = value.as_object();
        if map.is_none() {
            self.fail(join(prefix, key), "must be an object");
        }
        map
    }

    pub fn required<T>(&mut self, value: Option<T>, present: bool, field: String) -> Option<T> {
        if value.is_none() && !present {
            self.fail(field, "is required");
        }
        value
    }

    pub fn decimal(
        &mut self,
        obj: &Map<String, Value>,
        prefix: &str,
        key: &str,
        bound: Bound,
    ) -> Option<Decimal> {
        let value = Self::present(obj, key)?;
        self.settle(checked_decimal(value, bound), || join(prefix, key))
    }

    pub fn req_decimal(
        &mut self,
        obj: &Map<String, Value>,
        prefix: &str,
        key: &str,
        bound: Bound,
    ) -> Option<Decimal> {
        let value = self.decimal(obj, prefix, key, bound);
        if value.is_none() && Self::present(obj, key).is_none() {
            self.fail(join(prefix, key), "is required");
        }
        value
    }

    pub fn decimal_value(&mut self, value: &Value, field: &str, bound: Bound) -> Option<Decimal> {
        self.settle(checked_decimal(value, bound), || field.to_owned())
    }

    /// Money: a JSON integer of whole đồng, > 0.
    pub fn money(&mut self, obj: &Map<String, Value>, prefix: &str, key: &str) -> Option<Vnd> {
        let value = Self::present(obj, key)?;
        let message = match value.as_i64() {
            Some(n) if n > 0 && n <= MAX_MONEY => return Some(Vnd::new(n)),
            Some(n) if n > MAX_MONEY => "is too large",
            Some(_) => "must be > 0",
            None => crate::wording::MONEY_MESSAGE,
        };
        self.fail(join(prefix, key), message);
        None
    }

    pub fn date(&mut self, obj: &Map<String, Value>, prefix: &str, key: &str) -> Option<NaiveDate> {
        let value = Self::present(obj, key)?;
        let parsed = value
            .as_str()
            .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok());
        if parsed.is_none() {
            self.fail(join(prefix, key), "must be a date YYYY-MM-DD");
        }
        parsed
    }

    pub fn boolean(&mut self, obj: &Map<String, Value>, prefix: &str, key: &str) -> Option<bool> {
        let value = Self::present(obj, key)?;
        let parsed = value.as_bool();
        if parsed.is_none() {
            self.fail(join(prefix, key), "must be true or false");
        }
        parsed
    }

    pub fn count(&mut self, obj: &Map<String, Value>, prefix: &str, key: &str) -> Option<u32> {
        let value = Self::present(obj, key)?;
        let parsed = value
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .filter(|n| *n <= 100_000);
        if parsed.is_none() {
            self.fail(join(prefix, key), "must be a whole number >= 0");
        }
        parsed
    }

    pub fn string(&mut self, obj: &Map<String, Value>, prefix: &str, key: &str) -> Option<String> {
        let value = Self::present(obj, key)?;
        let parsed = value.as_str().map(str::to_string);
        if parsed.is_none() {
            self.fail(join(prefix, key), "must be a string");
        }
        parsed
    }

    /// An enum value given by its snake_case name.
    pub fn choice<T: DeserializeOwned>(
        &mut self,
        obj: &Map<String, Value>,
        prefix: &str,
        key: &str,
    ) -> Option<T> {
        let value = Self::present(obj, key)?;
        self.settle(checked_choice(value), || join(prefix, key))
    }

    pub fn choice_value<T: DeserializeOwned>(&mut self, value: &Value, field: &str) -> Option<T> {
        self.settle(checked_choice(value), || field.to_owned())
    }
}

/// A decimal given as a string (or a JSON integer) within `bound`, or what is wrong with it.
fn checked_decimal(value: &Value, bound: Bound) -> Result<Decimal, &'static str> {
    let parsed = match value {
        Value::String(s) => Decimal::from_str(s.trim()).ok(),
        Value::Number(n) => n
            .as_i64()
            .map(Decimal::from)
            .or_else(|| n.as_u64().map(Decimal::from)),
        _ => None,
    };
    let d = parsed.ok_or("must be a decimal string such as \"100.5\"")?;
    let ok = match bound {
        Bound::Positive => d > Decimal::ZERO,
        Bound::NonNegative => d >= Decimal::ZERO,
        Bound::Fraction => d > Decimal::ZERO && d <= Decimal::ONE,
        Bound::Percent => d >= Decimal::ZERO && d <= Decimal::ONE_HUNDRED,
    };
    if !ok {
        return Err(match bound {
            Bound::Positive => "must be > 0",
            Bound::NonNegative => "must be >= 0",
            Bound::Fraction => "must be > 0 and <= 1",
            Bound::Percent => "must be between 0 and 100",
        });
    }
    if d > MAX_DECIMAL {
        return Err("is too large");
    }
    Ok(d)
}

/// An enum value given by its snake_case name, read straight from the string.
fn checked_choice<T: DeserializeOwned>(value: &Value) -> Result<T, String> {
    use serde::de::IntoDeserializer;
    let s = value
        .as_str()
        .ok_or_else(|| "must be a string".to_owned())?;
    let de: serde::de::value::StrDeserializer<'_, serde::de::value::Error> = s.into_deserializer();
    T::deserialize(de).map_err(|e| crate::wording::value_message(&e.to_string()))
}
