//! Reading a payment with its lines, attempts and flags in one query: the child rows come back
//! as JSON arrays built by the database (`json_agg` on PostgreSQL, `json_group_array` on
//! SQLite), so a read, and the snapshot an event carries, is one round trip instead of four.

use std::sync::LazyLock;

use super::payments::{
    AttemptRow, FlagRow, PaymentLineRow, PaymentRecord, PaymentRow, ATTEMPT_COLUMNS, FLAG_COLUMNS,
    LINE_COLUMNS, PAYMENT_COLUMNS,
};

/// `f('a', a, 'b', b, …)` for a column list.
fn object(f: &str, columns: &str) -> String {
    let pairs: Vec<String> = columns
        .split(',')
        .map(str::trim)
        .map(|c| format!("'{c}', {c}"))
        .collect();
    format!("{f}({})", pairs.join(", "))
}

/// (table, columns, order) of the child rows, in the order of [`PaymentLoadRow`]'s fields.
const CHILDREN: [(&str, &str, &str); 3] = [
    ("payment_line", LINE_COLUMNS, "position"),
    ("attempt", ATTEMPT_COLUMNS, "created_at, attempt_id"),
    ("payment_flag", FLAG_COLUMNS, "created_at, flag"),
];

const NAMES: [&str; 3] = ["lines_json", "attempts_json", "flags_json"];

fn load_sql(child: impl Fn(&str, &str, &str) -> String) -> String {
    let children: Vec<String> = CHILDREN
        .iter()
        .zip(NAMES)
        .map(|((table, columns, order), name)| {
            format!("{} as {name}", child(table, columns, order))
        })
        .collect();
    format!(
        "select {PAYMENT_COLUMNS}, {} from payment p where payment_id = $1",
        children.join(", ")
    )
}

pub static PG_LOAD: LazyLock<String> = LazyLock::new(|| {
    load_sql(|table, columns, order| {
        format!(
            "coalesce((select json_agg({} order by {order}) from {table} where payment_id = p.payment_id), '[]')::text",
            object("json_build_object", columns)
        )
    })
});

pub static SQLITE_LOAD: LazyLock<String> = LazyLock::new(|| {
    load_sql(|table, columns, order| {
        format!(
            "coalesce((select json_group_array({}) from (select * from {table} where payment_id = p.payment_id order by {order})), '[]')",
            object("json_object", columns)
        )
    })
});

#[derive(sqlx::FromRow)]
pub struct PaymentLoadRow {
    #[sqlx(flatten)]
    payment: PaymentRow,
    lines_json: String,
    attempts_json: String,
    flags_json: String,
}

fn decode<T: serde::de::DeserializeOwned>(json: &str) -> Result<T, sqlx::Error> {
    serde_json::from_str(json).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

impl PaymentLoadRow {
    pub fn into_record(self) -> Result<PaymentRecord, sqlx::Error> {
        let lines: Vec<PaymentLineRow> = decode(&self.lines_json)?;
        let attempts: Vec<AttemptRow> = decode(&self.attempts_json)?;
        let flags: Vec<FlagRow> = decode(&self.flags_json)?;
        Ok(PaymentRecord {
            payment: self.payment,
            lines,
            attempts,
            flags,
        })
    }
}
