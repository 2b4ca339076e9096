//! Typed errors: configuration mistakes, encapsulation failures and the
//! reasons an inbound packet is dropped.

use crate::crypto::{EncryptionAlgorithm, IntegrityAlgorithm};

/// A security association could not be built from the given parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The encryption keying material has the wrong length (key plus salt).
    #[error("{algorithm:?}: keying material of {got} bytes is not valid")]
    EncryptionKeyLength {
        /// The algorithm the key was given for.
        algorithm: EncryptionAlgorithm,
        /// Length supplied.
        got: usize,
    },
    /// The integrity key has the wrong length.
    #[error("{algorithm:?}: a key of {got} bytes is not valid (expected {expected})")]
    IntegrityKeyLength {
        /// The algorithm the key was given for.
        algorithm: IntegrityAlgorithm,
        /// Length supplied.
        got: usize,
        /// Length the RFC fixes.
        expected: usize,
    },
    /// Combined-mode algorithms carry their own ICV (RFC 4303 §3.2.3).
    #[error("{0:?} is a combined-mode algorithm and takes no separate integrity algorithm")]
    IntegrityWithAead(EncryptionAlgorithm),
    /// NULL encryption without integrity protects nothing (RFC 4303 §3.2).
    #[error("NULL encryption requires an integrity algorithm")]
    NullWithoutIntegrity,
    /// The replay window size is outside 32..=4096 (0 disables it).
    #[error("replay window of {0} packets is not supported (0 or 32..=4096)")]
    ReplayWindowSize(u32),
    /// Extended sequence numbers need an anti-replay window to infer the
    /// high-order bits (RFC 4303 Appendix A).
    #[error("extended sequence numbers require an anti-replay window")]
    EsnWithoutReplayWindow,
    /// The padding alignment must be a multiple of 4 and of the cipher block
    /// size, at most 256.
    #[error("padding alignment {0} is not a multiple of 4 and of the block size, at most 256")]
    PadAlignment(usize),
    /// TFC padding is only possible when the receiver can find the inner
    /// packet's length, that is in tunnel mode (RFC 4303 §2.7).
    #[error("TFC padding needs tunnel mode")]
    TfcPaddingInTransportMode,
    /// Soft lifetime larger than hard lifetime.
    #[error("soft lifetime exceeds hard lifetime")]
    SoftAfterHard,
}

/// An outbound packet could not be encapsulated. The SA state (sequence
/// number, counters) is unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncapError {
    /// The output buffer cannot hold the packet.
    #[error("output buffer of {available} bytes, {needed} needed")]
    BufferTooSmall {
        /// Bytes needed.
        needed: usize,
        /// Bytes available.
        available: usize,
    },
    /// The packet would not fit in an IP datagram.
    #[error("payload too large")]
    PayloadTooLarge,
    /// Every sequence number of this SA has been used: rekey (RFC 4303 §3.3.3).
    #[error("sequence number space exhausted; the SA must be rekeyed")]
    SequenceExhausted,
    /// The hard byte or packet lifetime is reached.
    #[error("hard lifetime reached")]
    LifetimeExpired,
    /// The packet to protect is not a well-formed IPv4 or IPv6 packet.
    #[error("malformed IP packet: {0}")]
    MalformedIpPacket(&'static str),
    /// An explicit IV has the wrong length for the algorithm.
    #[error("IV of {got} bytes given, the algorithm uses {expected}")]
    IvLength {
        /// Length supplied.
        got: usize,
        /// Length required.
        expected: usize,
    },
}

/// Why an inbound packet was dropped. Errors found before the ICV verified
/// leave the replay window alone; the trailer and inner-packet errors come
/// after authentication, when RFC 4303 §3.4.3 has already marked the packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecapError {
    /// The packet ends before the named field.
    #[error("truncated packet: {0}")]
    Truncated(&'static str),
    /// The SPI is not the one of this SA.
    #[error("SPI {got:#010x} does not belong to this SA ({expected:#010x})")]
    WrongSpi {
        /// SPI of the SA.
        expected: u32,
        /// SPI in the packet.
        got: u32,
    },
    /// No SA is known for the SPI (SA table lookups).
    #[error("no SA for SPI {0:#010x}")]
    UnknownSpi(u32),
    /// Sequence number 0 is never sent (RFC 4303 §3.3.3).
    #[error("sequence number 0")]
    ZeroSequence,
    /// The sequence number was already received.
    #[error("replayed sequence number {0}")]
    Replayed(u64),
    /// The sequence number is left of the replay window.
    #[error("sequence number {0} is older than the replay window")]
    TooOld(u64),
    /// The encrypted part is not a whole number of cipher blocks.
    #[error("ciphertext length {0} is not a multiple of the block size")]
    CiphertextLength(usize),
    /// Integrity check failed (or the AEAD tag did not verify).
    #[error("ICV verification failed")]
    IcvMismatch,
    /// The pad length points before the start of the payload.
    #[error("pad length {0} exceeds the payload")]
    PadLength(u8),
    /// The padding bytes are not 1, 2, 3, ... (RFC 4303 §2.4).
    #[error("padding bytes are not the monotonic sequence 1, 2, 3, ...")]
    BadPadding,
    /// Tunnel mode carries only IPv4 (4), IPv6 (41) or dummy (59) payloads.
    #[error("unexpected next header {0} in tunnel mode")]
    UnexpectedNextHeader(u8),
    /// The inner IP header is malformed or claims more bytes than present.
    #[error("malformed inner packet: {0}")]
    MalformedInner(&'static str),
    /// The outer IP or UDP header is malformed.
    #[error("malformed outer header: {0}")]
    MalformedOuter(&'static str),
    /// A UDP datagram on the NAT-T port was not ESP (IKE or keepalive).
    #[error("UDP payload is not ESP")]
    NotEsp,
    /// The hard lifetime of the SA is reached.
    #[error("hard lifetime reached")]
    LifetimeExpired,
}
