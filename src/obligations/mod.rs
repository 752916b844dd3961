//! The obligation engine: facts + rule set → lines. Pure apart from loading rules.
//! Exact decimals throughout; each line is rounded once (`crate::money::round_half_up`).
#![warn(clippy::float_arithmetic)]

pub mod apartment;
pub mod due;
pub mod engine;
pub mod fields;
pub mod house;
pub mod land_rent;
pub mod land_tax;
pub mod land_use_levy;
pub mod late_interest;
pub mod levy_recognition;
pub mod line;
pub mod parse;
pub mod parse_land_tax;
pub mod parse_more;
pub mod pit_inheritance_gift;
pub mod pit_transfer;
pub mod procedure_fees;
pub mod registration_fee;
pub mod relief;
pub mod relief_apply;
pub mod relief_check;
pub mod request;
pub mod request_more;
pub mod rule_types;
pub mod rules;
pub mod rules_check;
pub mod term_extension;

pub use engine::quote;
pub use fields::FieldError;
pub use late_interest::{late_interest, parse_late_interest_request, LateInterest};
pub use line::{Line, Payer, Quote};
pub use parse::parse_request;
pub use request::QuoteRequest;
pub use rules::{RuleBook, RuleError};
