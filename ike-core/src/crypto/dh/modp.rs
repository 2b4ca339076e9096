//! MODP Diffie-Hellman (RFC 2409 §6, RFC 3526), generator 2.
//!
//! The exponentiation with the private exponent runs through
//! crypto-bigint's Montgomery ladder (`BoxedMontyForm::pow_bounded_exp`),
//! whose time depends on the exponent's configured length but not on its
//! bits; num-bigint's `modpow` is variable-time in the exponent. The
//! peer's value is public, so the range checks on it may be variable-time.

use crypto_bigint::modular::{BoxedMontyForm, BoxedMontyParams};
use crypto_bigint::{BoxedUint, Odd};
use rand_core::{CryptoRng, RngCore};
use zeroize::{Zeroize, Zeroizing};

use super::DhGroup;
use super::modp_primes::{
    MODP_768, MODP_1024, MODP_1536, MODP_2048, MODP_3072, MODP_4096, MODP_6144, MODP_8192,
};
use crate::crypto::{CryptoError, Gxy};

/// Shortest private exponent accepted from a caller.
const MIN_EXPONENT_BITS: u32 = 160;

/// The prime of a MODP group, big-endian; `None` for other groups.
pub(super) fn prime(group: DhGroup) -> Option<&'static [u8]> {
    Some(match group {
        DhGroup::Modp768 => MODP_768,
        DhGroup::Modp1024 => MODP_1024,
        DhGroup::Modp1536 => MODP_1536,
        DhGroup::Modp2048 => MODP_2048,
        DhGroup::Modp3072 => MODP_3072,
        DhGroup::Modp4096 => MODP_4096,
        DhGroup::Modp6144 => MODP_6144,
        DhGroup::Modp8192 => MODP_8192,
        _ => return None,
    })
}

/// The group's modulus as Montgomery parameters, and its bit length.
fn params(group: DhGroup) -> Result<(BoxedMontyParams, u32), CryptoError> {
    let unsupported = CryptoError::UnsupportedGroup(group.id());
    let p_bytes = prime(group).ok_or(unsupported)?;
    let bits = u32::try_from(p_bytes.len() * 8).map_err(|_| unsupported)?;
    let p = BoxedUint::from_be_slice(p_bytes, bits).map_err(|_| unsupported)?;
    let odd = Option::<Odd<BoxedUint>>::from(Odd::new(p)).ok_or(unsupported)?;
    Ok((BoxedMontyParams::new(odd), bits))
}

/// A MODP private exponent and the length the exponentiation runs over.
pub(super) struct PrivateKey {
    group: DhGroup,
    params: BoxedMontyParams,
    p_bits: u32,
    exponent: BoxedUint,
    exponent_bits: u32,
}

impl Drop for PrivateKey {
    fn drop(&mut self) {
        self.exponent.zeroize();
    }
}

impl PrivateKey {
    /// A uniformly random exponent of exactly `exponent_bits` bits (top bit
    /// set, so the length, which the timing reveals anyway, is exact).
    pub(super) fn generate<R: RngCore + CryptoRng>(
        group: DhGroup,
        rng: &mut R,
        exponent_bits: u32,
    ) -> Result<Self, CryptoError> {
        let (params, p_bits) = params(group)?;
        if !(MIN_EXPONENT_BITS..p_bits).contains(&exponent_bits) {
            return Err(CryptoError::ExponentLength {
                group: group.id(),
                bits: exponent_bits,
            });
        }
        let len = exponent_bits.div_ceil(8) as usize;
        let mut bytes = Zeroizing::new(vec![0u8; len]);
        rng.fill_bytes(&mut bytes);
        let excess = (len as u32) * 8 - exponent_bits;
        if let Some(top) = bytes.first_mut() {
            *top &= 0xff >> excess;
            *top |= 0x80 >> excess;
        }
        let exponent = BoxedUint::from_be_slice(&bytes, p_bits)
            .map_err(|_| CryptoError::InvalidPrivateValue(group.id()))?;
        Ok(Self {
            group,
            params,
            p_bits,
            exponent,
            exponent_bits,
        })
    }

    /// An exponent given as big-endian bytes; it must satisfy 1 < x < p−1.
    pub(super) fn from_bytes(group: DhGroup, bytes: &[u8]) -> Result<Self, CryptoError> {
        let (params, p_bits) = params(group)?;
        let invalid = CryptoError::InvalidPrivateValue(group.id());
        let exponent = BoxedUint::from_be_slice(bytes, p_bits).map_err(|_| invalid)?;
        if !in_open_range(&exponent, &params, p_bits) {
            return Err(invalid);
        }
        let exponent_bits = u32::try_from(bytes.len() * 8).map_err(|_| invalid)?;
        Ok(Self {
            group,
            params,
            p_bits,
            exponent,
            exponent_bits,
        })
    }

    /// base^x mod p as big-endian bytes padded to the prime length.
    fn pow(&self, base: BoxedUint) -> Vec<u8> {
        let base = BoxedMontyForm::new(base, self.params.clone());
        let result = base.pow_bounded_exp(&self.exponent, self.exponent_bits);
        result.retrieve().to_be_bytes().into_vec()
    }

    /// g^x mod p.
    pub(super) fn public_value(&self) -> Vec<u8> {
        self.pow(BoxedUint::from(2u8).widen(self.p_bits))
    }

    /// y^x mod p, after checking 1 < y < p−1 and that the result is
    /// neither 1 nor p−1 (which would mean y lies in a small subgroup).
    pub(super) fn compute_shared(&self, peer: &[u8]) -> Result<Gxy, CryptoError> {
        let id = self.group.id();
        let p_bits = self.p_bits;
        let y = BoxedUint::from_be_slice(peer, p_bits)
            .map_err(|_| CryptoError::InvalidPublicValue(id))?;
        if !in_open_range(&y, &self.params, p_bits) {
            return Err(CryptoError::InvalidPublicValue(id));
        }
        let shared = Zeroizing::new(self.pow(y));
        let mut value = BoxedUint::from_be_slice(&shared, p_bits)
            .map_err(|_| CryptoError::DegenerateSharedSecret(id))?;
        let degenerate = !in_open_range(&value, &self.params, p_bits);
        value.zeroize();
        if degenerate {
            return Err(CryptoError::DegenerateSharedSecret(id));
        }
        Ok(Gxy::from_slice(&shared))
    }
}

/// Whether 1 < v < p−1.
fn in_open_range(v: &BoxedUint, params: &BoxedMontyParams, p_bits: u32) -> bool {
    let one = BoxedUint::one_with_precision(p_bits);
    let p_minus_one = params.modulus().as_ref().wrapping_sub(&one);
    *v > one && *v < p_minus_one
}
