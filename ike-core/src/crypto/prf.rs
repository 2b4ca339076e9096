//! Hash algorithms and the HMAC PRFs IKEv1 negotiates.
//!
//! In IKEv1 the Phase 1 "hash algorithm" attribute (RFC 2409 Appendix A,
//! SHA-2 values 4–6 from the IANA IKE registry) selects both the
//! hash used for IVs and NAT-D and, when no PRF attribute is negotiated, the
//! HMAC that serves as prf() (RFC 2409 §4).

use digest::Digest;
use hmac::{Mac, SimpleHmac};
use zeroize::Zeroizing;

/// A hash function IKEv1 uses for IVs, NAT-D and (through HMAC) the PRF.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HashAlgorithm {
    /// MD5 (RFC 1321).
    Md5,
    /// SHA-1.
    Sha1,
    /// SHA2-256.
    Sha256,
    /// SHA2-384.
    Sha384,
    /// SHA2-512.
    Sha512,
}

impl HashAlgorithm {
    /// The Phase 1 Hash Algorithm attribute value (RFC 2409 Appendix A:
    /// 1 MD5, 2 SHA, 4–6 SHA2-256/384/512).
    pub fn from_ike_id(id: u16) -> Option<Self> {
        match id {
            1 => Some(Self::Md5),
            2 => Some(Self::Sha1),
            4 => Some(Self::Sha256),
            5 => Some(Self::Sha384),
            6 => Some(Self::Sha512),
            _ => None,
        }
    }

    /// The attribute value of this hash.
    pub fn ike_id(self) -> u16 {
        match self {
            Self::Md5 => 1,
            Self::Sha1 => 2,
            Self::Sha256 => 4,
            Self::Sha384 => 5,
            Self::Sha512 => 6,
        }
    }

    /// A short lowercase name (`md5`, `sha1`, `sha256`, …).
    pub fn name(self) -> &'static str {
        match self {
            Self::Md5 => "md5",
            Self::Sha1 => "sha1",
            Self::Sha256 => "sha256",
            Self::Sha384 => "sha384",
            Self::Sha512 => "sha512",
        }
    }

    /// Parses [`HashAlgorithm::name`].
    pub fn from_name(name: &str) -> Option<Self> {
        [
            Self::Md5,
            Self::Sha1,
            Self::Sha256,
            Self::Sha384,
            Self::Sha512,
        ]
        .into_iter()
        .find(|h| h.name().eq_ignore_ascii_case(name))
    }

    /// Output length in bytes.
    pub fn output_len(self) -> usize {
        match self {
            Self::Md5 => 16,
            Self::Sha1 => 20,
            Self::Sha256 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
        }
    }

    /// hash(parts\[0\] | parts\[1\] | …).
    pub fn hash(self, parts: &[&[u8]]) -> Vec<u8> {
        fn run<D: Digest>(parts: &[&[u8]]) -> Vec<u8> {
            let mut d = D::new();
            for p in parts {
                d.update(p);
            }
            d.finalize().to_vec()
        }
        match self {
            Self::Md5 => run::<md5::Md5>(parts),
            Self::Sha1 => run::<sha1::Sha1>(parts),
            Self::Sha256 => run::<sha2::Sha256>(parts),
            Self::Sha384 => run::<sha2::Sha384>(parts),
            Self::Sha512 => run::<sha2::Sha512>(parts),
        }
    }
}

/// An IKEv1 pseudo-random function: HMAC over one of the hashes
/// (RFC 2409 §4: the HMAC version of the negotiated hash when no PRF is
/// negotiated, which is what every deployed peer does).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Prf {
    /// HMAC-MD5 (RFC 2104).
    HmacMd5,
    /// HMAC-SHA1 (RFC 2104).
    HmacSha1,
    /// HMAC-SHA2-256 (RFC 4868).
    HmacSha256,
    /// HMAC-SHA2-384 (RFC 4868).
    HmacSha384,
    /// HMAC-SHA2-512 (RFC 4868).
    HmacSha512,
}

impl Prf {
    /// The HMAC built on `hash`.
    pub fn hmac(hash: HashAlgorithm) -> Self {
        match hash {
            HashAlgorithm::Md5 => Self::HmacMd5,
            HashAlgorithm::Sha1 => Self::HmacSha1,
            HashAlgorithm::Sha256 => Self::HmacSha256,
            HashAlgorithm::Sha384 => Self::HmacSha384,
            HashAlgorithm::Sha512 => Self::HmacSha512,
        }
    }

    /// The underlying hash.
    pub fn hash(self) -> HashAlgorithm {
        match self {
            Self::HmacMd5 => HashAlgorithm::Md5,
            Self::HmacSha1 => HashAlgorithm::Sha1,
            Self::HmacSha256 => HashAlgorithm::Sha256,
            Self::HmacSha384 => HashAlgorithm::Sha384,
            Self::HmacSha512 => HashAlgorithm::Sha512,
        }
    }

    /// Output length in bytes.
    pub fn output_len(self) -> usize {
        self.hash().output_len()
    }

    /// prf(key, parts\[0\] | parts\[1\] | …). The output is often key material,
    /// so it comes back zeroizing.
    pub fn compute(self, key: &[u8], parts: &[&[u8]]) -> Zeroizing<Vec<u8>> {
        // SimpleHmac keeps no precomputed pads beyond the hash state and, like
        // every HMAC, takes keys of any length, so construction cannot fail.
        fn run<D: Digest + digest::core_api::BlockSizeUser>(
            key: &[u8],
            parts: &[&[u8]],
        ) -> Zeroizing<Vec<u8>> {
            let Ok(mut mac) = <SimpleHmac<D> as Mac>::new_from_slice(key) else {
                unreachable!("HMAC accepts keys of any length")
            };
            for p in parts {
                mac.update(p);
            }
            Zeroizing::new(mac.finalize().into_bytes().to_vec())
        }
        match self {
            Self::HmacMd5 => run::<md5::Md5>(key, parts),
            Self::HmacSha1 => run::<sha1::Sha1>(key, parts),
            Self::HmacSha256 => run::<sha2::Sha256>(key, parts),
            Self::HmacSha384 => run::<sha2::Sha384>(key, parts),
            Self::HmacSha512 => run::<sha2::Sha512>(key, parts),
        }
    }
}
