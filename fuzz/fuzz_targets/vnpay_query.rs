//! The VNPay IPN / return query: any bytes as a query string, verified and parsed as they come,
//! then re-signed with the test secret so the parser behind the signature check is reached too.
#![no_main]

use landpay::gateways::vnpay::wire::{decode_query, parse_callback, sign_params};
use libfuzzer_sys::fuzz_target;

const SECRET: &str = "fuzz-secret-fuzz-secret-fuzz-secret";

fuzz_target!(|data: &[u8]| {
    let Ok(query) = std::str::from_utf8(data) else {
        return;
    };
    let _ = parse_callback(query, SECRET);
    let Ok(params) = decode_query(query) else {
        return;
    };
    // VNPay signs keys as they are; only its own key names (letters, digits, `_`) round-trip.
    if !params.keys().all(|k| k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')) {
        return;
    }
    let signed = sign_params(params.iter().map(|(k, v)| (k.as_str(), v.as_str())), SECRET);
    let query = signed.query();
    if let Err(e) = parse_callback(&query, SECRET) {
        // What we signed ourselves must always pass the signature check.
        assert!(!e.is_signature(), "own signature refused: {e} for {query}");
    }
});
