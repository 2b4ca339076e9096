//! Helpers shared by the integration tests.
#![allow(dead_code, unreachable_pub)]

use serde_json::Value;

/// Decodes lowercase or uppercase hex.
pub fn hex(s: &str) -> Vec<u8> {
    assert!(s.len().is_multiple_of(2), "odd hex: {s}");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex digit"))
        .collect()
}

/// Loads a JSON file from `tests/data`.
pub fn load(rel: &str) -> Value {
    let path = format!("{}/tests/data/{rel}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).expect("valid JSON")
}

/// A string field of a JSON object.
pub fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("field {key} in {v}"))
}

/// A hex field of a JSON object.
pub fn h(v: &Value, key: &str) -> Vec<u8> {
    hex(s(v, key))
}

/// A deterministic CSPRNG for reproducible tests.
pub fn rng() -> rand_chacha::ChaCha20Rng {
    rand_core::SeedableRng::seed_from_u64(0x4553_5030)
}
