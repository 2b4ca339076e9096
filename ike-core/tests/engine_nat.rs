//! NAT traversal (RFC 3947): detection, floating to 4500 with the non-ESP
//! marker, UDP-encapsulated modes, keepalives, `nat_traversal force`.

mod sim;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use ike_core::config::{NatTraversal, PeerConfig};
use sim::fixtures::{B, children, endpoint_with, failures, peer, pix_child, pix_phase1};
use sim::{Nat, Node, Pair};

const A_PRIVATE: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));
const A_PUBLIC: IpAddr = IpAddr::V4(Ipv4Addr::new(203, 0, 113, 7));
const B_PRIVATE: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 9, 0, 2));

fn nat_peer(addr: IpAddr, mode: NatTraversal) -> PeerConfig {
    let mut p = peer(addr, vec![pix_phase1()], vec![pix_child()]);
    p.nat_traversal = mode;
    p
}

/// A (endpoint seed `seed`) at 10.0.0.2 behind a NAPT to 203.0.113.7 when
/// `a_behind_nat`, else at 203.0.113.7; and B's endpoint (seed `seed + 1`).
fn a_node_and_b_endpoint(
    a_peer: PeerConfig,
    b_peer: PeerConfig,
    a_behind_nat: bool,
    seed: u64,
) -> (Node, ike_core::endpoint::Endpoint) {
    let a_addr = if a_behind_nat { A_PRIVATE } else { A_PUBLIC };
    let mut a = Node::new(
        endpoint_with(a_peer, b"k", seed),
        SocketAddr::new(a_addr, 500),
    );
    if a_behind_nat {
        a.nat = Some(Nat::new(A_PUBLIC));
    }
    (a, endpoint_with(b_peer, b"k", seed + 1))
}

/// [`a_node_and_b_endpoint`] with B public at 198.51.100.2; the pair's
/// fault seed is `seed` too.
fn pair_with(a_peer: PeerConfig, b_peer: PeerConfig, a_behind_nat: bool, seed: u64) -> Pair {
    let (a, b_ep) = a_node_and_b_endpoint(a_peer, b_peer, a_behind_nat, seed);
    Pair::new(a, Node::new(b_ep, SocketAddr::new(B, 500)), seed)
}

/// A behind a NAPT (10.0.0.2 -> 203.0.113.7), B public; optionally B behind
/// its own NAT with ports 500 and 4500 forwarded.
fn natted_pair(b_behind_nat: bool, seed: u64) -> Pair {
    let (a, b_ep) = a_node_and_b_endpoint(
        nat_peer(B, NatTraversal::On),
        nat_peer(A_PUBLIC, NatTraversal::On),
        true,
        seed,
    );
    let b_addr = if b_behind_nat { B_PRIVATE } else { B };
    let mut b = Node::new(b_ep, SocketAddr::new(b_addr, 500));
    if b_behind_nat {
        let mut nat = Nat::new(B);
        for port in [500, 4500] {
            nat.map
                .push((SocketAddr::new(B_PRIVATE, port), SocketAddr::new(B, port)));
        }
        b.nat = Some(nat);
    }
    Pair::new(a, b, seed)
}

fn start(p: &mut Pair) {
    let now = p.now;
    p.a.ep
        .initiate(now, p.a.addr, SocketAddr::new(B, 500), pix_child())
        .unwrap();
}

fn up(p: &Pair) -> bool {
    !children(&p.a.events).is_empty() && !children(&p.b.events).is_empty()
}

