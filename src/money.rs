//! Money: whole đồng, the one rounding rule, and Vietnamese number formatting.
//!
//! VND has no minor unit. Amounts are `Vnd(i64)`; rates and unit prices are exact
//! `rust_decimal::Decimal`. Rounding happens in exactly one place, [`round_half_up`],
//! once per obligation line (domain spec §1.1).
#![warn(clippy::float_arithmetic)]

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

/// An amount of money in whole đồng. Serialized as a JSON integer.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Vnd(i64);

impl Vnd {
    pub const ZERO: Vnd = Vnd(0);

    pub const fn new(dong: i64) -> Self {
        Vnd(dong)
    }

    pub const fn dong(self) -> i64 {
        self.0
    }

    pub fn checked_add(self, other: Vnd) -> Option<Vnd> {
        self.0.checked_add(other.0).map(Vnd)
    }

    pub fn checked_sub(self, other: Vnd) -> Option<Vnd> {
        self.0.checked_sub(other.0).map(Vnd)
    }

    pub fn is_negative(self) -> bool {
        self.0 < 0
    }

    /// The exact value as a decimal, for further computation.
    pub fn to_decimal(self) -> Decimal {
        Decimal::from(self.0)
    }
}

impl std::fmt::Display for Vnd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&format_vnd_plain(self.0))
    }
}

/// The amount does not fit in whole đồng (`i64`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("amount {0} does not fit in whole đồng")]
pub struct MoneyOverflow(pub String);

/// THE rounding rule: half-up to whole đồng (midpoint away from zero; amounts are
/// never negative). No provision fixes a mode (spec §1.1, UNCERTAIN); half-up on the
/// final amount of each line is the recommended reading. Call it once per line.
pub fn round_half_up(exact: Decimal) -> Result<Vnd, MoneyOverflow> {
    let rounded = exact.round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero);
    i64::try_from(rounded)
        .map(Vnd)
        .map_err(|_| MoneyOverflow(exact.to_string()))
}

/// `7000000000` → `"7.000.000.000"` (dot as thousands separator).
pub fn format_vnd_plain(dong: i64) -> String {
    format_vnd_sum(i128::from(dong))
}

/// A sum of many amounts (kept in 128 bits) in the same format.
pub fn format_vnd_sum(dong: i128) -> String {
    let mut digits = itoa::Buffer::new();
    let digits = digits.format(dong.unsigned_abs()).as_bytes();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if dong < 0 {
        out.push('-');
    }
    push_grouped(&mut out, digits);
    out
}

/// Pushes ASCII `digits` with a dot before every group of three counted from the right.
fn push_grouped(out: &mut String, digits: &[u8]) {
    let head = match digits.len() % 3 {
        0 => 3.min(digits.len()),
        n => n,
    };
    let (first, rest) = digits.split_at(head);
    out.extend(first.iter().map(|&d| char::from(d)));
    for group in rest.chunks(3) {
        out.push('.');
        out.extend(group.iter().map(|&d| char::from(d)));
    }
}

/// A decimal in Vietnamese notation: dot thousands, comma decimal separator,
/// trailing zeros dropped: `1.5` → `"1,5"`, `4285714.2857` → `"4.285.714,2857"`.
///
/// Written from the decimal's integer mantissa and scale: no intermediate text, as it runs
/// for every figure of every explanation of a quote.
pub fn format_decimal(value: Decimal) -> String {
    // `normalize` drops trailing zeros and makes -0 plain 0.
    let value = value.normalize();
    let scale = usize::try_from(value.scale()).unwrap_or(0);
    let mut digits = itoa::Buffer::new();
    let digits = digits.format(value.mantissa().unsigned_abs()).as_bytes();
    // Below 1, the mantissa has fewer digits than the scale: `0,` and leading zeros.
    let (int, frac_zeros, frac) = if digits.len() > scale {
        let (int, frac) = digits.split_at(digits.len() - scale);
        (int, 0, frac)
    } else {
        (&b"0"[..], scale - digits.len(), digits)
    };
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + frac_zeros + 3);
    if value.is_sign_negative() {
        out.push('-');
    }
    push_grouped(&mut out, int);
    if scale > 0 {
        out.push(',');
        out.extend(std::iter::repeat_n('0', frac_zeros));
        out.extend(frac.iter().map(|&d| char::from(d)));
    }
    out
}

/// Like [`format_decimal`] but cut to `dp` decimal places for display, with `…`
/// when digits were dropped. Display only: never feeds a computation.
pub fn format_decimal_approx(value: Decimal, dp: u32) -> String {
    let cut = value.round_dp_with_strategy(dp, RoundingStrategy::ToZero);
    if cut == value {
        format_decimal(value)
    } else {
        let mut text = format_decimal(cut);
        text.push('…');
        text
    }
}

