//! IKE fragmentation in the engine: Phase 1 messages too large for the path
//! get through as fragments (payload 132) once both sides announced the
//! FRAGMENTATION vendor ID, and fail without them; loss, duplication and
//! reordering of fragments are survived through retransmission.
//!
//! The large messages come from long FQDN identities with pre-shared keys
//! (MM5/MM6 and AM1/AM2 carry the ID payload), and from RSA-signature
//! Phase 1s whose MM5/MM6 carry 2048-bit certificate chains or a 4096-bit
//! certificate (`tests/data/auth/`).

mod sim;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use ike_core::auth::{PeerCertificate, RsaCrateSigner, TrustStore, UnixTime, load_certificates};
use ike_core::config::{
    AuthMethod, EndpointConfig, ExchangeMode, Fragmentation, Identity, NatTraversal, PeerAuth,
    PeerConfig, Phase1Proposal, PresharedKey, PskTable, RsaAuthConfig,
};
use ike_core::endpoint::Endpoint;
use ike_core::fragment::announces_fragmentation;
use ike_core::wire::{Fragment, Message, PayloadType, VendorId};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use sim::fixtures::{A, B, children, failures, peer, phase1_up, pix_child, pix_phase1};
use sim::{Faults, Node, Pair, Side};

/// IP + UDP headers of an IPv4 datagram.
const IPV4_UDP: usize = 28;

/// A long but well-formed FQDN (60-byte labels) of about `len` bytes.
fn long_fqdn(host: &str, len: usize) -> Identity {
    let label = "f".repeat(60);
    let mut name = host.to_owned();
    while name.len() < len {
        name.push('.');
        name.push_str(&label);
    }
    Identity::Fqdn(name)
}

/// A peer entry for `addr` that names us with a `id_len`-byte FQDN.
fn peer_cfg(
    addr: IpAddr,
    fragmentation: Fragmentation,
    mode: ExchangeMode,
    id_len: usize,
) -> PeerConfig {
    let mut p = peer(addr, vec![pix_phase1()], vec![pix_child()]);
    p.fragmentation = fragmentation;
    p.exchange_mode = mode;
    p.my_identifier = Some(long_fqdn("gw", id_len));
    p
}

fn endpoint(peer_cfg: PeerConfig, fragment_size: usize, seed: u64) -> Endpoint {
    let mut psk = PskTable::new();
    if let Some(addr) = peer_cfg.address {
        psk.insert(
            Identity::from_ip(addr),
            PresharedKey::new(b"mekmitasdigoat".to_vec()),
        );
    }
    let mut cfg = EndpointConfig::new(vec![peer_cfg], psk);
    cfg.fragment_size = fragment_size;
    Endpoint::new(Arc::new(cfg), Box::new(ChaCha20Rng::seed_from_u64(seed)))
}

/// A (initiator, settings `fa`) and B (responder, `fb`) on a path of
/// `path_mtu` bytes, each fragmenting to fit it.
fn pair(
    fa: Fragmentation,
    fb: Fragmentation,
    mode: ExchangeMode,
    path_mtu: usize,
    seed: u64,
) -> Pair {
    let size = path_mtu - IPV4_UDP;
    let a = endpoint(peer_cfg(B, fa, mode, 2000), size, seed);
    let b = endpoint(peer_cfg(A, fb, ExchangeMode::Main, 2000), size, seed + 1);
    let mut p = Pair::new(
        Node::new(a, SocketAddr::new(A, 500)),
        Node::new(b, SocketAddr::new(B, 500)),
        seed,
    );
    p.path_mtu = Some(path_mtu);
    p
}

/// Runs A's negotiation with B until both have their IPsec SA pair (true)
/// or A gives up (false); `setup` may add faults or an intercept first.
fn negotiate(p: &mut Pair, setup: impl FnOnce(&mut Pair)) -> bool {
    setup(p);
    let now = p.now;
    p.a.ep
        .initiate(now, p.a.addr, p.b.addr, pix_child())
        .unwrap();
    p.drive_until(Duration::from_secs(120), |p| {
        both_children_up(p) || !failures(&p.a.events).is_empty()
    });
    both_children_up(p)
}

fn both_children_up(p: &Pair) -> bool {
    !children(&p.a.events).is_empty() && !children(&p.b.events).is_empty()
}

