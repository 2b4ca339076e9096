//! `SADB_EXT_KEY_{AUTH,ENCRYPT}`: `struct sadb_key` followed by the key bits
//! (RFC 2367 §2.3.4).

use std::fmt;

use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::codec::{Reader, Writer};
use super::{Body, EmitError, Error};

/// Key material. Zeroized on drop, compared in constant time, and its
/// `Debug` shows only the length.
#[derive(Clone)]
pub struct Key {
    bits: u16,
    data: Zeroizing<Vec<u8>>,
}

impl Key {
    /// A key of `bytes.len() * 8` bits.
    pub fn new(bytes: &[u8]) -> Result<Self, EmitError> {
        let bits = bytes
            .len()
            .checked_mul(8)
            .and_then(|b| u16::try_from(b).ok())
            .ok_or(EmitError::TooLong("sadb_key"))?;
        Ok(Self {
            bits,
            data: Zeroizing::new(bytes.to_vec()),
        })
    }

    /// `sadb_key_bits`
    pub fn bits(&self) -> u16 {
        self.bits
    }

    /// The key bytes (`ceil(bits / 8)` of them).
    pub fn as_bytes(&self) -> &[u8] {
        &self.data
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        self.bits == other.bits && bool::from(self.data.as_slice().ct_eq(other.data.as_slice()))
    }
}

impl Eq for Key {}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Key")
            .field("bits", &self.bits)
            .field("len", &self.data.len())
            .finish()
    }
}

impl Body for Key {
    const NAME: &'static str = "sadb_key";

    fn parse(r: &mut Reader<'_>) -> Result<Self, Error> {
        let bits = r.u16_ne(Self::NAME)?;
        r.skip(2, Self::NAME)?; // sadb_key_reserved
        let data = r.take(usize::from(bits).div_ceil(8), "sadb_key bits")?;
        Ok(Self {
            bits,
            data: Zeroizing::new(data.to_vec()),
        })
    }

    fn emit(&self, w: &mut Writer<'_>) {
        w.u16_ne(self.bits);
        w.u16_ne(0);
        w.bytes(&self.data);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_lengths_only_and_eq_compares_bytes() {
        let key = Key::new(&[0xa0; 20]).unwrap();
        assert_eq!(format!("{key:?}"), "Key { bits: 160, len: 20 }");
        assert_eq!(key, Key::new(&[0xa0; 20]).unwrap());
        assert_ne!(key, Key::new(&[0xa1; 20]).unwrap());
        assert_ne!(key, Key::new(&[0xa0; 16]).unwrap());
    }

    #[test]
    fn bits_decide_how_many_bytes_are_key() {
        // 12 bits of key: two bytes, the rest of the extension is padding.
        let body = [12, 0, 0, 0, 0xab, 0xc0, 0, 0, 0, 0, 0, 0];
        let key = Key::parse(&mut Reader::new(&body)).unwrap();
        assert_eq!((key.bits(), key.as_bytes()), (12, &[0xab, 0xc0][..]));
        assert!(
            Key::new(&vec![0; 8192]).is_err(),
            "65536 bits do not fit u16"
        );
    }
}
