//! The DVCQG payment platform's messages (create, result, query) and their `MaXacThuc`: lower-case
//! hex SHA-256 of the fields joined by `|`, then `|` and the hash key (a plain hash, not an HMAC).
//! The field lists and orders come from an integration's code, not an official specification;
//! they live here only.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::gateways::{json_object, json_scalar_text, GatewayError, SignatureError, UTC_PLUS_7};

/// `MaLoi` of a success.
pub const OK: &str = "00";
/// `MaLoi` of a refusal.
pub const REFUSED: &str = "99";

/// Lower-case hex SHA-256 of `fields` joined by `|`, then `|key`.
pub fn mac(fields: &[&str], key: &str) -> String {
    let mut text = fields.join("|");
    text.push('|');
    text.push_str(key);
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Constant-time check of a `MaXacThuc` (hex, either case) against the fields.
pub fn verify_mac(fields: &[&str], key: &str, given: &str) -> Result<(), SignatureError> {
    let given = given.trim();
    if given.is_empty() {
        return Err(SignatureError::Missing);
    }
    let given = hex::decode(given).map_err(|_| SignatureError::Malformed)?;
    let mut text = fields.join("|");
    text.push('|');
    text.push_str(key);
    let expected = Sha256::digest(text.as_bytes());
    if bool::from(expected[..].ct_eq(&given[..])) {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// `yyyyMMddHHmmss` in UTC+7.
pub fn format_time(t: DateTime<Utc>) -> String {
    t.with_timezone(&UTC_PLUS_7)
        .format("%Y%m%d%H%M%S")
        .to_string()
}

pub fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    let naive = NaiveDateTime::parse_from_str(text, "%Y%m%d%H%M%S").ok()?;
    UTC_PLUS_7
        .from_local_datetime(&naive)
        .single()
        .map(|t| t.with_timezone(&Utc))
}

/// One fee entry of the receipt data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeeEntry {
    /// `"1"` phí (fee), `"2"` lệ phí (charge).
    #[serde(rename = "LoaiPhiLePhi")]
    pub kind: String,
    #[serde(rename = "MaPhiLePhi")]
    pub code: String,
    #[serde(rename = "TenPhiLePhi")]
    pub name: String,
    #[serde(rename = "SoTien")]
    pub amount: i64,
}

/// One entry of `DSKhoanNop`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaidItem {
    #[serde(rename = "NoiDung")]
    pub content: String,
    #[serde(rename = "SoTien")]
    pub amount: i64,
}

/// `ThongTinBienLai`: what the platform's e-receipt says.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    #[serde(rename = "MaDichVu")]
    pub service: String,
    #[serde(rename = "MaDonVi")]
    pub unit_code: String,
    #[serde(rename = "TenDonVi")]
    pub unit_name: String,
    #[serde(rename = "MaHoSo")]
    pub dossier_code: String,
    #[serde(rename = "MaDVC")]
    pub service_code: String,
    #[serde(rename = "TenDVC")]
    pub service_name: String,
    #[serde(rename = "MaTTHC")]
    pub procedure_code: String,
    #[serde(rename = "TenTTHC")]
    pub procedure_name: String,
    #[serde(rename = "TKThuHuong")]
    pub beneficiary_account: String,
    #[serde(rename = "MaNHThuHuong")]
    pub beneficiary_bank: String,
    #[serde(rename = "TenTKThuHuong")]
    pub beneficiary_name: String,
    #[serde(rename = "PhiLePhi")]
    pub fees: Vec<FeeEntry>,
    #[serde(rename = "NoiDungThanhToan")]
    pub content: String,
    #[serde(rename = "HoTenNguoiNop")]
    pub payer_name: String,
    #[serde(rename = "SoCMNDNguoiNop")]
    pub payer_id_no: String,
    #[serde(rename = "DiaChiNguoiNop")]
    pub payer_address: String,
    #[serde(rename = "HuyenNguoiNop")]
    pub payer_district: String,
    #[serde(rename = "TinhNguoiNop")]
    pub payer_province: String,
    #[serde(rename = "MaCoQuanQD")]
    pub deciding_body_code: String,
    #[serde(rename = "TenCoQuanQD")]
    pub deciding_body_name: String,
    #[serde(rename = "DSKhoanNop")]
    pub items: Vec<PaidItem>,
    #[serde(rename = "TaiKhoanThuNSNN")]
    pub budget_account: String,
}

