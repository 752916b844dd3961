//! ZaloPay Open API v2 (protocols.md §4).

pub mod wire;
