//! ESP transforms behind two small traits, so that a second backend (for
//! example aws-lc-rs) can be added without touching the ESP framing.
//!
//! The framing code only sees [`EspCipher`] and [`EspIntegrity`] objects,
//! built once per SA by a [`CryptoBackend`]; nothing here allocates per
//! packet.

mod gcm;
mod rustcrypto;

pub use rustcrypto::RustCryptoBackend;

use crate::error::ConfigError;

/// ESP encryption transforms (IKEv2 transform type 1 names in comments).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EncryptionAlgorithm {
    /// NULL encryption, RFC 2410 (`ENCR_NULL`).
    Null,
    /// AES-CBC with a 128/192/256-bit key, RFC 3602.
    AesCbc,
    /// 3DES-CBC (DES-EDE3), RFC 2451.
    TripleDesCbc,
    /// AES counter mode, RFC 3686; keying material = key | 4-byte nonce.
    AesCtr,
    /// AES-GCM with an 8-byte ICV, RFC 4106; keying material = key | salt.
    AesGcm8,
    /// AES-GCM with a 12-byte ICV, RFC 4106.
    AesGcm12,
    /// AES-GCM with a 16-byte ICV, RFC 4106.
    AesGcm16,
    /// AES-GMAC (authentication only, `ENCR_NULL_AUTH_AES_GMAC`), RFC 4543.
    AesGmac,
    /// ChaCha20-Poly1305, RFC 7634; keying material = 32-byte key | salt.
    ChaCha20Poly1305,
}

impl EncryptionAlgorithm {
    /// Every algorithm, for tables and tests.
    pub const ALL: [Self; 9] = [
        Self::Null,
        Self::AesCbc,
        Self::TripleDesCbc,
        Self::AesCtr,
        Self::AesGcm8,
        Self::AesGcm12,
        Self::AesGcm16,
        Self::AesGmac,
        Self::ChaCha20Poly1305,
    ];

    /// The name used on the command line.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Null => "null",
            Self::AesCbc => "aes-cbc",
            Self::TripleDesCbc => "3des-cbc",
            Self::AesCtr => "aes-ctr",
            Self::AesGcm8 => "aes-gcm-8",
            Self::AesGcm12 => "aes-gcm-12",
            Self::AesGcm16 => "aes-gcm-16",
            Self::AesGmac => "aes-gmac",
            Self::ChaCha20Poly1305 => "chacha20-poly1305",
        }
    }

    /// Looks an algorithm up by [`name`](Self::name).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.name() == name)
    }

    /// Length of the explicit IV carried in each packet.
    pub const fn iv_len(self) -> usize {
        match self {
            Self::Null => 0,
            Self::AesCbc => 16,
            // RFC 2451, 3686, 4106, 4543, 7634: 8 bytes.
            _ => 8,
        }
    }

    /// Block size the encrypted part must be a multiple of (1 for stream
    /// and counter modes; ESP still aligns to 4, RFC 4303 §2.4).
    pub const fn block_len(self) -> usize {
        match self {
            Self::AesCbc => 16,
            Self::TripleDesCbc => 8,
            _ => 1,
        }
    }

    /// Length of the salt/nonce at the end of the keying material.
    pub const fn salt_len(self) -> usize {
        match self {
            Self::Null | Self::AesCbc | Self::TripleDesCbc => 0,
            _ => 4,
        }
    }

    /// For combined-mode algorithms, the ICV length they produce.
    pub const fn aead_icv_len(self) -> Option<usize> {
        match self {
            Self::AesGcm8 => Some(8),
            Self::AesGcm12 => Some(12),
            Self::AesGcm16 | Self::AesGmac | Self::ChaCha20Poly1305 => Some(16),
            _ => None,
        }
    }

    /// Whether the IV is built from the sequence number: counter-based modes
    /// must never repeat an IV under one key (RFC 3686 §3.1, RFC 4106 §3.1,
    /// RFC 7634 §2), and the sequence number never repeats within an SA.
    pub const fn iv_from_sequence(self) -> bool {
        !matches!(self, Self::Null | Self::AesCbc | Self::TripleDesCbc)
    }

    /// Valid cipher key lengths (without the salt).
    pub const fn key_lens(self) -> &'static [usize] {
        match self {
            Self::Null => &[0],
            Self::TripleDesCbc => &[24],
            Self::ChaCha20Poly1305 => &[32],
            _ => &[16, 24, 32],
        }
    }

    /// Whether `len` bytes of keying material (key | salt) are valid.
    pub fn keying_material_valid(self, len: usize) -> bool {
        len.checked_sub(self.salt_len())
            .is_some_and(|k| self.key_lens().contains(&k))
    }
}

/// ESP integrity transforms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IntegrityAlgorithm {
    /// HMAC-MD5-96, RFC 2403.
    HmacMd5_96,
    /// HMAC-SHA1-96, RFC 2404.
    HmacSha1_96,
    /// HMAC-SHA-256-128, RFC 4868.
    HmacSha256_128,
    /// HMAC-SHA-384-192, RFC 4868.
    HmacSha384_192,
    /// HMAC-SHA-512-256, RFC 4868.
    HmacSha512_256,
    /// HMAC-SHA-256 truncated to 96 bits: the pre-RFC 4868 draft value that
    /// old Linux kernels (before 2.6.33) used for `sha256` via PF_KEY. Not
    /// interoperable with RFC 4868 peers; only for such legacy setups.
    HmacSha256_96,
}

