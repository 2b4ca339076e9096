//! Configurations shared by the engine tests: the seed's Cisco PIX
//! parameters and two peers on documentation addresses.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use ike_core::config::{
    AuthMethod, ChildPolicy, EncapsulationMode, EndpointConfig, EspCipher, EspTransform, Identity,
    IntegrityAlgorithm, Lifetime, PeerConfig, Phase1Proposal, PresharedKey, PskTable,
};
use ike_core::crypto::{CipherAlgorithm, DhGroup, HashAlgorithm, Phase1Cipher};
use ike_core::endpoint::{ChildSa, Endpoint, Event};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

use super::{Node, Pair};

pub const A: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
pub const B: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 2));

/// The seed's Cisco PIX Phase 1: AES-256, SHA-1, group 5, 86400 s.
pub fn pix_phase1() -> Phase1Proposal {
    Phase1Proposal {
        cipher: Phase1Cipher::new(CipherAlgorithm::Aes, Some(256)).unwrap(),
        hash: HashAlgorithm::Sha1,
        auth: AuthMethod::PreSharedKey,
        group: DhGroup::Modp1536,
        lifetime: Lifetime::seconds(86_400),
    }
}

/// The seed's Phase 2: ESP AES-256 / HMAC-SHA1, tunnel, 3600 s, no PFS.
pub fn pix_child() -> ChildPolicy {
    ChildPolicy {
        local: None,
        remote: None,
        mode: EncapsulationMode::Tunnel,
        esp: vec![EspTransform {
            cipher: EspCipher::AesCbc,
            key_bits: Some(256),
            integrity: Some(IntegrityAlgorithm::HmacSha1),
        }],
        pfs_group: None,
        lifetime: Lifetime::seconds(3600),
        accept_ah: false,
        ah: Vec::new(),
        ipcomp: false,
    }
}

/// A peer entry for `peer` with the PIX proposals and `children`.
pub fn peer(peer: IpAddr, p1: Vec<Phase1Proposal>, children: Vec<ChildPolicy>) -> PeerConfig {
    PeerConfig::new(Some(peer), p1, children)
}

/// An endpoint with one peer entry and its PSK.
pub fn endpoint_with(peer_cfg: PeerConfig, psk: &[u8], seed: u64) -> Endpoint {
    let mut table = PskTable::new();
    if let Some(addr) = peer_cfg.address {
        table.insert(Identity::from_ip(addr), PresharedKey::new(psk.to_vec()));
    }
    let cfg = EndpointConfig::new(vec![peer_cfg], table);
    Endpoint::new(Arc::new(cfg), Box::new(ChaCha20Rng::seed_from_u64(seed)))
}

/// An endpoint for `peer` with the PIX child policy.
pub fn endpoint(peer_addr: IpAddr, psk: &[u8], p1: Vec<Phase1Proposal>, seed: u64) -> Endpoint {
    endpoint_with(peer(peer_addr, p1, vec![pix_child()]), psk, seed)
}

/// Two endpoints A (192.0.2.1) and B (198.51.100.2) from their peer entries.
pub fn pair_with(a: PeerConfig, b: PeerConfig, seed: u64) -> Pair {
    let a = Node::new(
        endpoint_with(a, b"mekmitasdigoat", seed),
        SocketAddr::new(A, 500),
    );
    let b = Node::new(
        endpoint_with(b, b"mekmitasdigoat", seed + 1),
        SocketAddr::new(B, 500),
    );
    Pair::new(a, b, seed)
}

/// The PIX configuration on both sides.
pub fn pix_pair(seed: u64) -> Pair {
    pair_with(
        peer(B, vec![pix_phase1()], vec![pix_child()]),
        peer(A, vec![pix_phase1()], vec![pix_child()]),
        seed,
    )
}

/// Every IPsec SA pair reported up.
pub fn children(events: &[Event]) -> Vec<&ChildSa> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::ChildSaUp(c) => Some(&**c),
            _ => None,
        })
        .collect()
}

/// Whether `events` holds a Phase1Up.
pub fn phase1_up(events: &[Event]) -> bool {
    events.iter().any(|e| matches!(e, Event::Phase1Up { .. }))
}

/// The failure reasons reported, as text.
pub fn failures(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::NegotiationFailed { reason, .. } => Some(reason.to_string()),
            _ => None,
        })
        .collect()
}
