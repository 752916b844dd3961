//! The ZaloPay callback body: any bytes verified and parsed as they come; and the same bytes as
//! the `data` of an envelope MAC'd with the test key2, so the parser behind the check is reached.
#![no_main]

use landpay::gateways::hmac_sha256_hex;
use landpay::gateways::zalopay::wire::parse_callback;
use libfuzzer_sys::fuzz_target;

const KEY2: &str = "fuzz-key2-fuzz-key2-fuzz-key2";

fuzz_target!(|data: &[u8]| {
    let _ = parse_callback(data, KEY2);
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mac = hmac_sha256_hex(KEY2.as_bytes(), text.as_bytes());
    let envelope = serde_json::json!({"data": text, "mac": mac, "type": 1});
    let Ok(body) = serde_json::to_vec(&envelope) else {
        return;
    };
    if let Err(e) = parse_callback(&body, KEY2) {
        assert!(!e.is_signature(), "own MAC refused: {e}");
    }
});
