//! Phase 1 ciphers in CBC mode (RFC 2409 Appendix A and B; AES per
//! RFC 3602, Camellia per RFC 4312).
//!
//! IKEv1 encrypts everything after the ISAKMP header as one CBC message,
//! padded to the block size. [`Phase1Cipher::encrypt`] pads with zero bytes
//! (and adds nothing when already aligned), which is what strongSwan and
//! Cisco send; [`Phase1Cipher::decrypt`] leaves padding in place because the
//! payload chain's own lengths say where the data ends, and peers pad
//! differently (zeros, random bytes, a trailing pad count, a whole extra
//! block).

use cipher::block_padding::NoPadding;
use cipher::{BlockCipher, BlockDecryptMut, BlockEncryptMut, KeyInit, KeyIvInit};
use zeroize::Zeroizing;

use super::{CryptoError, EncryptionKey};

/// Calls `$run::<BlockCipher>($args)` for the algorithm and key length.
macro_rules! for_each_cipher {
    ($alg:expr, $key:expr, $run:ident, $($args:expr),*) => {
        match $alg {
            CipherAlgorithm::Des => $run::<des::Des>($($args),*),
            CipherAlgorithm::TripleDes => $run::<des::TdesEde3>($($args),*),
            CipherAlgorithm::Blowfish => $run::<blowfish::Blowfish>($($args),*),
            CipherAlgorithm::Cast128 => $run::<cast5::Cast5>($($args),*),
            CipherAlgorithm::Aes => match $key.len() {
                16 => $run::<aes::Aes128>($($args),*),
                24 => $run::<aes::Aes192>($($args),*),
                _ => $run::<aes::Aes256>($($args),*),
            },
            CipherAlgorithm::Camellia => match $key.len() {
                16 => $run::<camellia::Camellia128>($($args),*),
                24 => $run::<camellia::Camellia192>($($args),*),
                _ => $run::<camellia::Camellia256>($($args),*),
            },
        }
    };
}

/// Largest message accepted: an ISAKMP length field is 32 bits, but no
/// UDP datagram exceeds 64 KiB.
const MAX_MESSAGE: usize = 1 << 16;

/// A block cipher IKEv1 Phase 1 can negotiate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CipherAlgorithm {
    /// DES-CBC (attribute value 1). Broken; for old peers only.
    Des,
    /// Blowfish-CBC (3), 40–448-bit keys, 128 by default.
    Blowfish,
    /// 3DES-CBC (5), three-key.
    TripleDes,
    /// CAST-128-CBC (6, RFC 2144), 40–128-bit keys, 128 by default.
    Cast128,
    /// AES-CBC (7, RFC 3602): 128, 192 or 256-bit keys.
    Aes,
    /// Camellia-CBC (8, RFC 4312): 128, 192 or 256-bit keys.
    Camellia,
}

impl CipherAlgorithm {
    /// The Phase 1 Encryption Algorithm attribute value.
    pub fn ike_id(self) -> u16 {
        match self {
            Self::Des => 1,
            Self::Blowfish => 3,
            Self::TripleDes => 5,
            Self::Cast128 => 6,
            Self::Aes => 7,
            Self::Camellia => 8,
        }
    }

    /// The algorithm with this attribute value.
    pub fn from_ike_id(id: u16) -> Option<Self> {
        [
            Self::Des,
            Self::Blowfish,
            Self::TripleDes,
            Self::Cast128,
            Self::Aes,
            Self::Camellia,
        ]
        .into_iter()
        .find(|a| a.ike_id() == id)
    }

    /// Block length in bytes.
    pub fn block_len(self) -> usize {
        match self {
            Self::Des | Self::TripleDes | Self::Blowfish | Self::Cast128 => 8,
            Self::Aes | Self::Camellia => 16,
        }
    }

    /// A short name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Des => "DES-CBC",
            Self::Blowfish => "Blowfish-CBC",
            Self::TripleDes => "3DES-CBC",
            Self::Cast128 => "CAST-128-CBC",
            Self::Aes => "AES-CBC",
            Self::Camellia => "Camellia-CBC",
        }
    }

    fn key_bits_allowed(self, bits: u16) -> bool {
        match self {
            Self::Des => bits == 64,
            Self::TripleDes => bits == 192,
            Self::Aes | Self::Camellia => matches!(bits, 128 | 192 | 256),
            Self::Blowfish => (40..=448).contains(&bits) && bits.is_multiple_of(8),
            Self::Cast128 => (40..=128).contains(&bits) && bits.is_multiple_of(8),
        }
    }

    /// The key length used when the Key Length attribute is absent. AES
    /// and Camellia require the attribute (RFC 3602 §5.3), but peers such
    /// as strongSwan then assume 128.
    fn default_key_bits(self) -> u16 {
        match self {
            Self::Des => 64,
            Self::TripleDes => 192,
            _ => 128,
        }
    }
}

