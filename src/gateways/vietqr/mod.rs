//! VietQR (NAPAS 247) dynamic/static bank-transfer QR codes (protocols.md §6).
//! No callback exists: payment is matched from bank statements on the reference in 62/08.

pub mod emv;
pub mod svg;
