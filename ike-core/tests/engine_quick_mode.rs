//! Main Mode + Quick Mode between two in-process endpoints: keys, proposals,
//! proposal_check, PFS, proxy identities, several Quick Modes, faults.

mod sim;

use std::net::IpAddr;
use std::time::Duration;

use ike_core::config::{EncapsulationMode, Lifetime, TrafficSelector};
use ike_core::crypto::DhGroup;
use ike_core::endpoint::{ChildSa, Event, Phase};
use ike_core::policy::ProposalCheck;
use sim::Pair;
use sim::fixtures::{
    A, B, children, failures, pair_with, peer, phase1_up, pix_child, pix_pair, pix_phase1,
};

fn start(p: &mut Pair, child: ike_core::config::ChildPolicy) {
    let now = p.now;
    p.a.ep.initiate(now, p.a.addr, p.b.addr, child).unwrap();
}

fn one_child_each(p: &Pair) -> bool {
    !children(&p.a.events).is_empty() && !children(&p.b.events).is_empty()
}

/// The two sides' views of one pair agree: SPIs and keys cross over.
fn assert_mirrored(a: &ChildSa, b: &ChildSa) {
    assert_eq!(a.outbound.spi, b.inbound.spi);
    assert_eq!(a.inbound.spi, b.outbound.spi);
    assert_eq!(*a.outbound.encryption, *b.inbound.encryption);
    assert_eq!(*a.outbound.integrity, *b.inbound.integrity);
    assert_eq!(*a.inbound.encryption, *b.outbound.encryption);
    assert_eq!(*a.inbound.integrity, *b.outbound.integrity);
    assert_ne!(
        (&*a.inbound.encryption, &*a.inbound.integrity),
        (&*a.outbound.encryption, &*a.outbound.integrity),
        "each direction has its own KEYMAT"
    );
    assert_eq!(a.transform, b.transform);
    assert_eq!(a.mode, b.mode);
    assert_eq!(a.lifetime, b.lifetime);
    assert_eq!(a.local_ts, b.remote_ts);
    assert_eq!(a.remote_ts, b.local_ts);
}

#[test]
fn pix_main_mode_and_quick_mode() {
    let mut p = pix_pair(1);
    start(&mut p, pix_child());
    assert!(p.drive_until(Duration::from_secs(5), one_child_each));
    assert!(phase1_up(&p.a.events) && phase1_up(&p.b.events));
    let (a, b) = (children(&p.a.events), children(&p.b.events));
    assert_eq!((a.len(), b.len()), (1, 1));
    assert_mirrored(a[0], b[0]);
    assert_eq!(a[0].transform, pix_child().esp[0]);
    assert_eq!(a[0].inbound.encryption.len(), 32, "AES-256 key");
    assert_eq!(a[0].inbound.integrity.len(), 20, "HMAC-SHA1 key");
    assert_eq!(a[0].lifetime, Lifetime::seconds(3600));
    assert_eq!(a[0].mode, EncapsulationMode::Tunnel);
    assert!(a[0].initiator && !b[0].initiator);
    // 6 Main Mode + 3 Quick Mode messages.
    assert_eq!(p.a.sent.len() + p.b.sent.len(), 9);
}

#[test]
fn pfs_with_each_group() {
    for (i, group) in [
        DhGroup::Modp1024,
        DhGroup::Modp1536,
        DhGroup::Modp2048,
        DhGroup::Ecp256,
        DhGroup::Curve25519,
    ]
    .into_iter()
    .enumerate()
    {
        let mut child = pix_child();
        child.pfs_group = Some(group);
        let mut p = pair_with(
            peer(B, vec![pix_phase1()], vec![child.clone()]),
            peer(A, vec![pix_phase1()], vec![child.clone()]),
            20 + i as u64,
        );
        start(&mut p, child);
        assert!(
            p.drive_until(Duration::from_secs(5), one_child_each),
            "{group:?}: {:?}",
            failures(&p.b.events)
        );
        let (a, b) = (children(&p.a.events), children(&p.b.events));
        assert_eq!(a[0].pfs_group, Some(group));
        assert_mirrored(a[0], b[0]);
    }
}

