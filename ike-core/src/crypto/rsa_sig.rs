//! RSA signatures as IKEv1 uses them (RFC 2409 §5.1): PKCS#1 v1.5 type 1
//! padding over the raw HASH_I / HASH_R, with no DigestInfo prefix, because
//! the signed value is a PRF output rather than a message digest.
//! Certificates and key loading come later; keys are the `rsa` crate's.

use rand_core::CryptoRngCore;
pub use rsa::{BigUint, RsaPrivateKey, RsaPublicKey};
use rsa::{Pkcs1v15Sign, traits::PublicKeyParts};

use super::CryptoError;

/// Signs `hash` (HASH_I or HASH_R). The RNG blinds the private-key
/// operation against timing attacks.
pub fn sign<R: CryptoRngCore>(
    rng: &mut R,
    key: &RsaPrivateKey,
    hash: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    key.sign_with_rng(rng, Pkcs1v15Sign::new_unprefixed(), hash)
        .map_err(|_| CryptoError::Rsa)
}

/// Checks `signature` over `hash`. A signature shorter than the modulus
/// (leading zero bytes dropped by the peer) is rejected, as PKCS#1
/// requires.
pub fn verify(key: &RsaPublicKey, hash: &[u8], signature: &[u8]) -> Result<(), CryptoError> {
    if signature.len() != key.size() {
        return Err(CryptoError::BadSignature);
    }
    key.verify(Pkcs1v15Sign::new_unprefixed(), hash, signature)
        .map_err(|_| CryptoError::BadSignature)
}
