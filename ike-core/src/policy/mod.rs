//! Responder policy: choosing a proposal and judging its attributes.
//!
//! When nothing matches, the result names the attribute that differed and
//! both values, e.g. "peer offered DH group 2, policy requires group 5".

mod check;
mod select;

use core::fmt;

pub use check::{LifetimeDecision, Mismatch, ProposalCheck};
pub(crate) use select::{IPCOMP_DEFLATE, ah_transform_id};
pub use select::{
    Phase1Choice, Phase1Offer, Phase2Choice, Phase2Offer, confirm_phase1, select_phase1,
    select_phase2,
};

/// A negotiable attribute, for failure messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Attribute {
    /// Phase 1 encryption algorithm.
    EncryptionAlgorithm,
    /// Cipher key length.
    KeyLength,
    /// Phase 1 hash algorithm.
    HashAlgorithm,
    /// Phase 1 authentication method.
    AuthenticationMethod,
    /// Phase 1 Diffie-Hellman group.
    DhGroup,
    /// Lifetime in seconds.
    LifetimeSeconds,
    /// Lifetime in kilobytes.
    LifetimeKilobytes,
    /// Quick Mode PFS group.
    PfsGroup,
    /// IPsec protocol (ESP, AH, IPComp).
    Protocol,
    /// ESP transform.
    EspTransform,
    /// IPsec authentication algorithm.
    IntegrityAlgorithm,
    /// Tunnel or transport.
    EncapsulationMode,
    /// Proxy identities.
    TrafficSelectors,
}

impl fmt::Display for Attribute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::EncryptionAlgorithm => "encryption algorithm",
            Self::KeyLength => "key length",
            Self::HashAlgorithm => "hash algorithm",
            Self::AuthenticationMethod => "authentication method",
            Self::DhGroup => "DH group",
            Self::LifetimeSeconds | Self::LifetimeKilobytes => "lifetime",
            Self::PfsGroup => "PFS group",
            Self::Protocol => "protocol",
            Self::EspTransform => "ESP transform",
            Self::IntegrityAlgorithm => "authentication algorithm",
            Self::EncapsulationMode => "encapsulation mode",
            Self::TrafficSelectors => "proxy identities",
        })
    }
}
