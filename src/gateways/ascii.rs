//! Free text → plain ASCII for the text fields sent to gateways.
//!
//! VNPay requires `vnp_OrderInfo` in "Tiếng Việt không dấu và không bao gồm các ký tự đặc
//! biệt"; and the URL-encoders used by VNPay's own samples disagree on everything outside
//! `[A-Za-z0-9 ,.:_/#-]`, so text restricted to that set signs the same
//! bytes whichever encoder the other side runs.

/// Base letters for precomposed Latin letters with diacritics (Vietnamese first, then the
/// rest of Latin-1/Latin Extended-A that names and addresses commonly carry).
const FOLDS: &[(&str, char)] = &[
    ("àáảãạăằắẳẵặâầấẩẫậäåāą", 'a'),
    ("ÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬÄÅĀĄ", 'A'),
    ("èéẻẽẹêềếểễệëēęě", 'e'),
    ("ÈÉẺẼẸÊỀẾỂỄỆËĒĘĚ", 'E'),
    ("ìíỉĩịîïī", 'i'),
    ("ÌÍỈĨỊÎÏĪ", 'I'),
    ("òóỏõọôồốổỗộơờớởỡợöøō", 'o'),
    ("ÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢÖØŌ", 'O'),
    ("ùúủũụưừứửữựûüūů", 'u'),
    ("ÙÚỦŨỤƯỪỨỬỮỰÛÜŪŮ", 'U'),
    ("ỳýỷỹỵÿ", 'y'),
    ("ỲÝỶỸỴŸ", 'Y'),
    ("đď", 'd'),
    ("ĐĎÐ", 'D'),
    ("çćč", 'c'),
    ("ÇĆČ", 'C'),
    ("ñńň", 'n'),
    ("ÑŃŇ", 'N'),
    ("śšş", 's'),
    ("ŚŠŞ", 'S'),
    ("źżž", 'z'),
    ("ŹŻŽ", 'Z'),
    ("ł", 'l'),
    ("Ł", 'L'),
    ("ř", 'r'),
    ("Ř", 'R'),
    ("ť", 't'),
    ("Ť", 'T'),
];

/// Combining diacritical marks (text that arrives already decomposed, NFD).
fn is_combining_mark(c: char) -> bool {
    matches!(c, '\u{0300}'..='\u{036F}')
}

fn fold_char(c: char) -> Option<char> {
    if c.is_ascii() {
        return Some(c);
    }
    FOLDS
        .iter()
        .find(|(accented, _)| accented.contains(c))
        .map(|(_, base)| *base)
}

/// Strips Vietnamese (and common Latin) diacritics, maps `đ/Đ` to `d/D`, turns non-ASCII
/// whitespace into a space and drops every other non-ASCII character.
///
/// `fold("Nguyễn Văn Đức") == "Nguyen Van Duc"`.
pub fn fold(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    for c in input.chars() {
        if is_combining_mark(c) {
            continue;
        }
        if let Some(folded) = fold_char(c) {
            out.push(folded);
        } else if c.is_whitespace() {
            out.push(' ');
        }
    }
    out
}

/// Characters every VNPay encoder flavour leaves identical.
fn is_gateway_safe(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, ' ' | ',' | '.' | ':' | '_' | '/' | '#' | '-')
}

/// Folds to ASCII, replaces everything outside `[A-Za-z0-9 ,.:_/#-]` by a space, collapses
/// runs of spaces, trims, and cuts to at most `max_len` characters (VNPay: 255).
pub fn sanitize(input: &str, max_len: usize) -> String {
    let folded = fold(input);
    let mut out = String::with_capacity(folded.len());
    for c in folded.chars() {
        let c = if is_gateway_safe(c) { c } else { ' ' };
        if c == ' ' && (out.is_empty() || out.ends_with(' ')) {
            continue;
        }
        out.push(c);
    }
    out.truncate(max_len.min(out.len()));
    out.trim_end().to_owned()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn folds_vietnamese_names() {
        assert_eq!(fold("Nguyễn Văn Đức"), "Nguyen Van Duc");
        assert_eq!(
            fold("Nộp tiền sử dụng đất thửa 123 tờ 45"),
            "Nop tien su dung dat thua 123 to 45"
        );
        assert_eq!(fold("ĐẶNG THỊ HỒNG NHUNG"), "DANG THI HONG NHUNG");
        assert_eq!(fold("Lệ phí trước bạ"), "Le phi truoc ba");
    }

    #[test]
    fn folds_decomposed_text_and_drops_other_scripts() {
        // "Đức" in NFD: D-stroke stays precomposed, u + horn + acute are combining.
        assert_eq!(fold("\u{0110}u\u{031B}\u{0301}c"), "Duc");
        assert_eq!(fold("Hà Nội 🏠 北京"), "Ha Noi  ");
        assert_eq!(fold("a\u{00A0}b"), "a b");
    }

    #[test]
    fn sanitize_keeps_only_encoder_neutral_characters() {
        assert_eq!(
            sanitize("Thanh toán (lệ phí)*2 ~ ok! 'A'", 255),
            "Thanh toan le phi 2 ok A"
        );
        assert_eq!(
            sanitize("Hồ sơ 000.00.12.H01-250115-0001: #1, a_b/c", 255),
            "Ho so 000.00.12.H01-250115-0001: #1, a_b/c"
        );
        assert_eq!(sanitize("  a   b  ", 255), "a b");
        assert_eq!(sanitize("abc def", 4), "abc");
        assert_eq!(sanitize("", 10), "");
    }
}
