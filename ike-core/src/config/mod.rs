//! Endpoint configuration: peers (racoon's `remote` blocks), the PSK table,
//! Phase 1 proposals, child policies (racoon's `sainfo`), timers and limits.

mod auth;
mod identity;
mod lifetime;
mod proposal;
mod psk;
mod selector;

use std::net::IpAddr;
use std::time::Duration;

pub use auth::{PeerAuth, RsaAuthConfig};
pub use identity::Identity;
pub use lifetime::{BYTES_PER_KILOBYTE, DEFAULT_LIFETIME_SECS, Lifetime};
pub use proposal::{
    AuthMethod, EncapsulationMode, EspCipher, EspTransform, IntegrityAlgorithm, IpsecProtocol,
    Phase1Proposal,
};
pub use psk::{PresharedKey, PskParseError, PskTable};
pub use selector::{SelectorAddr, TrafficSelector};

use crate::crypto::DhGroup;
use crate::policy::ProposalCheck;
use crate::timer::RetransmitPolicy;

/// Phase 1 exchange to use as initiator (RFC 2409 §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExchangeMode {
    /// Main Mode (identity protection): six messages.
    #[default]
    Main,
    /// Aggressive Mode: three messages, identities in clear. With a PSK, a
    /// passive observer of AM2 can mount an offline dictionary attack on the
    /// key, so prefer Main Mode where the peer allows it.
    Aggressive,
}

/// NAT traversal setting (racoon's `nat_traversal`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NatTraversal {
    /// Do not announce NAT-T.
    Off,
    /// Announce NAT-T and float to port 4500 when a NAT is detected.
    #[default]
    On,
    /// Announce NAT-T and always use UDP encapsulation, NAT or not.
    Force,
}

/// IKE fragmentation setting (racoon's `ike_frag`, strongSwan's
/// `fragmentation`); see [`crate::fragment`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Fragmentation {
    /// Neither announce nor send fragments (`ike_frag off`,
    /// `fragmentation=no`); fragments from this peer are dropped.
    Off,
    /// Announce the FRAGMENTATION vendor ID and fragment a message larger
    /// than [`EndpointConfig::fragment_size`] once the peer announced it too
    /// (`ike_frag on`, `fragmentation=yes`).
    #[default]
    On,
    /// Like `On`, but fragment large messages even if the peer did not
    /// announce support (`ike_frag force`, `fragmentation=force`).
    Force,
}

/// One remote peer we talk to (racoon's `remote ADDRESS { … }`).
#[derive(Debug, Clone)]
pub struct PeerConfig {
    /// The peer's address; `None` makes this the `remote anonymous` entry that
    /// answers any address.
    pub address: Option<IpAddr>,
    /// Phase 1 exchange as initiator; as responder we accept the modes in
    /// [`PeerConfig::accept_modes`].
    pub exchange_mode: ExchangeMode,
    /// Modes we answer as responder.
    pub accept_modes: Vec<ExchangeMode>,
    /// Our identity (`my_identifier`); `None` sends our address.
    pub my_identifier: Option<Identity>,
    /// The identity the peer must present (`peers_identifier` with
    /// `verify_identifier on`); `None` accepts any identity that authenticates.
    pub peers_identifier: Option<Identity>,
    /// Phase 1 proposals, in order of preference.
    pub proposals: Vec<Phase1Proposal>,
    /// How we judge an initiator's lifetimes and PFS group.
    pub proposal_check: ProposalCheck,
    /// Send INITIAL-CONTACT with our first Phase 1 to this peer (RFC 2407 §4.6.3.3).
    pub initial_contact: bool,
    /// NAT traversal.
    pub nat_traversal: NatTraversal,
    /// Child policies for this peer (racoon's `sainfo`), tried in order.
    pub children: Vec<ChildPolicy>,
    /// As Quick Mode responder, set the commit bit in QM2 and send CONNECTED
    /// once our SA pair is up (RFC 2408 §3.1 and §4.6.1; RFC 2409 §5.5), so
    /// the initiator does not send ESP before we can receive it. As
    /// initiator the commit bit is always honoured.
    pub commit_bit: bool,
    /// IKE fragmentation of Phase 1 messages (racoon's `ike_frag`).
    pub fragmentation: Fragmentation,
    /// How both sides authenticate in Phase 1: pre-shared keys (the
    /// default) or RSA signatures. Must agree with the proposals'
    /// [`AuthMethod`].
    pub auth: PeerAuth,
}

impl PeerConfig {
    /// A peer with the given proposals and child policies, Main Mode,
    /// `proposal_check strict`, INITIAL-CONTACT on, pre-shared keys.
    pub fn new(
        address: Option<IpAddr>,
        proposals: Vec<Phase1Proposal>,
        children: Vec<ChildPolicy>,
    ) -> Self {
        Self {
            address,
            exchange_mode: ExchangeMode::Main,
            accept_modes: vec![ExchangeMode::Main, ExchangeMode::Aggressive],
            my_identifier: None,
            peers_identifier: None,
            proposals,
            proposal_check: ProposalCheck::default(),
            initial_contact: true,
            nat_traversal: NatTraversal::Off,
            children,
            commit_bit: false,
            fragmentation: Fragmentation::default(),
            auth: PeerAuth::PreSharedKey,
        }
    }
}

