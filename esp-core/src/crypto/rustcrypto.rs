//! The RustCrypto backend: `aes`, `des`, `cbc`, `ctr`, `aes-gcm`,
//! `chacha20poly1305`, `ghash` and `hmac`.

use aes::{Aes128, Aes192, Aes256};
use aes_gcm::aead::AeadInPlace;
use aes_gcm::aead::consts::{U12, U16};
use aes_gcm::aead::generic_array::typenum::Unsigned;
use cipher::block_padding::NoPadding;
use cipher::{
    BlockCipher, BlockDecrypt, BlockDecryptMut, BlockEncrypt, BlockEncryptMut, InnerIvInit,
    KeyInit, StreamCipher,
};
use hmac::{Hmac, Mac};
use subtle::ConstantTimeEq;

use super::gcm::GhashGcm;
use super::{
    AeadHeader, CryptoBackend, CryptoError, EncryptionAlgorithm, EspCipher, EspIntegrity,
    IntegrityAlgorithm,
};
use crate::error::ConfigError;

/// Evaluates `$body` with `$aes` naming the AES variant for the key length
/// (16, 24 or 32 bytes; the length was validated before).
macro_rules! for_aes_key {
    ($key:expr, $aes:ident => $body:expr) => {
        match $key.len() {
            16 => {
                type $aes = Aes128;
                $body
            }
            24 => {
                type $aes = Aes192;
                $body
            }
            _ => {
                type $aes = Aes256;
                $body
            }
        }
    };
}

fn keyed<C: KeyInit>(key: &[u8], bad: ConfigError) -> Result<C, ConfigError> {
    C::new_from_slice(key).map_err(|_| bad)
}

/// The default backend, built on the RustCrypto crates.
#[derive(Debug, Clone, Copy, Default)]
pub struct RustCryptoBackend;

impl CryptoBackend for RustCryptoBackend {
    fn cipher(
        &self,
        algorithm: EncryptionAlgorithm,
        keying_material: &[u8],
    ) -> Result<Box<dyn EspCipher>, ConfigError> {
        use EncryptionAlgorithm as E;
        let bad = ConfigError::EncryptionKeyLength {
            algorithm,
            got: keying_material.len(),
        };
        if !algorithm.keying_material_valid(keying_material.len()) {
            return Err(bad);
        }
        let (key, salt) = keying_material
            .split_at_checked(keying_material.len() - algorithm.salt_len())
            .ok_or(bad)?;
        let salt: [u8; 4] = salt.try_into().unwrap_or([0; 4]);
        let boxed = |c: Box<dyn EspCipher>| c;
        Ok(match algorithm {
            E::Null => Box::new(NullCipher),
            E::AesCbc => {
                for_aes_key!(key, A => boxed(Box::new(Cbc::new(algorithm, keyed::<A>(key, bad)?))))
            }
            E::TripleDesCbc => Box::new(Cbc::new(algorithm, keyed::<des::TdesEde3>(key, bad)?)),
            E::AesCtr => {
                for_aes_key!(key, A => boxed(Box::new(Ctr::new(salt, keyed::<A>(key, bad)?))))
            }
            E::AesGcm12 => {
                for_aes_key!(key, A => aead::<aes_gcm::AesGcm<A, U12, U12>>(algorithm, key, salt)?)
            }
            E::AesGcm16 => {
                for_aes_key!(key, A => aead::<aes_gcm::AesGcm<A, U12, U16>>(algorithm, key, salt)?)
            }
            E::ChaCha20Poly1305 => {
                aead::<chacha20poly1305::ChaCha20Poly1305>(algorithm, key, salt)?
            }
            // The aes-gcm crate has no 8-byte tags and no split AAD, which
            // GCM-8 and GMAC with ESN need: GHASH + CTR directly.
            E::AesGcm8 | E::AesGmac => {
                let gmac = algorithm == E::AesGmac;
                let tag_len = algorithm.aead_icv_len().unwrap_or(16);
                for_aes_key!(key, A => boxed(Box::new(GhashGcm::new(algorithm, keyed::<A>(key, bad)?, salt, tag_len, gmac))))
            }
        })
    }