/// Both sides' failure reasons, for assertion messages.
fn why(p: &Pair) -> String {
    format!(
        "A: {:?} B: {:?}",
        failures(&p.a.events),
        failures(&p.b.events)
    )
}

/// The fragment payload of a datagram (port 500: no marker), if it is one.
fn fragment_of(datagram: &[u8]) -> Option<Fragment> {
    let msg = Message::parse(datagram).ok()?;
    let first = msg.payloads()?.first()?;
    (first.ty == PayloadType::FRAGMENT).then(|| first.parse_as().ok())?
}

fn fragments_sent(node: &Node) -> usize {
    node.sent
        .iter()
        .filter(|(t, d)| {
            fragment_of(d.get(if t.non_esp_marker { 4 } else { 0 }..).unwrap()).is_some()
        })
        .count()
}

/// Whether any datagram `node` sent carries a FRAGMENTATION vendor ID.
fn announced(node: &Node) -> bool {
    node.sent.iter().any(|(_, d)| {
        Message::parse(d)
            .ok()
            .and_then(|m| m.payloads().map(<[_]>::to_vec))
            .is_some_and(|ps| {
                ps.iter()
                    .filter(|p| p.ty == PayloadType::VENDOR_ID)
                    .filter_map(|p| p.parse_as::<VendorId>().ok())
                    .any(|v| announces_fragmentation(&v))
            })
    })
}

fn largest_packet(node: &Node) -> usize {
    node.sent
        .iter()
        .map(|(t, _)| t.size + IPV4_UDP)
        .max()
        .unwrap_or(0)
}

#[test]
fn main_mode_with_large_ids_gets_through_1280_and_576_only_as_fragments() {
    use Fragmentation::{Off, On};
    for mtu in [1280, 576] {
        let mut p = pair(On, On, ExchangeMode::Main, mtu, 3);
        assert!(negotiate(&mut p, |_| ()), "mtu {mtu}: {}", why(&p));
        assert_eq!(p.mtu_drops, 0, "mtu {mtu}: a datagram exceeded the path");
        assert!(largest_packet(&p.a) <= mtu && largest_packet(&p.b) <= mtu);
        assert!(announced(&p.a) && announced(&p.b));
        let (sa, sb) = (p.a.ep.stats(), p.b.ep.stats());
        // MM5 from A and MM6 from B were each cut and put back together.
        assert_eq!((sa.messages_fragmented, sb.messages_fragmented), (1, 1));
        assert_eq!((sa.messages_reassembled, sb.messages_reassembled), (1, 1));
        // A ~2100-byte message: 2 fragments at 1280, 5 at 576.
        let want = if mtu == 1280 { 2 } else { 5 };
        assert_eq!(fragments_sent(&p.a), want, "mtu {mtu}");
        assert_eq!(sb.fragments_in, want as u64, "mtu {mtu}");
        assert_eq!(sb.fragments_dropped, 0);
        assert_eq!(sa.bad_hash + sb.bad_hash, 0);

        // Without fragmentation the same negotiation cannot pass the path:
        // MM5 is dropped on every resend until Phase 1 times out.
        let mut p = pair(Off, Off, ExchangeMode::Main, mtu, 3);
        assert!(!negotiate(&mut p, |_| ()), "mtu {mtu}");
        assert!(!phase1_up(&p.a.events) && !phase1_up(&p.b.events));
        assert!(!failures(&p.a.events).is_empty(), "mtu {mtu}");
        assert!(
            p.mtu_drops > 1,
            "mtu {mtu}: MM5 and its resends hit the path limit"
        );
        // Off: no vendor ID and not one fragment, ever.
        assert!(!announced(&p.a) && !announced(&p.b));
        assert_eq!(fragments_sent(&p.a) + fragments_sent(&p.b), 0);
    }
}

