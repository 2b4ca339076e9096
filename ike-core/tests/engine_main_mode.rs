//! Phase 1 Main Mode with pre-shared keys between two in-process endpoints.

mod sim;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use ike_core::config::{
    EndpointConfig, Identity, PeerConfig, Phase1Proposal, PresharedKey, PskTable,
};
use ike_core::crypto::{CipherAlgorithm, DhGroup, Phase1Cipher};
use ike_core::endpoint::{Endpoint, Event, FailureReason, Phase};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use sim::fixtures::{A, B, endpoint, pix_child as child, pix_phase1};
use sim::{Node, Pair};

fn pair(
    psk_a: &[u8],
    psk_b: &[u8],
    p1_a: Vec<Phase1Proposal>,
    p1_b: Vec<Phase1Proposal>,
    seed: u64,
) -> Pair {
    let a = Node::new(endpoint(B, psk_a, p1_a, seed), SocketAddr::new(A, 500));
    let b = Node::new(endpoint(A, psk_b, p1_b, seed + 1), SocketAddr::new(B, 500));
    Pair::new(a, b, seed)
}

fn phase1_up(events: &[Event]) -> Option<&Event> {
    events.iter().find(|e| matches!(e, Event::Phase1Up { .. }))
}

fn start(p: &mut Pair) {
    let now = p.now;
    p.a.ep.initiate(now, p.a.addr, p.b.addr, child()).unwrap();
}

fn both_up(p: &Pair) -> bool {
    phase1_up(&p.a.events).is_some() && phase1_up(&p.b.events).is_some()
}

#[test]
fn main_mode_psk_establishes_both_sides() {
    let mut p = pair(
        b"mekmitasdigoat",
        b"mekmitasdigoat",
        vec![pix_phase1()],
        vec![pix_phase1()],
        1,
    );
    start(&mut p);
    assert!(p.drive_until(Duration::from_secs(5), both_up));
    let Some(Event::Phase1Up {
        peer_id,
        transform,
        initiator,
        cookies,
        ..
    }) = phase1_up(&p.a.events)
    else {
        unreachable!()
    };
    assert_eq!(*peer_id, Identity::Ipv4(Ipv4Addr::new(198, 51, 100, 2)));
    assert_eq!(*transform, pix_phase1());
    assert!(*initiator);
    let Some(Event::Phase1Up {
        peer_id: b_sees,
        initiator: b_init,
        cookies: b_cookies,
        ..
    }) = phase1_up(&p.b.events)
    else {
        unreachable!()
    };
    assert_eq!(*b_sees, Identity::Ipv4(Ipv4Addr::new(192, 0, 2, 1)));
    assert!(!*b_init);
    assert_eq!(
        cookies, b_cookies,
        "both sides name the SA by the same cookies"
    );
    // Six Main Mode messages (byte 18 is the exchange type), no resends.
    let main_mode =
        p.a.sent
            .iter()
            .chain(&p.b.sent)
            .filter(|(_, b)| b[18] == 2)
            .count();
    assert_eq!(main_mode, 6);
    assert_eq!(
        p.a.ep.stats().retransmits_sent + p.b.ep.stats().retransmits_sent,
        0
    );
}

