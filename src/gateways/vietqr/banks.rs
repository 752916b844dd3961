//! Bank names by NAPAS BIN, from the member list in `banks.csv`.

const LIST: &str = include_str!("banks.csv");

/// A NAPAS member bank.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bank {
    pub bin: &'static str,
    pub short_name: &'static str,
    pub name: &'static str,
}

/// The bank a BIN names, when it is on the list.
pub fn by_bin(bin: &str) -> Option<Bank> {
    LIST.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let mut cols = l.splitn(3, ',');
            Some(Bank {
                bin: cols.next()?,
                short_name: cols.next()?,
                name: cols.next()?,
            })
        })
        .find(|b| b.bin == bin)
}

/// `Vietcombank — Ngân hàng TMCP Ngoại thương Việt Nam`, or the BIN itself when unknown.
pub fn display_name(bin: &str) -> String {
    match by_bin(bin) {
        Some(b) => format!("{} — {}", b.short_name, b.name),
        None => format!("BIN {bin}"),
    }
}

#[cfg(test)]
mod tests {
    use super::{by_bin, display_name};

    #[test]
    fn every_row_has_six_digits_and_names() {
        for line in super::LIST.lines().filter(|l| !l.starts_with('#')) {
            let cols: Vec<&str> = line.splitn(3, ',').collect();
            assert_eq!(cols.len(), 3, "{line}");
            assert!(
                cols[0].len() == 6 && cols[0].bytes().all(|b| b.is_ascii_digit()),
                "{line}"
            );
            assert!(!cols[1].is_empty() && !cols[2].is_empty(), "{line}");
        }
    }

    #[test]
    fn names_the_bank_of_a_bin() {
        assert_eq!(by_bin("970436").map(|b| b.short_name), Some("Vietcombank"));
        assert_eq!(by_bin("970418").map(|b| b.short_name), Some("BIDV"));
        assert_eq!(by_bin("123456"), None);
        assert_eq!(display_name("123456"), "BIN 123456");
    }
}
