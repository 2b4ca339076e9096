//! Phase 1 Aggressive Mode with pre-shared keys, then Quick Mode.

mod sim;

use std::net::Ipv4Addr;
use std::time::Duration;

use ike_core::config::{ExchangeMode, Identity, PeerConfig};
use ike_core::crypto::DhGroup;
use ike_core::endpoint::Event;
use sim::fixtures::{
    A, B, children, endpoint_with, failures, pair_with, peer, pix_child, pix_phase1,
};
use sim::{Node, Pair};

fn aggressive(addr: std::net::IpAddr) -> PeerConfig {
    let mut p = peer(addr, vec![pix_phase1()], vec![pix_child()]);
    p.exchange_mode = ExchangeMode::Aggressive;
    p
}

fn start(p: &mut Pair) {
    let now = p.now;
    p.a.ep
        .initiate(now, p.a.addr, p.b.addr, pix_child())
        .unwrap();
}

fn up(p: &Pair) -> bool {
    !children(&p.a.events).is_empty() && !children(&p.b.events).is_empty()
}

#[test]
fn aggressive_mode_then_quick_mode() {
    let mut p = pair_with(
        aggressive(B),
        peer(A, vec![pix_phase1()], vec![pix_child()]),
        1,
    );
    start(&mut p);
    assert!(
        p.drive_until(Duration::from_secs(5), up),
        "{:?} {:?}",
        failures(&p.a.events),
        failures(&p.b.events)
    );
    // Three Aggressive Mode messages (exchange type 4), then Quick Mode.
    let am =
        p.a.sent
            .iter()
            .chain(&p.b.sent)
            .filter(|(_, b)| b[18] == 4)
            .count();
    assert_eq!(am, 3);
    let (a, b) = (children(&p.a.events)[0], children(&p.b.events)[0]);
    assert_eq!(a.outbound.spi, b.inbound.spi);
    assert_eq!(*a.outbound.encryption, *b.inbound.encryption);
    let Some(Event::Phase1Up { peer_id, .. }) =
        p.b.events
            .iter()
            .find(|e| matches!(e, Event::Phase1Up { .. }))
    else {
        unreachable!()
    };
    assert_eq!(*peer_id, Identity::Ipv4(Ipv4Addr::new(192, 0, 2, 1)));
}

#[test]
fn aggressive_mode_psk_found_by_fqdn_identity() {
    // The initiator names itself by FQDN; the responder keys the PSK by that
    // name and answers any address (remote anonymous).
    let mut a = aggressive(B);
    a.my_identifier = Some(Identity::Fqdn("branch.example.com".into()));
    let mut b = PeerConfig::new(None, vec![pix_phase1()], vec![pix_child()]);
    b.peers_identifier = Some(Identity::Fqdn("branch.example.com".into()));
    let mut table = ike_core::config::PskTable::new();
    table.insert(
        Identity::Fqdn("branch.example.com".into()),
        ike_core::config::PresharedKey::new(b"by-name".to_vec()),
    );
    let cfg_b = ike_core::config::EndpointConfig::new(vec![b], table);
    let ep_b = ike_core::endpoint::Endpoint::new(
        std::sync::Arc::new(cfg_b),
        Box::new(ike_core::endpoint::fuzzing::InsecureFuzzRng::new(9)),
    );
    let mut table_a = ike_core::config::PskTable::new();
    table_a.insert(
        Identity::from_ip(B),
        ike_core::config::PresharedKey::new(b"by-name".to_vec()),
    );
    let cfg_a = ike_core::config::EndpointConfig::new(vec![a], table_a);
    let ep_a = ike_core::endpoint::Endpoint::new(
        std::sync::Arc::new(cfg_a),
        Box::new(ike_core::endpoint::fuzzing::InsecureFuzzRng::new(8)),
    );
    let mut p = Pair::new(
        Node::new(ep_a, std::net::SocketAddr::new(A, 500)),
        Node::new(ep_b, std::net::SocketAddr::new(B, 500)),
        2,
    );
    start(&mut p);
    assert!(
        p.drive_until(Duration::from_secs(5), up),
        "{:?} {:?}",
        failures(&p.a.events),
        failures(&p.b.events)
    );
    let Some(Event::Phase1Up { peer_id, .. }) =
        p.b.events
            .iter()
            .find(|e| matches!(e, Event::Phase1Up { .. }))
    else {
        unreachable!()
    };
    assert_eq!(*peer_id, Identity::Fqdn("branch.example.com".into()));
}

#[test]
fn aggressive_mode_wrong_identity_is_refused_by_name() {
    let mut b = peer(A, vec![pix_phase1()], vec![pix_child()]);
    b.peers_identifier = Some(Identity::Fqdn("hq.example.com".into()));
    let mut p = pair_with(aggressive(B), b, 3);
    start(&mut p);
    p.drive_for(Duration::from_secs(30));
    assert_eq!(
        failures(&p.b.events),
        ["peer identified as 192.0.2.1, policy requires fqdn:hq.example.com"]
    );
}

