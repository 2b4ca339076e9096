//! Curve25519 (group 31): X25519 as in RFC 7748, the public value and the
//! shared secret are both 32-byte little-endian u coordinates (RFC 8031 §2
//! gives the IKE encoding).

use rand_core::{CryptoRng, RngCore};
use x25519_dalek::{PublicKey, StaticSecret};

use super::DhGroup;
use crate::crypto::{CryptoError, Gxy};

pub(super) struct PrivateKey(StaticSecret);

impl PrivateKey {
    pub(super) fn generate<R: RngCore + CryptoRng>(rng: &mut R) -> Self {
        Self(StaticSecret::random_from_rng(rng))
    }

    pub(super) fn from_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        let scalar: [u8; 32] = bytes
            .try_into()
            .map_err(|_| CryptoError::InvalidPrivateValue(DhGroup::Curve25519.id()))?;
        Ok(Self(StaticSecret::from(scalar)))
    }

    pub(super) fn public_value(&self) -> Vec<u8> {
        PublicKey::from(&self.0).as_bytes().to_vec()
    }

    /// X25519 with the peer's u coordinate; an all-zero result (a
    /// low-order peer point) is rejected, as RFC 7748 §6.1 allows and
    /// RFC 8031 §2 requires.
    pub(super) fn compute_shared(&self, peer: &[u8]) -> Result<Gxy, CryptoError> {
        let id = DhGroup::Curve25519.id();
        let u: [u8; 32] = peer
            .try_into()
            .map_err(|_| CryptoError::InvalidPublicValue(id))?;
        let shared = self.0.diffie_hellman(&PublicKey::from(u));
        if !shared.was_contributory() {
            return Err(CryptoError::DegenerateSharedSecret(id));
        }
        Ok(Gxy::from_slice(shared.as_bytes()))
    }
}
