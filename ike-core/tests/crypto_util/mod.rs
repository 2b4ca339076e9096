//! Helpers shared by the `crypto_*` integration tests: reading the JSON
//! vector files under `tests/data/crypto/` and hex.

#![allow(dead_code)]

use std::path::PathBuf;

use serde_json::Value;

/// Parses `tests/data/crypto/<name>`.
pub(crate) fn vectors(name: &str) -> Value {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests", "data", "crypto", name]
        .iter()
        .collect();
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// Decodes lowercase or uppercase hex.
pub(crate) fn hex(text: &str) -> Vec<u8> {
    assert!(text.len().is_multiple_of(2), "odd hex: {text}");
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

/// The hex string field `key` of a JSON object, decoded.
pub(crate) fn field(v: &Value, key: &str) -> Vec<u8> {
    hex(v[key]
        .as_str()
        .unwrap_or_else(|| panic!("missing field {key}")))
}

/// An 8-byte cookie field.
pub(crate) fn cookie(v: &Value, key: &str) -> [u8; 8] {
    field(v, key).try_into().unwrap()
}

/// Lowercase hex.
pub(crate) fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
