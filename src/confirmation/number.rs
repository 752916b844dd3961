//! Confirmation numbers: `XN-` and twelve Crockford base-32 characters in groups of four
//! (60 random bits), so they can be neither guessed nor enumerated; the unique index of the
//! store keeps them unique across the service.

use rand::Rng;

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A fresh number: `XN-7K2M-9QHD-4RTA`.
pub fn new_confirmation_no() -> String {
    let mut rng = rand::thread_rng();
    let mut out = String::from("XN");
    for i in 0..12 {
        if i % 4 == 0 {
            out.push('-');
        }
        out.push(char::from(ALPHABET[rng.gen_range(0..32)]));
    }
    out
}

/// The number as typed by a person (any case, spaces, `O` for `0`, `I`/`L` for `1`), in its
/// one written form; `None` when it cannot be a confirmation number.
pub fn normalise(text: &str) -> Option<String> {
    let mut chars: Vec<char> = Vec::with_capacity(14);
    for c in text.chars() {
        match c.to_ascii_uppercase() {
            '-' | ' ' => {}
            'O' => chars.push('0'),
            'I' | 'L' => chars.push('1'),
            c if c.is_ascii() && ALPHABET.contains(&u8::try_from(c).ok()?) => chars.push(c),
            _ => return None,
        }
        if chars.len() > 14 {
            return None;
        }
    }
    // `XN` itself went through the same mapping.
    if chars.len() != 14 || chars[0] != 'X' || chars[1] != 'N' {
        return None;
    }
    let body: String = chars[2..].iter().collect();
    Some(format!(
        "XN-{}-{}-{}",
        &body[0..4],
        &body[4..8],
        &body[8..12]
    ))
}

#[cfg(test)]
mod tests {
    use super::{new_confirmation_no, normalise};

    #[test]
    fn numbers_have_one_written_form() {
        let no = new_confirmation_no();
        assert_eq!(no.len(), 17, "{no}");
        assert_eq!(normalise(&no).as_deref(), Some(no.as_str()));
        assert_eq!(normalise(&no.to_lowercase()).as_deref(), Some(no.as_str()));
        assert_eq!(
            normalise(&no.replace('-', "")).as_deref(),
            Some(no.as_str())
        );
        assert_eq!(
            normalise("xn-7k2m-9qhd-4rto").as_deref(),
            Some("XN-7K2M-9QHD-4RT0")
        );
        assert_ne!(new_confirmation_no(), new_confirmation_no());
    }

    #[test]
    fn anything_else_is_not_a_number() {
        for text in [
            "",
            "XN",
            "XN-7K2M-9QHD-4RT",
            "XN-7K2M-9QHD-4RTAA",
            "AB-7K2M-9QHD-4RTA",
            "XN-7K2M-9QHD-4RT\0",
            "XN-7K2M-9QHD-4RTU",
            "XN-ĐK2M-9QHD-4RTA",
        ] {
            assert_eq!(normalise(text), None, "{text:?}");
        }
    }
}
