//! What the endpoint tells its caller: datagrams to send and events.

use core::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use zeroize::Zeroizing;

use crate::config::{
    EncapsulationMode, EspTransform, Identity, IpsecProtocol, Lifetime, Phase1Proposal,
    TrafficSelector,
};
use crate::crypto::DhGroup;
use crate::policy::Mismatch;

/// Identifies one ISAKMP SA (and its negotiation) for the endpoint's lifetime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IkeSaHandle(pub(crate) u64);

/// Identifies one IPsec SA pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChildSaId(pub(crate) u64);

impl fmt::Display for IkeSaHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ike#{}", self.0)
    }
}

impl fmt::Display for ChildSaId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "child#{}", self.0)
    }
}

/// A datagram to send; its bytes were written to the caller's buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct Transmit {
    /// Our address to send from.
    pub local: SocketAddr,
    /// Where to send it.
    pub remote: SocketAddr,
    /// Number of bytes written to the buffer.
    pub size: usize,
    /// Whether the buffer starts with the 4-byte non-ESP marker (port 4500,
    /// RFC 3948 §2.2). The marker is included in `size`.
    pub non_esp_marker: bool,
}

/// Key material for one direction of an IPsec SA. Zeroized on drop; `Debug`
/// prints lengths only.
#[derive(Clone)]
pub struct SaKeys {
    /// The SPI (the receiver chose it).
    pub spi: u32,
    /// Encryption key (with the salt/nonce appended for GCM and CTR).
    pub encryption: Zeroizing<Vec<u8>>,
    /// Integrity key (empty for AEAD ciphers).
    pub integrity: Zeroizing<Vec<u8>>,
}

impl fmt::Debug for SaKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SaKeys")
            .field("spi", &format_args!("{:#010x}", self.spi))
            .field(
                "encryption",
                &format_args!("{} bytes", self.encryption.len()),
            )
            .field("integrity", &format_args!("{} bytes", self.integrity.len()))
            .finish()
    }
}

/// A negotiated IPsec SA pair, ready to install.
#[derive(Debug, Clone)]
pub struct ChildSa {
    /// This pair.
    pub id: ChildSaId,
    /// The ISAKMP SA that negotiated it.
    pub ike_sa: IkeSaHandle,
    /// Index in [`crate::config::EndpointConfig::peers`] of the peer entry
    /// it was negotiated under. Callers find their per-peer settings by
    /// this, not by [`Self::remote`]: behind a NAT the remote address and
    /// port are the translated ones (RFC 3947 §4).
    pub peer_index: usize,
    /// ESP, or AH when the policy allows it
    /// ([`crate::config::ChildPolicy::accept_ah`]).
    pub protocol: IpsecProtocol,
    /// Tunnel or transport.
    pub mode: EncapsulationMode,
    /// The transform. For AH the cipher is [`crate::config::EspCipher::Null`],
    /// `integrity` is AH's algorithm and the keys have only `integrity`.
    pub transform: EspTransform,
    /// The IPComp (DEFLATE) pair bundled with it, if negotiated
    /// ([`crate::config::ChildPolicy::ipcomp`]).
    pub ipcomp: Option<IpcompSa>,
    /// Our tunnel endpoint address.
    pub local: SocketAddr,
    /// The peer's.
    pub remote: SocketAddr,
    /// Keys for packets we receive (SPI chosen by us).
    pub inbound: SaKeys,
    /// Keys for packets we send (SPI chosen by the peer).
    pub outbound: SaKeys,
    /// Our proxy identity, if any was negotiated.
    pub local_ts: Option<TrafficSelector>,
    /// The peer's.
    pub remote_ts: Option<TrafficSelector>,
    /// The lifetime both sides use.
    pub lifetime: Lifetime,
    /// PFS group, if any.
    pub pfs_group: Option<DhGroup>,
    /// UDP encapsulation ports (ours, peer's) when ESP is sent in UDP (RFC 3948).
    pub udp_encapsulation: Option<(u16, u16)>,
    /// The peer's NAT-OA payloads, (initiator's, responder's) original
    /// addresses: a transport-mode data path behind a NAT needs them to fix
    /// TCP/UDP checksums (RFC 3947 §5.2, RFC 3948 §3.1.2).
    pub nat_oa: Option<(std::net::IpAddr, std::net::IpAddr)>,
    /// Whether we initiated the Quick Mode.
    pub initiator: bool,
}

