//! MoMo All-In-One v2, `requestType=captureWallet` (protocols.md §3).

pub mod wire;
