//! The Phase 1 key schedule (RFC 2409 §5 and Appendix B).
//!
//! ```text
//! SKEYID   = prf(pre-shared-key, Ni_b | Nr_b)              pre-shared key
//!          = prf(Ni_b | Nr_b, g^xy)                        signatures
//!          = prf(hash(Ni_b | Nr_b), CKY-I | CKY-R)         public-key encryption
//! SKEYID_d = prf(SKEYID, g^xy | CKY-I | CKY-R | 0)
//! SKEYID_a = prf(SKEYID, SKEYID_d | g^xy | CKY-I | CKY-R | 1)
//! SKEYID_e = prf(SKEYID, SKEYID_a | g^xy | CKY-I | CKY-R | 2)
//! ```

use super::cipher::Phase1Cipher;
use super::iv::Iv;
use super::prf::{HashAlgorithm, Prf};
use super::{CryptoError, EncryptionKey, Gxy, HashValue, Skeyid, SkeyidA, SkeyidD, SkeyidE};

/// Largest output of [`expand_appendix_b`]: far more than any cipher key.
const MAX_KEY_LEN: usize = 256;

/// How Phase 1 is authenticated, as far as SKEYID is concerned.
#[derive(Clone, Copy)]
pub enum Phase1Auth<'a> {
    /// Pre-shared key (RFC 2409 §5.4).
    PreSharedKey(&'a [u8]),
    /// Digital signatures (RFC 2409 §5.1): DSS or RSA.
    Signature,
    /// Public-key encryption, original or revised mode (RFC 2409 §5.2, §5.3).
    PublicKeyEncryption,
    /// Public-key encryption as Cisco peers compute it: SKEYID =
    /// prf(Ni_b | Nr_b, CKY-I | CKY-R), without the hash() of RFC 2409
    /// §5. Observed in recordings against Cisco responders.
    PublicKeyEncryptionCisco,
}

impl core::fmt::Debug for Phase1Auth<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::PreSharedKey(k) => write!(f, "PreSharedKey {{ len: {} }}", k.len()),
            Self::Signature => f.write_str("Signature"),
            Self::PublicKeyEncryption => f.write_str("PublicKeyEncryption"),
            Self::PublicKeyEncryptionCisco => f.write_str("PublicKeyEncryptionCisco"),
        }
    }
}

/// The inputs of SKEYID and its three children.
#[derive(Debug, Clone, Copy)]
pub struct Phase1Inputs<'a> {
    /// Negotiated PRF.
    pub prf: Prf,
    /// Authentication method.
    pub auth: Phase1Auth<'a>,
    /// g^xy.
    pub gxy: &'a Gxy,
    /// Initiator nonce body Ni_b.
    pub ni: &'a [u8],
    /// Responder nonce body Nr_b.
    pub nr: &'a [u8],
    /// Initiator cookie.
    pub cky_i: &'a [u8; 8],
    /// Responder cookie.
    pub cky_r: &'a [u8; 8],
}

impl Skeyid {
    /// SKEYID for the method in `inputs` (RFC 2409 §5).
    pub fn derive(inputs: &Phase1Inputs<'_>) -> Self {
        let prf = inputs.prf;
        let nonces: [&[u8]; 2] = [inputs.ni, inputs.nr];
        let cookies: [&[u8]; 2] = [inputs.cky_i, inputs.cky_r];
        let out = match inputs.auth {
            Phase1Auth::PreSharedKey(psk) => prf.compute(psk, &nonces),
            Phase1Auth::Signature => {
                prf.compute(&[inputs.ni, inputs.nr].concat(), &[inputs.gxy.as_bytes()])
            }
            Phase1Auth::PublicKeyEncryption => {
                let key = zeroize::Zeroizing::new(prf.hash().hash(&nonces));
                prf.compute(&key, &cookies)
            }
            Phase1Auth::PublicKeyEncryptionCisco => {
                prf.compute(&[inputs.ni, inputs.nr].concat(), &cookies)
            }
        };
        Self::from_slice(&out)
    }
}

/// SKEYID and the three keys derived from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phase1Keys {
    /// SKEYID.
    pub skeyid: Skeyid,
    /// SKEYID_d, for Quick Mode KEYMAT.
    pub skeyid_d: SkeyidD,
    /// SKEYID_a, for Phase 2 and Informational hashes.
    pub skeyid_a: SkeyidA,
    /// SKEYID_e, for the Phase 1 cipher key.
    pub skeyid_e: SkeyidE,
}