#[test]
fn pfs_mismatch_is_refused_and_named() {
    let mut offered = pix_child();
    offered.pfs_group = Some(DhGroup::Modp1024);
    let mut required = pix_child();
    required.pfs_group = Some(DhGroup::Modp1536);
    let mut p = pair_with(
        peer(B, vec![pix_phase1()], vec![offered.clone()]),
        peer(A, vec![pix_phase1()], vec![required]),
        3,
    );
    start(&mut p, offered);
    p.drive_for(Duration::from_secs(120));
    assert!(children(&p.a.events).is_empty() && children(&p.b.events).is_empty());
    assert_eq!(
        failures(&p.b.events),
        ["no proposal chosen: peer offered PFS group 2, policy requires 5 (proposal_check strict)"]
    );
    // The initiator hears an authenticated NO-PROPOSAL-CHOSEN at once.
    assert_eq!(
        failures(&p.a.events),
        ["peer sent notify NO-PROPOSAL-CHOSEN"]
    );
    assert!(p.elapsed() < Duration::from_secs(120));
}

#[test]
fn esp_transform_mismatch_is_named() {
    let mut offered = pix_child();
    offered.esp[0].key_bits = Some(128);
    let mut p = pair_with(
        peer(B, vec![pix_phase1()], vec![offered.clone()]),
        peer(A, vec![pix_phase1()], vec![pix_child()]),
        4,
    );
    start(&mut p, offered);
    p.drive_for(Duration::from_secs(60));
    assert_eq!(
        failures(&p.b.events),
        [
            "no proposal chosen: peer offered key length 128 bits, policy requires 256 bits (proposal_check strict)"
        ]
    );
}

/// Initiator offers 7200 s; responder is configured for 3600 s.
fn lifetime_case(check: ProposalCheck) -> Pair {
    let mut offered = pix_child();
    offered.lifetime = Lifetime::seconds(7200);
    let mut b = peer(A, vec![pix_phase1()], vec![pix_child()]);
    b.proposal_check = check;
    let mut p = pair_with(peer(B, vec![pix_phase1()], vec![offered.clone()]), b, 5);
    start(&mut p, offered);
    p.drive_until(Duration::from_secs(30), one_child_each);
    p
}

#[test]
fn lifetime_mismatch_under_each_proposal_check_mode() {
    let p = lifetime_case(ProposalCheck::Obey);
    assert_eq!(children(&p.a.events)[0].lifetime, Lifetime::seconds(7200));
    assert_eq!(children(&p.b.events)[0].lifetime, Lifetime::seconds(7200));

    let p = lifetime_case(ProposalCheck::Claim);
    // The responder holds to 3600 s and says so with RESPONDER-LIFETIME.
    assert_eq!(children(&p.a.events)[0].lifetime, Lifetime::seconds(3600));
    assert_eq!(children(&p.b.events)[0].lifetime, Lifetime::seconds(3600));

    for (check, name) in [
        (ProposalCheck::Strict, "strict"),
        (ProposalCheck::Exact, "exact"),
    ] {
        let p = lifetime_case(check);
        assert!(children(&p.a.events).is_empty() && children(&p.b.events).is_empty());
        let relation = if check == ProposalCheck::Strict {
            "at most "
        } else {
            ""
        };
        assert_eq!(
            failures(&p.b.events),
            [format!(
                "no proposal chosen: peer offered lifetime 7200 s, policy requires {relation}3600 s (proposal_check {name})"
            )]
        );
    }
    // Shorter offers are fine for all but exact.
    let mut offered = pix_child();
    offered.lifetime = Lifetime::seconds(600);
    for check in [
        ProposalCheck::Obey,
        ProposalCheck::Strict,
        ProposalCheck::Claim,
        ProposalCheck::Exact,
    ] {
        let mut b = peer(A, vec![pix_phase1()], vec![pix_child()]);
        b.proposal_check = check;
        let mut p = pair_with(peer(B, vec![pix_phase1()], vec![offered.clone()]), b, 6);
        start(&mut p, offered.clone());
        let up = p.drive_until(Duration::from_secs(30), one_child_each);
        assert_eq!(up, check != ProposalCheck::Exact, "{check:?}");
    }
}

fn subnet(s: &str, prefix: u8) -> TrafficSelector {
    TrafficSelector::subnet(s.parse::<IpAddr>().unwrap(), prefix)
}

