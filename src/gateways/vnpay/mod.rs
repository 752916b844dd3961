//! VNPay payment gateway, API version 2.1.0 (protocols.md §1).
//!
//! - [`wire`]: payment URL, IPN/return verification and parsing, dates, and the
//!   only place where đồng are converted to VNPay's ×100 amounts.
//! - [`transaction`]: `querydr` and `refund` JSON requests and responses (client side).
//! - [`sandbox`]: what the local VNPay simulator needs (verify our payment URL, sign an
//!   IPN/return as VNPay would, answer `querydr`).
//! - [`codes`]: response/status code tables with Vietnamese and English meanings, and the
//!   merchant's IPN answer ([`codes::IpnAnswer`]).

pub mod codes;
pub mod sandbox;
pub mod transaction;
pub mod wire;

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;
