//! Collections by day, budget sub-item, gateway or agency: paid minus refunded, by line.
#![warn(clippy::float_arithmetic)]

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

/// What the report groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    Day,
    SubItem,
    Gateway,
    Agency,
}

impl GroupBy {
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "day" => Self::Day,
            "sub_item" => Self::SubItem,
            "gateway" => Self::Gateway,
            "agency" => Self::Agency,
            _ => return None,
        })
    }

    /// The key's name in the output (`agency` groups under `agency_code`).
    pub fn key_name(self) -> &'static str {
        match self {
            Self::Day => "day",
            Self::SubItem => "sub_item",
            Self::Gateway => "gateway",
            Self::Agency => "agency_code",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Day => "day",
            Self::SubItem => "sub_item",
            Self::Gateway => "gateway",
            Self::Agency => "agency",
        }
    }
}

/// Sums are kept in 128 bits: no number of 64-bit amounts this service can hold overflows them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub amount: i128,
    pub paid: i128,
    pub refunded: i128,
    pub count: u64,
    /// Money held on attempts whose money did not pay their order (duplicates, money after
    /// expiry, transfers of the wrong amount), net of its refunds.
    pub unapplied: i128,
}

/// Accumulates money lines under their key.
#[derive(Default)]
pub struct Collections {
    rows: BTreeMap<Option<String>, (Totals, BTreeSet<String>)>,
}

impl Collections {
    pub fn paid(&mut self, key: Option<String>, payment_id: &str, amount: i64) {
        let (t, payments) = self.rows.entry(key).or_default();
        t.paid += i128::from(amount);
        t.amount += i128::from(amount);
        if payments.insert(payment_id.to_owned()) {
            t.count += 1;
        }
    }

    pub fn refunded(&mut self, key: Option<String>, amount: i64) {
        let (t, _) = self.rows.entry(key).or_default();
        t.refunded += i128::from(amount);
        t.amount -= i128::from(amount);
    }

    /// Money that no order took, net of its refunds.
    pub fn unapplied(&mut self, key: Option<String>, amount: i64) {
        let (t, _) = self.rows.entry(key).or_default();
        t.unapplied += i128::from(amount);
    }

    pub fn finish(self) -> Vec<(Option<String>, Totals)> {
        self.rows.into_iter().map(|(k, (t, _))| (k, t)).collect()
    }
}

/// Splits a refund over an order's lines in proportion to their amounts, exactly: the parts
/// are whole đồng and add up to the refund (largest remainders get the leftover đồng).
pub fn split_refund(lines: &[i64], refund: i64) -> Vec<i64> {
    let total: i128 = lines.iter().map(|&l| i128::from(l)).sum();
    if total <= 0 {
        return vec![0; lines.len()];
    }
    let total_i = total;
    let mut parts: Vec<(usize, i64, i128)> = lines
        .iter()
        .enumerate()
        .map(|(i, &l)| {
            let exact = i128::from(l) * i128::from(refund);
            (
                i,
                i64::try_from(exact / total_i).unwrap_or(0),
                exact % total_i,
            )
        })
        .collect();
    let mut left = i128::from(refund) - parts.iter().map(|p| i128::from(p.1)).sum::<i128>();
    parts.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)));
    for p in parts.iter_mut() {
        if left == 0 {
            break;
        }
        p.1 += 1;
        left -= 1;
    }
    parts.sort_by_key(|p| p.0);
    parts.into_iter().map(|p| p.1).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_refund_splits_exactly() {
        assert_eq!(
            split_refund(&[45_000_000, 121_500], 45_121_500),
            vec![45_000_000, 121_500]
        );
        assert_eq!(split_refund(&[1, 1, 1], 2), vec![1, 1, 0]);
        assert_eq!(split_refund(&[300, 100], 100), vec![75, 25]);
    }

    proptest! {
        #[test]
        fn parts_add_up_and_never_exceed_a_line(lines in proptest::collection::vec(1i64..10_000_000_000, 1..8), pct in 0u32..=100) {
            let total: i64 = lines.iter().sum();
            let refund = total / 100 * i64::from(pct);
            let parts = split_refund(&lines, refund);
            prop_assert_eq!(parts.iter().sum::<i64>(), refund);
            for (p, l) in parts.iter().zip(&lines) {
                prop_assert!(*p >= 0 && p <= l);
            }
        }
    }

    #[test]
    fn collections_net_refunds_and_count_payments() {
        let mut c = Collections::default();
        c.paid(Some("2801".into()), "p1", 100);
        c.paid(Some("2801".into()), "p2", 50);
        c.paid(Some("2801".into()), "p2", 5);
        c.refunded(Some("2801".into()), 30);
        let rows = c.finish();
        assert_eq!(
            rows[0].1,
            Totals {
                amount: 125,
                paid: 155,
                refunded: 30,
                count: 2,
                unapplied: 0,
            }
        );
    }
}