/// A fraction as a percentage: `0.005` → `"0,5%"`, `0.7` → `"70%"`.
pub fn format_percent(fraction: Decimal) -> String {
    let mut text = format_decimal(fraction * Decimal::ONE_HUNDRED);
    text.push('%');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn rounds_half_up_once() {
        assert_eq!(round_half_up(dec!(35714285.714285)), Ok(Vnd(35714286)));
        assert_eq!(round_half_up(dec!(0.5)), Ok(Vnd(1)));
        assert_eq!(round_half_up(dec!(0.4999)), Ok(Vnd(0)));
        assert_eq!(round_half_up(dec!(8571428571.428)), Ok(Vnd(8571428571)));
        assert!(round_half_up(dec!(1e20)).is_err());
    }

    #[test]
    fn formats_vietnamese_numbers() {
        assert_eq!(format_vnd_plain(7_000_000_000), "7.000.000.000");
        assert_eq!(format_vnd_plain(0), "0");
        assert_eq!(format_vnd_plain(-1234), "-1.234");
        assert_eq!(format_vnd_plain(999), "999");
        assert_eq!(format_decimal(dec!(1.50)), "1,5");
        assert_eq!(format_decimal(dec!(4285714.2857)), "4.285.714,2857");
        assert_eq!(format_percent(dec!(0.005)), "0,5%");
        assert_eq!(format_percent(dec!(0.0003)), "0,03%");
        assert_eq!(format_percent(dec!(0.7)), "70%");
        assert_eq!(format_decimal_approx(dec!(2) / dec!(3), 2), "0,66…");
    }

    /// The notation written the long way, from the decimal's own text: the reference the
    /// digit-by-digit formatting must agree with.
    fn reference_notation(value: Decimal) -> String {
        let text = value.normalize().to_string();
        let (sign, unsigned) = match text.strip_prefix('-') {
            Some(rest) => ("-", rest),
            None => ("", text.as_str()),
        };
        let group = |int: &str| {
            let mut out = String::new();
            for (i, ch) in int.chars().enumerate() {
                if i > 0 && (int.len() - i).is_multiple_of(3) {
                    out.push('.');
                }
                out.push(ch);
            }
            out
        };
        match unsigned.split_once('.') {
            Some((int, frac)) => format!("{sign}{},{frac}", group(int)),
            None => format!("{sign}{}", group(unsigned)),
        }
    }

    #[test]
    fn edges_of_the_notation() {
        assert_eq!(format_decimal(dec!(0)), "0");
        assert_eq!(format_decimal(dec!(-0.000)), "0");
        assert_eq!(format_decimal(dec!(0.05)), "0,05");
        assert_eq!(format_decimal(dec!(-0.0001)), "-0,0001");
        assert_eq!(format_decimal(dec!(100)), "100");
        assert_eq!(format_decimal(dec!(1000)), "1.000");
        assert_eq!(format_decimal(dec!(100000.10)), "100.000,1");
        assert_eq!(format_decimal(dec!(-1234567.5)), "-1.234.567,5");
        assert_eq!(
            format_decimal(Decimal::MAX),
            "79.228.162.514.264.337.593.543.950.335"
        );
        assert_eq!(format_vnd_plain(i64::MIN), "-9.223.372.036.854.775.808");
        assert_eq!(format_vnd_sum(-1_000_000), "-1.000.000");
        assert_eq!(format_vnd_sum(i128::MAX).len(), 39 + 12);
    }

    proptest::proptest! {
        #[test]
        fn notation_agrees_with_the_decimals_own_text(lo: u32, mid: u32, hi: u32, negative: bool, scale in 0u32..=28) {
            let value = Decimal::from_parts(lo, mid, hi, negative, scale);
            proptest::prop_assert_eq!(format_decimal(value), reference_notation(value));
        }

        #[test]
        fn small_decimals_agree_too(mantissa in -10_000_000i64..10_000_000, scale in 0u32..=10) {
            let value = Decimal::new(mantissa, scale);
            proptest::prop_assert_eq!(format_decimal(value), reference_notation(value));
        }

        #[test]
        fn whole_dong_agree_with_their_decimal(dong: i64) {
            proptest::prop_assert_eq!(format_vnd_plain(dong), reference_notation(Decimal::from(dong)));
        }
    }

    #[test]
    fn checked_arithmetic() {
        assert_eq!(Vnd(1).checked_add(Vnd(2)), Some(Vnd(3)));
        assert_eq!(Vnd(i64::MAX).checked_add(Vnd(1)), None);
        assert_eq!(Vnd(1).checked_sub(Vnd(2)), Some(Vnd(-1)));
        assert_eq!(serde_json::to_string(&Vnd(5)).ok(), Some("5".to_string()));
    }
}