#[test]
fn same_seed_same_transcript() {
    let run = || {
        let mut p = pair(b"k", b"k", vec![pix_phase1()], vec![pix_phase1()], 7);
        start(&mut p);
        assert!(p.drive_until(Duration::from_secs(5), both_up));
        p.a.sent
            .iter()
            .chain(p.b.sent.iter())
            .map(|(_, b)| b.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(run(), run());
}

#[test]
fn wrong_psk_fails_with_authentication_reason() {
    let mut p = pair(
        b"right",
        b"wrong",
        vec![pix_phase1()],
        vec![pix_phase1()],
        2,
    );
    start(&mut p);
    p.drive_for(Duration::from_secs(300));
    assert!(phase1_up(&p.a.events).is_none() && phase1_up(&p.b.events).is_none());
    let failed_b = p.b.events.iter().find_map(|e| match e {
        Event::NegotiationFailed {
            phase: Phase::One,
            reason,
            ..
        } => Some(reason.clone()),
        _ => None,
    });
    assert_eq!(
        failed_b,
        Some(FailureReason::AuthenticationFailed("MM5 (HASH_I)"))
    );
    assert!(p.b.ep.stats().bad_hash > 0);
    // B cannot decrypt MM5 and stays silent; A, which got MM2 and MM4,
    // says what that means instead of "timeout".
    let failed_a: Vec<String> =
        p.a.events
            .iter()
            .filter_map(|e| match e {
                Event::NegotiationFailed {
                    phase: Phase::One,
                    reason,
                    ..
                } => Some(reason.to_string()),
                _ => None,
            })
            .collect();
    // All resends went out (at 2, 6, 14, 30 and 46 s) before the 60 s
    // Phase 1 timeout ended it.
    let retries = p.a.ep.config().retransmit.max_retries;
    assert_eq!(
        failed_a,
        [format!(
            "pre-shared key probably mismatched: no answer to MM5 after {retries} retransmits, \
             peer answered MM1-MM4: the PSK for 198.51.100.2 likely differs"
        )]
    );
}

#[test]
fn wrong_psk_with_an_unreadable_notify_from_the_responder() {
    // A responder whose key differs may answer MM5 with a notify encrypted
    // under its keys (strongSwan does). Stand one in: B's own MM6, which
    // A cannot verify either, relabelled as an Informational.
    let mut p = pair(
        b"right",
        b"right",
        vec![pix_phase1()],
        vec![pix_phase1()],
        4,
    );
    p.intercept = Some(Box::new(|side, bytes: &mut Vec<u8>| {
        // MM6 is B's third Main Mode message and the first encrypted one.
        if side == sim::Side::B && bytes.get(18) == Some(&2) && bytes.get(19) == Some(&1) {
            bytes[18] = 5;
        }
        true
    }));
    start(&mut p);
    p.drive_for(Duration::from_secs(300));
    assert!(phase1_up(&p.a.events).is_none());
    assert!(p.a.ep.stats().unauthenticated_notifies > 0);
    let reasons: Vec<String> =
        p.a.events
            .iter()
            .filter_map(|e| match e {
                Event::NegotiationFailed { reason, .. } => Some(reason.to_string()),
                _ => None,
            })
            .collect();
    assert_eq!(
        reasons,
        [
            "pre-shared key probably mismatched: peer answered MM1-MM4, then sent an \
          unauthenticated encrypted notify that did not decrypt instead of MM6: \
          the PSK for 198.51.100.2 likely differs"
        ]
    );
}

#[test]
fn tampered_mm6_is_reported_as_a_hash_r_failure() {
    let mut p = pair(b"k", b"k", vec![pix_phase1()], vec![pix_phase1()], 5);
    p.intercept = Some(Box::new(|side, bytes: &mut Vec<u8>| {
        if side == sim::Side::B
            && bytes.get(18) == Some(&2)
            && bytes.get(19) == Some(&1)
            && let Some(last) = bytes.last_mut()
        {
            *last ^= 0x80;
        }
        true
    }));
    start(&mut p);
    p.drive_for(Duration::from_secs(300));
    assert!(phase1_up(&p.a.events).is_none());
    let reasons: Vec<String> =
        p.a.events
            .iter()
            .filter_map(|e| match e {
                Event::NegotiationFailed { reason, .. } => Some(reason.to_string()),
                _ => None,
            })
            .collect();
    assert_eq!(reasons.len(), 1, "{reasons:?}");
    assert!(
        reasons[0].starts_with(
            "pre-shared key probably mismatched: MM6 did not decrypt or its HASH_R did not verify"
        ) && reasons[0].ends_with("the PSK for 198.51.100.2 likely differs"),
        "{reasons:?}"
    );
}

#[test]
fn no_proposal_chosen_names_the_dh_group() {
    let mut offer = pix_phase1();
    offer.group = DhGroup::Modp1024;
    let mut p = pair(b"k", b"k", vec![offer], vec![pix_phase1()], 3);
    start(&mut p);
    p.drive_for(Duration::from_secs(120));
    let reason = p.b.events.iter().find_map(|e| match e {
        Event::NegotiationFailed { reason, .. } => Some(reason.to_string()),
        _ => None,
    });
    assert_eq!(
        reason.as_deref(),
        Some("no proposal chosen: peer offered DH group 2, policy requires group 5")
    );
    assert!(phase1_up(&p.a.events).is_none());
    // Retransmitted MM1s are recognised, not refused again.
    assert_eq!(p.b.events.len(), 1);
    // The initiator gets the reason as an unauthenticated notify: it acts on
    // nothing until its own timeout, then names it.
    let a_reason = p.a.events.iter().find_map(|e| match e {
        Event::NegotiationFailed { reason, .. } => Some(reason.to_string()),
        _ => None,
    });
    assert_eq!(
        a_reason.as_deref(),
        Some(
            "peer did not complete the negotiation; it sent an unauthenticated NO-PROPOSAL-CHOSEN"
        )
    );
    assert!(p.a.ep.stats().unauthenticated_notifies >= 1);
}

#[test]
fn several_transforms_pick_the_common_one() {
    let mut des3 = pix_phase1();
    des3.cipher = Phase1Cipher::new(CipherAlgorithm::TripleDes, None).unwrap();
    des3.group = DhGroup::Modp1024;
    let mut p = pair(b"k", b"k", vec![des3, pix_phase1()], vec![pix_phase1()], 4);
    start(&mut p);
    assert!(p.drive_until(Duration::from_secs(5), both_up));
    let Some(Event::Phase1Up { transform, .. }) = phase1_up(&p.a.events) else {
        unreachable!()
    };
    assert_eq!(*transform, pix_phase1());
}

#[test]
fn survives_loss_duplication_and_reordering() {
    for seed in 10..20 {
        let mut p = pair(b"k", b"k", vec![pix_phase1()], vec![pix_phase1()], seed);
        p.faults = sim::Faults {
            loss: 0.3,
            duplicate: 0.2,
            reorder: 0.2,
            tamper: 0.0,
        };
        start(&mut p);
        assert!(
            p.drive_until(Duration::from_secs(60), both_up),
            "seed {seed}: {:?} / {:?}",
            p.a.events,
            p.b.events
        );
    }
}

#[test]
fn tampered_packets_are_dropped_not_fatal() {
    let mut ok = 0;
    for seed in 30..40 {
        let mut p = pair(b"k", b"k", vec![pix_phase1()], vec![pix_phase1()], seed);
        p.faults = sim::Faults {
            tamper: 0.05,
            ..sim::Faults::default()
        };
        start(&mut p);
        if p.drive_until(Duration::from_secs(60), both_up) {
            ok += 1;
        } else {
            // A bit flip in a clear SA or KE payload can legitimately make a
            // negotiation fail; it must then say so, not hang.
            assert!(
                p.a.events
                    .iter()
                    .chain(&p.b.events)
                    .any(|e| matches!(e, Event::NegotiationFailed { .. }))
            );
        }
    }
    assert!(ok >= 6, "only {ok} of 10 tampered runs completed");
}

#[test]
fn half_open_cap_refuses_before_any_work() {
    let mut table = PskTable::new();
    table.insert(Identity::from_ip(A), PresharedKey::new(b"k".to_vec()));
    let mut cfg = EndpointConfig::new(
        vec![PeerConfig::new(None, vec![pix_phase1()], vec![child()])],
        table,
    );
    cfg.max_half_open = 3;
    let mut responder = Endpoint::new(Arc::new(cfg), Box::new(ChaCha20Rng::seed_from_u64(9)));
    // Ten different initiators send MM1.
    #[allow(clippy::disallowed_methods)] // a test epoch
    let now = std::time::Instant::now();
    for i in 0..10u8 {
        let mut init = endpoint(B, b"k", vec![pix_phase1()], 100 + u64::from(i));
        let src = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(203, 0, 113, i)), 500);
        init.initiate(now, src, SocketAddr::new(B, 500), child())
            .unwrap();
        let mut buf = Vec::new();
        if let Some(t) = init.poll_transmit(now, &mut buf) {
            responder.handle_datagram(now, SocketAddr::new(B, 500), src, &buf[..t.size]);
        }
    }
    assert_eq!(responder.stats().half_open_refused, 7);
    let mut buf = Vec::new();
    let mut answered = 0;
    while responder.poll_transmit(now, &mut buf).is_some() {
        answered += 1;
    }
    assert_eq!(answered, 3);
}

