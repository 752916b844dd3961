//! What the pay page shows of a VietQR bank transfer: the receiving bank by name, the account,
//! the amount and the transfer content (each to copy), the code, and the code as a PNG.

use qrcode::{Color, EcLevel, QrCode};

use crate::app::Services;
use crate::gateways::vietqr::banks;
use crate::gateways::GatewayId;
use crate::storage::payments::{AttemptRow, PaymentRecord};

/// The VietQR section of the pay page.
pub struct QrView {
    /// The account is the built-in demo one (all zeros): no real money.
    pub demo: bool,
    /// The open attempt's code (an SVG element), when one was started.
    pub svg: Option<String>,
    /// The transfer content the bank statement must carry, exactly.
    pub transfer_content: String,
    pub bank: String,
    pub account_no: String,
    pub account_name: String,
    /// Whole đồng, digits only (what a banking app's amount field takes).
    pub amount_digits: String,
}

fn open_attempt(record: &PaymentRecord) -> Option<&AttemptRow> {
    record
        .attempts
        .iter()
        .rev()
        .find(|a| a.gateway == crate::gateways::GatewayId::Vietqr && a.status.is_open())
}

fn open_qr(record: &PaymentRecord) -> Option<serde_json::Value> {
    open_attempt(record)
        .and_then(|a| a.qr.as_deref())
        .and_then(|q| serde_json::from_str(q).ok())
}

/// The EMV payload of the order's open VietQR attempt.
pub fn open_payload(record: &PaymentRecord) -> Option<String> {
    open_qr(record).and_then(|q| q["payload"].as_str().map(str::to_owned))
}

/// The VietQR section, when VietQR is on.
pub fn view(state: &Services, record: &PaymentRecord) -> Option<QrView> {
    if !state.gateways.contains_key(&GatewayId::Vietqr) {
        return None;
    }
    let qr = open_qr(record);
    let cfg = &state
        .settings
        .vietqr_for(record.payment.agency_code.as_deref());
    Some(QrView {
        demo: cfg.account_no.chars().all(|c| c == '0'),
        svg: qr
            .as_ref()
            .and_then(|q| q["svg"].as_str())
            .map(|s| s[s.find("<svg").unwrap_or(0)..].to_owned()),
        transfer_content: qr
            .as_ref()
            .and_then(|q| q["reference"].as_str())
            .unwrap_or_default()
            .to_owned(),
        bank: banks::display_name(&cfg.bank_bin),
        account_no: cfg.account_no.clone(),
        account_name: cfg.account_name.clone(),
        amount_digits: record.payment.amount.to_string(),
    })
}

/// The receiving account in one line: `0011001234567 — CONG TY A, Vietcombank — Ngân hàng …`.
pub fn receiving_account(state: &Services, agency: Option<&str>) -> Option<String> {
    let cfg = &state.settings.vietqr_for(agency);
    state.gateways.contains_key(&GatewayId::Vietqr).then(|| {
        format!(
            "{} — {}, {}",
            cfg.account_no,
            cfg.account_name,
            banks::display_name(&cfg.bank_bin)
        )
    })
}

/// A PNG of the code: 8 px a module, a quiet zone of 4 modules, black on white.
pub fn png(payload: &str) -> anyhow::Result<Vec<u8>> {
    const SCALE: usize = 8;
    const QUIET: usize = 4;
    let code = QrCode::with_error_correction_level(payload.as_bytes(), EcLevel::M)?;
    let n = code.width();
    let colors = code.to_colors();
    let side = (n + 2 * QUIET) * SCALE;
    let mut pixels = vec![255_u8; side * side];
    for (i, color) in colors.iter().enumerate() {
        if *color != Color::Dark {
            continue;
        }
        let (x0, y0) = ((i % n + QUIET) * SCALE, (i / n + QUIET) * SCALE);
        for y in y0..y0 + SCALE {
            pixels[y * side + x0..y * side + x0 + SCALE].fill(0);
        }
    }
    let mut out = Vec::new();
    let side32 = u32::try_from(side)?;
    let mut encoder = png::Encoder::new(&mut out, side32, side32);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.write_header()?.write_image_data(&pixels)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_png_is_a_square_greyscale_image() {
        let bytes = super::png("00020101021238570010A000000727").expect("png");
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let reader = decoder.read_info().expect("header");
        let info = reader.info();
        assert_eq!(info.width, info.height);
        assert!(info.width >= 200, "{}", info.width);
        assert_eq!(info.color_type, png::ColorType::Grayscale);
    }
}
