//! Errors of the cryptographic layer.

/// What went wrong in a cryptographic operation. Small and copyable: it
/// carries no secret material.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// The DH group number is not one this crate implements.
    #[error("unsupported Diffie-Hellman group {0}")]
    UnsupportedGroup(u16),
    /// A peer's public value has the wrong length for the group
    /// (RFC 2409 §5: MODP values are padded to the length of the prime).
    #[error("Diffie-Hellman public value of {len} bytes, group {group} needs {expected}")]
    PublicValueLength {
        /// IKE group number.
        group: u16,
        /// Length received.
        len: usize,
        /// Length the group needs.
        expected: usize,
    },
    /// A peer's public value is out of range (MODP: not 1 < y < p−1) or not
    /// a point on the curve.
    #[error("invalid Diffie-Hellman public value for group {0}")]
    InvalidPublicValue(u16),
    /// The shared secret is degenerate (1, p−1, or all zero).
    #[error("degenerate Diffie-Hellman shared secret in group {0}")]
    DegenerateSharedSecret(u16),
    /// A private value given by the caller is out of range.
    #[error("invalid Diffie-Hellman private value for group {0}")]
    InvalidPrivateValue(u16),
    /// The requested private exponent length does not fit the group.
    #[error("private exponent of {bits} bits is not allowed for group {group}")]
    ExponentLength {
        /// IKE group number.
        group: u16,
        /// Requested length.
        bits: u32,
    },
    /// A key has the wrong length for the cipher.
    #[error("{len}-byte key is not valid for {cipher}")]
    KeyLength {
        /// Cipher name.
        cipher: &'static str,
        /// Length given.
        len: usize,
    },
    /// An IV has the wrong length for the cipher.
    #[error("{len}-byte IV, the cipher needs {expected}")]
    IvLength {
        /// Length given.
        len: usize,
        /// Block length of the cipher.
        expected: usize,
    },
    /// A ciphertext is not a whole number of blocks (or is empty).
    #[error("ciphertext of {len} bytes is not a non-empty multiple of {block} bytes")]
    CiphertextLength {
        /// Length given.
        len: usize,
        /// Block length of the cipher.
        block: usize,
    },
    /// More keying material was requested than this crate produces.
    #[error("{0} bytes of keying material requested, too many")]
    OutputTooLong(usize),
    /// An RSA key or operation failed (key too small for the hash, bad key).
    #[error("RSA operation failed")]
    Rsa,
    /// An RSA signature does not verify.
    #[error("RSA signature does not verify")]
    BadSignature,
}