#[test]
fn garbage_is_counted_never_fatal() {
    let mut ep = endpoint(A, b"k", vec![pix_phase1()], 5);
    #[allow(clippy::disallowed_methods)]
    let now = std::time::Instant::now();
    let from = SocketAddr::new(A, 500);
    let to = SocketAddr::new(B, 500);
    ep.handle_datagram(now, to, from, &[]);
    ep.handle_datagram(now, to, from, &[0xff; 27]);
    ep.handle_datagram(now, to, from, &[0u8; 28]);
    let s = ep.stats();
    assert_eq!(s.datagrams_in, 3);
    assert_eq!(s.malformed + s.unexpected, 3);
    assert!(ep.poll_event().is_none());
}

#[test]
fn a_main_mode_flood_does_dh_work_only_within_the_half_open_cap() {
    // 40 initiators with the wrong key flood B, whose cap is 8. Each one
    // B admits does its one DH at MM3, then stays half open (MM5 never
    // decrypts) until the 60 s Phase 1 timeout; the others' MM1s, resent
    // until they give up, are refused before any DH work.
    const CAP: usize = 8;
    const FLOOD: u8 = 40;
    let ip = |i: u8| IpAddr::V4(Ipv4Addr::new(203, 0, 113, i + 1));
    let mut table = PskTable::new();
    for i in 0..FLOOD {
        table.insert(Identity::from_ip(ip(i)), PresharedKey::new(b"k".to_vec()));
    }
    let mut cfg = EndpointConfig::new(
        vec![PeerConfig::new(None, vec![pix_phase1()], vec![child()])],
        table,
    );
    cfg.max_half_open = CAP;
    let b_addr = SocketAddr::new(B, 500);
    let mut b = Endpoint::new(Arc::new(cfg), Box::new(ChaCha20Rng::seed_from_u64(9)));
    #[allow(clippy::disallowed_methods)] // a test epoch
    let start = std::time::Instant::now();
    let mut now = start;
    let mut flood: Vec<(SocketAddr, Endpoint)> = (0..FLOOD)
        .map(|i| {
            let src = SocketAddr::new(ip(i), 500);
            let mut e = endpoint(B, b"wrong", vec![pix_phase1()], 200 + u64::from(i));
            e.initiate(now, src, b_addr, child()).unwrap();
            (src, e)
        })
        .collect();
    let mut buf = Vec::new();
    let mut dh_at_30s = None;
    for _ in 0..10_000 {
        // Deliver everything at once (zero latency) until nobody has more.
        loop {
            let mut moved = false;
            for (src, e) in &mut flood {
                while let Some(t) = e.poll_transmit(now, &mut buf) {
                    b.handle_datagram(now, b_addr, *src, &buf[..t.size]);
                    moved = true;
                }
            }
            while let Some(t) = b.poll_transmit(now, &mut buf) {
                let bytes = buf[..t.size].to_vec();
                if let Some((_, e)) = flood.iter_mut().find(|(a, _)| *a == t.remote) {
                    e.handle_datagram(now, t.remote, b_addr, &bytes);
                }
                moved = true;
            }
            if !moved {
                break;
            }
        }
        if dh_at_30s.is_none() && now >= start + Duration::from_secs(30) {
            dh_at_30s = Some(b.stats().dh_operations);
        }
        let next = flood
            .iter()
            .filter_map(|(_, e)| e.poll_timeout())
            .chain(b.poll_timeout())
            .min();
        let Some(next) = next.filter(|t| *t <= start + Duration::from_secs(300)) else {
            break;
        };
        now = now.max(next);
        b.handle_timeout(now);
        for (_, e) in &mut flood {
            e.handle_timeout(now);
        }
    }
    let stats = b.stats();
    assert_eq!(dh_at_30s, Some(CAP as u64), "the cap filled, no more");
    assert_eq!(stats.dh_operations, CAP as u64, "refused MM1s cost no DH");
    assert!(
        stats.half_open_refused >= u64::from(FLOOD) - CAP as u64,
        "{stats:?}"
    );
    // B saw the admitted ones fail with the PSK reason, and every
    // initiator gave up.
    let mut failed_b = 0;
    while let Some(e) = b.poll_event() {
        if let Event::NegotiationFailed { reason, .. } = e {
            assert_eq!(reason, FailureReason::AuthenticationFailed("MM5 (HASH_I)"));
            failed_b += 1;
        }
    }
    assert_eq!(failed_b, CAP);
    for (src, e) in &mut flood {
        let mut failed = false;
        while let Some(ev) = e.poll_event() {
            failed |= matches!(ev, Event::NegotiationFailed { .. });
        }
        assert!(failed, "{src} never gave up");
    }
}

