//! The confirmation as a PDF (A4), made in-process with the DejaVu Sans Condensed fonts
//! embedded (subset), so the text extracts with its diacritics exact.

use printpdf::{
    Color, IndirectFontRef, Mm, PdfDocument, PdfDocumentReference, PdfLayerReference, Rect, Rgb,
};
use qrcode::{Color as Module, QrCode};

use super::texts::{for_lang, ConfirmationTexts};
use super::Confirmation;
use crate::clock::vietnam;
use crate::money::format_vnd_plain;

const REGULAR: &[u8] = include_bytes!("../../assets/fonts/DejaVuSansCondensed.ttf");
const BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSansCondensed-Bold.ttf");

const PAGE_W: f32 = 210.0;
const PAGE_H: f32 = 297.0;
const MARGIN: f32 = 18.0;
/// Millimetres per point.
const PT: f32 = 0.3528;

/// Lays text out top-down over as many pages as it takes.
struct Writer {
    doc: PdfDocumentReference,
    layer: PdfLayerReference,
    regular: IndirectFontRef,
    bold: IndirectFontRef,
    y: f32,
}

impl Writer {
    fn new(title: &str) -> anyhow::Result<Self> {
        let (doc, page, layer) = PdfDocument::new(title, Mm(PAGE_W), Mm(PAGE_H), "main");
        let regular = doc.add_external_font_with_subsetting(REGULAR, true)?;
        let bold = doc.add_external_font_with_subsetting(BOLD, true)?;
        let layer = doc.get_page(page).get_layer(layer);
        Ok(Self {
            doc,
            layer,
            regular,
            bold,
            y: PAGE_H - MARGIN,
        })
    }

    /// Starts a new page when less than `mm` is left.
    fn room(&mut self, mm: f32) {
        if self.y - mm < MARGIN {
            let (page, layer) = self.doc.add_page(Mm(PAGE_W), Mm(PAGE_H), "main");
            self.layer = self.doc.get_page(page).get_layer(layer);
            self.y = PAGE_H - MARGIN;
        }
    }

    /// Writes `text` at `x`, wrapped to `width` mm, moving down; returns the lines used.
    fn text(&mut self, text: &str, size: f32, bold: bool, x: f32, width: f32) -> usize {
        let lines = wrap(text, size, width);
        let step = size * PT * 1.35;
        for line in &lines {
            self.room(step);
            self.y -= step;
            let font = if bold { &self.bold } else { &self.regular };
            self.layer
                .use_text(line.as_str(), size, Mm(x), Mm(self.y), font);
        }
        lines.len()
    }

    /// Writes cells side by side (x, width, text, right-aligned), the row as tall as its
    /// tallest cell.
    fn row(&mut self, cells: &[(f32, f32, &str, bool)], size: f32, bold: bool) {
        let step = size * PT * 1.35;
        let wrapped: Vec<Vec<String>> = cells.iter().map(|c| wrap(c.2, size, c.1)).collect();
        let tallest = wrapped.iter().map(Vec::len).max().unwrap_or(1);
        self.room(step * f32::from(u16::try_from(tallest).unwrap_or(1)));
        let top = self.y;
        for ((x, width, _, right), lines) in cells.iter().zip(&wrapped) {
            let mut y = top;
            for line in lines {
                y -= step;
                let shift = if *right {
                    width - text_width(line, size)
                } else {
                    0.0
                };
                let font = if bold { &self.bold } else { &self.regular };
                self.layer
                    .use_text(line.as_str(), size, Mm(x + shift), Mm(y), font);
            }
        }
        self.y = top - step * f32::from(u16::try_from(tallest).unwrap_or(1));
    }

    fn gap(&mut self, mm: f32) {
        self.y -= mm;
    }

    /// Draws a QR code of `text`, `size` mm wide, with its top right corner at the right margin.
    fn qr(&mut self, text: &str, size: f32) -> anyhow::Result<()> {
        let code = QrCode::new(text.as_bytes())?;
        let n = code.width();
        let module = size / f32::from(u16::try_from(n)?);
        self.room(size + 2.0);
        let (left, top) = (PAGE_W - MARGIN - size, self.y);
        self.layer
            .set_fill_color(Color::Rgb(Rgb::new(0.0, 0.0, 0.0, None)));
        for (i, colour) in code.to_colors().iter().enumerate() {
            if *colour != Module::Dark {
                continue;
            }
            let (col, row) = (
                f32::from(u16::try_from(i % n)?),
                f32::from(u16::try_from(i / n)?),
            );
            let x = left + col * module;
            let y = top - (row + 1.0) * module;
            self.layer
                .add_rect(Rect::new(Mm(x), Mm(y), Mm(x + module), Mm(y + module)));
        }
        Ok(())
    }
}

