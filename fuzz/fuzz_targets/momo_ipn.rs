//! The MoMo IPN body: any bytes verified and parsed as they come; and, when they are a JSON
//! object, signed with the test keys so the parser behind the signature check is reached too.
#![no_main]

use landpay::gateways::hmac_sha256_hex;
use landpay::gateways::momo::wire::{parse_ipn, raw_signature, IPN_SIGNATURE_FIELDS};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};

const ACCESS_KEY: &str = "fuzz-access-key";
const SECRET_KEY: &str = "fuzz-secret-key-fuzz-secret-key";

fuzz_target!(|data: &[u8]| {
    let _ = parse_ipn(data, ACCESS_KEY, SECRET_KEY);
    let Ok(mut values) = serde_json::from_slice::<Map<String, Value>>(data) else {
        return;
    };
    values.insert("accessKey".into(), ACCESS_KEY.into());
    let Ok(raw) = raw_signature(&IPN_SIGNATURE_FIELDS, &values) else {
        return;
    };
    values.remove("accessKey");
    let signature = hmac_sha256_hex(SECRET_KEY.as_bytes(), raw.as_bytes());
    values.insert("signature".into(), signature.into());
    let Ok(body) = serde_json::to_vec(&values) else {
        return;
    };
    if let Err(e) = parse_ipn(&body, ACCESS_KEY, SECRET_KEY) {
        assert!(!e.is_signature(), "own signature refused: {e}");
    }
});
