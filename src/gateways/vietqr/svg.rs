//! SVG rendering of a VietQR payload (deterministic, no network).

use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

use crate::gateways::GatewayError;

/// Renders `payload` as a standalone SVG QR code (error correction M, quiet zone included,
/// at least 256×256 px).
pub fn render_svg(payload: &str) -> Result<String, GatewayError> {
    let code = QrCode::with_error_correction_level(payload.as_bytes(), EcLevel::M)
        .map_err(|e| GatewayError::invalid("payload", e.to_string()))?;
    Ok(code
        .render::<svg::Color<'_>>()
        .min_dimensions(256, 256)
        .quiet_zone(true)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .build())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn renders_a_deterministic_svg() {
        let payload = "00020101021138570010A00000072701270006970436011300110012345670208QRIBFTTA53037045802VN6304E8DB";
        let first = render_svg(payload).unwrap();
        assert!(first.starts_with("<?xml"));
        assert!(first.contains("<svg"));
        assert!(first.trim_end().ends_with("</svg>"));
        assert_eq!(first, render_svg(payload).unwrap());
        assert!(render_svg(&"9".repeat(8000)).is_err());
    }
}