/// An estimate of the printed width in mm (DejaVu Sans Condensed averages about 0.55 em).
fn text_width(text: &str, size: f32) -> f32 {
    let chars = f32::from(u16::try_from(text.chars().count()).unwrap_or(u16::MAX));
    chars * size * PT * 0.55
}

/// Splits `text` into lines that fit `width` mm, at spaces (a word longer than a line is cut).
fn wrap(text: &str, size: f32, width: f32) -> Vec<String> {
    let per_char = size * PT * 0.55;
    let fit = (width / per_char).floor().max(1.0);
    let max = (1..=u16::MAX)
        .take_while(|n| f32::from(*n) <= fit)
        .last()
        .map_or(1, usize::from);
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let mut word: Vec<char> = word.chars().collect();
        while word.len() > max {
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            lines.push(word.drain(..max).collect());
        }
        let word: String = word.into_iter().collect();
        if line.is_empty() {
            line = word;
        } else if line.chars().count() + 1 + word.chars().count() <= max {
            line.push(' ');
            line.push_str(&word);
        } else {
            lines.push(std::mem::replace(&mut line, word));
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

fn label(key: &str, value: &str) -> String {
    format!("{key}: {value}")
}

/// The confirmation as PDF bytes.
pub fn render(c: &Confirmation) -> anyhow::Result<Vec<u8>> {
    let t = for_lang(c.lang);
    let mut w = Writer::new(&format!("{} {}", t.title, c.confirmation_no))?;
    let width = PAGE_W - 2.0 * MARGIN;
    w.text(&t.title.to_uppercase(), 16.0, true, MARGIN, width);
    w.text(
        &label(t.number, &c.confirmation_no),
        11.0,
        true,
        MARGIN,
        width,
    );
    w.gap(3.0);
    if let Some(agency) = &c.agency {
        w.text(&label(t.agency, &agency.name), 10.0, false, MARGIN, width);
        if let Some(a) = &agency.address {
            w.text(&label(t.address, a), 10.0, false, MARGIN, width);
        }
        if let Some(h) = &agency.hotline {
            w.text(&label(t.hotline, h), 10.0, false, MARGIN, width);
        }
    }
    let dash = "—".to_owned();
    w.text(
        &label(t.dossier, c.dossier.as_ref().unwrap_or(&dash)),
        10.0,
        false,
        MARGIN,
        width,
    );
    w.text(
        &label(t.payer, c.payer_name.as_ref().unwrap_or(&dash)),
        10.0,
        false,
        MARGIN,
        width,
    );
    lines(&mut w, c, t);
    facts(&mut w, c, t);
    w.gap(4.0);
    w.qr(&c.verify_url, 30.0)?;
    let beside_qr = width - 34.0;
    w.text(t.verify, 9.0, false, MARGIN, beside_qr);
    w.text(&c.verify_url, 9.0, true, MARGIN, beside_qr);
    w.text(t.verify_help, 9.0, false, MARGIN, beside_qr);
    w.text(t.issued_by, 8.0, false, MARGIN, beside_qr);
    Ok(w.doc.save_to_bytes()?)
}

/// Columns: chapter, sub-item, item, amount.
const COLS: [(f32, f32); 4] = [
    (MARGIN, 16.0),
    (MARGIN + 17.0, 18.0),
    (MARGIN + 36.0, 100.0),
    (MARGIN + 138.0, 36.0),
];

fn lines(w: &mut Writer, c: &Confirmation, t: &ConfirmationTexts) {
    for group in &c.groups {
        w.gap(3.0);
        let heading = match &group.notice_no {
            Some(no) => label(t.notice_no, no),
            None => t.other_items.to_owned(),
        };
        w.text(&heading, 10.5, true, MARGIN, PAGE_W - 2.0 * MARGIN);
        let head = [t.chapter, t.sub_item, t.item, t.amount];
        let cells: Vec<(f32, f32, &str, bool)> = COLS
            .iter()
            .zip(head)
            .enumerate()
            .map(|(i, ((x, wd), s))| (*x, *wd, s, i == 3))
            .collect();
        w.row(&cells, 9.0, true);
        for line in &group.lines {
            let name = match line.days {
                Some(days) => format!("{} ({days} {})", line.name, t.late_days),
                None => line.name.clone(),
            };
            let amount = format_vnd_plain(line.amount);
            let values = [
                line.chapter.as_deref().unwrap_or("—"),
                line.sub_item.as_deref().unwrap_or("—"),
                name.as_str(),
                amount.as_str(),
            ];
            let cells: Vec<(f32, f32, &str, bool)> = COLS
                .iter()
                .zip(values)
                .enumerate()
                .map(|(i, ((x, wd), s))| (*x, *wd, s, i == 3))
                .collect();
            w.row(&cells, 9.5, false);
        }
    }
    w.gap(2.0);
    let total = format_vnd_plain(c.total);
    w.row(
        &[
            (MARGIN, 120.0, t.total, false),
            (COLS[3].0, COLS[3].1, total.as_str(), true),
        ],
        11.0,
        true,
    );
    w.text(
        &label(t.in_words, &c.total_words),
        10.0,
        false,
        MARGIN,
        PAGE_W - 2.0 * MARGIN,
    );
}

fn facts(w: &mut Writer, c: &Confirmation, t: &ConfirmationTexts) {
    w.gap(3.0);
    let width = PAGE_W - 2.0 * MARGIN;
    let mut pairs: Vec<(&str, String)> = Vec::new();
    if let Some(g) = &c.gateway {
        pairs.push((t.gateway, g.clone()));
    }
    if let Some(no) = &c.gateway_txn_no {
        pairs.push((t.gateway_txn_no, no.clone()));
    }
    if let Some(r) = &c.reference {
        pairs.push((t.reference, r.clone()));
    }
    if let Some(b) = &c.bank {
        pairs.push((t.bank, b.clone()));
    }
    if let Some(at) = c.paid_at {
        let local = at
            .with_timezone(&vietnam())
            .format("%H:%M:%S %d/%m/%Y")
            .to_string();
        pairs.push((t.paid_at, local));
    }
    for r in &c.refunds {
        let on =
            r.at.with_timezone(&vietnam())
                .format("%d/%m/%Y")
                .to_string();
        pairs.push((
            t.refunds,
            format!("{} đ {} {on}", format_vnd_plain(r.amount), t.refunded_on),
        ));
    }
    for (key, value) in pairs {
        w.text(&format!("{key}: {value}"), 10.0, false, MARGIN, width);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::wrap;
    use crate::confirmation::{words, Confirmation, ConfirmationLine, NoticeGroup};

    fn sample(lines: usize) -> Confirmation {
        let line = |i: usize| {
            ConfirmationLine {
            chapter: Some("757".into()),
            sub_item: Some("2801".into()),
            name: format!("Lệ phí trước bạ nhà đất, thửa số {i} — Tiền chậm nộp của khoản nộp ngân sách nhà nước"),
            amount: 1_000_000,
            days: (i % 2 == 1).then_some(29),
        }
        };
        Confirmation {
            lang: "vi",
            payment_id: "pay_test".into(),
            confirmation_no: "XN-7K2M-9QHD-4RTA".into(),
            status: "paid".into(),
            agency: None,
            dossier: Some("000.00.12.H26-261202-0007".into()),
            payer_name: Some("Nguyễn Thị Ánh".into()),
            payer_email: None,
            groups: vec![NoticeGroup {
                notice_no: Some("LTB-0001/TB-CCT".into()),
                lines: (0..lines).map(line).collect(),
            }],
            total: 1_000_000 * i64::try_from(lines).unwrap(),
            total_words: words::vietnamese(1_000_000 * i64::try_from(lines).unwrap()),
            gateway: Some("VNPay".into()),
            gateway_txn_no: Some("14226112".into()),
            reference: Some("01M8T5Q0043Y8YHAT6SG665TZ5".into()),
            bank: Some("NCB".into()),
            paid_at: None,
            refunds: vec![],
            verify_url: "http://localhost:8080/verify/XN-7K2M-9QHD-4RTA".into(),
        }
    }

    #[test]
    fn a_long_confirmation_runs_onto_more_pages_and_keeps_its_text() {
        let pdf = super::render(&sample(40)).unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        // Kept as a test artefact to look at.
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/confirmation-sample.pdf");
        std::fs::write(&path, &pdf).unwrap();
        if let Ok(out) = std::process::Command::new("pdftotext")
            .arg(&path)
            .arg("-")
            .output()
        {
            let text = String::from_utf8(out.stdout).unwrap();
            assert!(text.matches('\u{c}').count() >= 2, "more than one page");
            let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
            assert!(text.contains("thửa số 39"), "{text}");
            assert!(text.contains("Bốn mươi triệu đồng"), "{text}");
        }
    }

    #[test]
    fn wraps_at_spaces_and_cuts_long_words() {
        let lines = wrap("Một trăm bảy mươi lăm triệu đồng", 10.0, 20.0);
        assert!(lines.len() > 1, "{lines:?}");
        assert_eq!(lines.join(" "), "Một trăm bảy mươi lăm triệu đồng");
        let long = wrap(&"X".repeat(100), 10.0, 20.0);
        assert!(
            long.len() > 1 && long.iter().all(|l| l.chars().count() <= 10),
            "{long:?}"
        );
        assert_eq!(wrap("", 10.0, 20.0), vec![String::new()]);
    }
}
