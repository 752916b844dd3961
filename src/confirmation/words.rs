//! A sum of đồng in words, as written under the figures on a payment confirmation: Vietnamese
//! by the ordinary reading rules (mốt, lăm, tư, linh, "không trăm" inside a number, nghìn,
//! triệu, tỷ, and "nghìn tỷ" above) and English (short scale, no "and").

const VI_DIGITS: [&str; 10] = [
    "không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín",
];

/// Reads a group of three digits; `leading` when nothing was read before it (no "không trăm").
fn vi_triple(n: u64, leading: bool, out: &mut Vec<&'static str>) {
    let (h, t, u) = (n / 100, n / 10 % 10, n % 10);
    let digit = |d: u64| VI_DIGITS[usize::try_from(d).unwrap_or(0)];
    if !leading || h > 0 {
        out.extend([digit(h), "trăm"]);
    }
    match (t, u) {
        (0, 0) => {}
        (0, u) if !leading || h > 0 => out.extend(["linh", digit(u)]),
        (0, u) => out.push(digit(u)),
        (1, u) => {
            out.push("mười");
            match u {
                0 => {}
                5 => out.push("lăm"),
                u => out.push(digit(u)),
            }
        }
        (t, u) => {
            out.extend([digit(t), "mươi"]);
            match u {
                0 => {}
                1 => out.push("mốt"),
                4 => out.push("tư"),
                5 => out.push("lăm"),
                u => out.push(digit(u)),
            }
        }
    }
}

/// Below a billion; `leading` when nothing was read before it.
fn vi_below_billion(n: u64, leading: bool, out: &mut Vec<&'static str>) {
    let mut first = leading;
    for (scale, name) in [
        (1_000_000, Some("triệu")),
        (1_000, Some("nghìn")),
        (1, None),
    ] {
        let group = n / scale % 1000;
        if group == 0 {
            continue;
        }
        vi_triple(group, first, out);
        out.extend(name);
        first = false;
    }
}

fn vi_words(n: u64, out: &mut Vec<&'static str>) {
    const BILLION: u64 = 1_000_000_000;
    if n >= BILLION {
        vi_words(n / BILLION, out);
        out.push("tỷ");
        if !n.is_multiple_of(BILLION) {
            vi_below_billion(n % BILLION, false, out);
        }
    } else {
        vi_below_billion(n, true, out);
    }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// `Một trăm bảy mươi lăm triệu đồng`
pub fn vietnamese(dong: i64) -> String {
    let n = dong.unsigned_abs();
    let mut words = Vec::new();
    if n == 0 {
        words.push("không");
    } else {
        vi_words(n, &mut words);
    }
    let text = format!("{} đồng", words.join(" "));
    if dong < 0 {
        format!("Âm {text}")
    } else {
        capitalised(&text)
    }
}

const EN_SMALL: [&str; 20] = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
];
const EN_TENS: [&str; 10] = [
    "", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
];

fn en_triple(n: u64, out: &mut Vec<String>) {
    let at = |d: u64| usize::try_from(d).unwrap_or(0);
    let (h, rest) = (n / 100, n % 100);
    if h > 0 {
        out.push(format!("{} hundred", EN_SMALL[at(h)]));
    }
    match rest {
        0 => {}
        1..=19 => out.push(EN_SMALL[at(rest)].to_owned()),
        _ if rest.is_multiple_of(10) => out.push(EN_TENS[at(rest / 10)].to_owned()),
        _ => out.push(format!(
            "{}-{}",
            EN_TENS[at(rest / 10)],
            EN_SMALL[at(rest % 10)]
        )),
    }
}

