//! Our side's signature over HASH_I / HASH_R, behind a small trait so the
//! backend can change without touching the exchanges. See `README.md` in
//! this directory for why the backend is the `rsa` crate with blinding and
//! not aws-lc-rs (RUSTSEC-2023-0071).

use rand_core::CryptoRngCore;
use rsa::RsaPrivateKey;
use rsa::traits::PublicKeyParts;

use super::load::{LoadError, load_private_key};
use crate::crypto::rsa_sig;

/// Why our signature could not be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("cannot sign HASH ({hash_len} bytes) with our {modulus_bits}-bit RSA key")]
pub struct SignError {
    /// Length of the value to sign.
    pub hash_len: usize,
    /// Size of our key.
    pub modulus_bits: usize,
}

/// Makes our SIG payload body (RFC 2409 §5.1: PKCS#1 v1.5 type 1 padding
/// over the raw HASH, no DigestInfo).
pub trait HashSigner {
    /// Length of every signature, in bytes (the modulus length).
    fn signature_len(&self) -> usize;

    /// Signs `hash`; `rng` blinds the private-key operation.
    fn sign_hash(&self, rng: &mut dyn CryptoRngCore, hash: &[u8]) -> Result<Vec<u8>, SignError>;
}

/// The pure-Rust backend: the `rsa` crate's private-key operation with
/// base blinding drawn from the injected RNG on every signature.
#[derive(Clone)]
pub struct RsaCrateSigner {
    key: RsaPrivateKey,
}

impl core::fmt::Debug for RsaCrateSigner {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RsaCrateSigner")
            .field("modulus_bits", &(self.key.size() * 8))
            .finish()
    }
}

impl RsaCrateSigner {
    /// A signer for `key`.
    #[must_use]
    pub const fn new(key: RsaPrivateKey) -> Self {
        Self { key }
    }

    /// Reads the key from PKCS#8 or PKCS#1, PEM or DER (racoon's
    /// `certificate_type x509 CERT KEY` key file).
    pub fn load(input: &[u8]) -> Result<Self, LoadError> {
        load_private_key(input).map(Self::new)
    }
}

impl HashSigner for RsaCrateSigner {
    fn signature_len(&self) -> usize {
        self.key.size()
    }

    fn sign_hash(
        &self,
        mut rng: &mut dyn CryptoRngCore,
        hash: &[u8],
    ) -> Result<Vec<u8>, SignError> {
        rsa_sig::sign(&mut rng, &self.key, hash).map_err(|_| SignError {
            hash_len: hash.len(),
            modulus_bits: self.key.size() * 8,
        })
    }
}