#[test]
fn proxy_identities_and_several_quick_modes_per_isakmp_sa() {
    let mut web = pix_child();
    web.local = Some(subnet("10.1.0.0", 16));
    web.remote = Some(subnet("10.2.0.0", 16));
    let mut dns = web.clone();
    dns.local = Some(TrafficSelector {
        protocol: 17,
        port: 53,
        ..subnet("10.1.0.0", 24)
    });
    dns.remote = Some(TrafficSelector::host("10.2.0.53".parse().unwrap()));
    dns.mode = EncapsulationMode::Transport;
    // The responder's sainfo entries are the same selectors seen from its side.
    let flip = |c: &ike_core::config::ChildPolicy| {
        let mut c = c.clone();
        core::mem::swap(&mut c.local, &mut c.remote);
        c
    };
    let mut p = pair_with(
        peer(B, vec![pix_phase1()], vec![web.clone(), dns.clone()]),
        peer(A, vec![pix_phase1()], vec![flip(&web), flip(&dns)]),
        7,
    );
    start(&mut p, web.clone());
    let now = p.now;
    p.a.ep
        .initiate(now, p.a.addr, p.b.addr, dns.clone())
        .unwrap();
    assert!(
        p.drive_until(Duration::from_secs(10), |p| children(&p.b.events).len()
            == 2
            && children(&p.a.events).len() == 2)
    );
    let count_p1 =
        p.a.events
            .iter()
            .filter(|e| matches!(e, Event::Phase1Up { .. }))
            .count();
    assert_eq!(count_p1, 1, "both Quick Modes ran under one ISAKMP SA");
    let (a, b) = (children(&p.a.events), children(&p.b.events));
    for ca in &a {
        let cb = b
            .iter()
            .find(|cb| cb.inbound.spi == ca.outbound.spi)
            .expect("matching pair");
        assert_mirrored(ca, cb);
    }
    let dns_a = a
        .iter()
        .find(|c| c.mode == EncapsulationMode::Transport)
        .unwrap();
    assert_eq!(dns_a.local_ts, dns.local);
    assert_eq!(dns_a.remote_ts, dns.remote);
    assert_eq!(dns_a.local_ts.unwrap().port, 53);
}

#[test]
fn unknown_proxy_identities_are_refused() {
    let mut web = pix_child();
    web.local = Some(subnet("10.1.0.0", 16));
    web.remote = Some(subnet("10.9.0.0", 16));
    let mut p = pair_with(
        peer(B, vec![pix_phase1()], vec![web.clone()]),
        peer(A, vec![pix_phase1()], vec![]),
        8,
    );
    start(&mut p, web);
    p.drive_for(Duration::from_secs(30));
    let f = failures(&p.b.events);
    assert_eq!(f.len(), 1);
    assert!(
        f[0].contains("no sainfo for proxy identities 10.1.0.0/16[any] <-> 10.9.0.0/16[any]"),
        "{f:?}"
    );
}

#[test]
fn completes_under_loss_duplication_and_reordering() {
    let mut completed = 0;
    for seed in 100..110 {
        let mut p = pix_pair(seed);
        p.faults = sim::Faults {
            loss: 0.3,
            duplicate: 0.2,
            reorder: 0.3,
            tamper: 0.0,
        };
        start(&mut p, pix_child());
        if !p.drive_until(Duration::from_secs(120), one_child_each) {
            // Six straight losses of one message can happen at 30%: then the
            // side that gave up must say it was a timeout, nothing else. A
            // silence after MM4 reads like a PSK mismatch, and the reason
            // gives that evidence ("no answer to MM5 after 5 retransmits").
            let f: Vec<String> = failures(&p.a.events)
                .into_iter()
                .chain(failures(&p.b.events))
                .collect();
            assert!(
                !f.is_empty()
                    && f.iter().all(|r| r.contains("did not answer")
                        || r.contains("did not complete")
                        || r.contains("no answer to MM5")),
                "seed {seed}: {f:?}"
            );
            continue;
        }
        completed += 1;
        // Let stragglers settle: still exactly one pair each, keys agree.
        p.advance(Duration::from_secs(70));
        let (a, b) = (children(&p.a.events), children(&p.b.events));
        assert_eq!((a.len(), b.len()), (1, 1), "seed {seed}");
        assert_mirrored(a[0], b[0]);
        let phase2_failed = |e: &Event| {
            matches!(
                e,
                Event::NegotiationFailed {
                    phase: Phase::Two,
                    ..
                }
            )
        };
        assert!(
            !p.a.events.iter().chain(&p.b.events).any(phase2_failed),
            "seed {seed}: {:?} {:?}",
            failures(&p.a.events),
            failures(&p.b.events)
        );
    }
    assert!(
        completed >= 8,
        "only {completed} of 10 lossy runs completed"
    );
}