    fn integrity(
        &self,
        algorithm: IntegrityAlgorithm,
        key: &[u8],
    ) -> Result<Box<dyn EspIntegrity>, ConfigError> {
        use IntegrityAlgorithm as I;
        let bad = ConfigError::IntegrityKeyLength {
            algorithm,
            got: key.len(),
            expected: algorithm.key_len(),
        };
        let state = match algorithm {
            I::HmacMd5_96 => {
                HmacState::Md5(<Hmac<_> as Mac>::new_from_slice(key).map_err(|_| bad)?)
            }
            I::HmacSha1_96 => {
                HmacState::Sha1(<Hmac<_> as Mac>::new_from_slice(key).map_err(|_| bad)?)
            }
            I::HmacSha256_128 | I::HmacSha256_96 => {
                HmacState::Sha256(<Hmac<_> as Mac>::new_from_slice(key).map_err(|_| bad)?)
            }
            I::HmacSha384_192 => {
                HmacState::Sha384(<Hmac<_> as Mac>::new_from_slice(key).map_err(|_| bad)?)
            }
            I::HmacSha512_256 => {
                HmacState::Sha512(<Hmac<_> as Mac>::new_from_slice(key).map_err(|_| bad)?)
            }
        };
        Ok(Box::new(HmacIntegrity { algorithm, state }))
    }
}

/// RFC 2410: the identity transform.
struct NullCipher;

impl EspCipher for NullCipher {
    fn algorithm(&self) -> EncryptionAlgorithm {
        EncryptionAlgorithm::Null
    }
    fn encrypt(
        &self,
        _: &AeadHeader,
        _: &[u8],
        _: &mut [u8],
        _: &mut [u8],
    ) -> Result<(), CryptoError> {
        Ok(())
    }
    fn decrypt(&self, _: &AeadHeader, _: &[u8], _: &mut [u8], _: &[u8]) -> Result<(), CryptoError> {
        Ok(())
    }
}

/// CBC over a block cipher (RFC 3602 AES, RFC 2451 3DES). The framing
/// layer passes whole blocks and a block-sized IV; anything else is an error.
struct Cbc<C> {
    algorithm: EncryptionAlgorithm,
    cipher: C,
}

impl<C> Cbc<C> {
    fn new(algorithm: EncryptionAlgorithm, cipher: C) -> Self {
        Self { algorithm, cipher }
    }
}

impl<C> EspCipher for Cbc<C>
where
    C: BlockCipher + BlockEncrypt + BlockDecrypt + Clone + Send + Sync,
{
    fn algorithm(&self) -> EncryptionAlgorithm {
        self.algorithm
    }

    fn encrypt(
        &self,
        _: &AeadHeader,
        iv: &[u8],
        data: &mut [u8],
        _: &mut [u8],
    ) -> Result<(), CryptoError> {
        let enc = cbc::Encryptor::<C>::inner_iv_slice_init(self.cipher.clone(), iv)
            .map_err(|_| CryptoError::Length)?;
        let len = data.len();
        enc.encrypt_padded_mut::<NoPadding>(data, len)
            .map(|_| ())
            .map_err(|_| CryptoError::Length)
    }

    fn decrypt(
        &self,
        _: &AeadHeader,
        iv: &[u8],
        data: &mut [u8],
        _: &[u8],
    ) -> Result<(), CryptoError> {
        let dec = cbc::Decryptor::<C>::inner_iv_slice_init(self.cipher.clone(), iv)
            .map_err(|_| CryptoError::Length)?;
        dec.decrypt_padded_mut::<NoPadding>(data)
            .map(|_| ())
            .map_err(|_| CryptoError::Length)
    }
}