#[test]
fn nat_on_the_initiator_side_floats_and_encapsulates() {
    let mut p = natted_pair(false, 1);
    start(&mut p);
    assert!(
        p.drive_until(Duration::from_secs(10), up),
        "{:?} {:?}",
        failures(&p.a.events),
        failures(&p.b.events)
    );
    let (a, b) = (
        children(&p.a.events)[0].clone(),
        children(&p.b.events)[0].clone(),
    );
    assert_eq!(a.outbound.spi, b.inbound.spi);
    assert_eq!(*a.outbound.encryption, *b.inbound.encryption);
    // A sends ESP from 4500 to 4500; B answers the NAT's mapping of A's 4500.
    assert_eq!(a.udp_encapsulation, Some((4500, 4500)));
    let (b_port, a_mapped) = b.udp_encapsulation.unwrap();
    assert_eq!(b_port, 4500);
    assert_eq!(b.remote, SocketAddr::new(A_PUBLIC, a_mapped));
    assert_ne!(a_mapped, 4500, "the NAT rewrote the port");
    // MM1..MM4 on 500 without marker, everything after on 4500 with it.
    let marked: Vec<bool> = p.a.sent.iter().map(|(t, _)| t.non_esp_marker).collect();
    assert_eq!(&marked[..2], [false, false]);
    assert!(marked[2..].iter().all(|m| *m), "{marked:?}");
    assert!(
        p.a.sent[2..]
            .iter()
            .all(|(t, b)| t.local.port() == 4500 && b[..4] == [0, 0, 0, 0])
    );
    // Only the side behind the NAT sends keepalives.
    p.advance(Duration::from_secs(65));
    let keepalives = |n: &Node| {
        n.sent
            .iter()
            .filter(|(_, b)| b.as_slice() == [0xff])
            .count()
    };
    assert!(keepalives(&p.a) >= 3, "{}", keepalives(&p.a));
    assert_eq!(keepalives(&p.b), 0);
    assert!(failures(&p.a.events).is_empty() && failures(&p.b.events).is_empty());
}

#[test]
fn nat_on_both_sides() {
    let mut p = natted_pair(true, 2);
    start(&mut p);
    assert!(
        p.drive_until(Duration::from_secs(10), up),
        "{:?} {:?}",
        failures(&p.a.events),
        failures(&p.b.events)
    );
    let (a, b) = (
        children(&p.a.events)[0].clone(),
        children(&p.b.events)[0].clone(),
    );
    assert_eq!(a.inbound.spi, b.outbound.spi);
    assert!(a.udp_encapsulation.is_some() && b.udp_encapsulation.is_some());
    // Both are behind a NAT, so both keep their mappings alive.
    p.advance(Duration::from_secs(45));
    let keepalives = |n: &Node| {
        n.sent
            .iter()
            .filter(|(_, b)| b.as_slice() == [0xff])
            .count()
    };
    assert!(keepalives(&p.a) >= 2 && keepalives(&p.b) >= 2);
}

#[test]
fn no_nat_no_float() {
    let mut p = pair_with(
        nat_peer(B, NatTraversal::On),
        nat_peer(A_PUBLIC, NatTraversal::On),
        false,
        3,
    );
    start(&mut p);
    assert!(p.drive_until(Duration::from_secs(10), up));
    assert_eq!(children(&p.a.events)[0].udp_encapsulation, None);
    assert!(
        p.a.sent
            .iter()
            .chain(&p.b.sent)
            .all(|(t, _)| !t.non_esp_marker && t.local.port() == 500)
    );
    // NAT-T was still negotiated: MM3 carries two NAT-D payloads.
    let mm3 = &p.a.sent[1].1;
    assert!(mm3.windows(2).any(|w| w == [20, 0]), "NAT-D chained in MM3");
}

#[test]
fn forced_encapsulation_without_a_nat() {
    let mut p = pair_with(
        nat_peer(B, NatTraversal::Force),
        nat_peer(A_PUBLIC, NatTraversal::On),
        false,
        5,
    );
    start(&mut p);
    assert!(
        p.drive_until(Duration::from_secs(10), up),
        "{:?} {:?}",
        failures(&p.a.events),
        failures(&p.b.events)
    );
    assert_eq!(
        children(&p.a.events)[0].udp_encapsulation,
        Some((4500, 4500))
    );
    assert_eq!(
        children(&p.b.events)[0].udp_encapsulation,
        Some((4500, 4500))
    );
}

#[test]
fn nat_traversal_off_behind_a_nat_still_negotiates_without_floating() {
    let mut p = pair_with(
        nat_peer(B, NatTraversal::Off),
        nat_peer(A_PUBLIC, NatTraversal::On),
        true,
        7,
    );
    start(&mut p);
    assert!(p.drive_until(Duration::from_secs(10), up));
    assert_eq!(children(&p.b.events)[0].udp_encapsulation, None);
}