/// An IPComp SA pair (RFC 3173) bundled with an ESP or AH pair; the
/// algorithm is DEFLATE, the only one negotiated. IPComp has no keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpcompSa {
    /// Our CPI: compressed packets we receive carry it.
    pub inbound_cpi: u16,
    /// The peer's CPI, for packets we send.
    pub outbound_cpi: u16,
}

/// Why a negotiation failed, in words a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FailureReason {
    /// No proposal matched; the mismatch is the closest one.
    #[error("no proposal chosen: {0}")]
    NoProposalChosen(Mismatch),
    /// No proposal matched and no single attribute explains it.
    #[error("no proposal chosen: {0}")]
    NoProposalChosenDetail(String),
    /// No pre-shared key is configured for the peer.
    #[error("no pre-shared key for {0}")]
    NoPreSharedKey(String),
    /// The peer's HASH did not verify: almost always a different PSK.
    #[error("{0} did not verify: the pre-shared keys probably differ")]
    AuthenticationFailed(&'static str),
    /// As initiator with pre-shared keys, the peer answered the key
    /// exchange but never authenticated; the text gives the evidence.
    #[error("pre-shared key probably mismatched: {0}")]
    PresharedKeyMismatch(String),
    /// The peer's identity is not the one configured.
    #[error("peer identified as {got}, policy requires {expected}")]
    WrongIdentity {
        /// What the peer sent.
        got: String,
        /// What `peers_identifier` says.
        expected: String,
    },
    /// The peer stopped answering.
    #[error("peer did not answer after {0} retransmissions")]
    Timeout(u32),
    /// The negotiation took longer than the configured limit.
    #[error("negotiation did not complete in {0:?}")]
    NegotiationTimeout(Duration),
    /// The peer sent an authenticated error notify.
    #[error("peer sent notify {0}")]
    PeerNotify(String),
    /// A message was malformed or violated the exchange.
    #[error("protocol error: {0}")]
    Protocol(String),
    /// The ISAKMP SA went away before the Quick Mode finished.
    #[error("ISAKMP SA gone")]
    IkeSaGone,
    /// The peer stopped answering after an unauthenticated error notify.
    /// Anyone can forge such a notify, so it ended nothing by itself; it is
    /// reported because it usually names the real problem.
    #[error("peer did not complete the negotiation; it sent an unauthenticated {0}")]
    UnauthenticatedNotify(String),
    /// The peer's certificate or RSA signature was refused (RFC 2409
    /// §5.1); the text names what did not match and what relaxes it.
    #[error("{0}")]
    PeerAuthentication(crate::auth::AuthError),
    /// RSA signatures were negotiated but the peer's message has no SIG.
    #[error("peer's {0} has no SIG payload although RSA-signature authentication was negotiated")]
    MissingSignature(&'static str),
    /// A certificate peer needs wall-clock time, which was never given.
    #[error(
        "wall-clock time not set: call Endpoint::set_wall_clock before authenticating certificate peers"
    )]
    WallClockNotSet,
    /// We cannot authenticate ourselves (no signer for the negotiated
    /// method, or signing failed).
    #[error("cannot authenticate ourselves: {0}")]
    LocalAuthentication(String),
}

impl FailureReason {
    /// The Notify message type that tells the peer about this failure
    /// (RFC 2408 §3.14.1), if one is sent.
    pub fn notify_type(&self) -> Option<crate::wire::NotifyType> {
        use crate::wire::NotifyType as N;
        Some(match self {
            Self::NoProposalChosen(_) | Self::NoProposalChosenDetail(_) => N::NO_PROPOSAL_CHOSEN,
            Self::WrongIdentity { .. } => N::INVALID_ID_INFORMATION,
            Self::NoPreSharedKey(_) => N::AUTHENTICATION_FAILED,
            Self::AuthenticationFailed(_) => N::INVALID_HASH_INFORMATION,
            Self::Protocol(_) => N::PAYLOAD_MALFORMED,
            Self::PeerAuthentication(e) => auth_notify(e),
            Self::MissingSignature(_) => N::AUTHENTICATION_FAILED,
            Self::WallClockNotSet => N::AUTHENTICATION_FAILED,
            _ => return None,
        })
    }
}