/// What a Quick Mode negotiates: one `sainfo`.
#[derive(Debug, Clone)]
pub struct ChildPolicy {
    /// Our side's proxy identity; `None` with `remote: None` means host to
    /// host between the Phase 1 addresses, and no ID payloads are sent.
    pub local: Option<TrafficSelector>,
    /// The peer's side.
    pub remote: Option<TrafficSelector>,
    /// Tunnel or transport.
    pub mode: EncapsulationMode,
    /// ESP transforms, in order of preference.
    pub esp: Vec<EspTransform>,
    /// PFS group (`pfs_group`); `None` for no PFS.
    pub pfs_group: Option<DhGroup>,
    /// IPsec SA lifetime.
    pub lifetime: Lifetime,
    /// Whether AH is negotiated (racoon: an `ah/…` SPD entry). As
    /// responder, AH proposals are judged against [`ChildPolicy::ah`]; when
    /// off they are refused by name. As initiator, AH is offered after the
    /// ESP proposal (or alone when `esp` is empty). The user-space data path
    /// cannot carry AH; the kernel's can.
    pub accept_ah: bool,
    /// AH authentication algorithms in order of preference (racoon's
    /// `authentication_algorithm`); empty means the `esp` transforms'
    /// integrity algorithms.
    pub ah: Vec<IntegrityAlgorithm>,
    /// IPComp with DEFLATE (RFC 3173; racoon's `compression_algorithm
    /// deflate`). As initiator, our proposals bundle IPCOMP with ESP/AH; as
    /// responder, a bundle with IPCOMP is accepted only when this is set
    /// (and refused by name otherwise), and a proposal without IPCOMP is
    /// always acceptable.
    pub ipcomp: bool,
}

impl ChildPolicy {
    /// The AH algorithms this policy offers or accepts, if AH is on.
    pub fn ah_algorithms(&self) -> Vec<IntegrityAlgorithm> {
        if !self.accept_ah {
            return Vec::new();
        }
        if !self.ah.is_empty() {
            return self.ah.clone();
        }
        let mut algs: Vec<IntegrityAlgorithm> = Vec::new();
        for i in self.esp.iter().filter_map(|t| t.integrity) {
            if !algs.contains(&i) {
                algs.push(i);
            }
        }
        algs
    }

    /// Whether this policy answers a Quick Mode proposing `local`/`remote`
    /// (from our point of view). An entry without selectors is `sainfo anonymous`.
    pub fn matches(
        &self,
        local: Option<&TrafficSelector>,
        remote: Option<&TrafficSelector>,
    ) -> bool {
        match (&self.local, &self.remote) {
            (None, None) => true,
            (l, r) => l.as_ref() == local && r.as_ref() == remote,
        }
    }
}

/// Default [`EndpointConfig::fragment_size`]: 1280 bytes of IPv6 packet
/// less the IPv6 (40) and UDP (8) headers.
pub const DEFAULT_FRAGMENT_SIZE: usize = 1232;

/// Everything an [`crate::endpoint::Endpoint`] needs to know.
#[derive(Debug, Clone)]
pub struct EndpointConfig {
    /// The peers, searched by address, then the anonymous entry.
    pub peers: Vec<PeerConfig>,
    /// Pre-shared keys.
    pub psk: PskTable,
    /// Resend schedule for unanswered messages.
    pub retransmit: RetransmitPolicy,
    /// A Phase 1 that has not completed in this time fails.
    pub phase1_timeout: Duration,
    /// A Quick Mode that has not completed in this time fails.
    pub phase2_timeout: Duration,
    /// Most responder ISAKMP SAs that may be half open (not yet
    /// authenticated) at once. Past it, new MM1/AM1 are dropped before any
    /// Diffie-Hellman work.
    pub max_half_open: usize,
    /// Nonce length in bytes (RFC 2409 §5: 8 to 256).
    pub nonce_len: usize,
    /// NAT-keepalive interval (RFC 3948 §2.3), used when we are behind a NAT.
    pub nat_keepalive: Duration,
    /// Most Quick Modes in progress per ISAKMP SA; further QM1s are dropped,
    /// so even an authenticated peer cannot make us do PFS work or hold
    /// state without bound. Keep it under the IV chain's 32 exchanges.
    pub max_quick_modes: usize,
    /// Largest datagram we send before cutting a Phase 1 message into
    /// fragments (when [`PeerConfig::fragmentation`] allows): the whole UDP
    /// payload, the non-ESP marker on port 4500 included. The default, 1232,
    /// makes a 1260-byte IPv4 or a 1280-byte IPv6 packet, so it fits
    /// charon's default `fragment_size` of 1280-byte IP packets on either
    /// family; for a 576-byte IPv4 path use 548.
    pub fragment_size: usize,
    /// Bounds on the fragments held for reassembly.
    pub reassembly: crate::fragment::ReassemblyLimits,
}

impl EndpointConfig {
    /// A configuration with the given peers and keys and default timers.
    pub fn new(peers: Vec<PeerConfig>, psk: PskTable) -> Self {
        Self {
            peers,
            psk,
            retransmit: RetransmitPolicy::default(),
            phase1_timeout: Duration::from_secs(60),
            phase2_timeout: Duration::from_secs(60),
            max_half_open: 64,
            nonce_len: 16,
            nat_keepalive: Duration::from_secs(20),
            max_quick_modes: 16,
            fragment_size: DEFAULT_FRAGMENT_SIZE,
            reassembly: crate::fragment::ReassemblyLimits::default(),
        }
    }

    /// The peer entry for `addr`: an exact match first, then `remote anonymous`.
    pub fn peer_for(&self, addr: IpAddr) -> Option<(usize, &PeerConfig)> {
        let exact = self
            .peers
            .iter()
            .enumerate()
            .find(|(_, p)| p.address == Some(canonical(addr)));
        exact.or_else(|| {
            self.peers
                .iter()
                .enumerate()
                .find(|(_, p)| p.address.is_none())
        })
    }
}

/// Maps IPv4-mapped IPv6 addresses to IPv4, so dual-stack sockets find IPv4 peers.
pub(crate) fn canonical(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(addr, IpAddr::V4),
        v4 @ IpAddr::V4(_) => v4,
    }
}
