//! Newtypes for secret and authenticated byte strings.
//!
//! Secrets zeroize on drop, compare in constant time and print only their
//! length, so a `{:?}` in a log line cannot leak a key.

use core::fmt;

use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

macro_rules! secret_bytes {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Zeroize, ZeroizeOnDrop)]
        pub struct $name(Vec<u8>);

        impl $name {
            /// Takes ownership of `bytes`.
            pub fn new(bytes: Vec<u8>) -> Self {
                Self(bytes)
            }

            /// Copies `bytes`.
            pub fn from_slice(bytes: &[u8]) -> Self {
                Self(bytes.to_vec())
            }

            /// The secret bytes.
            pub fn as_bytes(&self) -> &[u8] {
                &self.0
            }

            /// Length in bytes.
            pub fn len(&self) -> usize {
                self.0.len()
            }

            /// Whether the value is empty.
            pub fn is_empty(&self) -> bool {
                self.0.is_empty()
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), " {{ len: {} }}"), self.0.len())
            }
        }

        impl ConstantTimeEq for $name {
            fn ct_eq(&self, other: &Self) -> subtle::Choice {
                self.0.as_slice().ct_eq(other.0.as_slice())
            }
        }

        impl PartialEq for $name {
            fn eq(&self, other: &Self) -> bool {
                self.ct_eq(other).into()
            }
        }

        impl Eq for $name {}
    };
}

secret_bytes!(
    /// The Diffie-Hellman shared secret g^xy, as it enters the key schedule
    /// (MODP: padded to the prime length; ECP: the x coordinate, RFC 5903 §7).
    Gxy
);
secret_bytes!(
    /// SKEYID (RFC 2409 §5), the root of the Phase 1 key schedule.
    Skeyid
);
secret_bytes!(
    /// SKEYID_d: keys Quick Mode KEYMAT (RFC 2409 §5.5).
    SkeyidD
);
secret_bytes!(
    /// SKEYID_a: keys the Phase 2 and Informational hashes.
    SkeyidA
);
secret_bytes!(
    /// SKEYID_e: the source of the Phase 1 encryption key.
    SkeyidE
);
secret_bytes!(
    /// The Phase 1 cipher key, SKEYID_e expanded or truncated per RFC 2409
    /// Appendix B.
    EncryptionKey
);
secret_bytes!(
    /// Keying material for one IPsec SA (RFC 2409 §5.5), to be split into the
    /// encryption key followed by the integrity key.
    Keymat
);

/// An authentication hash or PRF output that travels on the wire (HASH_I,
/// HASH_R, Quick Mode hashes, NAT-D). Not secret, but checked in constant
/// time against what a peer sent.
#[derive(Clone, PartialEq, Eq)]
pub struct HashValue(Vec<u8>);

impl HashValue {
    /// Takes ownership of `bytes`.
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// The hash bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Whether `received` equals this hash, in time independent of where
    /// they differ.
    pub fn verify(&self, received: &[u8]) -> bool {
        self.0.as_slice().ct_eq(received).into()
    }
}

impl fmt::Debug for HashValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HashValue(")?;
        for b in &self.0 {
            write!(f, "{b:02x}")?;
        }
        f.write_str(")")
    }
}

impl AsRef<[u8]> for HashValue {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_prints_length_only() {
        let key = Skeyid::from_slice(&[0xab; 20]);
        assert_eq!(format!("{key:?}"), "Skeyid { len: 20 }");
    }

    #[test]
    fn hash_verify_rejects_other_lengths_and_values() {
        let h = HashValue::new(vec![1, 2, 3]);
        assert!(h.verify(&[1, 2, 3]));
        assert!(!h.verify(&[1, 2, 4]));
        assert!(!h.verify(&[1, 2]));
    }
}