impl IntegrityAlgorithm {
    /// Every algorithm, for tables and tests.
    pub const ALL: [Self; 6] = [
        Self::HmacMd5_96,
        Self::HmacSha1_96,
        Self::HmacSha256_128,
        Self::HmacSha384_192,
        Self::HmacSha512_256,
        Self::HmacSha256_96,
    ];

    /// The name used on the command line.
    pub const fn name(self) -> &'static str {
        match self {
            Self::HmacMd5_96 => "hmac-md5-96",
            Self::HmacSha1_96 => "hmac-sha1-96",
            Self::HmacSha256_128 => "hmac-sha256-128",
            Self::HmacSha384_192 => "hmac-sha384-192",
            Self::HmacSha512_256 => "hmac-sha512-256",
            Self::HmacSha256_96 => "hmac-sha256-96",
        }
    }

    /// Looks an algorithm up by [`name`](Self::name).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.name() == name)
    }

    /// Length of the truncated ICV.
    pub const fn icv_len(self) -> usize {
        match self {
            Self::HmacMd5_96 | Self::HmacSha1_96 | Self::HmacSha256_96 => 12,
            Self::HmacSha256_128 => 16,
            Self::HmacSha384_192 => 24,
            Self::HmacSha512_256 => 32,
        }
    }

    /// Key length fixed by the RFC (RFC 2403 §3, RFC 2404 §3, RFC 4868
    /// §2.1.1: the hash output length).
    pub const fn key_len(self) -> usize {
        match self {
            Self::HmacMd5_96 => 16,
            Self::HmacSha1_96 => 20,
            Self::HmacSha256_128 | Self::HmacSha256_96 => 32,
            Self::HmacSha384_192 => 48,
            Self::HmacSha512_256 => 64,
        }
    }
}

/// What a combined-mode algorithm authenticates besides the payload: the
/// ESP header, with the high-order sequence bits inserted when ESN is on
/// (RFC 4106 §5, RFC 4543 §3.3, RFC 7634 §2.1).
#[derive(Debug, Clone, Copy)]
pub struct AeadHeader {
    /// The SPI as on the wire.
    pub spi: [u8; 4],
    /// The high 32 bits of the extended sequence number, when ESN is on.
    pub seq_high: Option<[u8; 4]>,
    /// The low 32 bits of the sequence number as on the wire.
    pub seq_low: [u8; 4],
}

impl AeadHeader {
    /// The AAD bytes: SPI | [Seq high] | Seq low, 8 or 12 bytes, in a
    /// fixed buffer with its used length.
    pub fn aad(&self) -> ([u8; 12], usize) {
        let mut out = [0u8; 12];
        let (spi, rest) = out.split_at_mut(4);
        spi.copy_from_slice(&self.spi);
        match self.seq_high {
            Some(high) => {
                let (h, l) = rest.split_at_mut(4);
                h.copy_from_slice(&high);
                l.copy_from_slice(&self.seq_low);
                (out, 12)
            }
            None => {
                let (l, _) = rest.split_at_mut(4);
                l.copy_from_slice(&self.seq_low);
                (out, 8)
            }
        }
    }
}

/// The transform that produces the ESP ciphertext. For combined-mode
/// algorithms it also produces and checks the ICV.
pub trait EspCipher: Send + Sync {
    /// Which algorithm this is.
    fn algorithm(&self) -> EncryptionAlgorithm;

    /// Encrypts `data` in place. `data` is already padded to the block size.
    /// For combined modes, writes the tag to `icv` (of
    /// [`aead_icv_len`](EncryptionAlgorithm::aead_icv_len) bytes); otherwise
    /// `icv` is empty.
    fn encrypt(
        &self,
        header: &AeadHeader,
        iv: &[u8],
        data: &mut [u8],
        icv: &mut [u8],
    ) -> Result<(), CryptoError>;

    /// Decrypts `data` in place. For combined modes, first verifies `icv`
    /// in constant time and leaves `data` untouched on failure.
    fn decrypt(
        &self,
        header: &AeadHeader,
        iv: &[u8],
        data: &mut [u8],
        icv: &[u8],
    ) -> Result<(), CryptoError>;
}

/// The separate integrity transform of a non-combined SA.
pub trait EspIntegrity: Send + Sync {
    /// Which algorithm this is.
    fn algorithm(&self) -> IntegrityAlgorithm;

    /// Computes the truncated ICV over the concatenation of `parts` into
    /// `icv` (exactly [`icv_len`](IntegrityAlgorithm::icv_len) bytes).
    fn compute(&self, parts: &[&[u8]], icv: &mut [u8]);

    /// Recomputes the ICV and compares it with `icv` in constant time.
    fn verify(&self, parts: &[&[u8]], icv: &[u8]) -> Result<(), CryptoError>;
}

/// A transform refused its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// The ICV (or AEAD tag) did not verify.
    #[error("ICV verification failed")]
    Icv,
    /// An IV, ICV or data length does not fit the algorithm.
    #[error("length does not fit the algorithm")]
    Length,
}

/// Builds transform objects from algorithms and keys, once per SA.
pub trait CryptoBackend {
    /// A cipher for `algorithm` keyed with `keying_material` (key | salt).
    fn cipher(
        &self,
        algorithm: EncryptionAlgorithm,
        keying_material: &[u8],
    ) -> Result<Box<dyn EspCipher>, ConfigError>;

    /// An integrity transform. Backends accept any key length here (HMAC is
    /// defined for all); the SA layer enforces the RFC key lengths.
    fn integrity(
        &self,
        algorithm: IntegrityAlgorithm,
        key: &[u8],
    ) -> Result<Box<dyn EspIntegrity>, ConfigError>;
}