#[test]
fn tampered_quick_mode_messages_are_dropped_and_resent() {
    // Flip one bit in the first copy of QM1, QM2 and QM3 each (exchange type
    // 32 at byte 18): decryption or HASH(n) fails, the message is dropped,
    // and the resend goes through.
    let mut p = pix_pair(40);
    let mut flipped = [false; 3];
    let mut seen = 0usize;
    p.intercept = Some(Box::new(move |_, bytes: &mut Vec<u8>| {
        if bytes.len() > 40 && bytes[18] == 32 && seen < 3 && !flipped[seen] {
            let last = bytes.len() - 1;
            bytes[last] ^= 0x01;
            flipped[seen] = true;
            seen += 1;
        }
        true
    }));
    start(&mut p, pix_child());
    assert!(
        p.drive_until(Duration::from_secs(60), one_child_each),
        "{:?} {:?}",
        failures(&p.a.events),
        failures(&p.b.events)
    );
    let (a, b) = (children(&p.a.events), children(&p.b.events));
    assert_mirrored(a[0], b[0]);
    assert!(p.a.ep.stats().bad_hash + p.b.ep.stats().bad_hash >= 1);
    assert!(p.a.ep.stats().retransmits_sent + p.b.ep.stats().retransmits_sent >= 1);
}

#[test]
fn quick_modes_in_progress_are_capped() {
    // The initiator opens 20 Quick Modes at once while the responder's
    // QM2s are held back: the responder keeps at most 16 open.
    let mut p = pix_pair(41);
    start(&mut p, pix_child());
    assert!(p.drive_until(Duration::from_secs(5), one_child_each));
    p.b.blackhole = true;
    let now = p.now;
    for _ in 0..20 {
        p.a.ep
            .initiate(now, p.a.addr, p.b.addr, pix_child())
            .unwrap();
    }
    p.advance(Duration::from_secs(1));
    assert_eq!(p.b.ep.stats().unexpected, 4);
    assert_eq!(children(&p.b.events).len(), 1);
}

/// B answers Quick Mode with the commit bit set (RFC 2408 §3.1).
fn committing_pair(seed: u64) -> Pair {
    let mut b = peer(A, vec![pix_phase1()], vec![pix_child()]);
    b.commit_bit = true;
    pair_with(peer(B, vec![pix_phase1()], vec![pix_child()]), b, seed)
}

/// Exchange type and flags of an IKE message as sent on port 500.
fn exchange_and_flags(bytes: &[u8]) -> Option<(u8, u8)> {
    Some((*bytes.get(18)?, *bytes.get(19)?))
}

const QUICK_MODE: u8 = 32;
const INFORMATIONAL: u8 = 5;
const COMMIT: u8 = 0x02;

#[test]
fn committing_responder_the_pair_is_up_only_after_connected() {
    let mut p = committing_pair(61);
    let drop_connected = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let dropping = drop_connected.clone();
    p.intercept = Some(Box::new(move |side, bytes: &mut Vec<u8>| {
        let informational = exchange_and_flags(bytes).is_some_and(|(x, _)| x == INFORMATIONAL);
        !(side == sim::Side::B
            && informational
            && dropping.load(std::sync::atomic::Ordering::Relaxed))
    }));
    start(&mut p, pix_child());
    p.drive_for(Duration::from_secs(5));
    // B committed in QM2 and is up; A, without CONNECTED, is not.
    let qm2 =
        p.b.sent
            .iter()
            .find_map(|(_, b)| exchange_and_flags(b).filter(|(x, _)| *x == QUICK_MODE))
            .expect("B sent QM2");
    assert_eq!(qm2.1 & COMMIT, COMMIT, "QM2 carries the commit bit");
    assert_eq!(children(&p.b.events).len(), 1);
    assert!(
        children(&p.a.events).is_empty(),
        "A used the pair before CONNECTED"
    );
    // Still nothing from B: A gives up with a reason after the Phase 2 timeout.
    p.drive_for(Duration::from_secs(70));
    assert!(children(&p.a.events).is_empty());
    let reasons = failures(&p.a.events);
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("commit bit") && r.contains("CONNECTED")),
        "{reasons:?}"
    );
}