#[test]
fn on_does_not_fragment_for_a_peer_that_did_not_announce_force_does() {
    use Fragmentation::{Force, Off, On};
    // B has fragmentation off: it never announces and drops fragments.
    let mut p = pair(On, Off, ExchangeMode::Main, 576, 5);
    assert!(!negotiate(&mut p, |_| ()));
    assert!(announced(&p.a) && !announced(&p.b));
    assert_eq!(fragments_sent(&p.a), 0, "On waits for the peer's vendor ID");
    assert!(p.mtu_drops > 0);

    let mut p = pair(Force, Off, ExchangeMode::Main, 576, 5);
    assert!(!negotiate(&mut p, |_| ()));
    assert!(!announced(&p.b));
    assert!(fragments_sent(&p.a) >= 5, "Force fragments MM5 anyway");
    assert_eq!(p.mtu_drops, 0, "every fragment fits the path");
    // B, configured off, refuses them all, so Phase 1 still fails.
    let sb = p.b.ep.stats();
    assert_eq!(sb.fragments_dropped, sb.fragments_in);
    assert_eq!(sb.messages_reassembled, 0);
    assert!(!phase1_up(&p.b.events));
}

#[test]
fn aggressive_mode_first_message_needs_force() {
    use Fragmentation::{Force, On};
    // AM1 carries the 2000-byte ID before the initiator can know whether the
    // responder takes fragments: only Force gets it through a 576 path.
    let mut p = pair(On, On, ExchangeMode::Aggressive, 576, 7);
    assert!(!negotiate(&mut p, |_| ()));
    assert!(!phase1_up(&p.a.events));
    assert_eq!(fragments_sent(&p.a), 0);

    let mut p = pair(Force, On, ExchangeMode::Aggressive, 576, 7);
    assert!(negotiate(&mut p, |_| ()), "{}", why(&p));
    assert_eq!(p.mtu_drops, 0);
    // AM1 (A) and AM2 (B) went as fragments; AM3 is small.
    let (sa, sb) = (p.a.ep.stats(), p.b.ep.stats());
    assert_eq!((sa.messages_fragmented, sb.messages_fragmented), (1, 1));
    assert_eq!((sa.messages_reassembled, sb.messages_reassembled), (1, 1));
}

#[test]
fn fragments_on_port_4500_leave_room_for_the_non_esp_marker() {
    // NAT-T forced on both sides: IKE floats to 4500 with MM5, so MM5 and
    // MM6 go as fragments that carry the 4-byte marker, and each datagram,
    // marker included, still fits the 576-byte path exactly.
    let mtu = 576;
    let mut p = pair(
        Fragmentation::On,
        Fragmentation::On,
        ExchangeMode::Main,
        mtu,
        17,
    );
    let nat_t = |p: &mut Pair| {
        for ep in [&mut p.a.ep, &mut p.b.ep] {
            let mut cfg = ep.config().clone();
            cfg.peers[0].nat_traversal = NatTraversal::Force;
            *ep = Endpoint::new(Arc::new(cfg), Box::new(ChaCha20Rng::seed_from_u64(17)));
        }
    };
    assert!(negotiate(&mut p, nat_t), "{}", why(&p));
    assert_eq!(p.mtu_drops, 0);
    let on_4500: Vec<usize> =
        p.a.sent
            .iter()
            .filter(|(t, d)| t.non_esp_marker && fragment_of(&d[4..]).is_some())
            .map(|(t, _)| t.size)
            .collect();
    assert_eq!(on_4500.len(), 5, "MM5 in 5 fragments on port 4500");
    assert_eq!(
        on_4500[0],
        mtu - IPV4_UDP,
        "a full fragment is exactly fragment_size"
    );
    assert_eq!(fragments_sent(&p.a), 5);
    assert!(fragments_sent(&p.b) >= 5);
}

/// A fragment datagram (number 1 of 2, 64 data bytes) of a message nobody
/// sent, with the given cookies, in Main Mode.
fn forged_fragment(cky_i: [u8; 8], cky_r: [u8; 8]) -> Vec<u8> {
    let mut d = Vec::new();
    d.extend_from_slice(&cky_i);
    d.extend_from_slice(&cky_r);
    // Next payload 132, version 1.0, Main Mode, no flags, message ID 0.
    d.extend_from_slice(&[132, 0x10, 2, 0, 0, 0, 0, 0]);
    d.extend_from_slice(&(28u32 + 8 + 64).to_be_bytes());
    // Generic header (no next payload, length 72), fragment ID 1, number 1.
    d.extend_from_slice(&[0, 0, 0, 72, 0, 1, 1, 0]);
    d.extend_from_slice(&[0xee; 64]);
    d
}