/// When A's datagrams were sent, in seconds after the start, until A gives up.
fn send_times_until_failure(p: &mut Pair) -> Vec<u64> {
    let start = p.now;
    let mut times = Vec::new();
    p.drive_until(Duration::from_secs(120), |p| {
        while times.len() < p.a.sent.len() {
            times.push((p.now - start).as_secs());
        }
        p.a.events
            .iter()
            .any(|e| matches!(e, Event::NegotiationFailed { .. }))
    });
    times
}

/// The Phase 1 failures A reported.
fn phase1_failures(p: &Pair) -> Vec<FailureReason> {
    p.a.events
        .iter()
        .filter_map(|e| match e {
            Event::NegotiationFailed {
                phase: Phase::One,
                reason,
                ..
            } => Some(reason.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_silent_peer_gets_resends_with_backoff_then_the_phase1_timeout() {
    let mut p = pair(b"k", b"k", vec![pix_phase1()], vec![pix_phase1()], 40);
    p.b.blackhole = true;
    start(&mut p);
    // The default policy: first resend after 2 s, doubling, at most 16 s
    // apart, five resends; the 60 s Phase 1 limit ends it before the wait
    // after the fifth resend (46 + 16 s) does.
    assert_eq!(send_times_until_failure(&mut p), [0, 2, 6, 14, 30, 46]);
    assert!(
        p.a.sent.windows(2).all(|w| w[0].1 == w[1].1),
        "each resend is MM1 byte for byte"
    );
    let failed = phase1_failures(&p);
    assert_eq!(failed.len(), 1);
    assert!(
        matches!(failed[0], FailureReason::NegotiationTimeout(d) if d == Duration::from_secs(60)),
        "{}",
        failed[0]
    );
    assert_eq!(p.elapsed().as_secs(), 60);
}

#[test]
fn the_resend_limit_ends_phase1_with_the_count() {
    let mut table = PskTable::new();
    table.insert(Identity::from_ip(B), PresharedKey::new(b"k".to_vec()));
    let mut cfg = EndpointConfig::new(
        vec![PeerConfig::new(Some(B), vec![pix_phase1()], vec![child()])],
        table,
    );
    cfg.retransmit.max_retries = 3;
    let a_ep = Endpoint::new(Arc::new(cfg), Box::new(ChaCha20Rng::seed_from_u64(42)));
    let b_ep = endpoint(A, b"k", vec![pix_phase1()], 43);
    let mut p = Pair::new(
        Node::new(a_ep, SocketAddr::new(A, 500)),
        Node::new(b_ep, SocketAddr::new(B, 500)),
        42,
    );
    p.b.blackhole = true;
    start(&mut p);
    assert_eq!(send_times_until_failure(&mut p), [0, 2, 6, 14]);
    let failed = phase1_failures(&p);
    assert!(
        matches!(failed.as_slice(), [FailureReason::Timeout(3)]),
        "{failed:?}"
    );
    assert_eq!(
        failed[0].to_string(),
        "peer did not answer after 3 retransmissions"
    );
    // The wait after the last resend is the doubled 16 s.
    assert_eq!(p.elapsed().as_secs(), 30);
}

#[test]
fn a_duplicate_of_the_peers_last_message_gets_our_cached_reply() {
    let mut p = pair(b"k", b"k", vec![pix_phase1()], vec![pix_phase1()], 41);
    start(&mut p);
    assert!(p.drive_until(Duration::from_secs(5), both_up));
    p.drive_for(Duration::from_millis(100));
    // A's MM5 arrives again (a resend that crossed B's MM6): B answers with
    // the MM6 it sent, byte for byte, and derives nothing new.
    let mm5 = p.a.sent[2].1.clone();
    let mm6 = p.b.sent[2].1.clone();
    let before = p.b.sent.len();
    let answered = p.b.ep.stats().retransmits_answered;
    let (now, dst, src) = (p.now, p.b.addr, p.a.addr);
    p.b.ep.handle_datagram(now, dst, src, &mm5);
    p.step();
    assert_eq!(p.b.sent.len(), before + 1);
    assert_eq!(p.b.sent[before].1, mm6);
    assert_eq!(p.b.ep.stats().retransmits_answered, answered + 1);
    let ups =
        p.b.events
            .iter()
            .filter(|e| matches!(e, Event::Phase1Up { .. }))
            .count();
    assert_eq!(ups, 1);
}

#[test]
fn phase1_lifetime_under_each_proposal_check_mode() {
    use ike_core::config::Lifetime;
    use ike_core::policy::ProposalCheck;
    let mut offered = pix_phase1();
    offered.lifetime = Lifetime::seconds(172_800);
    let mut outcomes = Vec::new();
    for (i, check) in [
        ProposalCheck::Obey,
        ProposalCheck::Strict,
        ProposalCheck::Claim,
        ProposalCheck::Exact,
    ]
    .into_iter()
    .enumerate()
    {
        let mut table = PskTable::new();
        table.insert(Identity::from_ip(A), PresharedKey::new(b"k".to_vec()));
        let mut b_peer = PeerConfig::new(Some(A), vec![pix_phase1()], vec![child()]);
        b_peer.proposal_check = check;
        let b_ep = Endpoint::new(
            Arc::new(EndpointConfig::new(vec![b_peer], table)),
            Box::new(ChaCha20Rng::seed_from_u64(60 + i as u64)),
        );
        let mut p = Pair::new(
            Node::new(
                endpoint(B, b"k", vec![offered], 70 + i as u64),
                SocketAddr::new(A, 500),
            ),
            Node::new(b_ep, SocketAddr::new(B, 500)),
            80 + i as u64,
        );
        start(&mut p);
        p.drive_until(Duration::from_secs(5), both_up);
        let lifetime = |events: &[Event]| {
            phase1_up(events).map(|e| match e {
                Event::Phase1Up { transform, .. } => transform.lifetime,
                _ => unreachable!(),
            })
        };
        let b_failure = p.b.events.iter().find_map(|e| match e {
            Event::NegotiationFailed { reason, .. } => Some(reason.to_string()),
            _ => None,
        });
        outcomes.push((
            check,
            lifetime(&p.a.events),
            lifetime(&p.b.events),
            b_failure,
        ));
    }
    let secs = |s| Some(Lifetime::seconds(s));
    let refused = |relation: &str, mode: &str| {
        Some(format!(
            "no proposal chosen: peer offered lifetime 172800 s, policy requires {relation}86400 s (proposal_check {mode})"
        ))
    };
    assert_eq!(
        outcomes,
        [
            // obey: the initiator's lifetime.
            (ProposalCheck::Obey, secs(172_800), secs(172_800), None),
            (
                ProposalCheck::Strict,
                None,
                None,
                refused("at most ", "strict")
            ),
            // claim: the responder's shorter lifetime, which its MM2 SA
            // payload tells the initiator.
            (ProposalCheck::Claim, secs(86_400), secs(86_400), None),
            (ProposalCheck::Exact, None, None, refused("", "exact")),
        ]
    );
}