#[test]
fn committing_responder_connected_brings_the_pair_up() {
    let mut p = committing_pair(62);
    start(&mut p, pix_child());
    assert!(p.drive_until(Duration::from_secs(10), one_child_each));
    let (a, b) = (children(&p.a.events)[0], children(&p.b.events)[0]);
    assert_mirrored(a, b);
    // A's pair came up only after B's CONNECTED went out.
    let connected_sent =
        p.b.sent
            .iter()
            .any(|(_, b)| exchange_and_flags(b).is_some_and(|(x, _)| x == INFORMATIONAL));
    assert!(connected_sent);
    assert!(failures(&p.a.events).is_empty() && failures(&p.b.events).is_empty());
}

#[test]
fn a_refusal_ends_only_the_quick_mode_whose_spi_it_names() {
    // B has an sainfo for `web` only; A asks for `mail` first, then `web`,
    // so B's NO-PROPOSAL-CHOSEN for `mail` reaches A while `web` waits for QM2.
    let mut web = pix_child();
    web.local = Some(subnet("10.1.0.0", 16));
    web.remote = Some(subnet("10.2.0.0", 16));
    let mut mail = web.clone();
    mail.remote = Some(subnet("10.3.0.0", 16));
    let mut b_web = web.clone();
    core::mem::swap(&mut b_web.local, &mut b_web.remote);
    let mut p = pair_with(
        peer(B, vec![pix_phase1()], vec![mail.clone(), web.clone()]),
        peer(A, vec![pix_phase1()], vec![b_web]),
        9,
    );
    start(&mut p, mail);
    let now = p.now;
    p.a.ep
        .initiate(now, p.a.addr, p.b.addr, web.clone())
        .unwrap();
    assert!(
        p.drive_until(Duration::from_secs(5), one_child_each),
        "A: {:?} B: {:?}",
        failures(&p.a.events),
        failures(&p.b.events)
    );
    let (a, b) = (children(&p.a.events), children(&p.b.events));
    assert_eq!((a.len(), b.len()), (1, 1));
    assert_mirrored(a[0], b[0]);
    assert_eq!(a[0].remote_ts, web.remote);
    // The refused exchange failed at once, naming the peer's notify.
    assert_eq!(
        failures(&p.a.events),
        ["peer sent notify NO-PROPOSAL-CHOSEN"]
    );
    assert_eq!(failures(&p.b.events).len(), 1);
    assert!(failures(&p.b.events)[0].contains("no sainfo"));
    assert!(p.elapsed() < Duration::from_secs(2));
}

#[test]
fn connected_releases_only_the_pair_whose_spi_it_names() {
    let mut web = pix_child();
    web.local = Some(subnet("10.1.0.0", 16));
    web.remote = Some(subnet("10.2.0.0", 16));
    let mut dns = web.clone();
    dns.remote = Some(subnet("10.3.0.0", 16));
    let flip = |c: &ike_core::config::ChildPolicy| {
        let mut c = c.clone();
        core::mem::swap(&mut c.local, &mut c.remote);
        c
    };
    let mut b = peer(A, vec![pix_phase1()], vec![flip(&web), flip(&dns)]);
    b.commit_bit = true;
    let mut p = pair_with(
        peer(B, vec![pix_phase1()], vec![web.clone(), dns.clone()]),
        b,
        63,
    );
    // B's first CONNECTED is lost; its second must not release both pairs.
    let mut informationals = 0;
    p.intercept = Some(Box::new(move |side, bytes: &mut Vec<u8>| {
        if side == sim::Side::B
            && exchange_and_flags(bytes).is_some_and(|(x, _)| x == INFORMATIONAL)
        {
            informationals += 1;
            return informationals != 1;
        }
        true
    }));
    start(&mut p, web);
    let now = p.now;
    p.a.ep.initiate(now, p.a.addr, p.b.addr, dns).unwrap();
    p.drive_for(Duration::from_secs(5));
    let b_up = children(&p.b.events);
    assert_eq!(b_up.len(), 2, "B committed both pairs");
    let a_up = children(&p.a.events);
    assert_eq!(a_up.len(), 1, "one CONNECTED arrived, one pair released");
    // The released pair is the one B confirmed last.
    assert_mirrored(a_up[0], b_up[1]);
    // The other waits for its own CONNECTED, then fails with a reason.
    p.drive_for(Duration::from_secs(70));
    assert_eq!(children(&p.a.events).len(), 1);
    let reasons = failures(&p.a.events);
    assert_eq!(reasons.len(), 1, "{reasons:?}");
    assert!(reasons[0].contains("commit bit") && reasons[0].contains("CONNECTED"));
}

