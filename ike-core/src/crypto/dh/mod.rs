//! Diffie-Hellman groups for IKEv1: MODP groups 1, 2, 5, 14–18 (RFC 2409
//! §6, RFC 3526), ECP groups 19–21 (RFC 5903) and Curve25519 (group 31).
//!
//! A [`DhPrivateKey`] is made by [`DhGroup::generate`] from an injected
//! random source (or, for offline tools and tests, from known bytes with
//! [`DhGroup::private_key_from_bytes`]); [`DhPrivateKey::compute_shared`]
//! validates the peer's public value and returns g^xy.

mod curve25519;
mod ecp;
mod modp;
mod modp_primes;

use rand_core::{CryptoRng, RngCore};

use super::{CryptoError, Gxy};

/// A Diffie-Hellman group by its IKE group number (IANA "Group
/// Description", RFC 2409 Appendix A).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DhGroup {
    /// Group 1, 768-bit MODP (RFC 2409 §6.1). Weak; for interop only.
    Modp768,
    /// Group 2, 1024-bit MODP (RFC 2409 §6.2).
    Modp1024,
    /// Group 5, 1536-bit MODP (RFC 3526 §2).
    Modp1536,
    /// Group 14, 2048-bit MODP (RFC 3526 §3).
    Modp2048,
    /// Group 15, 3072-bit MODP (RFC 3526 §4).
    Modp3072,
    /// Group 16, 4096-bit MODP (RFC 3526 §5).
    Modp4096,
    /// Group 17, 6144-bit MODP (RFC 3526 §6).
    Modp6144,
    /// Group 18, 8192-bit MODP (RFC 3526 §7).
    Modp8192,
    /// Group 19, NIST P-256 (RFC 5903).
    Ecp256,
    /// Group 20, NIST P-384 (RFC 5903).
    Ecp384,
    /// Group 21, NIST P-521 (RFC 5903).
    Ecp521,
    /// Group 31, Curve25519 (RFC 8031's encoding, 32-byte u coordinate).
    Curve25519,
}

impl DhGroup {
    /// Every group this crate implements.
    pub const ALL: [Self; 12] = [
        Self::Modp768,
        Self::Modp1024,
        Self::Modp1536,
        Self::Modp2048,
        Self::Modp3072,
        Self::Modp4096,
        Self::Modp6144,
        Self::Modp8192,
        Self::Ecp256,
        Self::Ecp384,
        Self::Ecp521,
        Self::Curve25519,
    ];

    /// The group with IKE number `id`.
    pub fn from_id(id: u16) -> Option<Self> {
        Self::ALL.into_iter().find(|g| g.id() == id)
    }

    /// The IKE group number.
    pub fn id(self) -> u16 {
        match self {
            Self::Modp768 => 1,
            Self::Modp1024 => 2,
            Self::Modp1536 => 5,
            Self::Modp2048 => 14,
            Self::Modp3072 => 15,
            Self::Modp4096 => 16,
            Self::Modp6144 => 17,
            Self::Modp8192 => 18,
            Self::Ecp256 => 19,
            Self::Ecp384 => 20,
            Self::Ecp521 => 21,
            Self::Curve25519 => 31,
        }
    }

    /// Length of a public value in a KE payload: the prime length for MODP
    /// (RFC 2409 §5), x ‖ y for ECP (RFC 5903 §7), 32 for Curve25519.
    pub fn public_value_len(self) -> usize {
        match self {
            Self::Ecp256 => 64,
            Self::Ecp384 => 96,
            Self::Ecp521 => 132,
            Self::Curve25519 => 32,
            modp => modp::prime(modp).map_or(0, <[u8]>::len),
        }
    }

    /// Length of the shared secret g^xy.
    pub fn shared_secret_len(self) -> usize {
        match self {
            Self::Ecp256 | Self::Ecp384 | Self::Ecp521 => self.public_value_len() / 2,
            other => other.public_value_len(),
        }
    }

    /// Security strength in bits, per NIST SP 800-57 Part 1 Table 2 for
    /// the MODP and ECP sizes (groups below 2048 bits are counted as 80).
    pub fn security_bits(self) -> u32 {
        match self {
            Self::Modp768 | Self::Modp1024 | Self::Modp1536 => 80,
            Self::Modp2048 => 112,
            Self::Modp3072 | Self::Ecp256 | Self::Curve25519 => 128,
            Self::Modp4096 => 152,
            Self::Modp6144 => 176,
            Self::Modp8192 => 200,
            Self::Ecp384 => 192,
            Self::Ecp521 => 256,
        }
    }

