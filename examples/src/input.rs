//! Reading packet bytes given on the command line: a file or standard input,
//! as raw bytes or as hex text.

use std::io::Read;
use std::path::Path;

/// Largest input accepted; anything larger is not one packet.
pub const MAX_INPUT: usize = 1 << 20;

/// Reads `path` (or standard input for `None` or `-`), bounded by [`MAX_INPUT`].
pub fn read_source(path: Option<&Path>) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    let limit = MAX_INPUT as u64 + 1;
    match path {
        None => std::io::stdin().take(limit).read_to_end(&mut bytes),
        Some(p) if p == Path::new("-") => std::io::stdin().take(limit).read_to_end(&mut bytes),
        Some(p) => std::fs::File::open(p)
            .map_err(|e| format!("{}: {e}", p.display()))?
            .take(limit)
            .read_to_end(&mut bytes),
    }
    .map_err(|e| format!("reading input: {e}"))?;
    if bytes.len() > MAX_INPUT {
        return Err(format!("input is larger than {MAX_INPUT} bytes"));
    }
    Ok(bytes)
}

/// Interprets `bytes` as hex text when every byte is a hex digit, white space
/// or a `:` separator (an optional `0x` prefix is allowed), and as raw bytes
/// otherwise.
pub fn hex_or_raw(bytes: Vec<u8>) -> Result<Vec<u8>, String> {
    let text = match std::str::from_utf8(&bytes) {
        Ok(t) => t.trim(),
        Err(_) => return Ok(bytes),
    };
    let text = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))
        .unwrap_or(text);
    let looks_hex = !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_hexdigit() || b.is_ascii_whitespace() || b == b':');
    if !looks_hex {
        return Ok(bytes);
    }
    parse_hex(text)
}

/// Parses hex digits, ignoring white space and `:` separators.
pub fn parse_hex(text: &str) -> Result<Vec<u8>, String> {
    let digits: Vec<u8> = text
        .bytes()
        .filter(|b| !b.is_ascii_whitespace() && *b != b':')
        .collect();
    if !digits.len().is_multiple_of(2) {
        return Err(format!(
            "hex input has an odd number of digits ({})",
            digits.len()
        ));
    }
    digits
        .chunks_exact(2)
        .enumerate()
        .map(|(i, pair)| {
            let hi = hex_digit(pair[0]);
            let lo = hex_digit(pair[1]);
            match (hi, lo) {
                (Some(h), Some(l)) => Ok(h << 4 | l),
                _ => Err(format!("invalid hex digit near byte {i}")),
            }
        })
        .collect()
}

/// Formats bytes as lowercase hex.
pub fn to_hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

fn hex_digit(d: u8) -> Option<u8> {
    match d {
        b'0'..=b'9' => Some(d - b'0'),
        b'a'..=b'f' => Some(d - b'a' + 10),
        b'A'..=b'F' => Some(d - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_text_is_decoded_ignoring_separators() {
        let got = hex_or_raw(b"  0a:0B\n ff 00 \n".to_vec()).unwrap();
        assert_eq!(got, vec![0x0a, 0x0b, 0xff, 0x00]);
    }

    #[test]
    fn binary_input_is_kept_raw() {
        let raw = vec![0x00, 0x01, 0xfe, 0x80];
        assert_eq!(hex_or_raw(raw.clone()).unwrap(), raw);
    }

    #[test]
    fn odd_hex_is_an_error() {
        assert!(parse_hex("abc").is_err());
    }

    #[test]
    fn to_hex_is_lowercase() {
        assert_eq!(to_hex(&[0xAB, 0x01]), "ab01");
    }
}