fn ah_only(alg: ike_core::config::IntegrityAlgorithm) -> ike_core::config::ChildPolicy {
    let mut c = pix_child();
    c.esp.clear();
    c.accept_ah = true;
    c.ah = vec![alg];
    c
}

#[test]
fn ah_accepted_by_policy_is_negotiated_with_its_own_keymat() {
    use ike_core::config::{EspCipher, IntegrityAlgorithm, IpsecProtocol};
    for (i, alg) in [
        IntegrityAlgorithm::HmacMd5,
        IntegrityAlgorithm::HmacSha1,
        IntegrityAlgorithm::HmacSha256,
        IntegrityAlgorithm::HmacSha512,
    ]
    .into_iter()
    .enumerate()
    {
        let child = ah_only(alg);
        let mut p = pair_with(
            peer(B, vec![pix_phase1()], vec![child.clone()]),
            peer(A, vec![pix_phase1()], vec![child.clone()]),
            70 + i as u64,
        );
        start(&mut p, child);
        assert!(
            p.drive_until(Duration::from_secs(5), one_child_each),
            "{alg:?}: {:?}",
            failures(&p.b.events)
        );
        let (a, b) = (children(&p.a.events)[0], children(&p.b.events)[0]);
        assert_eq!(
            (a.protocol, b.protocol),
            (IpsecProtocol::Ah, IpsecProtocol::Ah)
        );
        assert_eq!(a.transform.cipher, EspCipher::Null);
        assert_eq!(a.transform.integrity, Some(alg));
        assert!(a.inbound.encryption.is_empty(), "AH has no cipher key");
        assert_eq!(a.inbound.integrity.len(), alg.keymat_len());
        assert_mirrored(a, b);
        assert!(a.ipcomp.is_none());
    }
}

#[test]
fn ah_is_offered_as_an_alternative_and_chosen_when_esp_does_not_fit() {
    use ike_core::config::{EspCipher, IntegrityAlgorithm, IpsecProtocol};
    // A offers AES-GCM ESP, then AH; B has no GCM but accepts AH.
    let mut a_child = pix_child();
    a_child.esp[0].cipher = EspCipher::AesGcm16;
    a_child.esp[0].key_bits = Some(128);
    a_child.esp[0].integrity = None;
    a_child.accept_ah = true;
    a_child.ah = vec![IntegrityAlgorithm::HmacSha1];
    let mut b_child = pix_child();
    b_child.accept_ah = true;
    let mut p = pair_with(
        peer(B, vec![pix_phase1()], vec![a_child.clone()]),
        peer(A, vec![pix_phase1()], vec![b_child]),
        75,
    );
    start(&mut p, a_child);
    assert!(p.drive_until(Duration::from_secs(5), one_child_each));
    let (a, b) = (children(&p.a.events)[0], children(&p.b.events)[0]);
    // B's AH algorithms come from its ESP transforms' integrity (HMAC-SHA1).
    assert_eq!(a.protocol, IpsecProtocol::Ah);
    assert_eq!(a.transform.integrity, Some(IntegrityAlgorithm::HmacSha1));
    assert_mirrored(a, b);
}

#[test]
fn ah_refused_by_policy_names_ah_and_the_setting() {
    let child = ah_only(ike_core::config::IntegrityAlgorithm::HmacSha1);
    let mut p = pair_with(
        peer(B, vec![pix_phase1()], vec![child.clone()]),
        peer(A, vec![pix_phase1()], vec![pix_child()]),
        76,
    );
    start(&mut p, child);
    p.drive_for(Duration::from_secs(10));
    assert!(children(&p.a.events).is_empty() && children(&p.b.events).is_empty());
    assert_eq!(
        failures(&p.b.events),
        ["no proposal chosen: peer offered protocol AH, policy requires ESP (accept_ah off)"]
    );
    assert_eq!(
        failures(&p.a.events),
        ["peer sent notify NO-PROPOSAL-CHOSEN"]
    );
}

fn with_ipcomp() -> ike_core::config::ChildPolicy {
    let mut c = pix_child();
    c.ipcomp = true;
    c
}