#[test]
fn aggressive_mode_behind_a_nat() {
    let mut a_cfg = nat_peer(B, NatTraversal::On);
    a_cfg.exchange_mode = ike_core::config::ExchangeMode::Aggressive;
    let mut p = pair_with(a_cfg, nat_peer(A_PUBLIC, NatTraversal::On), true, 9);
    start(&mut p);
    assert!(
        p.drive_until(Duration::from_secs(10), up),
        "{:?} {:?}",
        failures(&p.a.events),
        failures(&p.b.events)
    );
    // AM1, AM2 on 500; AM3 already on 4500 with the marker.
    let am3 =
        p.a.sent
            .iter()
            .find(|(_, b)| b.len() > 22 && b[4 + 18] == 4)
            .expect("AM3 on 4500");
    assert!(am3.0.non_esp_marker && am3.0.local.port() == 4500);
    assert_eq!(
        children(&p.a.events)[0].udp_encapsulation,
        Some((4500, 4500))
    );
    assert!(children(&p.b.events)[0].udp_encapsulation.is_some());
}

#[test]
fn transport_mode_behind_a_nat_carries_nat_oa() {
    let mut child = pix_child();
    child.mode = ike_core::config::EncapsulationMode::Transport;
    let mut a_cfg = nat_peer(B, NatTraversal::On);
    a_cfg.children = vec![child.clone()];
    let mut b_cfg = nat_peer(A_PUBLIC, NatTraversal::On);
    b_cfg.children = vec![child.clone()];
    let mut p = pair_with(a_cfg, b_cfg, true, 11);
    let now = p.now;
    p.a.ep
        .initiate(now, p.a.addr, SocketAddr::new(B, 500), child)
        .unwrap();
    assert!(
        p.drive_until(Duration::from_secs(10), up),
        "{:?} {:?}",
        failures(&p.a.events),
        failures(&p.b.events)
    );
    let (a, b) = (
        children(&p.a.events)[0].clone(),
        children(&p.b.events)[0].clone(),
    );
    assert_eq!(a.mode, ike_core::config::EncapsulationMode::Transport);
    assert!(a.udp_encapsulation.is_some() && b.udp_encapsulation.is_some());
    // B learns A's real (private) address for checksum fix-up; A hears back
    // how B sees it (the NAT's public address).
    assert_eq!(b.nat_oa, Some((A_PRIVATE, B)));
    assert_eq!(a.nat_oa, Some((A_PUBLIC, B)));
}

fn phase1_handle(events: &[ike_core::endpoint::Event]) -> ike_core::endpoint::IkeSaHandle {
    events
        .iter()
        .find_map(|e| match e {
            ike_core::endpoint::Event::Phase1Up { sa, .. } => Some(*sa),
            _ => None,
        })
        .expect("Phase 1 is up")
}

/// Where B's next message to A goes: B probes A (DPD) and the transmit is
/// read directly from B's endpoint.
fn where_b_sends(p: &mut Pair) -> SocketAddr {
    let sa = phase1_handle(&p.b.events);
    let now = p.now;
    p.b.ep.probe_peer(now, sa).unwrap();
    let mut buf = Vec::new();
    let t = p.b.ep.poll_transmit(now, &mut buf).expect("a DPD probe");
    // Let the probe's answer, if any, not linger in B's queue.
    while p.b.ep.poll_transmit(now, &mut buf).is_some() {}
    t.remote
}