/// AES-CTR for ESP, RFC 3686 §4: counter block = nonce | IV | block counter
/// starting at 1.
struct Ctr<C> {
    nonce: [u8; 4],
    cipher: C,
}

impl<C> Ctr<C> {
    fn new(nonce: [u8; 4], cipher: C) -> Self {
        Self { nonce, cipher }
    }

    fn counter_block(&self, iv: &[u8]) -> Result<[u8; 16], CryptoError> {
        let mut block = [0u8; 16];
        let (n, rest) = block.split_at_mut(4);
        n.copy_from_slice(&self.nonce);
        let (i, counter) = rest.split_at_mut(8);
        if i.len() != iv.len() {
            return Err(CryptoError::Length);
        }
        i.copy_from_slice(iv);
        counter.copy_from_slice(&1u32.to_be_bytes());
        Ok(block)
    }
}

impl<C> Drop for Ctr<C> {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.nonce);
    }
}

impl<C> EspCipher for Ctr<C>
where
    C: BlockCipher + BlockEncrypt + Clone + Send + Sync + cipher::BlockSizeUser<BlockSize = U16>,
{
    fn algorithm(&self) -> EncryptionAlgorithm {
        EncryptionAlgorithm::AesCtr
    }

    fn encrypt(
        &self,
        _: &AeadHeader,
        iv: &[u8],
        data: &mut [u8],
        _: &mut [u8],
    ) -> Result<(), CryptoError> {
        let block = self.counter_block(iv)?;
        let core = ctr::CtrCore::<C, ctr::flavors::Ctr32BE>::inner_iv_init(
            self.cipher.clone(),
            &block.into(),
        );
        cipher::StreamCipherCoreWrapper::from_core(core).apply_keystream(data);
        Ok(())
    }

    fn decrypt(
        &self,
        h: &AeadHeader,
        iv: &[u8],
        data: &mut [u8],
        _: &[u8],
    ) -> Result<(), CryptoError> {
        // CTR is its own inverse.
        self.encrypt(h, iv, data, &mut [])
    }
}

/// A combined-mode algorithm from the `aead` crate family, with the ESP
/// nonce salt | IV (RFC 4106 §4, RFC 7634 §2).
struct Aead<A> {
    algorithm: EncryptionAlgorithm,
    salt: [u8; 4],
    aead: A,
}

impl<A> Drop for Aead<A> {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.salt);
    }
}

fn aead<A>(
    algorithm: EncryptionAlgorithm,
    key: &[u8],
    salt: [u8; 4],
) -> Result<Box<dyn EspCipher>, ConfigError>
where
    A: AeadInPlace + KeyInit + Send + Sync + 'static,
    A: aes_gcm::aead::AeadCore<NonceSize = U12>,
{
    let aead = A::new_from_slice(key).map_err(|_| ConfigError::EncryptionKeyLength {
        algorithm,
        got: key.len() + 4,
    })?;
    Ok(Box::new(Aead {
        algorithm,
        salt,
        aead,
    }))
}

impl<A> Aead<A> {
    fn nonce(&self, iv: &[u8]) -> Option<[u8; 12]> {
        let mut nonce = [0u8; 12];
        let (s, i) = nonce.split_at_mut(4);
        s.copy_from_slice(&self.salt);
        if i.len() != iv.len() {
            return None;
        }
        i.copy_from_slice(iv);
        Some(nonce)
    }
}

