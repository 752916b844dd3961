//! EMVCo merchant-presented QR payload as NAPAS 247 "VietQR" uses it.
//!
//! TLV objects `ID(2) LEN(2, decimal) VALUE`; CRC-16/CCITT-FALSE over everything up to and
//! including `6304`, appended as 4 upper-case hex digits.

use crate::gateways::GatewayError;

/// NAPAS VietQR application id inside tag 38.
pub const NAPAS_GUID: &str = "A000000727";
/// ISO 4217 numeric code of VND.
pub const CURRENCY_VND: &str = "704";
pub const COUNTRY_VN: &str = "VN";

/// Tag 38/02 service code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// `QRIBFTTA`: transfer to an account number.
    ToAccount,
    /// `QRIBFTTC`: transfer to a card number.
    ToCard,
}

impl Service {
    pub fn code(self) -> &'static str {
        match self {
            Self::ToAccount => "QRIBFTTA",
            Self::ToCard => "QRIBFTTC",
        }
    }
}

/// A VietQR transfer request. With `amount_vnd` the code is dynamic (point of initiation 12),
/// without it static (11).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VietQr {
    /// 6-digit NAPAS bank BIN, e.g. `970436` (Vietcombank).
    pub bank_bin: String,
    /// Beneficiary account (or card) number.
    pub account_no: String,
    pub service: Service,
    pub amount_vnd: Option<i64>,
    /// Tag 62/08 "purpose of transaction": our payment reference, which banks copy into the
    /// transfer description.
    pub purpose: Option<String>,
    /// Tag 59, optional for person-to-account transfers.
    pub merchant_name: Option<String>,
    /// Tag 60, optional.
    pub merchant_city: Option<String>,
}

/// CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, no reflection, no final xor.
pub fn crc16_ccitt_false(data: &[u8]) -> u16 {
    let mut crc: u16 = 0xFFFF;
    for &byte in data {
        crc ^= u16::from(byte) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

fn tlv(out: &mut String, id: &str, field: &'static str, value: &str) -> Result<(), GatewayError> {
    if value.is_empty() || value.len() > 99 {
        return Err(GatewayError::invalid(field, "length must be 1..=99 bytes"));
    }
    out.push_str(id);
    out.push_str(&format!("{:02}", value.len()));
    out.push_str(value);
    Ok(())
}

fn check_digits(
    field: &'static str,
    value: &str,
    len: std::ops::RangeInclusive<usize>,
) -> Result<(), GatewayError> {
    if len.contains(&value.len()) && value.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(GatewayError::invalid(field, "wrong length or not digits"))
    }
}

/// Free text in the payload must be printable ASCII (bank apps mangle anything else).
fn check_text(field: &'static str, value: &str) -> Result<(), GatewayError> {
    if value.bytes().all(|b| (0x20..0x7F).contains(&b)) {
        Ok(())
    } else {
        Err(GatewayError::invalid(field, "must be printable ASCII"))
    }
}

/// Builds the EMVCo payload string including its CRC (tag 63).
pub fn build_payload(qr: &VietQr) -> Result<String, GatewayError> {
    check_digits("bank_bin", &qr.bank_bin, 6..=6)?;
    if qr.account_no.is_empty()
        || qr.account_no.len() > 19
        || !qr.account_no.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        return Err(GatewayError::invalid(
            "account_no",
            "1..=19 letters or digits",
        ));
    }

    let mut beneficiary = String::new();
    tlv(&mut beneficiary, "00", "bank_bin", &qr.bank_bin)?;
    tlv(&mut beneficiary, "01", "account_no", &qr.account_no)?;
    let mut merchant_account = String::new();
    tlv(&mut merchant_account, "00", "guid", NAPAS_GUID)?;
    tlv(&mut merchant_account, "01", "beneficiary", &beneficiary)?;
    tlv(&mut merchant_account, "02", "service", qr.service.code())?;

    let mut out = String::with_capacity(160);
    tlv(&mut out, "00", "payload_format", "01")?;
    let initiation = if qr.amount_vnd.is_some() { "12" } else { "11" };
    tlv(&mut out, "01", "point_of_initiation", initiation)?;
    tlv(&mut out, "38", "merchant_account", &merchant_account)?;
    tlv(&mut out, "53", "currency", CURRENCY_VND)?;
    if let Some(amount) = qr.amount_vnd {
        if amount <= 0 {
            return Err(GatewayError::invalid("amount_vnd", "must be positive"));
        }
        tlv(&mut out, "54", "amount_vnd", &amount.to_string())?;
    }
    tlv(&mut out, "58", "country", COUNTRY_VN)?;
    if let Some(name) = qr.merchant_name.as_deref() {
        check_text("merchant_name", name)?;
        tlv(&mut out, "59", "merchant_name", name)?;
    }
    if let Some(city) = qr.merchant_city.as_deref() {
        check_text("merchant_city", city)?;
        tlv(&mut out, "60", "merchant_city", city)?;
    }
    if let Some(purpose) = qr.purpose.as_deref() {
        check_text("purpose", purpose)?;
        let mut additional = String::new();
        tlv(&mut additional, "08", "purpose", purpose)?;
        tlv(&mut out, "62", "additional_data", &additional)?;
    }
    out.push_str("6304");
    let crc = crc16_ccitt_false(out.as_bytes());
    out.push_str(&format!("{crc:04X}"));
    Ok(out)
}

/// True when the payload ends with a `6304` CRC that matches the rest (any hex case).
pub fn has_valid_crc(payload: &str) -> bool {
    let Some(split) = payload.len().checked_sub(4) else {
        return false;
    };
    let (Some(body), Some(crc)) = (payload.get(..split), payload.get(split..)) else {
        return false;
    };
    body.ends_with("6304")
        && u16::from_str_radix(crc, 16).is_ok_and(|c| c == crc16_ccitt_false(body.as_bytes()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn crc_matches_the_ccitt_false_check_value() {
        assert_eq!(crc16_ccitt_false(b"123456789"), 0x29B1);
    }

    #[test]
    fn rejects_bad_inputs() {
        let mut qr = VietQr {
            bank_bin: "970436".to_owned(),
            account_no: "0011001234567".to_owned(),
            service: Service::ToAccount,
            amount_vnd: Some(1_500_000),
            purpose: Some("NVTC20250115000123".to_owned()),
            merchant_name: None,
            merchant_city: None,
        };
        let payload = build_payload(&qr).unwrap();
        assert!(has_valid_crc(&payload));
        assert!(!has_valid_crc(&payload.replace("1500000", "1500001")));
        qr.purpose = Some("Nộp tiền".to_owned());
        assert!(build_payload(&qr).is_err());
        qr.purpose = None;
        qr.amount_vnd = Some(0);
        assert!(build_payload(&qr).is_err());
        qr.amount_vnd = None;
        qr.bank_bin = "97043".to_owned();
        assert!(build_payload(&qr).is_err());
    }
}