#[test]
fn only_an_authenticated_message_moves_the_peer() {
    let mut p = natted_pair(false, 9);
    start(&mut p);
    assert!(p.drive_until(Duration::from_secs(10), up));
    p.drive_for(Duration::from_secs(1));
    let mapped = children(&p.b.events)[0].remote;
    assert_eq!(where_b_sends(&mut p), mapped);

    // A's last message to B on 4500 (marker + IKE), garbled past the
    // header, replayed from a port the NAT never mapped.
    let (_, last) =
        p.a.sent
            .iter()
            .rev()
            .find(|(t, b)| t.non_esp_marker && b.len() > 4 + 28 + 16)
            .cloned()
            .expect("A sent IKE on 4500");
    let forged_src = SocketAddr::new(A_PUBLIC, 31337);
    let b_local = SocketAddr::new(B, 4500);
    let mut garbled = last.clone();
    let n = garbled.len();
    garbled[n - 8..].iter_mut().for_each(|b| *b ^= 0x5a);
    let now = p.now;
    let before = p.b.ep.stats();
    p.b.ep.handle_datagram(now, b_local, forged_src, &garbled);
    let after = p.b.ep.stats();
    assert_eq!(
        after.bad_hash + after.unauthenticated_notifies,
        before.bad_hash + before.unauthenticated_notifies + 1,
        "the garbled copy was refused"
    );
    assert_eq!(where_b_sends(&mut p), mapped, "a forgery moved the peer");

    // The same from a new address and port (a NAT mapping change), but
    // authentic: A's DPD probe. Now B follows.
    let a_sa = phase1_handle(&p.a.events);
    p.a.ep.probe_peer(now, a_sa).unwrap();
    let mut buf = Vec::new();
    let t = p.a.ep.poll_transmit(now, &mut buf).expect("A's probe");
    assert!(t.non_esp_marker);
    let remapped = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(203, 0, 113, 99)), 40000);
    p.b.ep
        .handle_datagram(now, b_local, remapped, &buf[..t.size]);
    let mut reply = Vec::new();
    let ack = p.b.ep.poll_transmit(now, &mut reply).expect("B acks");
    assert_eq!(ack.remote, remapped);
    assert_eq!(where_b_sends(&mut p), remapped);
}

/// Flips the last byte of B's MM4, the NAT-D hash of B's own address (not
/// covered by HASH_R): A then believes a NAT is in the way, floats and
/// offers a UDP-encapsulated mode, while B saw no NAT.
fn lie_about_a_nat_in_mm4(p: &mut Pair) {
    let mut sent_by_b = 0;
    p.intercept = Some(Box::new(move |side, bytes: &mut Vec<u8>| {
        if side == sim::Side::B {
            sent_by_b += 1;
            if sent_by_b == 2
                && let Some(last) = bytes.last_mut()
            {
                *last ^= 1;
            }
        }
        true
    }));
}

#[test]
fn udp_encapsulation_without_a_detected_nat_is_refused_with_a_reason() {
    let mut p = pair_with(
        nat_peer(B, NatTraversal::On),
        nat_peer(A_PUBLIC, NatTraversal::On),
        false,
        21,
    );
    lie_about_a_nat_in_mm4(&mut p);
    start(&mut p);
    p.drive_for(Duration::from_secs(5));
    assert!(
        children(&p.b.events).is_empty(),
        "B accepted UDP encapsulation"
    );
    let reasons = failures(&p.b.events);
    assert!(
        reasons.iter().any(|r| r.contains("encapsulation mode")
            && r.contains("UDP-Encapsulated-Tunnel")
            && r.contains("no NAT was detected")),
        "{reasons:?}"
    );
}

