//! Helpers shared by the pfkey integration tests: the captured kernel
//! messages in `tests/data/pfkey-linux/` and a hex codec.

#![allow(dead_code)] // each test binary uses a different part

use std::path::{Path, PathBuf};

/// One row of a scenario's `index.tsv`.
#[derive(Debug, Clone)]
pub(crate) struct Vector {
    pub(crate) scenario: &'static str,
    pub(crate) no: String,
    pub(crate) send: bool,
    pub(crate) type_name: String,
    pub(crate) satype: u8,
    pub(crate) errno: u8,
    pub(crate) len: usize,
    pub(crate) seq: u32,
    pub(crate) label: String,
    pub(crate) bytes: Vec<u8>,
}

pub(crate) const SCENARIOS: [&str; 3] =
    ["suite", "acquire-racoon-flow", "acquire-netlink-policies"];

pub(crate) fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

pub(crate) fn hex(text: &str) -> Vec<u8> {
    let digits: Vec<u8> = text.bytes().filter(u8::is_ascii_hexdigit).collect();
    assert!(digits.len().is_multiple_of(2), "odd hex length");
    digits
        .chunks(2)
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).unwrap())
        .collect()
}

pub(crate) fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Every message of `scenario`, in capture order.
pub(crate) fn vectors(scenario: &'static str) -> Vec<Vector> {
    let dir = data_dir().join("pfkey-linux").join(scenario);
    let index = std::fs::read_to_string(dir.join("index.tsv")).unwrap();
    index
        .lines()
        .skip(1)
        .map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            assert_eq!(cols.len(), 8, "{line}");
            let file = format!("{}-{}-{}.hex", cols[0], cols[1], cols[2]);
            let bytes = hex(&std::fs::read_to_string(dir.join(&file)).unwrap());
            Vector {
                scenario,
                no: cols[0].to_owned(),
                send: cols[1] == "send",
                type_name: cols[2].to_owned(),
                satype: cols[3].parse().unwrap(),
                errno: cols[4].parse().unwrap(),
                len: cols[5].parse().unwrap(),
                seq: cols[6].parse().unwrap(),
                label: cols[7].to_owned(),
                bytes,
            }
        })
        .collect()
}

pub(crate) fn all_vectors() -> Vec<Vector> {
    SCENARIOS.iter().flat_map(|s| vectors(s)).collect()
}

/// The vector `no` of `scenario`.
pub(crate) fn vector(scenario: &'static str, no: &str) -> Vector {
    vectors(scenario)
        .into_iter()
        .find(|v| v.no == no)
        .unwrap_or_else(|| panic!("{scenario}/{no} missing"))
}