#[test]
fn made_up_fragments_cannot_evict_a_negotiation_in_progress() {
    // B keeps fragments 1-4 of MM5 from their first copy only (later copies
    // of them are lost); fragment 5 arrives only with the resend. Meanwhile
    // 300 made-up first-message fragments arrive from A's own address, and
    // 300 naming a responder cookie B never issued. MM5 must still complete
    // from the pieces B held.
    let mut p = pair(
        Fragmentation::On,
        Fragmentation::On,
        ExchangeMode::Main,
        576,
        19,
    );
    let mut seen = [0u32; 6];
    p.intercept = Some(Box::new(move |side, bytes| {
        let Some(f) = fragment_of(bytes).filter(|_| side == Side::A) else {
            return true;
        };
        let n = usize::from(f.number.min(5));
        seen[n] += 1;
        if f.is_last() {
            seen[n] > 1
        } else {
            seen[n] == 1
        }
    }));
    let now = p.now;
    p.a.ep
        .initiate(now, p.a.addr, p.b.addr, pix_child())
        .unwrap();
    assert!(p.drive_until(Duration::from_secs(5), |p| p.b.ep.stats().fragments_in == 4));
    let (a, b) = (p.a.addr, p.b.addr);
    for i in 0..300u32 {
        let mut cookie = [0x5a; 8];
        cookie[..4].copy_from_slice(&i.to_be_bytes());
        p.b.ep
            .handle_datagram(p.now, b, a, &forged_fragment(cookie, [0; 8]));
        p.b.ep
            .handle_datagram(p.now, b, a, &forged_fragment(cookie, [0xa5; 8]));
    }
    assert!(
        p.drive_until(Duration::from_secs(30), both_children_up),
        "{}",
        why(&p)
    );
    let sb = p.b.ep.stats();
    assert_eq!(sb.messages_reassembled, 1, "MM5 from the held pieces");
    // The unknown-cookie ones were dropped before anything was stored;
    // the first-message ones exceed the per-peer bound and evict each other.
    assert!(sb.fragments_dropped >= 300, "{sb:?}");
}

/// Drops the first fragment from `side` that `hit` selects.
fn drop_first(side: Side, hit: impl Fn(&Fragment) -> bool + 'static) -> sim::Intercept {
    let mut dropped = false;
    Box::new(move |from, bytes| {
        let selected = from == side && fragment_of(bytes).is_some_and(|f| hit(&f));
        if selected && !dropped {
            dropped = true;
            return false;
        }
        true
    })
}

#[test]
fn lost_fragment_and_lost_last_fragment_are_recovered_by_resending_all() {
    // Fragment 1, a middle one, and the last one of MM5 (5 fragments).
    for number in [1, 3, 5] {
        let mut p = pair(
            Fragmentation::On,
            Fragmentation::On,
            ExchangeMode::Main,
            576,
            11,
        );
        let lost = move |f: &Fragment| f.number == number && (number < 5 || f.is_last());
        assert!(
            negotiate(&mut p, |p| p.intercept = Some(drop_first(Side::A, lost))),
            "fragment {number}: {}",
            why(&p)
        );
        let (sa, sb) = (p.a.ep.stats(), p.b.ep.stats());
        assert!(
            sa.retransmits_sent >= 1,
            "fragment {number}: MM5 was resent"
        );
        // MM5 went again as a whole set of 5 fragments (B's own MM4 resend
        // may trigger a second set); B completed it from the resent copy,
        // and a later copy is answered from its cache.
        let sent = fragments_sent(&p.a);
        assert!(
            sent >= 10 && sent.is_multiple_of(5),
            "fragment {number}: {sent}"
        );
        assert!(sb.messages_reassembled >= 1, "fragment {number}");
        assert_eq!(sb.fragments_dropped, 0, "fragment {number}");
    }
}