/// `One hundred seventy-five million dong`
pub fn english(dong: i64) -> String {
    const SCALES: [&str; 7] = [
        "",
        "thousand",
        "million",
        "billion",
        "trillion",
        "quadrillion",
        "quintillion",
    ];
    let mut n = dong.unsigned_abs();
    let mut groups = Vec::new();
    while n > 0 {
        groups.push(n % 1000);
        n /= 1000;
    }
    let mut words = Vec::new();
    for (i, group) in groups.iter().enumerate().rev() {
        if *group == 0 {
            continue;
        }
        en_triple(*group, &mut words);
        if i > 0 {
            words.push(SCALES[i].to_owned());
        }
    }
    if words.is_empty() {
        words.push("zero".into());
    }
    let text = format!("{} dong", words.join(" "));
    if dong < 0 {
        format!("Minus {text}")
    } else {
        capitalised(&text)
    }
}

#[cfg(test)]
mod tests {
    use super::{english, vietnamese};

    #[test]
    fn vietnamese_follows_the_reading_rules() {
        let cases: &[(i64, &str)] = &[
            (0, "Không đồng"),
            (1, "Một đồng"),
            (5, "Năm đồng"),
            (10, "Mười đồng"),
            (11, "Mười một đồng"),
            (14, "Mười bốn đồng"),
            (15, "Mười lăm đồng"),
            (21, "Hai mươi mốt đồng"),
            (24, "Hai mươi tư đồng"),
            (25, "Hai mươi lăm đồng"),
            (55, "Năm mươi lăm đồng"),
            (100, "Một trăm đồng"),
            (101, "Một trăm linh một đồng"),
            (104, "Một trăm linh bốn đồng"),
            (105, "Một trăm linh năm đồng"),
            (110, "Một trăm mười đồng"),
            (115, "Một trăm mười lăm đồng"),
            (1_000, "Một nghìn đồng"),
            (1_005, "Một nghìn không trăm linh năm đồng"),
            (1_050, "Một nghìn không trăm năm mươi đồng"),
            (10_000, "Mười nghìn đồng"),
            (15_000, "Mười lăm nghìn đồng"),
            (21_000, "Hai mươi mốt nghìn đồng"),
            (391_500, "Ba trăm chín mươi mốt nghìn năm trăm đồng"),
            (1_000_005, "Một triệu không trăm linh năm đồng"),
            (1_005_000, "Một triệu không trăm linh năm nghìn đồng"),
            (1_250_000, "Một triệu hai trăm năm mươi nghìn đồng"),
            (2_345_000, "Hai triệu ba trăm bốn mươi lăm nghìn đồng"),
            (57_891_500, "Năm mươi bảy triệu tám trăm chín mươi mốt nghìn năm trăm đồng"),
            (175_000_000, "Một trăm bảy mươi lăm triệu đồng"),
            (1_000_000_000, "Một tỷ đồng"),
            (1_000_001_000, "Một tỷ không trăm linh một nghìn đồng"),
            (2_024_000_000, "Hai tỷ không trăm hai mươi tư triệu đồng"),
            (1_000_000_000_000, "Một nghìn tỷ đồng"),
            (
                9_223_372_036_854_775_807,
                "Chín tỷ hai trăm hai mươi ba triệu ba trăm bảy mươi hai nghìn không trăm ba mươi sáu tỷ \
                 tám trăm năm mươi tư triệu bảy trăm bảy mươi lăm nghìn tám trăm linh bảy đồng",
            ),
        ];
        for (n, words) in cases {
            assert_eq!(vietnamese(*n), *words, "{n}");
        }
    }

    #[test]
    fn english_reads_the_short_scale() {
        let cases: &[(i64, &str)] = &[
            (0, "Zero dong"),
            (7, "Seven dong"),
            (15, "Fifteen dong"),
            (21, "Twenty-one dong"),
            (100, "One hundred dong"),
            (105, "One hundred five dong"),
            (1_005_000, "One million five thousand dong"),
            (
                57_891_500,
                "Fifty-seven million eight hundred ninety-one thousand five hundred dong",
            ),
            (175_000_000, "One hundred seventy-five million dong"),
            (1_000_000_000_000, "One trillion dong"),
            (2_000_000_001, "Two billion one dong"),
        ];
        for (n, words) in cases {
            assert_eq!(english(*n), *words, "{n}");
        }
    }
}
