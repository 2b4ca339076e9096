//! GCM assembled from the block cipher, `ctr` and `ghash` (NIST SP 800-38D),
//! for what the `aes-gcm` crate does not offer: 8-byte tags (RFC 4106 §6)
//! and GMAC (RFC 4543), whose AAD with ESN is not contiguous in the packet
//! (SPI | Seq high | Seq low | IV | payload).
#![deny(clippy::indexing_slicing)]

use cipher::consts::U16;
use cipher::{
    BlockCipher, BlockEncrypt, BlockSizeUser, InnerIvInit, StreamCipher, StreamCipherCoreWrapper,
};
use ghash::GHash;
use ghash::universal_hash::{KeyInit, UniversalHash};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::{AeadHeader, CryptoError, EncryptionAlgorithm, EspCipher};

pub(super) struct GhashGcm<C> {
    algorithm: EncryptionAlgorithm,
    cipher: C,
    ghash: GHash,
    salt: Zeroizing<[u8; 4]>,
    tag_len: usize,
    /// GMAC: everything is AAD, nothing is encrypted.
    gmac: bool,
}

impl<C> GhashGcm<C>
where
    C: BlockCipher + BlockEncrypt + BlockSizeUser<BlockSize = U16> + Clone,
{
    pub(super) fn new(
        algorithm: EncryptionAlgorithm,
        cipher: C,
        salt: [u8; 4],
        tag_len: usize,
        gmac: bool,
    ) -> Self {
        // H = E(K, 0^128).
        let mut h = ghash::Block::default();
        cipher.encrypt_block(&mut h);
        let ghash = GHash::new(&h);
        zeroize::Zeroize::zeroize(h.as_mut_slice());
        Self {
            algorithm,
            cipher,
            ghash,
            salt: Zeroizing::new(salt),
            tag_len: tag_len.min(16),
            gmac,
        }
    }

    /// J0 = salt | IV | 0x00000001 (96-bit nonce case).
    fn j0(&self, iv: &[u8]) -> Result<[u8; 16], CryptoError> {
        let mut block = [0u8; 16];
        let (s, rest) = block.split_at_mut(4);
        s.copy_from_slice(&*self.salt);
        let (i, counter) = rest.split_at_mut(8);
        if i.len() != iv.len() {
            return Err(CryptoError::Length);
        }
        i.copy_from_slice(iv);
        counter.copy_from_slice(&1u32.to_be_bytes());
        Ok(block)
    }

    /// CTR keystream from inc32(J0) over `data`.
    fn ctr(&self, j0: &[u8; 16], data: &mut [u8]) {
        // The keystream starts at inc32(J0): J0 itself masks the tag.
        let mut start = *j0;
        if let Some(last) = start.last_mut() {
            *last = 2;
        }
        let core = ctr::CtrCore::<C, ctr::flavors::Ctr32BE>::inner_iv_init(
            self.cipher.clone(),
            &start.into(),
        );
        StreamCipherCoreWrapper::from_core(core).apply_keystream(data);
    }

    /// The full 16-byte tag over AAD and ciphertext.
    fn tag(&self, header: &AeadHeader, iv: &[u8], j0: &[u8; 16], data: &[u8]) -> [u8; 16] {
        let (aad, aad_len) = header.aad();
        let aad = aad.get(..aad_len).unwrap_or_default();
        let mut stream = GhashStream::new(self.ghash.clone());
        let (aad_bytes, ct_bytes) = if self.gmac {
            stream.update(aad);
            stream.update(iv);
            stream.update(data);
            (aad.len() + iv.len() + data.len(), 0)
        } else {
            stream.update(aad);
            stream.pad();
            stream.update(data);
            (aad.len(), data.len())
        };
        stream.pad();
        let mut lengths = [0u8; 16];
        let (a, c) = lengths.split_at_mut(8);
        a.copy_from_slice(&(aad_bytes as u64).wrapping_mul(8).to_be_bytes());
        c.copy_from_slice(&(ct_bytes as u64).wrapping_mul(8).to_be_bytes());
        stream.update(&lengths);
        let s = stream.finish();
        let mut mask = ghash::Block::from(*j0);
        self.cipher.encrypt_block(&mut mask);
        let mut tag = [0u8; 16];
        for ((t, s), m) in tag.iter_mut().zip(s.iter()).zip(mask.iter()) {
            *t = s ^ m;
        }
        tag
    }
}

impl<C> EspCipher for GhashGcm<C>
where
    C: BlockCipher + BlockEncrypt + BlockSizeUser<BlockSize = U16> + Clone + Send + Sync,
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
        let j0 = self.j0(iv)?;
        if icv.len() != self.tag_len {
            return Err(CryptoError::Length);
        }
        if !self.gmac {
            self.ctr(&j0, data);
        }
        let tag = self.tag(header, iv, &j0, data);
        icv.copy_from_slice(tag.get(..self.tag_len).ok_or(CryptoError::Length)?);
        Ok(())
    }

    fn decrypt(
        &self,
        header: &AeadHeader,
        iv: &[u8],
        data: &mut [u8],
        icv: &[u8],
    ) -> Result<(), CryptoError> {
        let j0 = self.j0(iv)?;
        if icv.len() != self.tag_len {
            return Err(CryptoError::Icv);
        }
        let tag = self.tag(header, iv, &j0, data);
        let expected = tag.get(..self.tag_len).ok_or(CryptoError::Icv)?;
        if !bool::from(expected.ct_eq(icv)) {
            return Err(CryptoError::Icv);
        }
        if !self.gmac {
            self.ctr(&j0, data);
        }
        Ok(())
    }
}

/// GHASH over a byte stream fed in pieces, padding with zeros only where
/// [`pad`](Self::pad) is called.
struct GhashStream {
    ghash: GHash,
    partial: [u8; 16],
    filled: usize,
}

impl GhashStream {
    fn new(ghash: GHash) -> Self {
        Self {
            ghash,
            partial: [0; 16],
            filled: 0,
        }
    }

    fn update(&mut self, mut data: &[u8]) {
        if self.filled > 0 {
            let want = 16 - self.filled;
            let (head, rest) = data.split_at(want.min(data.len()));
            if let Some(dst) = self.partial.get_mut(self.filled..self.filled + head.len()) {
                dst.copy_from_slice(head);
            }
            self.filled += head.len();
            data = rest;
            if self.filled < 16 {
                return;
            }
            self.ghash.update(&[self.partial.into()]);
            self.filled = 0;
        }
        let whole = data.len() - data.len() % 16;
        let (blocks, tail) = data.split_at(whole);
        // A whole number of blocks: no padding is added.
        self.ghash.update_padded(blocks);
        if let Some(dst) = self.partial.get_mut(..tail.len()) {
            dst.copy_from_slice(tail);
        }
        self.filled = tail.len();
    }

    fn pad(&mut self) {
        if self.filled > 0 {
            if let Some(rest) = self.partial.get_mut(self.filled..) {
                rest.fill(0);
            }
            self.ghash.update(&[self.partial.into()]);
            self.filled = 0;
        }
    }

    fn finish(self) -> ghash::Block {
        // `pad` ran before the length block, so `partial` holds no data.
        self.ghash.finalize()
    }
}