#[test]
fn responder_resends_its_fragmented_reply_when_the_request_comes_again() {
    // MM6's last fragment is lost once: A resends MM5 (all fragments), B
    // recognises the reassembled duplicate and resends every MM6 fragment.
    let mut p = pair(
        Fragmentation::On,
        Fragmentation::On,
        ExchangeMode::Main,
        576,
        13,
    );
    let lost = |f: &Fragment| f.is_last();
    assert!(
        negotiate(&mut p, |p| p.intercept = Some(drop_first(Side::B, lost))),
        "{}",
        why(&p)
    );
    let (sa, sb) = (p.a.ep.stats(), p.b.ep.stats());
    assert!(sa.retransmits_sent >= 1);
    assert_eq!(sb.messages_reassembled, 2, "MM5 reassembled twice");
    assert!(
        sb.retransmits_answered >= 1,
        "the second MM5 was answered from cache"
    );
    assert_eq!(
        sb.messages_fragmented, 2,
        "MM6 sent twice, as fragments both times"
    );
    assert_eq!(sa.messages_reassembled, 1);
}

#[test]
fn seeded_loss_duplication_and_reordering() {
    let mut completed = 0;
    for seed in 20..32 {
        let mut p = pair(
            Fragmentation::On,
            Fragmentation::On,
            ExchangeMode::Main,
            576,
            seed,
        );
        let faults = Faults {
            loss: 0.1,
            duplicate: 0.2,
            reorder: 0.3,
            tamper: 0.0,
        };
        if negotiate(&mut p, |p| p.faults = faults) {
            completed += 1;
            assert_eq!(p.mtu_drops, 0);
            assert!(p.b.ep.stats().messages_reassembled >= 1, "seed {seed}");
            // Keys agree on both sides.
            let (a, b) = (children(&p.a.events)[0], children(&p.b.events)[0]);
            assert_eq!(a.outbound.spi, b.inbound.spi, "seed {seed}");
            assert_eq!(*a.outbound.encryption, *b.inbound.encryption, "seed {seed}");
        }
    }
    // 10% loss per datagram with 5 fragments per message: resends get
    // nearly every run through.
    assert!(completed >= 10, "only {completed} of 12 runs completed");
}

// ---- certificates ----------------------------------------------------------

const ROOT_CA: &[u8] = include_bytes!("data/auth/root-ca.pem");
const SUB_CA: &[u8] = include_bytes!("data/auth/sub-ca.pem");
const A_CERT: &[u8] = include_bytes!("data/auth/engine/a.pem");
const A_KEY: &[u8] = include_bytes!("data/auth/engine/a.key");
const B_CERT: &[u8] = include_bytes!("data/auth/engine/b.pem");
const B_KEY: &[u8] = include_bytes!("data/auth/engine/b.key");
/// RSA 4096 / SHA-512 by the root CA, subjectAltName IP 198.51.100.20.
const BIG_CERT: &[u8] = include_bytes!("data/auth/big.pem");
const BIG_KEY: &[u8] = include_bytes!("data/auth/big.key");
const BIG_ADDR: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 20));
/// 2030-01-01, inside every test certificate's validity.
const IN_VALIDITY: u64 = 1_893_456_000;

fn certs(pems: &[&[u8]]) -> Vec<PeerCertificate> {
    pems.iter()
        .flat_map(|pem| load_certificates(pem).unwrap())
        .collect()
}

/// A node at `local` talking to `remote` with RSA signatures: it sends the
/// `chain` (leaf first), signs with `key` and trusts the root CA; its ID is
/// its address, matched by the peer through subjectAltName IP.
fn rsa_node(
    (local, remote): (IpAddr, IpAddr),
    (chain, key): (&[&[u8]], &[u8]),
    fragmentation: Fragmentation,
    path_mtu: usize,
    seed: u64,
) -> Node {
    let mut trust = TrustStore::new();
    trust.add_anchor(certs(&[ROOT_CA]).remove(0));
    let signer = Arc::new(RsaCrateSigner::load(key).unwrap());
    let auth = RsaAuthConfig::new(signer, certs(chain), trust);
    let proposal = Phase1Proposal {
        auth: AuthMethod::RsaSignature,
        ..pix_phase1()
    };
    let mut p = PeerConfig::new(Some(remote), vec![proposal], vec![pix_child()]);
    p.auth = PeerAuth::RsaSignature(Arc::new(auth));
    p.fragmentation = fragmentation;
    let mut cfg = EndpointConfig::new(vec![p], PskTable::new());
    cfg.fragment_size = path_mtu - IPV4_UDP;
    let ep = Endpoint::new(Arc::new(cfg), Box::new(ChaCha20Rng::seed_from_u64(seed)));
    Node::new(ep, SocketAddr::new(local, 500))
}