#[test]
fn phase1_rekey_behind_a_nat_starts_on_4500_and_keeps_the_pair() {
    use ike_core::config::Lifetime;
    use ike_core::endpoint::{DownReason, Event};
    let short = |addr| {
        let mut p = nat_peer(addr, NatTraversal::On);
        p.proposals[0].lifetime = Lifetime::seconds(100);
        p.children[0].lifetime = Lifetime::seconds(300);
        p
    };
    let mut p = pair_with(short(B), short(A_PUBLIC), true, 90);
    let mut child = pix_child();
    child.lifetime = Lifetime::seconds(300);
    let now = p.now;
    p.a.ep
        .initiate(now, p.a.addr, SocketAddr::new(B, 500), child)
        .unwrap();
    p.advance(Duration::from_secs(260));
    let count =
        |events: &[Event], f: &dyn Fn(&Event) -> bool| events.iter().filter(|e| f(e)).count();
    let ups = |e: &Event| matches!(e, Event::Phase1Up { .. });
    assert_eq!(count(&p.a.events, &ups), 3, "{:?}", failures(&p.a.events));
    assert_eq!(count(&p.b.events, &ups), 3);
    let rekeyed = |e: &Event| {
        matches!(
            e,
            Event::Phase1Down {
                reason: DownReason::Rekeyed,
                ..
            }
        )
    };
    assert_eq!(count(&p.a.events, &rekeyed), 2);
    assert!(failures(&p.a.events).is_empty() && failures(&p.b.events).is_empty());
    // The pair's rekey (at 240 s) ran on the third SA, still encapsulated,
    // and the old pair was deleted by A and removed by B.
    let (ca, cb) = (children(&p.a.events), children(&p.b.events));
    assert_eq!((ca.len(), cb.len()), (2, 2));
    assert_eq!(ca[1].outbound.spi, cb[1].inbound.spi);
    assert_eq!(ca[1].udp_encapsulation.map(|(l, _)| l), Some(4500));
    assert!(cb[1].udp_encapsulation.is_some());
    let deleted = |e: &Event| matches!(e, Event::ChildSaDeleted { .. });
    assert_eq!(count(&p.a.events, &deleted), 1);
    assert_eq!(count(&p.b.events, &deleted), 1);
    // Only MM1 and MM3 went from port 500; from MM5 on, the two Phase 1
    // rekeys included, everything went on 4500 (RFC 3947 §4).
    let from_500_after_first =
        p.a.sent
            .iter()
            .skip(2)
            .filter(|(t, _)| t.local.port() == 500)
            .count();
    assert_eq!(from_500_after_first, 0);
}

/// Two sainfo entries (A's view): 10.1/16 <-> 10.2/16 and 10.1/16 <-> 10.3/16.
fn two_children() -> (ike_core::config::ChildPolicy, ike_core::config::ChildPolicy) {
    use ike_core::config::TrafficSelector;
    let subnet = |s: &str| TrafficSelector::subnet(s.parse().unwrap(), 16);
    let mut web = pix_child();
    web.local = Some(subnet("10.1.0.0"));
    web.remote = Some(subnet("10.2.0.0"));
    let mut mail = web.clone();
    mail.remote = Some(subnet("10.3.0.0"));
    (web, mail)
}

#[test]
fn after_a_float_more_children_reuse_the_isakmp_sa_from_either_side() {
    use ike_core::endpoint::Event;
    let (web, mail) = two_children();
    let flip = |c: &ike_core::config::ChildPolicy| {
        let mut c = c.clone();
        core::mem::swap(&mut c.local, &mut c.remote);
        c
    };
    let mut a_peer = nat_peer(B, NatTraversal::On);
    a_peer.children = vec![web.clone(), mail.clone()];
    let mut b_peer = nat_peer(A_PUBLIC, NatTraversal::On);
    b_peer.children = vec![flip(&web), flip(&mail)];
    let mut p = pair_with(a_peer, b_peer, true, 100);
    let now = p.now;
    p.a.ep
        .initiate(now, p.a.addr, SocketAddr::new(B, 500), web)
        .unwrap();
    assert!(p.drive_until(Duration::from_secs(10), up));
    let sent_before = p.a.sent.len();
    // Both callers still name port 500 (as a kernel ACQUIRE would), although
    // the SA now runs on 4500 and, for B, on the NAT's port for A.
    let now = p.now;
    let via_a =
        p.a.ep
            .initiate(now, p.a.addr, SocketAddr::new(B, 500), mail.clone())
            .unwrap();
    let via_b =
        p.b.ep
            .initiate(now, p.b.addr, SocketAddr::new(A_PUBLIC, 500), flip(&mail))
            .unwrap();
    assert!(
        p.drive_until(Duration::from_secs(10), |p| children(&p.a.events).len()
            == 3
            && children(&p.b.events).len() == 3),
        "{:?} {:?}",
        failures(&p.a.events),
        failures(&p.b.events)
    );
    let count = |events: &[Event], f: fn(&Event) -> bool| events.iter().filter(|e| f(e)).count();
    for events in [&p.a.events, &p.b.events] {
        assert_eq!(count(events, |e| matches!(e, Event::Phase1Up { .. })), 1);
        assert_eq!(count(events, |e| matches!(e, Event::Phase1Down { .. })), 0);
        assert_eq!(
            count(events, |e| matches!(e, Event::ChildSaDeleted { .. })),
            0
        );
    }
    assert_eq!(via_a, phase1_handle(&p.a.events));
    assert_eq!(via_b, phase1_handle(&p.b.events));
    // No new Main Mode: A's later messages all left from 4500, with the marker.
    assert!(
        p.a.sent[sent_before..]
            .iter()
            .all(|(t, _)| t.local.port() == 4500 && t.non_esp_marker)
    );
    for c in children(&p.a.events) {
        assert_eq!(c.udp_encapsulation, Some((4500, 4500)));
    }
    assert!(failures(&p.a.events).is_empty() && failures(&p.b.events).is_empty());
}