/// The notify for a refused certificate peer (RFC 2408 §3.14.1).
fn auth_notify(e: &crate::auth::AuthError) -> crate::wire::NotifyType {
    use crate::auth::AuthError as E;
    use crate::wire::NotifyType as N;
    match e {
        E::BadSignature { .. } => N::INVALID_SIGNATURE,
        E::NoSubjectAltName { .. }
        | E::SubjectAltNameMismatch { .. }
        | E::SubjectMismatch { .. }
        | E::UncheckableIdType { .. }
        | E::UnexpectedIdentity { .. } => N::INVALID_ID_INFORMATION,
        E::NoPeerKey => N::CERTIFICATE_UNAVAILABLE,
        E::Load(_) => N::INVALID_CERT_ENCODING,
        E::UntrustedIssuer { .. } => N::INVALID_CERT_AUTHORITY,
        _ => N::INVALID_CERTIFICATE,
    }
}

/// Which phase a failure belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Phase 1 (Main or Aggressive Mode).
    One,
    /// Phase 2 (Quick Mode).
    Two,
}

/// Why an ISAKMP SA went down.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DownReason {
    /// Its hard lifetime expired.
    Expired,
    /// The peer deleted it.
    DeletedByPeer,
    /// The peer deleted it with this error notify beside the Delete (e.g.
    /// `INVALID-SIGNATURE`): it refused our authentication after our side
    /// had counted the SA up, as an Aggressive Mode initiator does once it
    /// sends AM3.
    RefusedByPeer(String),
    /// We deleted it (the caller asked).
    DeletedLocally,
    /// The peer restarted (INITIAL-CONTACT in a new Phase 1).
    InitialContact,
    /// Replaced after a simultaneous initiation.
    Replaced,
    /// Replaced by a new ISAKMP SA with the same peer (a Phase 1 rekey),
    /// which took over its IPsec SA pairs.
    Rekeyed,
}

/// Something the caller should know, drained with `poll_event`.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Event {
    /// An ISAKMP SA is established.
    Phase1Up {
        /// The SA.
        sa: IkeSaHandle,
        /// The peer's address.
        remote: SocketAddr,
        /// The identity the peer authenticated.
        peer_id: Identity,
        /// The negotiated transform.
        transform: Phase1Proposal,
        /// Our role.
        initiator: bool,
        /// The cookies (initiator's, responder's), as racoon logs them.
        cookies: ([u8; 8], [u8; 8]),
    },
    /// An ISAKMP SA is gone.
    Phase1Down {
        /// The SA.
        sa: IkeSaHandle,
        /// The peer's address.
        remote: SocketAddr,
        /// Why.
        reason: DownReason,
    },
    /// An IPsec SA pair is established. Boxed: it carries keys.
    ChildSaUp(Box<ChildSa>),
    /// An IPsec SA pair reached a lifetime threshold.
    ChildSaExpiring {
        /// The pair.
        child: ChildSaId,
        /// The inbound SPI (ours).
        inbound_spi: u32,
        /// `false`: soft (rekey now); `true`: hard (remove it).
        hard: bool,
    },
    /// An IPsec SA pair is gone and must be removed from the data path.
    ChildSaDeleted {
        /// The pair.
        child: ChildSaId,
        /// Its inbound SPI.
        inbound_spi: u32,
        /// Its outbound SPI.
        outbound_spi: u32,
        /// Whether the peer deleted it (an authenticated Delete).
        by_peer: bool,
    },
    /// The peer answered our DPD probe ([`super::Endpoint::probe_peer`]).
    PeerAlive {
        /// The ISAKMP SA probed.
        sa: IkeSaHandle,
        /// The sequence number answered.
        sequence: u32,
    },
    /// A negotiation failed.
    NegotiationFailed {
        /// The ISAKMP SA it belonged to.
        sa: IkeSaHandle,
        /// The peer's address.
        remote: SocketAddr,
        /// Phase 1 or 2.
        phase: Phase,
        /// Why.
        reason: FailureReason,
    },
}