/// A negotiated Phase 1 cipher: an algorithm with its key length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Phase1Cipher {
    algorithm: CipherAlgorithm,
    key_len: usize,
}

impl Phase1Cipher {
    /// `algorithm` with a key of `key_bits` (the Key Length attribute), or
    /// its default length for `None`.
    pub fn new(algorithm: CipherAlgorithm, key_bits: Option<u16>) -> Result<Self, CryptoError> {
        let bits = key_bits.unwrap_or(algorithm.default_key_bits());
        if !algorithm.key_bits_allowed(bits) {
            return Err(CryptoError::KeyLength {
                cipher: algorithm.name(),
                len: usize::from(bits / 8),
            });
        }
        Ok(Self {
            algorithm,
            key_len: usize::from(bits / 8),
        })
    }

    /// The algorithm.
    pub fn algorithm(self) -> CipherAlgorithm {
        self.algorithm
    }

    /// Key length in bytes.
    pub fn key_len(self) -> usize {
        self.key_len
    }

    /// Block (and IV) length in bytes.
    pub fn block_len(self) -> usize {
        self.algorithm.block_len()
    }

    /// The length `len` bytes of plaintext take once padded.
    pub fn padded_len(self, len: usize) -> usize {
        len.div_ceil(self.block_len()) * self.block_len()
    }

    fn check(self, key: &EncryptionKey, iv: &[u8]) -> Result<(), CryptoError> {
        if key.len() != self.key_len {
            return Err(CryptoError::KeyLength {
                cipher: self.algorithm.name(),
                len: key.len(),
            });
        }
        if iv.len() != self.block_len() {
            return Err(CryptoError::IvLength {
                len: iv.len(),
                expected: self.block_len(),
            });
        }
        Ok(())
    }

    /// Zero-pads `plaintext` to the block size and encrypts it. The last
    /// block of the result is the next IV of the exchange.
    pub fn encrypt(
        self,
        key: &EncryptionKey,
        iv: &[u8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        self.check(key, iv)?;
        if plaintext.len() > MAX_MESSAGE {
            return Err(CryptoError::CiphertextLength {
                len: plaintext.len(),
                block: self.block_len(),
            });
        }
        let mut buf = vec![0u8; self.padded_len(plaintext.len()).max(self.block_len())];
        if let Some(head) = buf.get_mut(..plaintext.len()) {
            head.copy_from_slice(plaintext);
        }
        let k = key.as_bytes();
        let r = for_each_cipher!(self.algorithm, k, cbc_encrypt, k, iv, &mut buf);
        r.map_err(|()| self.key_error(k.len()))?;
        Ok(buf)
    }

    /// Decrypts a whole number of blocks; padding is left in place.
    pub fn decrypt(
        self,
        key: &EncryptionKey,
        iv: &[u8],
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        self.check(key, iv)?;
        let block = self.block_len();
        if ciphertext.is_empty()
            || !ciphertext.len().is_multiple_of(block)
            || ciphertext.len() > MAX_MESSAGE
        {
            return Err(CryptoError::CiphertextLength {
                len: ciphertext.len(),
                block,
            });
        }
        let mut buf = Zeroizing::new(ciphertext.to_vec());
        let k = key.as_bytes();
        let r = for_each_cipher!(self.algorithm, k, cbc_decrypt, k, iv, &mut buf);
        r.map_err(|()| self.key_error(k.len()))?;
        Ok(buf)
    }

    fn key_error(self, len: usize) -> CryptoError {
        CryptoError::KeyLength {
            cipher: self.algorithm.name(),
            len,
        }
    }
}

fn cbc_encrypt<C>(key: &[u8], iv: &[u8], buf: &mut [u8]) -> Result<(), ()>
where
    C: BlockEncryptMut + BlockCipher + KeyInit,
{
    let len = buf.len();
    cbc::Encryptor::<C>::new_from_slices(key, iv)
        .map_err(|_| ())?
        .encrypt_padded_mut::<NoPadding>(buf, len)
        .map(|_| ())
        .map_err(|_| ())
}

fn cbc_decrypt<C>(key: &[u8], iv: &[u8], buf: &mut [u8]) -> Result<(), ()>
where
    C: BlockDecryptMut + BlockCipher + KeyInit,
{
    cbc::Decryptor::<C>::new_from_slices(key, iv)
        .map_err(|_| ())?
        .decrypt_padded_mut::<NoPadding>(buf)
        .map(|_| ())
        .map_err(|_| ())
}