impl Phase1Keys {
    /// SKEYID_d, SKEYID_a and SKEYID_e from SKEYID (RFC 2409 §5).
    pub fn from_skeyid(
        prf: Prf,
        skeyid: Skeyid,
        gxy: &Gxy,
        cky_i: &[u8; 8],
        cky_r: &[u8; 8],
    ) -> Self {
        let key = skeyid.as_bytes();
        let g = gxy.as_bytes();
        let d = prf.compute(key, &[g, cky_i, cky_r, &[0]]);
        let a = prf.compute(key, &[&d, g, cky_i, cky_r, &[1]]);
        let e = prf.compute(key, &[&a, g, cky_i, cky_r, &[2]]);
        Self {
            skeyid_d: SkeyidD::from_slice(&d),
            skeyid_a: SkeyidA::from_slice(&a),
            skeyid_e: SkeyidE::from_slice(&e),
            skeyid,
        }
    }

    /// SKEYID and its children from the exchange's inputs.
    pub fn derive(inputs: &Phase1Inputs<'_>) -> Self {
        Self::from_skeyid(
            inputs.prf,
            Skeyid::derive(inputs),
            inputs.gxy,
            inputs.cky_i,
            inputs.cky_r,
        )
    }
}

/// RFC 2409 Appendix B: the cipher key is the first `len` bytes of
/// SKEYID_e if it is long enough, else of K1 | K2 | … with K1 = prf(SKEYID_e,
/// 0) and Kn = prf(SKEYID_e, K(n−1)).
pub fn expand_appendix_b(
    prf: Prf,
    skeyid_e: &SkeyidE,
    len: usize,
) -> Result<EncryptionKey, CryptoError> {
    if len > MAX_KEY_LEN {
        return Err(CryptoError::OutputTooLong(len));
    }
    let key = skeyid_e.as_bytes();
    if let Some(prefix) = key.get(..len) {
        return Ok(EncryptionKey::from_slice(prefix));
    }
    let mut out = zeroize::Zeroizing::new(Vec::with_capacity(len + prf.output_len()));
    let mut block = prf.compute(key, &[&[0]]);
    while out.len() < len {
        out.extend_from_slice(&block);
        block = prf.compute(key, &[&block]);
    }
    out.truncate(len);
    Ok(EncryptionKey::from_slice(&out))
}

/// Everything Phase 1 computes: the negotiated algorithms, SKEYID*, the
/// cipher key, plus the hashes and IVs that depend only on them. The engine
/// keeps one of these per ISAKMP SA.
#[derive(Debug, Clone)]
pub struct KeySchedule {
    prf: Prf,
    hash: HashAlgorithm,
    cipher: Phase1Cipher,
    keys: Phase1Keys,
    encryption_key: EncryptionKey,
}

impl KeySchedule {
    /// Derives all Phase 1 keys. `hash` is the negotiated hash algorithm
    /// (used for IVs); `prf` is normally `Prf::hmac(hash)`.
    pub fn derive(
        inputs: &Phase1Inputs<'_>,
        hash: HashAlgorithm,
        cipher: Phase1Cipher,
    ) -> Result<Self, CryptoError> {
        let keys = Phase1Keys::derive(inputs);
        let encryption_key = expand_appendix_b(inputs.prf, &keys.skeyid_e, cipher.key_len())?;
        Ok(Self {
            prf: inputs.prf,
            hash,
            cipher,
            keys,
            encryption_key,
        })
    }

    /// The PRF.
    pub fn prf(&self) -> Prf {
        self.prf
    }

    /// The negotiated hash.
    pub fn hash(&self) -> HashAlgorithm {
        self.hash
    }

    /// The Phase 1 cipher.
    pub fn cipher(&self) -> Phase1Cipher {
        self.cipher
    }

    /// SKEYID and its children.
    pub fn keys(&self) -> &Phase1Keys {
        &self.keys
    }

    /// The Phase 1 cipher key (Appendix B).
    pub fn encryption_key(&self) -> &EncryptionKey {
        &self.encryption_key
    }

    /// The Phase 1 IV, hash(g^xi | g^xr) cut to the cipher's block
    /// (RFC 2409 Appendix B).
    pub fn phase1_iv(&self, gxi: &[u8], gxr: &[u8]) -> Iv {
        Iv::phase1(self.hash, self.cipher.block_len(), gxi, gxr)
    }

    /// HASH_I (RFC 2409 §5), Main and Aggressive Mode.
    pub fn hash_i(&self, exchange: &super::phase1_hash::Phase1HashInputs<'_>) -> HashValue {
        super::phase1_hash::hash_i(self.prf, &self.keys.skeyid, exchange)
    }

    /// HASH_R (RFC 2409 §5), Main and Aggressive Mode.
    pub fn hash_r(&self, exchange: &super::phase1_hash::Phase1HashInputs<'_>) -> HashValue {
        super::phase1_hash::hash_r(self.prf, &self.keys.skeyid, exchange)
    }
}