/// Counters of what the endpoint dropped or refused. Malformed input never
/// surfaces as an error; it shows up here.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EndpointStats {
    /// Datagrams handled.
    pub datagrams_in: u64,
    /// Datagrams queued for sending.
    pub datagrams_out: u64,
    /// Datagrams that did not parse.
    pub malformed: u64,
    /// Datagrams for no known SA, or not fitting the SA's state.
    pub unexpected: u64,
    /// Encrypted messages that failed to decrypt or whose HASH did not verify.
    pub bad_hash: u64,
    /// Duplicates answered with our cached reply.
    pub retransmits_answered: u64,
    /// Our own resends after a timeout.
    pub retransmits_sent: u64,
    /// New responder SAs refused by the half-open cap.
    pub half_open_refused: u64,
    /// Unauthenticated notifies ignored.
    pub unauthenticated_notifies: u64,
    /// IKE fragment datagrams received (payload 132).
    pub fragments_in: u64,
    /// IKE fragments dropped: malformed, over a reassembly bound, or from a
    /// peer with fragmentation off.
    pub fragments_dropped: u64,
    /// Messages reassembled from fragments (then handled like any datagram).
    pub messages_reassembled: u64,
    /// Messages of ours sent as fragments (resends included).
    pub messages_fragmented: u64,
    /// Phase 1 messages handled in a state that does Diffie-Hellman work
    /// (a key pair, the shared secret, or both): what the half-open cap
    /// bounds, counted rather than timed.
    pub dh_operations: u64,
}

/// A caller mistake in `initiate` or `delete`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InitiateError {
    /// No peer entry for the address.
    #[error("no peer configured for {0}")]
    UnknownPeer(SocketAddr),
    /// The peer entry has no Phase 1 proposals.
    #[error("peer {0} has no Phase 1 proposals")]
    NoProposals(SocketAddr),
    /// The handle names no live SA.
    #[error("no such SA")]
    NoSuchSa,
}

#[cfg(test)]
mod tests {
    use super::FailureReason as R;
    use crate::auth::AuthError;
    use crate::wire::NotifyType as N;

    /// Each local failure that the peer must hear about maps to its RFC 2408
    /// §3.14.1 type; failures the peer caused or already knows send nothing.
    #[test]
    fn failures_map_to_the_notify_the_peer_receives() {
        let sent = [
            (R::NoProposalChosenDetail("x".into()), N::NO_PROPOSAL_CHOSEN),
            (R::NoPreSharedKey("x".into()), N::AUTHENTICATION_FAILED),
            (R::AuthenticationFailed("MM5"), N::INVALID_HASH_INFORMATION),
            (
                R::WrongIdentity {
                    got: "a".into(),
                    expected: "b".into(),
                },
                N::INVALID_ID_INFORMATION,
            ),
            (R::Protocol("x".into()), N::PAYLOAD_MALFORMED),
            (
                R::PeerAuthentication(AuthError::BadSignature { key: "k".into() }),
                N::INVALID_SIGNATURE,
            ),
            (
                R::PeerAuthentication(AuthError::NoPeerKey),
                N::CERTIFICATE_UNAVAILABLE,
            ),
            (R::WallClockNotSet, N::AUTHENTICATION_FAILED),
        ];
        for (reason, ty) in sent {
            assert_eq!(reason.notify_type(), Some(ty), "{reason}");
        }
        let silent = [
            R::Timeout(5),
            R::NegotiationTimeout(core::time::Duration::from_secs(60)),
            R::PeerNotify("NO-PROPOSAL-CHOSEN".into()),
            R::IkeSaGone,
            R::UnauthenticatedNotify("INVALID-ID-INFORMATION".into()),
        ];
        for reason in silent {
            assert_eq!(reason.notify_type(), None, "{reason}");
        }
    }
}