/// The create message (server → platform).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InitMessage {
    #[serde(rename = "LoaiBanTin")]
    pub message_type: String,
    #[serde(rename = "PhienBan")]
    pub version: String,
    #[serde(rename = "MaDoiTac")]
    pub partner_code: String,
    #[serde(rename = "MaThamChieu")]
    pub reference: String,
    #[serde(rename = "SoTien")]
    pub amount: String,
    #[serde(rename = "LoaiHinhThanhToan")]
    pub payment_kind: String,
    #[serde(rename = "MaKenhThanhToan")]
    pub channel: String,
    #[serde(rename = "MaThietBi")]
    pub device: String,
    #[serde(rename = "NgonNgu")]
    pub language: String,
    #[serde(rename = "MaTienTe")]
    pub currency: String,
    #[serde(rename = "MaNganHang")]
    pub bank_code: String,
    #[serde(rename = "ThongTinGiaoDich")]
    pub description: String,
    #[serde(rename = "ThoiGianGD")]
    pub time: String,
    #[serde(rename = "Ip")]
    pub ip: String,
    #[serde(rename = "ThongTinBienLai")]
    pub receipt: Receipt,
    #[serde(rename = "MaXacThuc", default)]
    pub mac: String,
}

impl InitMessage {
    fn signed_fields(&self) -> [&str; 14] {
        [
            &self.message_type,
            &self.version,
            &self.partner_code,
            &self.reference,
            &self.amount,
            &self.payment_kind,
            &self.channel,
            &self.device,
            &self.language,
            &self.currency,
            &self.bank_code,
            &self.description,
            &self.time,
            &self.ip,
        ]
    }

    /// Sets `MaXacThuc`.
    pub fn sign(mut self, key: &str) -> Self {
        self.mac = mac(&self.signed_fields(), key);
        self
    }

    pub fn verify(&self, key: &str) -> Result<(), SignatureError> {
        verify_mac(&self.signed_fields(), key, &self.mac)
    }
}

/// The platform's answer to a create message.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct InitAnswer {
    #[serde(rename = "MaLoi", default)]
    pub code: String,
    #[serde(rename = "MoTaLoi", default)]
    pub message: String,
    #[serde(rename = "UrlThanhToan", default)]
    pub payment_url: Option<String>,
}

/// The result message (platform → server), every field as the text that was signed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResultMessage {
    pub message_type: String,
    pub code: String,
    pub partner_code: String,
    pub reference: String,
    pub amount: String,
    pub currency: String,
    pub transaction_no: String,
    pub bank_code: String,
    pub time: String,
    pub description: String,
    pub mac: String,
}

/// The result's fields in the order they are signed (`ThoiGianGD` before `ThongTinGiaoDich`).
const RESULT_FIELDS: [&str; 10] = [
    "LoaiBanTin",
    "MaLoi",
    "MaDoiTac",
    "MaThamChieu",
    "SoTien",
    "MaTienTe",
    "MaGiaoDich",
    "MaNganHang",
    "ThoiGianGD",
    "ThongTinGiaoDich",
];

impl ResultMessage {
    fn signed_fields(&self) -> [&str; 10] {
        [
            &self.message_type,
            &self.code,
            &self.partner_code,
            &self.reference,
            &self.amount,
            &self.currency,
            &self.transaction_no,
            &self.bank_code,
            &self.time,
            &self.description,
        ]
    }

    pub fn sign(mut self, key: &str) -> Self {
        self.mac = mac(&self.signed_fields(), key);
        self
    }

    pub fn verify(&self, key: &str) -> Result<(), SignatureError> {
        verify_mac(&self.signed_fields(), key, &self.mac)
    }

