//! Quick Mode hashes and KEYMAT (RFC 2409 §5.5).
//!
//! ```text
//! HASH(1) = prf(SKEYID_a, M-ID | SA | Ni [ | KE ] [ | IDci | IDcr ])
//! HASH(2) = prf(SKEYID_a, M-ID | Ni_b | SA | Nr [ | KE ] [ | IDci | IDcr ])
//! HASH(3) = prf(SKEYID_a, 0 | M-ID | Ni_b | Nr_b)
//! KEYMAT  = K1 | K2 | …, K1 = prf(SKEYID_d, [ g(qm)^xy | ] protocol | SPI | Ni_b | Nr_b)
//!                        Kn = prf(SKEYID_d, K(n-1) | [ g(qm)^xy | ] protocol | SPI | Ni_b | Nr_b)
//! ```
//!
//! "SA | Ni | …" is every payload after the HASH payload, generic headers
//! included, exactly as on the wire (so a responder-lifetime Notify is
//! covered too). `ni_b`/`nr_b` are the Quick Mode nonce bodies.

use super::{CryptoError, Gxy, HashValue, Keymat, Prf, SkeyidA, SkeyidD};

/// Largest KEYMAT produced: enough for any ESP/AH transform pair.
const MAX_KEYMAT_LEN: usize = 512;

/// HASH(1), sent by the initiator in the first message.
pub fn hash1(prf: Prf, skeyid_a: &SkeyidA, message_id: u32, after_hash: &[u8]) -> HashValue {
    HashValue::new(
        prf.compute(
            skeyid_a.as_bytes(),
            &[&message_id.to_be_bytes(), after_hash],
        )
        .to_vec(),
    )
}

/// HASH(2), sent by the responder; `ni_b` is the initiator's nonce body.
pub fn hash2(
    prf: Prf,
    skeyid_a: &SkeyidA,
    message_id: u32,
    ni_b: &[u8],
    after_hash: &[u8],
) -> HashValue {
    HashValue::new(
        prf.compute(
            skeyid_a.as_bytes(),
            &[&message_id.to_be_bytes(), ni_b, after_hash],
        )
        .to_vec(),
    )
}

/// HASH(3), the initiator's acknowledgement.
pub fn hash3(prf: Prf, skeyid_a: &SkeyidA, message_id: u32, ni_b: &[u8], nr_b: &[u8]) -> HashValue {
    HashValue::new(
        prf.compute(
            skeyid_a.as_bytes(),
            &[&[0], &message_id.to_be_bytes(), ni_b, nr_b],
        )
        .to_vec(),
    )
}

/// HASH(4): the responder's fourth message when the initiator set the
/// commit bit (RFC 2408 §3.1 and §4.12: a CONNECTED Notify). RFC 2409 names
/// no formula; racoon and other peers hash it like an Informational
/// HASH(1): prf(SKEYID_a, M-ID | N).
pub fn hash4(prf: Prf, skeyid_a: &SkeyidA, message_id: u32, after_hash: &[u8]) -> HashValue {
    hash1(prf, skeyid_a, message_id, after_hash)
}

/// The inputs of KEYMAT for one SA.
#[derive(Debug, Clone, Copy)]
pub struct KeymatInputs<'a> {
    /// The Quick Mode DH secret when PFS was negotiated.
    pub pfs_gxy: Option<&'a Gxy>,
    /// IPsec protocol ID (RFC 2407 §4.4.1: 2 AH, 3 ESP, 4 IPComp).
    pub protocol: u8,
    /// The SPI of the SA being keyed: the one its receiver chose.
    pub spi: &'a [u8],
    /// Initiator Quick Mode nonce body.
    pub ni_b: &'a [u8],
    /// Responder Quick Mode nonce body.
    pub nr_b: &'a [u8],
}

/// KEYMAT for one SA, expanded to `len` bytes (encryption key first, then
/// the integrity key).
pub fn keymat(
    prf: Prf,
    skeyid_d: &SkeyidD,
    inputs: &KeymatInputs<'_>,
    len: usize,
) -> Result<Keymat, CryptoError> {
    if len > MAX_KEYMAT_LEN {
        return Err(CryptoError::OutputTooLong(len));
    }
    let g: &[u8] = inputs.pfs_gxy.map_or(&[], Gxy::as_bytes);
    let seed: [&[u8]; 5] = [g, &[inputs.protocol], inputs.spi, inputs.ni_b, inputs.nr_b];
    let key = skeyid_d.as_bytes();
    let mut out = zeroize::Zeroizing::new(Vec::with_capacity(len + prf.output_len()));
    let mut block = prf.compute(key, &seed);
    loop {
        out.extend_from_slice(&block);
        if out.len() >= len {
            break;
        }
        let mut parts: Vec<&[u8]> = Vec::with_capacity(6);
        parts.push(&block);
        parts.extend_from_slice(&seed);
        block = prf.compute(key, &parts);
    }
    out.truncate(len);
    Ok(Keymat::from_slice(&out))
}
