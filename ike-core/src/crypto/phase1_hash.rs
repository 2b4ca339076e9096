//! HASH_I and HASH_R (RFC 2409 §5), the same for Main and Aggressive Mode:
//!
//! ```text
//! HASH_I = prf(SKEYID, g^xi | g^xr | CKY-I | CKY-R | SAi_b | IDii_b)
//! HASH_R = prf(SKEYID, g^xr | g^xi | CKY-R | CKY-I | SAi_b | IDir_b)
//! ```
//!
//! SAi_b is the initiator's SA payload body (without the generic header),
//! ID*_b the ID payload bodies. With signatures these hashes are what gets
//! signed ([`super::rsa_sig`]).

use super::{HashValue, Prf, Skeyid};

/// The exchange values HASH_I and HASH_R cover.
#[derive(Debug, Clone, Copy)]
pub struct Phase1HashInputs<'a> {
    /// Initiator's KE payload body.
    pub gxi: &'a [u8],
    /// Responder's KE payload body.
    pub gxr: &'a [u8],
    /// Initiator cookie.
    pub cky_i: &'a [u8; 8],
    /// Responder cookie.
    pub cky_r: &'a [u8; 8],
    /// The initiator's SA payload body, as sent.
    pub sai_b: &'a [u8],
    /// The initiator's ID payload body.
    pub idii_b: &'a [u8],
    /// The responder's ID payload body.
    pub idir_b: &'a [u8],
}

/// HASH_I.
pub fn hash_i(prf: Prf, skeyid: &Skeyid, x: &Phase1HashInputs<'_>) -> HashValue {
    let out = prf.compute(
        skeyid.as_bytes(),
        &[x.gxi, x.gxr, x.cky_i, x.cky_r, x.sai_b, x.idii_b],
    );
    HashValue::new(out.to_vec())
}

/// HASH_R.
pub fn hash_r(prf: Prf, skeyid: &Skeyid, x: &Phase1HashInputs<'_>) -> HashValue {
    let out = prf.compute(
        skeyid.as_bytes(),
        &[x.gxr, x.gxi, x.cky_r, x.cky_i, x.sai_b, x.idir_b],
    );
    HashValue::new(out.to_vec())
}