#[test]
fn aggressive_mode_wrong_psk_never_establishes() {
    let a = Node::new(
        endpoint_with(aggressive(B), b"one", 4),
        std::net::SocketAddr::new(A, 500),
    );
    let b = Node::new(
        endpoint_with(peer(A, vec![pix_phase1()], vec![pix_child()]), b"two", 5),
        std::net::SocketAddr::new(B, 500),
    );
    let mut p = Pair::new(a, b, 4);
    start(&mut p);
    p.drive_for(Duration::from_secs(120));
    assert!(children(&p.a.events).is_empty());
    assert!(
        !p.a.events
            .iter()
            .any(|e| matches!(e, Event::Phase1Up { .. }))
    );
    assert!(
        p.a.ep.stats().bad_hash > 0,
        "HASH_R failed at the initiator"
    );
    let f = failures(&p.a.events);
    assert_eq!(f.len(), 1, "{f:?}");
    assert!(
        f[0].starts_with("pre-shared key probably mismatched: AM2's HASH_R did not verify")
            && f[0].ends_with("the PSK for 198.51.100.2 likely differs"),
        "{f:?}"
    );
}

#[test]
fn aggressive_mode_group_mismatch_is_named() {
    let mut a = aggressive(B);
    a.proposals[0].group = DhGroup::Modp1024;
    let mut p = pair_with(a, peer(A, vec![pix_phase1()], vec![pix_child()]), 6);
    start(&mut p);
    p.drive_for(Duration::from_secs(30));
    assert_eq!(
        failures(&p.b.events),
        ["no proposal chosen: peer offered DH group 2, policy requires group 5"]
    );
}

#[test]
fn responder_refuses_aggressive_mode_when_not_accepted() {
    let mut b = peer(A, vec![pix_phase1()], vec![pix_child()]);
    b.accept_modes = vec![ExchangeMode::Main];
    let mut p = pair_with(aggressive(B), b, 7);
    start(&mut p);
    p.drive_for(Duration::from_secs(120));
    assert!(p.b.events.is_empty());
    assert!(p.b.ep.stats().unexpected > 0);
    assert!(!failures(&p.a.events).is_empty());
}

#[test]
fn ipv6_peers_and_user_fqdn_and_key_id_identities() {
    use ike_core::config::{PresharedKey, PskTable};
    let (a6, b6): (std::net::IpAddr, std::net::IpAddr) = (
        "2001:db8::1".parse().unwrap(),
        "2001:db8::2".parse().unwrap(),
    );
    for (mode, id) in [
        (
            ExchangeMode::Main,
            Identity::UserFqdn("alice@example.com".into()),
        ),
        (
            ExchangeMode::Aggressive,
            Identity::KeyId(b"branch-group".to_vec()),
        ),
    ] {
        let mut a = peer(b6, vec![pix_phase1()], vec![pix_child()]);
        a.exchange_mode = mode;
        a.my_identifier = Some(id.clone());
        let mut b = peer(a6, vec![pix_phase1()], vec![pix_child()]);
        b.peers_identifier = Some(id.clone());
        let psk = |who: Identity| {
            let mut t = PskTable::new();
            t.insert(who, PresharedKey::new(b"v6".to_vec()));
            t
        };
        let ep = |cfg: PeerConfig, t: PskTable, seed: u64| {
            ike_core::endpoint::Endpoint::new(
                std::sync::Arc::new(ike_core::config::EndpointConfig::new(vec![cfg], t)),
                Box::new(ike_core::endpoint::fuzzing::InsecureFuzzRng::new(seed)),
            )
        };
        // Main Mode finds the key by address, Aggressive Mode by identity.
        let b_key = if mode == ExchangeMode::Main {
            Identity::from_ip(a6)
        } else {
            id.clone()
        };
        let mut p = Pair::new(
            Node::new(
                ep(a, psk(Identity::from_ip(b6)), 1),
                std::net::SocketAddr::new(a6, 500),
            ),
            Node::new(ep(b, psk(b_key), 2), std::net::SocketAddr::new(b6, 500)),
            3,
        );
        start(&mut p);
        assert!(
            p.drive_until(Duration::from_secs(5), up),
            "{mode:?}: {:?}",
            failures(&p.b.events)
        );
        let Some(Event::Phase1Up { peer_id, .. }) =
            p.b.events
                .iter()
                .find(|e| matches!(e, Event::Phase1Up { .. }))
        else {
            unreachable!()
        };
        assert_eq!(*peer_id, id);
        assert!(children(&p.a.events)[0].remote.is_ipv6());
    }
}
