//! Pre-shared keys, looked up like racoon's `psk.txt`.
//!
//! The file has one entry per line: an identifier (an address, an FQDN, a
//! `user@fqdn`, or `keyid:HEX`), whitespace, then the key. A key written
//! `0x…` is hexadecimal; anything else is the text itself, up to the end of
//! the line. `#` starts a comment line.

use core::fmt;
use std::net::IpAddr;

use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::Identity;

/// A pre-shared key. Zeroized on drop; `Debug` prints the length only.
#[derive(Clone)]
pub struct PresharedKey(Zeroizing<Vec<u8>>);

impl PresharedKey {
    /// Wraps key bytes.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Self(Zeroizing::new(bytes.into()))
    }

    /// The key bytes, as fed to the PRF (RFC 2409 §5: SKEYID = prf(pre-shared-key, Ni_b | Nr_b)).
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl PartialEq for PresharedKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_slice().ct_eq(other.0.as_slice()).into()
    }
}

impl Eq for PresharedKey {}

impl fmt::Debug for PresharedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PresharedKey({} bytes)", self.0.len())
    }
}

/// Why a `psk.txt` line was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PskParseError {
    /// The line has an identifier but no key.
    #[error("line {line}: identifier without a key")]
    MissingKey {
        /// 1-based line number.
        line: usize,
    },
    /// A `0x` key with a non-hex digit or an odd number of digits.
    #[error("line {line}: bad hexadecimal key")]
    BadHex {
        /// 1-based line number.
        line: usize,
    },
    /// `keyid:` followed by something that is not hex.
    #[error("line {line}: bad keyid identifier")]
    BadKeyId {
        /// 1-based line number.
        line: usize,
    },
}

/// The pre-shared key table.
///
/// Main Mode must pick the key by the peer's address, because the peer's ID
/// payload is encrypted under a key derived from the PSK (RFC 2409 §5.4).
/// Aggressive Mode sends the ID in clear, so the key is found by identity.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PskTable {
    entries: Vec<(Identity, PresharedKey)>,
}

impl PskTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) the key for `id`.
    pub fn insert(&mut self, id: Identity, key: PresharedKey) {
        self.entries.retain(|(i, _)| *i != id);
        self.entries.push((id, key));
    }

    /// Parses a racoon `psk.txt`.
    pub fn parse(text: &str) -> Result<Self, PskParseError> {
        let mut table = Self::new();
        for (n, raw) in text.lines().enumerate() {
            let line = n + 1;
            let trimmed = raw.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let (ident, rest) = trimmed
                .split_once(char::is_whitespace)
                .ok_or(PskParseError::MissingKey { line })?;
            let key_text = rest.trim();
            if key_text.is_empty() {
                return Err(PskParseError::MissingKey { line });
            }
            let key = match key_text.strip_prefix("0x") {
                Some(hex) => {
                    PresharedKey::new(decode_hex(hex).ok_or(PskParseError::BadHex { line })?)
                }
                None => PresharedKey::new(key_text.as_bytes()),
            };
            let id = match ident.strip_prefix("keyid:") {
                Some(hex) => {
                    Identity::KeyId(decode_hex(hex).ok_or(PskParseError::BadKeyId { line })?)
                }
                None => Identity::parse_text(ident),
            };
            table.insert(id, key);
        }
        Ok(table)
    }

    /// The key for a peer address (Main Mode).
    pub fn by_address(&self, addr: IpAddr) -> Option<&PresharedKey> {
        self.by_identity(&Identity::from_ip(addr))
    }

    /// The key for a claimed identity (Aggressive Mode).
    pub fn by_identity(&self, id: &Identity) -> Option<&PresharedKey> {
        self.entries.iter().find(|(i, _)| i == id).map(|(_, k)| k)
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if hex.is_empty() || !hex.len().is_multiple_of(2) {
        return None;
    }
    hex.as_bytes()
        .chunks_exact(2)
        .map(|pair| {
            let s = core::str::from_utf8(pair).ok()?;
            u8::from_str_radix(s, 16).ok()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    const SAMPLE: &str = "\
# racoon psk.txt
10.160.94.3\tmekmitasdigoat
172.16.1.133 0x12345678
foo@kame.net    a key with spaces
gw.example.com  0xdeadBEEF
keyid:6772 grouppass
";

    #[test]
    fn parses_text_and_hex_keys() {
        let t = PskTable::parse(SAMPLE).unwrap();
        assert_eq!(t.len(), 5);
        let a = t
            .by_address(IpAddr::V4(Ipv4Addr::new(10, 160, 94, 3)))
            .unwrap();
        assert_eq!(a.as_bytes(), b"mekmitasdigoat");
        let b = t
            .by_address(IpAddr::V4(Ipv4Addr::new(172, 16, 1, 133)))
            .unwrap();
        assert_eq!(b.as_bytes(), &[0x12, 0x34, 0x56, 0x78]);
        let c = t
            .by_identity(&Identity::UserFqdn("foo@kame.net".into()))
            .unwrap();
        assert_eq!(c.as_bytes(), b"a key with spaces");
        let d = t
            .by_identity(&Identity::Fqdn("gw.example.com".into()))
            .unwrap();
        assert_eq!(d.as_bytes(), &[0xde, 0xad, 0xbe, 0xef]);
        let e = t.by_identity(&Identity::KeyId(b"gr".to_vec())).unwrap();
        assert_eq!(e.as_bytes(), b"grouppass");
        assert!(t.by_address("10.0.0.9".parse().unwrap()).is_none());
    }

    #[test]
    fn refuses_bad_lines_with_their_number() {
        assert_eq!(
            PskTable::parse("# c\n10.0.0.1\n"),
            Err(PskParseError::MissingKey { line: 2 })
        );
        assert_eq!(
            PskTable::parse("10.0.0.1 0x123\n"),
            Err(PskParseError::BadHex { line: 1 })
        );
        assert_eq!(
            PskTable::parse("10.0.0.1 0xzz\n"),
            Err(PskParseError::BadHex { line: 1 })
        );
    }

    #[test]
    fn debug_hides_the_key() {
        let k = PresharedKey::new(b"secret".to_vec());
        assert_eq!(format!("{k:?}"), "PresharedKey(6 bytes)");
    }
}
