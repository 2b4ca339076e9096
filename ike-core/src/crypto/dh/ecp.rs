//! Elliptic-curve groups 19, 20, 21 (RFC 5903): NIST P-256, P-384, P-521.
//!
//! In IKE the public value is x ‖ y, each coordinate padded to the field
//! length, and the shared secret is the x coordinate of the product
//! (RFC 5903 §7).

use rand_core::{CryptoRng, RngCore};

use super::DhGroup;
use crate::crypto::{CryptoError, Gxy};

pub(super) enum PrivateKey {
    P256(p256::SecretKey),
    P384(p384::SecretKey),
    P521(p521::SecretKey),
}

/// The same code for each curve crate, which share one generic API.
macro_rules! per_curve {
    ($key:expr, $curve:ident, $k:ident => $body:expr) => {
        match $key {
            PrivateKey::P256($k) => {
                use p256 as $curve;
                $body
            }
            PrivateKey::P384($k) => {
                use p384 as $curve;
                $body
            }
            PrivateKey::P521($k) => {
                use p521 as $curve;
                $body
            }
        }
    };
}

impl PrivateKey {
    pub(super) fn generate<R: RngCore + CryptoRng>(
        group: DhGroup,
        rng: &mut R,
    ) -> Result<Self, CryptoError> {
        Ok(match group {
            DhGroup::Ecp256 => Self::P256(p256::SecretKey::random(rng)),
            DhGroup::Ecp384 => Self::P384(p384::SecretKey::random(rng)),
            DhGroup::Ecp521 => Self::P521(p521::SecretKey::random(rng)),
            other => return Err(CryptoError::UnsupportedGroup(other.id())),
        })
    }

    /// A scalar given as big-endian bytes of the field length, 0 < d < n.
    pub(super) fn from_bytes(group: DhGroup, bytes: &[u8]) -> Result<Self, CryptoError> {
        let invalid = CryptoError::InvalidPrivateValue(group.id());
        if bytes.len() != group.shared_secret_len() {
            return Err(invalid);
        }
        Ok(match group {
            DhGroup::Ecp256 => Self::P256(p256::SecretKey::from_slice(bytes).map_err(|_| invalid)?),
            DhGroup::Ecp384 => Self::P384(p384::SecretKey::from_slice(bytes).map_err(|_| invalid)?),
            DhGroup::Ecp521 => Self::P521(p521::SecretKey::from_slice(bytes).map_err(|_| invalid)?),
            other => return Err(CryptoError::UnsupportedGroup(other.id())),
        })
    }

    fn group(&self) -> DhGroup {
        match self {
            Self::P256(_) => DhGroup::Ecp256,
            Self::P384(_) => DhGroup::Ecp384,
            Self::P521(_) => DhGroup::Ecp521,
        }
    }

    /// x ‖ y of d·G.
    pub(super) fn public_value(&self) -> Vec<u8> {
        per_curve!(self, curve, k => {
            use curve::elliptic_curve::sec1::ToEncodedPoint;
            let point = k.public_key().to_encoded_point(false);
            // Uncompressed SEC1 is 0x04 ‖ x ‖ y; IKE drops the 0x04.
            point.as_bytes().get(1..).unwrap_or_default().to_vec()
        })
    }

    /// The x coordinate of d·Q, after checking that Q = x ‖ y is on the
    /// curve and not the identity (the curve crates reject both).
    pub(super) fn compute_shared(&self, peer: &[u8]) -> Result<Gxy, CryptoError> {
        let id = self.group().id();
        let mut sec1 = Vec::with_capacity(peer.len() + 1);
        sec1.push(0x04);
        sec1.extend_from_slice(peer);
        per_curve!(self, curve, k => {
            let peer_key = curve::PublicKey::from_sec1_bytes(&sec1)
                .map_err(|_| CryptoError::InvalidPublicValue(id))?;
            let shared = curve::ecdh::diffie_hellman(k.to_nonzero_scalar(), peer_key.as_affine());
            Ok(Gxy::from_slice(shared.raw_secret_bytes()))
        })
    }
}