fn ah_only() -> ike_core::config::ChildPolicy {
    let mut c = pix_child();
    c.esp.clear();
    c.accept_ah = true;
    c.ah = vec![ike_core::config::IntegrityAlgorithm::HmacSha1];
    c
}

#[test]
fn ah_is_not_offered_across_a_nat_and_an_ah_only_policy_fails_with_the_reason() {
    use ike_core::config::IpsecProtocol;
    // ESP or AH: across the NAT only ESP is offered, so ESP is chosen even
    // though B would accept AH.
    let mut either = pix_child();
    either.accept_ah = true;
    let mut p = natted_pair(false, 110);
    let now = p.now;
    p.a.ep
        .initiate(now, p.a.addr, SocketAddr::new(B, 500), either)
        .unwrap();
    assert!(p.drive_until(Duration::from_secs(10), up));
    assert_eq!(children(&p.a.events)[0].protocol, IpsecProtocol::Esp);
    assert_eq!(children(&p.b.events)[0].protocol, IpsecProtocol::Esp);
    // AH alone: the initiator fails at once with the reason, sends no QM1.
    let sent_before = p.a.sent.len();
    let now = p.now;
    p.a.ep
        .initiate(now, p.a.addr, SocketAddr::new(B, 500), ah_only())
        .unwrap();
    p.drive_for(Duration::from_secs(5));
    assert_eq!(
        failures(&p.a.events),
        [
            "no proposal chosen: the child policy offers only AH, which cannot cross the NAT detected in Phase 1 (RFC 3715 §2.1); configure ESP for this peer"
        ]
    );
    assert_eq!(p.a.sent.len(), sent_before, "no Quick Mode was sent");
    assert!(failures(&p.b.events).is_empty());
}

#[test]
fn a_responder_that_sees_a_nat_refuses_ah_by_name() {
    // A has NAT-T off and offers AH; B forces NAT-T (racoon's
    // `nat_traversal force`), so for B the pair crosses a NAT: AH is refused.
    let mut a_peer = nat_peer(B, NatTraversal::Off);
    a_peer.children = vec![ah_only()];
    let mut b_peer = nat_peer(A_PUBLIC, NatTraversal::Force);
    b_peer.children = vec![ah_only()];
    let mut p = pair_with(a_peer, b_peer, false, 120);
    let now = p.now;
    p.a.ep
        .initiate(now, p.a.addr, SocketAddr::new(B, 500), ah_only())
        .unwrap();
    p.drive_for(Duration::from_secs(10));
    assert!(children(&p.a.events).is_empty() && children(&p.b.events).is_empty());
    assert_eq!(
        failures(&p.b.events),
        [
            "no proposal chosen: peer offered protocol AH, policy requires ESP (AH cannot cross the NAT detected in Phase 1)"
        ]
    );
    assert_eq!(
        failures(&p.a.events),
        ["peer sent notify NO-PROPOSAL-CHOSEN"]
    );
}

