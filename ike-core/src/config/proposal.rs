//! Phase 1 and Phase 2 proposals as configured.

use core::fmt;

use super::Lifetime;
use crate::crypto::{DhGroup, HashAlgorithm, Phase1Cipher};

/// Phase 1 authentication method (RFC 2409 Appendix A, class 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuthMethod {
    /// Pre-shared key (value 1).
    PreSharedKey,
    /// RSA signatures (value 3, RFC 2409 §5.1): certificates or raw keys,
    /// configured in [`super::PeerAuth::RsaSignature`].
    RsaSignature,
}

impl AuthMethod {
    /// The attribute value.
    pub fn ike_id(self) -> u16 {
        match self {
            Self::PreSharedKey => 1,
            Self::RsaSignature => 3,
        }
    }

    /// The method for an attribute value, if supported.
    pub fn from_ike_id(id: u16) -> Option<Self> {
        match id {
            1 => Some(Self::PreSharedKey),
            3 => Some(Self::RsaSignature),
            _ => None,
        }
    }
}

/// One Phase 1 transform: what racoon calls a `proposal { … }` block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Phase1Proposal {
    /// Cipher and key length.
    pub cipher: Phase1Cipher,
    /// Hash (and HMAC PRF).
    pub hash: HashAlgorithm,
    /// Authentication method.
    pub auth: AuthMethod,
    /// Diffie-Hellman group.
    pub group: DhGroup,
    /// ISAKMP SA lifetime.
    pub lifetime: Lifetime,
}

/// IPsec protocol of a Phase 2 proposal (RFC 2407 §4.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IpsecProtocol {
    /// AH (2).
    Ah,
    /// ESP (3).
    Esp,
    /// IPComp (4).
    IpComp,
}

impl IpsecProtocol {
    /// The Protocol-Id of RFC 2407 §4.4.1.
    pub fn protocol_id(self) -> u8 {
        match self {
            Self::Ah => 2,
            Self::Esp => 3,
            Self::IpComp => 4,
        }
    }

    /// The protocol for a Protocol-Id.
    pub fn from_protocol_id(id: u8) -> Option<Self> {
        match id {
            2 => Some(Self::Ah),
            3 => Some(Self::Esp),
            4 => Some(Self::IpComp),
            _ => None,
        }
    }

    /// The name racoon logs (`ESP`, `AH`, `IPCOMP`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Ah => "AH",
            Self::Esp => "ESP",
            Self::IpComp => "IPCOMP",
        }
    }
}

/// ESP transform IDs (RFC 2407 §4.4.4, RFC 3602, RFC 3686, RFC 4106).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EspCipher {
    /// ESP_DES (2).
    Des,
    /// ESP_3DES (3).
    TripleDes,
    /// ESP_NULL (11).
    Null,
    /// ESP_AES, AES-CBC (12).
    AesCbc,
    /// ESP_AES-CTR (13).
    AesCtr,
    /// ESP_AES-GCM with a 16-byte ICV (20).
    AesGcm16,
}

impl EspCipher {
    /// The ESP transform ID.
    pub fn transform_id(self) -> u8 {
        match self {
            Self::Des => 2,
            Self::TripleDes => 3,
            Self::Null => 11,
            Self::AesCbc => 12,
            Self::AesCtr => 13,
            Self::AesGcm16 => 20,
        }
    }

    /// The cipher for a transform ID, if supported.
    pub fn from_transform_id(id: u8) -> Option<Self> {
        [
            Self::Des,
            Self::TripleDes,
            Self::Null,
            Self::AesCbc,
            Self::AesCtr,
            Self::AesGcm16,
        ]
        .into_iter()
        .find(|c| c.transform_id() == id)
    }

    /// Whether the transform carries a Key Length attribute (variable-length ciphers).
    pub fn has_key_length(self) -> bool {
        matches!(self, Self::AesCbc | Self::AesCtr | Self::AesGcm16)
    }

    /// KEYMAT bytes the cipher takes for a key of `key_bits`: the key plus
    /// the 4-byte salt/nonce of RFC 3686 §5.1 and RFC 4106 §8.1.
    pub fn keymat_len(self, key_bits: Option<u16>) -> usize {
        let key = usize::from(key_bits.unwrap_or(128)) / 8;
        match self {
            Self::Des => 8,
            Self::TripleDes => 24,
            Self::Null => 0,
            Self::AesCbc => key,
            Self::AesCtr | Self::AesGcm16 => key + 4,
        }
    }

    /// A racoon-style name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Des => "des",
            Self::TripleDes => "3des",
            Self::Null => "null",
            Self::AesCbc => "aes",
            Self::AesCtr => "aes-ctr",
            Self::AesGcm16 => "aes-gcm-16",
        }
    }

    /// Whether the cipher is an AEAD, which takes no separate authentication.
    pub fn is_aead(self) -> bool {
        self == Self::AesGcm16
    }
}