#[test]
fn ipcomp_accepted_by_policy_is_bundled_with_esp() {
    use ike_core::config::IpsecProtocol;
    let mut p = pair_with(
        peer(B, vec![pix_phase1()], vec![with_ipcomp()]),
        peer(A, vec![pix_phase1()], vec![with_ipcomp()]),
        77,
    );
    start(&mut p, with_ipcomp());
    assert!(p.drive_until(Duration::from_secs(5), one_child_each));
    let (a, b) = (children(&p.a.events)[0], children(&p.b.events)[0]);
    assert_eq!(
        (a.protocol, b.protocol),
        (IpsecProtocol::Esp, IpsecProtocol::Esp)
    );
    assert_mirrored(a, b);
    let (ca, cb) = (a.ipcomp.expect("A: IPComp"), b.ipcomp.expect("B: IPComp"));
    assert_eq!(ca.inbound_cpi, cb.outbound_cpi);
    assert_eq!(ca.outbound_cpi, cb.inbound_cpi);
    for cpi in [ca.inbound_cpi, ca.outbound_cpi] {
        assert!((256..=61439).contains(&cpi), "negotiated CPI range: {cpi}");
    }
}

#[test]
fn ipcomp_refused_by_policy_names_ipcomp_and_the_setting() {
    let mut p = pair_with(
        peer(B, vec![pix_phase1()], vec![with_ipcomp()]),
        peer(A, vec![pix_phase1()], vec![pix_child()]),
        78,
    );
    start(&mut p, with_ipcomp());
    p.drive_for(Duration::from_secs(10));
    assert!(children(&p.a.events).is_empty() && children(&p.b.events).is_empty());
    assert_eq!(
        failures(&p.b.events),
        [
            "no proposal chosen: peer offered protocol ESP+IPComp, policy requires ESP without IPComp (ipcomp off)"
        ]
    );
    assert_eq!(
        failures(&p.a.events),
        ["peer sent notify NO-PROPOSAL-CHOSEN"]
    );
}

#[test]
fn a_responder_with_ipcomp_still_accepts_plain_esp() {
    let mut p = pair_with(
        peer(B, vec![pix_phase1()], vec![pix_child()]),
        peer(A, vec![pix_phase1()], vec![with_ipcomp()]),
        79,
    );
    start(&mut p, pix_child());
    assert!(p.drive_until(Duration::from_secs(5), one_child_each));
    let (a, b) = (children(&p.a.events)[0], children(&p.b.events)[0]);
    assert_mirrored(a, b);
    assert!(a.ipcomp.is_none() && b.ipcomp.is_none());
}

#[test]
fn address_range_proxy_identities_with_protocol_and_port() {
    use ike_core::config::SelectorAddr;
    // ID_IPV4_ADDR_RANGE on both sides, TCP/443 on B's side (RFC 2407 §4.6.2.1).
    let range = |start: &str, end: &str| TrafficSelector {
        addr: SelectorAddr::Range {
            start: start.parse().unwrap(),
            end: end.parse().unwrap(),
        },
        protocol: 0,
        port: 0,
    };
    let mut a_child = pix_child();
    a_child.local = Some(range("10.1.0.10", "10.1.0.20"));
    a_child.remote = Some(TrafficSelector {
        protocol: 6,
        port: 443,
        ..range("10.2.0.1", "10.2.0.7")
    });
    let mut b_child = a_child.clone();
    core::mem::swap(&mut b_child.local, &mut b_child.remote);
    let mut p = pair_with(
        peer(B, vec![pix_phase1()], vec![a_child.clone()]),
        peer(A, vec![pix_phase1()], vec![b_child]),
        80,
    );
    start(&mut p, a_child.clone());
    assert!(
        p.drive_until(Duration::from_secs(5), one_child_each),
        "{:?}",
        failures(&p.b.events)
    );
    let (a, b) = (children(&p.a.events)[0], children(&p.b.events)[0]);
    assert_mirrored(a, b);
    assert_eq!(a.local_ts, a_child.local);
    assert_eq!(a.remote_ts, a_child.remote);
    // B learned the same range, protocol and port from IDci/IDcr.
    assert_eq!(b.local_ts.unwrap().port, 443);
    assert_eq!(b.local_ts.unwrap().protocol, 6);
    assert_eq!(b.remote_ts, a_child.local);
}