/// Where `needle` starts in `hay`.
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The payload types of a cleartext Phase 1 message (after the non-ESP
/// marker, if any), in order.
fn payload_types(datagram: &[u8]) -> Vec<u8> {
    let msg = datagram.strip_prefix(&[0, 0, 0, 0][..]).unwrap_or(datagram);
    let mut types = Vec::new();
    let (mut next, mut at) = (msg[16], 28);
    while next != 0 && at + 4 <= msg.len() {
        types.push(next);
        next = msg[at];
        at += usize::from(u16::from_be_bytes([msg[at + 2], msg[at + 3]]));
    }
    types
}

#[test]
fn a_draft_only_peer_gets_draft_nat_d_and_still_floats() {
    // MD5("RFC 3947"), the RFC's vendor ID: blanking it in A's MM1 leaves B
    // seeing only the draft-02/03 vendor IDs A also sends, as from an older
    // peer.
    const RFC_3947_VID: [u8; 16] = [
        0x4a, 0x13, 0x1c, 0x81, 0x07, 0x03, 0x58, 0x45, 0x5c, 0x57, 0x28, 0xf2, 0x0e, 0x95, 0x45,
        0x2f,
    ];
    let mut p = natted_pair(false, 130);
    p.intercept = Some(Box::new(move |side, bytes: &mut Vec<u8>| {
        if side == sim::Side::A
            && let Some(at) = find(bytes, &RFC_3947_VID)
        {
            bytes[at..at + 16].fill(0);
        }
        true
    }));
    start(&mut p);
    assert!(
        p.drive_until(Duration::from_secs(10), up),
        "{:?} {:?}",
        failures(&p.a.events),
        failures(&p.b.events)
    );
    // MM3 and MM4 carry draft NAT-D (130), not RFC 3947's (20).
    const NAT_D: u8 = 20;
    const NAT_D_DRAFT: u8 = 130;
    for sent in [&p.a.sent[1].1, &p.b.sent[1].1] {
        let types = payload_types(sent);
        assert_eq!(
            types.iter().filter(|t| **t == NAT_D_DRAFT).count(),
            2,
            "{types:?}"
        );
        assert!(!types.contains(&NAT_D), "{types:?}");
    }
    // B answered MM1 with a draft vendor ID and no RFC 3947 one.
    assert!(find(&p.b.sent[0].1, &RFC_3947_VID).is_none());
    // The NAT was found all the same: IKE floated and ESP is UDP-encapsulated.
    let (a, b) = (children(&p.a.events)[0], children(&p.b.events)[0]);
    assert_eq!(a.udp_encapsulation, Some((4500, 4500)));
    assert_eq!(b.udp_encapsulation.map(|(l, _)| l), Some(4500));
    assert!(p.a.sent[2..].iter().all(|(t, _)| t.local.port() == 4500));
}

/// A pair names the peer entry it was negotiated under (`peer_index`), so a
/// caller finds its own per-peer settings even where the remote address is
/// a NAT's: B lists another peer first, and A reaches it translated.
#[test]
fn a_pair_behind_a_nat_names_its_peer_entry() {
    use std::sync::Arc;

    use ike_core::config::{EndpointConfig, Identity, PresharedKey, PskTable};
    use ike_core::endpoint::Endpoint;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    let mut p = natted_pair(false, 41);
    let other = nat_peer(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 99)), NatTraversal::On);
    let mut psk = PskTable::new();
    psk.insert(
        Identity::from_ip(A_PUBLIC),
        PresharedKey::new(b"k".to_vec()),
    );
    let b_cfg = EndpointConfig::new(vec![other, nat_peer(A_PUBLIC, NatTraversal::On)], psk);
    p.b.ep = Endpoint::new(Arc::new(b_cfg), Box::new(ChaCha20Rng::seed_from_u64(42)));
    start(&mut p);
    assert!(
        p.drive_until(Duration::from_secs(10), up),
        "{:?} {:?}",
        failures(&p.a.events),
        failures(&p.b.events)
    );
    let (a, b) = (children(&p.a.events)[0], children(&p.b.events)[0]);
    assert_eq!(a.peer_index, 0);
    assert_eq!(b.peer_index, 1, "B's entry for A, not the first");
    // What B sees of A is the NAT's address and mapped port.
    assert_eq!(b.remote.ip(), A_PUBLIC);
    assert_ne!(b.remote.port(), 4500);
}