/// A (a.pem + the sub CA) and B (b.pem), or A and a B with the 4096-bit
/// big.pem, on a path of `path_mtu`.
fn rsa_pair(big: bool, fragmentation: Fragmentation, path_mtu: usize, seed: u64) -> Pair {
    let (b_addr, b_chain, b_key): (_, &[&[u8]], _) = if big {
        (BIG_ADDR, &[BIG_CERT], BIG_KEY)
    } else {
        (B, &[B_CERT], B_KEY)
    };
    let a = rsa_node(
        (A, b_addr),
        (&[A_CERT, SUB_CA], A_KEY),
        fragmentation,
        path_mtu,
        seed,
    );
    let b = rsa_node(
        (b_addr, A),
        (b_chain, b_key),
        fragmentation,
        path_mtu,
        seed + 1,
    );
    let mut p = Pair::new(a, b, seed);
    p.path_mtu = Some(path_mtu);
    let (now, unix) = (
        p.now,
        UnixTime::since_unix_epoch(Duration::from_secs(IN_VALIDITY)),
    );
    p.a.ep.set_wall_clock(now, unix);
    p.b.ep.set_wall_clock(now, unix);
    p
}

#[test]
fn certificate_chains_of_2048_and_4096_bits_get_through_1280_and_576() {
    use Fragmentation::{Off, On};
    for big in [false, true] {
        for mtu in [1280, 576] {
            let what = if big { "4096-bit" } else { "2048-bit chain" };
            let mut p = rsa_pair(big, On, mtu, 40);
            assert!(negotiate(&mut p, |_| ()), "{what}, mtu {mtu}: {}", why(&p));
            assert_eq!(p.mtu_drops, 0, "{what}, mtu {mtu}");
            assert!(largest_packet(&p.a) <= mtu && largest_packet(&p.b) <= mtu);
            let (sa, sb) = (p.a.ep.stats(), p.b.ep.stats());
            // MM5 (A's two certificates) always needs fragments; MM6 with
            // the 4096-bit certificate too.
            assert!(sa.messages_fragmented >= 1 && sb.messages_reassembled >= 1);
            if big {
                assert!(sb.messages_fragmented >= 1 && sa.messages_reassembled >= 1);
            }
            assert_eq!(sa.fragments_dropped + sb.fragments_dropped, 0);
            // The identities were proven by the certificates' signatures.
            let ids: Vec<_> = [&p.a.events, &p.b.events]
                .iter()
                .flat_map(|evs| evs.iter())
                .filter_map(|e| match e {
                    ike_core::endpoint::Event::Phase1Up { peer_id, .. } => Some(peer_id.clone()),
                    _ => None,
                })
                .collect();
            let b_addr = if big { BIG_ADDR } else { B };
            assert_eq!(ids, [Identity::from_ip(b_addr), Identity::from_ip(A)]);

            // The same certificates without fragmentation never pass.
            let mut p = rsa_pair(big, Off, mtu, 40);
            assert!(!negotiate(&mut p, |_| ()), "{what}, mtu {mtu}");
            assert!(!phase1_up(&p.a.events) && !phase1_up(&p.b.events));
            assert!(p.mtu_drops > 1, "{what}, mtu {mtu}");
            assert_eq!(fragments_sent(&p.a) + fragments_sent(&p.b), 0);
        }
    }
}

#[test]
fn certificates_forced_fragmentation_with_loss() {
    // Both sides Force, 576 path, 15% loss and some reordering: Phase 1
    // with the 4096-bit certificate still completes on most seeds.
    let mut completed = 0;
    for seed in 50..56 {
        let mut p = rsa_pair(true, Fragmentation::Force, 576, seed);
        let faults = Faults {
            loss: 0.15,
            duplicate: 0.1,
            reorder: 0.2,
            tamper: 0.0,
        };
        if negotiate(&mut p, |p| p.faults = faults) {
            completed += 1;
            assert_eq!(p.mtu_drops, 0);
            assert!(p.a.ep.stats().messages_reassembled >= 1, "seed {seed}");
        }
    }
    assert!(completed >= 5, "only {completed} of 6 runs completed");
}
