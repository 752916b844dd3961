//! Checks of the reference tables: validity periods, change list, tiers.
#![warn(clippy::float_arithmetic)]

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;

use crate::obligations::rule_types::{Change, TierRule};
use crate::obligations::rules::{Row, RuleError, Table};

pub fn invalid(table: &str, message: &str) -> RuleError {
    RuleError::Invalid {
        table: table.to_string(),
        message: message.to_string(),
    }
}

/// Tiers: every tier but the last has an increasing `quota_multiple`; the last has none.
pub fn check_tiers(table: &str, tiers: &[TierRule]) -> Result<(), RuleError> {
    let Some((last, rest)) = tiers.split_last() else {
        return Err(invalid(table, "no tiers"));
    };
    if last.quota_multiple.is_some() {
        return Err(invalid(table, "the last tier must have no quota_multiple"));
    }
    let mut previous = None;
    for tier in rest {
        match (previous, tier.quota_multiple) {
            (_, None) => return Err(invalid(table, "only the last tier may be open")),
            (Some(p), Some(m)) if m <= p => {
                return Err(invalid(table, "quota_multiple must increase"))
            }
            (_, Some(m)) => previous = Some(m),
        }
    }
    Ok(())
}

/// Validates validity periods against each other and against the change list.
pub struct ChangeCheck {
    first: NaiveDate,
    dates: BTreeSet<NaiveDate>,
}

impl ChangeCheck {
    pub fn new(changes: &[Change]) -> Result<Self, RuleError> {
        let table = "changes.change";
        let first = changes
            .first()
            .ok_or_else(|| invalid(table, "no rule-set changes"))?
            .valid_from;
        for pair in changes.windows(2) {
            if pair[1].valid_from <= pair[0].valid_from {
                return Err(invalid(table, "changes must be in ascending date order"));
            }
        }
        let dates = changes.iter().map(|c| c.valid_from).collect();
        Ok(ChangeCheck { first, dates })
    }

    pub fn table<T>(&self, name: &str, rows: Vec<Row<T>>) -> Result<Table<T>, RuleError> {
        for row in &rows {
            self.check_row(name, row)?;
        }
        for pair in rows.windows(2) {
            let (a, b) = (&pair[0], &pair[1]);
            match a.valid_to {
                None => {
                    return Err(invalid(
                        name,
                        &format!(
                            "row from {} is open-ended but a later row starts {}",
                            a.valid_from, b.valid_from
                        ),
                    ))
                }
                Some(to) if to >= b.valid_from => {
                    return Err(invalid(
                        name,
                        &format!(
                            "rows from {} and {} overlap or are out of order",
                            a.valid_from, b.valid_from
                        ),
                    ))
                }
                Some(_) => {}
            }
        }
        Ok(Table {
            name: name.to_string(),
            rows,
        })
    }

    fn check_row<T>(&self, name: &str, row: &Row<T>) -> Result<(), RuleError> {
        if row.legal_basis.iter().all(|b| b.trim().is_empty()) {
            return Err(invalid(
                name,
                &format!("row from {} has no legal_basis", row.valid_from),
            ));
        }
        if row.valid_to.is_some_and(|to| to < row.valid_from) {
            return Err(invalid(
                name,
                &format!("row from {} ends before it starts", row.valid_from),
            ));
        }
        if row.valid_from >= self.first && !self.dates.contains(&row.valid_from) {
            return Err(invalid(
                name,
                &format!(
                    "row from {} does not start on a change listed in changes.toml",
                    row.valid_from
                ),
            ));
        }
        Ok(())
    }

    pub fn by_province<T>(
        &self,
        name: &str,
        rows: Vec<Row<T>>,
        key: impl Fn(&T) -> String,
    ) -> Result<BTreeMap<String, Table<T>>, RuleError> {
        let mut grouped: BTreeMap<String, Vec<Row<T>>> = BTreeMap::new();
        for row in rows {
            grouped.entry(key(&row.values)).or_default().push(row);
        }
        grouped
            .into_iter()
            .map(|(code, rows)| {
                let table = self.table(&format!("{name}[{code}]"), rows)?;
                Ok((code, table))
            })
            .collect()
    }
}