    /// Reads a JSON body; `MaDoiTac` may be absent (then the partner code is the verifier's).
    /// Checks nothing but the shape: verify before believing any field.
    pub fn parse(body: &[u8]) -> Result<Self, GatewayError> {
        let map = json_object(body)?;
        let text = |field: &'static str| {
            json_scalar_text(map.get(field))
                .ok_or_else(|| GatewayError::invalid(field, "must be a string or a number"))
        };
        let mut out = Self {
            message_type: text(RESULT_FIELDS[0])?,
            code: text(RESULT_FIELDS[1])?,
            partner_code: text(RESULT_FIELDS[2])?,
            reference: text(RESULT_FIELDS[3])?,
            amount: text(RESULT_FIELDS[4])?,
            currency: text(RESULT_FIELDS[5])?,
            transaction_no: text(RESULT_FIELDS[6])?,
            bank_code: text(RESULT_FIELDS[7])?,
            time: text(RESULT_FIELDS[8])?,
            description: text(RESULT_FIELDS[9])?,
            mac: text("MaXacThuc")?,
        };
        if out.mac.is_empty() {
            return Err(GatewayError::Signature(SignatureError::Missing));
        }
        out.reference.truncate(64);
        Ok(out)
    }

    /// The JSON body of this message.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "LoaiBanTin": self.message_type, "MaLoi": self.code, "MaDoiTac": self.partner_code,
            "MaThamChieu": self.reference, "SoTien": self.amount, "MaTienTe": self.currency,
            "MaGiaoDich": self.transaction_no, "MaNganHang": self.bank_code,
            "ThoiGianGD": self.time, "ThongTinGiaoDich": self.description, "MaXacThuc": self.mac,
        })
    }

    /// The amount as whole đồng, when it is one.
    pub fn amount_vnd(&self) -> Option<i64> {
        let a = self.amount.trim();
        if a.is_empty() || a.len() > 18 || !a.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        a.parse().ok()
    }
}

/// The reply to a result message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResultReply {
    #[serde(rename = "MaLoi")]
    pub code: String,
    #[serde(rename = "MoTaLoi")]
    pub message: String,
    #[serde(rename = "MaDoiTac")]
    pub partner_code: String,
    #[serde(rename = "MaThamChieu")]
    pub reference: String,
    #[serde(rename = "ThoiGianGD")]
    pub time: String,
}

/// The query message (server → platform) about one reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueryMessage {
    #[serde(rename = "LoaiBanTin")]
    pub message_type: String,
    #[serde(rename = "PhienBan")]
    pub version: String,
    #[serde(rename = "MaDoiTac")]
    pub partner_code: String,
    #[serde(rename = "MaThamChieu")]
    pub reference: String,
    #[serde(rename = "ThoiGianGD")]
    pub time: String,
    #[serde(rename = "MaXacThuc", default)]
    pub mac: String,
}

impl QueryMessage {
    fn signed_fields(&self) -> [&str; 5] {
        [
            &self.message_type,
            &self.version,
            &self.partner_code,
            &self.reference,
            &self.time,
        ]
    }

    pub fn sign(mut self, key: &str) -> Self {
        self.mac = mac(&self.signed_fields(), key);
        self
    }

    pub fn verify(&self, key: &str) -> Result<(), SignatureError> {
        verify_mac(&self.signed_fields(), key, &self.mac)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn mac_is_sha256_of_the_joined_fields_and_key() {
        // sha256("a|b|k"), computed with `printf 'a|b|k' | sha256sum`.
        assert_eq!(
            mac(&["a", "b"], "k"),
            "8bff25582189469cffc71d7fab53f48251373d083d33715ece93ddb67b1df625"
        );
        assert!(verify_mac(&["a", "b"], "k", &mac(&["a", "b"], "k").to_uppercase()).is_ok());
        assert_eq!(
            verify_mac(&["a", "b"], "k2", &mac(&["a", "b"], "k")),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_mac(&["a"], "k", "zz"),
            Err(SignatureError::Malformed)
        );
        assert_eq!(verify_mac(&["a"], "k", " "), Err(SignatureError::Missing));
    }

    #[test]
    fn amounts_are_whole_dong_only() {
        let mut m = ResultMessage {
            amount: "150000".into(),
            ..Default::default()
        };
        assert_eq!(m.amount_vnd(), Some(150_000));
        for bad in ["", "1.5", "-1", "1e3", "99999999999999999999"] {
            m.amount = bad.into();
            assert_eq!(m.amount_vnd(), None, "{bad}");
        }
    }

    #[test]
    fn times_are_utc_plus_7() {
        let t = parse_time("20261202093000").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-12-02T02:30:00+00:00");
        assert_eq!(format_time(t), "20261202093000");
        assert!(parse_time("2026-12-02").is_none());
    }
}