    /// Default private exponent length for the MODP groups: twice the
    /// security strength (as OpenSSL does for named finite-field groups),
    /// and never below 256 bits. A short exponent is safe here because the
    /// primes are safe primes and the exponent is uniformly random
    /// (RFC 3526 §8 discusses the sizes). `None` for elliptic curves.
    pub fn default_exponent_bits(self) -> Option<u32> {
        if self.is_modp() {
            Some((2 * self.security_bits()).max(256))
        } else {
            None
        }
    }

    /// Whether this is a MODP (finite field) group.
    pub fn is_modp(self) -> bool {
        modp::prime(self).is_some()
    }

    /// Generates a private key with randomness from `rng`.
    ///
    /// `exponent_bits` sets the private exponent length for the MODP groups
    /// (at least 160 bits and less than the prime's length; `None` for
    /// [`DhGroup::default_exponent_bits`]); it must be `None` for the
    /// elliptic-curve groups, whose scalars are always full length.
    pub fn generate<R: RngCore + CryptoRng>(
        self,
        rng: &mut R,
        exponent_bits: Option<u32>,
    ) -> Result<DhPrivateKey, CryptoError> {
        let inner = match self {
            Self::Ecp256 | Self::Ecp384 | Self::Ecp521 | Self::Curve25519 => {
                if let Some(bits) = exponent_bits {
                    return Err(CryptoError::ExponentLength {
                        group: self.id(),
                        bits,
                    });
                }
                if self == Self::Curve25519 {
                    Inner::Curve25519(curve25519::PrivateKey::generate(rng))
                } else {
                    Inner::Ecp(ecp::PrivateKey::generate(self, rng)?)
                }
            }
            modp_group => {
                let bits = exponent_bits
                    .or(self.default_exponent_bits())
                    .unwrap_or(256);
                Inner::Modp(modp::PrivateKey::generate(modp_group, rng, bits)?)
            }
        };
        Ok(DhPrivateKey::new(self, inner))
    }

    /// A private key from known bytes: the MODP exponent (big-endian), the
    /// ECP scalar (big-endian, field length) or the X25519 scalar. For
    /// replaying recorded exchanges and for test vectors; live keys come
    /// from [`DhGroup::generate`].
    pub fn private_key_from_bytes(self, bytes: &[u8]) -> Result<DhPrivateKey, CryptoError> {
        let inner = match self {
            Self::Curve25519 => Inner::Curve25519(curve25519::PrivateKey::from_bytes(bytes)?),
            Self::Ecp256 | Self::Ecp384 | Self::Ecp521 => {
                Inner::Ecp(ecp::PrivateKey::from_bytes(self, bytes)?)
            }
            modp_group => Inner::Modp(modp::PrivateKey::from_bytes(modp_group, bytes)?),
        };
        Ok(DhPrivateKey::new(self, inner))
    }
}

/// The private half of one Diffie-Hellman exchange, with its public value.
/// Holds the secret in zeroizing storage; `Debug` shows only the group.
pub struct DhPrivateKey {
    group: DhGroup,
    public: Vec<u8>,
    inner: Inner,
}

enum Inner {
    Modp(modp::PrivateKey),
    Ecp(ecp::PrivateKey),
    Curve25519(curve25519::PrivateKey),
}

impl DhPrivateKey {
    fn new(group: DhGroup, inner: Inner) -> Self {
        let public = match &inner {
            Inner::Modp(k) => k.public_value(),
            Inner::Ecp(k) => k.public_value(),
            Inner::Curve25519(k) => k.public_value(),
        };
        Self {
            group,
            public,
            inner,
        }
    }

    /// The group.
    pub fn group(&self) -> DhGroup {
        self.group
    }

    /// The public value g^x as it goes into the KE payload.
    pub fn public_value(&self) -> &[u8] {
        &self.public
    }

    /// Computes g^xy from the peer's public value, after checking it
    /// (MODP: right length and 1 < y < p−1; ECP: a point on the curve;
    /// X25519: 32 bytes) and rejecting a degenerate result.
    pub fn compute_shared(&self, peer_public: &[u8]) -> Result<Gxy, CryptoError> {
        let expected = self.group.public_value_len();
        if peer_public.len() != expected {
            return Err(CryptoError::PublicValueLength {
                group: self.group.id(),
                len: peer_public.len(),
                expected,
            });
        }
        match &self.inner {
            Inner::Modp(k) => k.compute_shared(peer_public),
            Inner::Ecp(k) => k.compute_shared(peer_public),
            Inner::Curve25519(k) => k.compute_shared(peer_public),
        }
    }
}

impl core::fmt::Debug for DhPrivateKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DhPrivateKey")
            .field("group", &self.group)
            .finish_non_exhaustive()
    }
}