/// The IPsec Authentication Algorithm attribute (RFC 2407 §4.5, RFC 4868).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IntegrityAlgorithm {
    /// HMAC-MD5-96 (1).
    HmacMd5,
    /// HMAC-SHA1-96 (2).
    HmacSha1,
    /// HMAC-SHA2-256-128 (5).
    HmacSha256,
    /// HMAC-SHA2-384-192 (6).
    HmacSha384,
    /// HMAC-SHA2-512-256 (7).
    HmacSha512,
}

impl IntegrityAlgorithm {
    /// The attribute value.
    pub fn ike_id(self) -> u16 {
        match self {
            Self::HmacMd5 => 1,
            Self::HmacSha1 => 2,
            Self::HmacSha256 => 5,
            Self::HmacSha384 => 6,
            Self::HmacSha512 => 7,
        }
    }

    /// The algorithm for an attribute value, if supported.
    pub fn from_ike_id(id: u16) -> Option<Self> {
        [
            Self::HmacMd5,
            Self::HmacSha1,
            Self::HmacSha256,
            Self::HmacSha384,
            Self::HmacSha512,
        ]
        .into_iter()
        .find(|a| a.ike_id() == id)
    }

    /// KEYMAT bytes of the HMAC key (RFC 2403, 2404, 4868).
    pub fn keymat_len(self) -> usize {
        match self {
            Self::HmacMd5 => 16,
            Self::HmacSha1 => 20,
            Self::HmacSha256 => 32,
            Self::HmacSha384 => 48,
            Self::HmacSha512 => 64,
        }
    }

    /// A racoon-style name.
    pub fn name(self) -> &'static str {
        match self {
            Self::HmacMd5 => "hmac_md5",
            Self::HmacSha1 => "hmac_sha1",
            Self::HmacSha256 => "hmac_sha256",
            Self::HmacSha384 => "hmac_sha384",
            Self::HmacSha512 => "hmac_sha512",
        }
    }
}

/// One ESP transform of a Phase 2 proposal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EspTransform {
    /// The cipher.
    pub cipher: EspCipher,
    /// Key length in bits for variable-length ciphers.
    pub key_bits: Option<u16>,
    /// Integrity; `None` with an AEAD cipher.
    pub integrity: Option<IntegrityAlgorithm>,
}

impl EspTransform {
    /// Total KEYMAT bytes per direction: encryption key first, then the
    /// integrity key (RFC 2409 §5.5, RFC 2407 §4.5 ordering).
    pub fn keymat_len(&self) -> usize {
        self.cipher.keymat_len(self.key_bits)
            + self.integrity.map_or(0, IntegrityAlgorithm::keymat_len)
    }
}

impl fmt::Display for EspTransform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.cipher.name())?;
        if let Some(k) = self.key_bits {
            write!(f, "-{k}")?;
        }
        if let Some(i) = self.integrity {
            write!(f, "/{}", i.name())?;
        }
        Ok(())
    }
}

/// Encapsulation mode (RFC 2407 §4.5, RFC 3947 §5 for the UDP forms).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EncapsulationMode {
    /// Tunnel mode.
    Tunnel,
    /// Transport mode.
    Transport,
}

impl EncapsulationMode {
    /// The attribute value; `udp` gives the RFC 3947 UDP-encapsulated value.
    pub fn ike_id(self, udp: bool) -> u16 {
        match (self, udp) {
            (Self::Tunnel, false) => 1,
            (Self::Transport, false) => 2,
            (Self::Tunnel, true) => 3,
            (Self::Transport, true) => 4,
        }
    }

    /// The UDP-encapsulated value of draft-ietf-ipsec-nat-t-ike-02/03, for
    /// peers that announced only the draft (61443 tunnel, 61444 transport).
    pub fn draft_ike_id(self) -> u16 {
        match self {
            Self::Tunnel => 61443,
            Self::Transport => 61444,
        }
    }

    /// Mode and UDP flag for an attribute value, accepting the draft values
    /// 61443/61444 older peers send.
    pub fn from_ike_id(id: u16) -> Option<(Self, bool)> {
        match id {
            1 => Some((Self::Tunnel, false)),
            2 => Some((Self::Transport, false)),
            3 | 61443 => Some((Self::Tunnel, true)),
            4 | 61444 => Some((Self::Transport, true)),
            _ => None,
        }
    }

    /// racoon's name (`Tunnel`, `Transport`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Tunnel => "Tunnel",
            Self::Transport => "Transport",
        }
    }
}