#[test]
fn an_unanswered_quick_mode_times_out_and_the_isakmp_sa_stays() {
    let mut p = pix_pair(81);
    start(&mut p, pix_child());
    assert!(p.drive_until(Duration::from_secs(5), one_child_each));
    // B goes silent; A's second Quick Mode is resent, then ends at the
    // 60 s Phase 2 limit with the reason.
    p.b.blackhole = true;
    let mut other = pix_child();
    other.local = Some(subnet("10.1.0.0", 16));
    other.remote = Some(subnet("10.2.0.0", 16));
    let now = p.now;
    let sent_before = p.a.sent.len();
    p.a.ep.initiate(now, p.a.addr, p.b.addr, other).unwrap();
    p.advance(Duration::from_secs(61));
    let phase2_failures: Vec<String> =
        p.a.events
            .iter()
            .filter_map(|e| match e {
                Event::NegotiationFailed {
                    phase: Phase::Two,
                    reason,
                    ..
                } => Some(reason.to_string()),
                _ => None,
            })
            .collect();
    assert_eq!(phase2_failures, ["negotiation did not complete in 60s"]);
    // QM1 and its five resends, nothing else.
    assert_eq!(p.a.sent.len() - sent_before, 6);
    assert!(p.a.sent[sent_before..].windows(2).all(|w| w[0].1 == w[1].1));
    assert!(
        !p.a.events
            .iter()
            .any(|e| matches!(e, Event::Phase1Down { .. }))
    );
}

#[test]
fn several_esp_transforms_the_responder_takes_the_first_it_accepts() {
    use ike_core::config::{EspCipher, EspTransform, IntegrityAlgorithm};
    let t = |cipher, key_bits, integrity| EspTransform {
        cipher,
        key_bits,
        integrity: Some(integrity),
    };
    let mut offered = pix_child();
    offered.esp = vec![
        t(EspCipher::TripleDes, None, IntegrityAlgorithm::HmacMd5),
        t(EspCipher::AesCbc, Some(128), IntegrityAlgorithm::HmacSha256),
        t(EspCipher::AesCbc, Some(256), IntegrityAlgorithm::HmacSha1),
        t(EspCipher::AesCbc, Some(128), IntegrityAlgorithm::HmacSha1),
    ];
    // B accepts AES-128/SHA1 or AES-256/SHA1, in that order of its own.
    let mut accepted = pix_child();
    accepted.esp = vec![offered.esp[3], offered.esp[2]];
    let mut p = pair_with(
        peer(B, vec![pix_phase1()], vec![offered.clone()]),
        peer(A, vec![pix_phase1()], vec![accepted]),
        82,
    );
    start(&mut p, offered.clone());
    assert!(p.drive_until(Duration::from_secs(5), one_child_each));
    let (a, b) = (children(&p.a.events)[0], children(&p.b.events)[0]);
    // The initiator's order of preference decides: its third transform.
    assert_eq!(a.transform, offered.esp[2]);
    assert_eq!(b.transform, offered.esp[2]);
    assert_eq!(a.outbound.encryption.len(), 32);
    assert_mirrored(a, b);
}

#[test]
fn a_replayed_quick_mode_makes_no_second_pair() {
    let mut p = pix_pair(83);
    start(&mut p, pix_child());
    assert!(p.drive_until(Duration::from_secs(5), one_child_each));
    p.drive_for(Duration::from_millis(100));
    // A sent MM1, MM3, MM5, QM1, QM3; B sent MM2, MM4, MM6, QM2.
    assert_eq!((p.a.sent.len(), p.b.sent.len()), (5, 4));
    let qm1 = p.a.sent[3].1.clone();
    let (dst, src) = (p.b.addr, p.a.addr);
    // Right after QM3 (B still keeps the exchange) and long after it, the
    // same message ID is not a new Quick Mode: nothing is sent, no pair.
    for wait in [Duration::from_secs(1), Duration::from_secs(120)] {
        p.advance(wait);
        let sent = p.b.sent.len();
        let now = p.now;
        p.b.ep.handle_datagram(now, dst, src, &qm1);
        p.step();
        assert_eq!(p.b.sent.len(), sent, "no QM2 after {wait:?}");
        assert_eq!(children(&p.b.events).len(), 1, "after {wait:?}");
    }
    assert!(failures(&p.b.events).is_empty());
    // The late replay was refused by its used message ID, before any
    // decryption (the early one reached the finished exchange, which drops it).
    assert_eq!(p.b.ep.stats().unexpected, 1);
}