impl<A> EspCipher for Aead<A>
where
    A: AeadInPlace + Send + Sync + aes_gcm::aead::AeadCore<NonceSize = U12>,
{
    fn algorithm(&self) -> EncryptionAlgorithm {
        self.algorithm
    }

    fn encrypt(
        &self,
        header: &AeadHeader,
        iv: &[u8],
        data: &mut [u8],
        icv: &mut [u8],
    ) -> Result<(), CryptoError> {
        let nonce = self.nonce(iv).ok_or(CryptoError::Length)?;
        let (aad, aad_len) = header.aad();
        let aad = aad.get(..aad_len).unwrap_or_default();
        if icv.len() != A::TagSize::USIZE {
            return Err(CryptoError::Length);
        }
        let tag = self
            .aead
            .encrypt_in_place_detached(&nonce.into(), aad, data)
            .map_err(|_| CryptoError::Length)?;
        icv.copy_from_slice(&tag);
        Ok(())
    }

    fn decrypt(
        &self,
        header: &AeadHeader,
        iv: &[u8],
        data: &mut [u8],
        icv: &[u8],
    ) -> Result<(), CryptoError> {
        let nonce = self.nonce(iv).ok_or(CryptoError::Length)?;
        let (aad, aad_len) = header.aad();
        let aad = aad.get(..aad_len).unwrap_or_default();
        let tag = aes_gcm::aead::Tag::<A>::from_exact_iter(icv.iter().copied())
            .ok_or(CryptoError::Icv)?;
        // The aead crates verify the tag (in constant time) before they
        // decrypt, and leave the buffer unchanged when it fails.
        self.aead
            .decrypt_in_place_detached(&nonce.into(), aad, data, &tag)
            .map_err(|_| CryptoError::Icv)
    }
}

/// A keyed HMAC state, cloned per packet so the key schedule is not redone.
enum HmacState {
    Md5(Hmac<md5::Md5>),
    Sha1(Hmac<sha1::Sha1>),
    Sha256(Hmac<sha2::Sha256>),
    Sha384(Hmac<sha2::Sha384>),
    Sha512(Hmac<sha2::Sha512>),
}

struct HmacIntegrity {
    algorithm: IntegrityAlgorithm,
    state: HmacState,
}

/// Largest untruncated HMAC output (SHA-512).
const MAX_MAC: usize = 64;

impl HmacIntegrity {
    /// Writes the full MAC into `out` and returns its length.
    fn full_mac(&self, parts: &[&[u8]], out: &mut [u8; MAX_MAC]) -> usize {
        macro_rules! run {
            ($m:expr) => {{
                let mut mac = $m.clone();
                for p in parts {
                    mac.update(p);
                }
                let full = mac.finalize().into_bytes();
                let n = full.len().min(MAX_MAC);
                if let (Some(dst), Some(src)) = (out.get_mut(..n), full.get(..n)) {
                    dst.copy_from_slice(src);
                }
                n
            }};
        }
        match &self.state {
            HmacState::Md5(m) => run!(m),
            HmacState::Sha1(m) => run!(m),
            HmacState::Sha256(m) => run!(m),
            HmacState::Sha384(m) => run!(m),
            HmacState::Sha512(m) => run!(m),
        }
    }
}

impl EspIntegrity for HmacIntegrity {
    fn algorithm(&self) -> IntegrityAlgorithm {
        self.algorithm
    }

    fn compute(&self, parts: &[&[u8]], icv: &mut [u8]) {
        let mut full = zeroize::Zeroizing::new([0u8; MAX_MAC]);
        let n = self.full_mac(parts, &mut full);
        let take = self.algorithm.icv_len().min(n).min(icv.len());
        if let (Some(dst), Some(src)) = (icv.get_mut(..take), full.get(..take)) {
            dst.copy_from_slice(src);
        }
    }

    fn verify(&self, parts: &[&[u8]], icv: &[u8]) -> Result<(), CryptoError> {
        let want = self.algorithm.icv_len();
        if icv.len() != want {
            return Err(CryptoError::Icv);
        }
        let mut full = zeroize::Zeroizing::new([0u8; MAX_MAC]);
        self.full_mac(parts, &mut full);
        let expected = full.get(..want).ok_or(CryptoError::Icv)?;
        if bool::from(expected.ct_eq(icv)) {
            Ok(())
        } else {
            Err(CryptoError::Icv)
        }
    }
}
