//! Deletes, INITIAL-CONTACT, rekeying and simultaneous initiation.

mod sim;

use std::time::Duration;

use ike_core::config::Lifetime;
use ike_core::endpoint::{ChildSaId, DownReason, Event, IkeSaHandle};
use sim::fixtures::{
    A, B, children, endpoint, failures, pair_with, peer, pix_child, pix_pair, pix_phase1,
};
use sim::{Node, Pair};

fn established(seed: u64) -> Pair {
    let mut p = pix_pair(seed);
    let now = p.now;
    p.a.ep
        .initiate(now, p.a.addr, p.b.addr, pix_child())
        .unwrap();
    assert!(p.drive_until(
        Duration::from_secs(5),
        |p| !children(&p.a.events).is_empty() && !children(&p.b.events).is_empty()
    ));
    p
}

fn deleted(events: &[Event]) -> Vec<(u32, u32, bool)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::ChildSaDeleted {
                inbound_spi,
                outbound_spi,
                by_peer,
                ..
            } => Some((*inbound_spi, *outbound_spi, *by_peer)),
            _ => None,
        })
        .collect()
}

#[test]
fn peer_deletes_an_ipsec_sa_and_we_act_on_it() {
    let mut p = established(1);
    let (a, b) = (
        children(&p.a.events)[0].clone(),
        children(&p.b.events)[0].clone(),
    );
    let now = p.now;
    p.a.ep.delete_child(now, a.id).unwrap();
    p.advance(Duration::from_secs(1));
    assert_eq!(
        deleted(&p.a.events),
        [(a.inbound.spi, a.outbound.spi, false)]
    );
    assert_eq!(
        deleted(&p.b.events),
        [(b.inbound.spi, b.outbound.spi, true)]
    );
}

#[test]
fn peer_deletes_the_isakmp_sa_and_its_ipsec_sas_go_too() {
    // The seeds' tunnel instability: the PIX drops its ISAKMP SA and its
    // IPsec SAs; we must not keep sending into SAs it no longer has.
    let mut p = established(2);
    let Some(Event::Phase1Up { sa, .. }) =
        p.b.events
            .iter()
            .find(|e| matches!(e, Event::Phase1Up { .. }))
            .cloned()
    else {
        unreachable!()
    };
    let now = p.now;
    p.b.ep.delete(now, sa).unwrap();
    p.advance(Duration::from_secs(1));
    assert!(p.a.events.iter().any(|e| matches!(
        e,
        Event::Phase1Down {
            reason: DownReason::DeletedByPeer,
            ..
        }
    )));
    let a = children(&p.a.events)[0].clone();
    assert_eq!(
        deleted(&p.a.events),
        [(a.inbound.spi, a.outbound.spi, true)]
    );
    // Traffic now triggers a fresh negotiation, which succeeds.
    let now = p.now;
    p.a.ep
        .initiate(now, p.a.addr, p.b.addr, pix_child())
        .unwrap();
    assert!(p.drive_until(Duration::from_secs(5), |p| children(&p.a.events).len() == 2));
}

#[test]
fn forged_or_unauthenticated_informationals_tear_nothing_down() {
    let mut p = established(3);
    let before = p.b.events.len();
    // Take a real header from B's traffic (valid cookies), then send
    // Informationals that do not verify: one with a garbage "encrypted"
    // body, one in clear carrying a Delete.
    let (_, sample) = p.a.sent.iter().find(|(_, b)| b[18] == 32).unwrap().clone();
    let mut forged = sample[..28].to_vec();
    forged[18] = 5; // Informational
    forged.extend_from_slice(&[0xab; 32]);
    let len = (forged.len() as u32).to_be_bytes();
    forged[24..28].copy_from_slice(&len);
    let mut clear = sample[..28].to_vec();
    clear[16] = 12; // first payload: Delete
    clear[18] = 5;
    clear[19] = 0; // no E flag
    clear.extend_from_slice(&[0, 0, 0, 16, 0, 0, 0, 1, 3, 4, 0, 1, 0xde, 0xad, 0xbe, 0xef]);
    let len = (clear.len() as u32).to_be_bytes();
    clear[24..28].copy_from_slice(&len);
    let now = p.now;
    let (to, from) = (p.b.addr, p.a.addr);
    p.b.ep.handle_datagram(now, to, from, &forged);
    p.b.ep.handle_datagram(now, to, from, &clear);
    p.advance(Duration::from_secs(1));
    assert_eq!(p.b.events.len(), before, "no event from forged input");
    assert_eq!(p.b.ep.stats().unauthenticated_notifies, 2);
}

#[test]
fn rekey_at_soft_expiry_without_a_gap() {
    let mut child = pix_child();
    child.lifetime = Lifetime::seconds(100);
    let mut p = pair_with(
        peer(B, vec![pix_phase1()], vec![child.clone()]),
        peer(A, vec![pix_phase1()], vec![child.clone()]),
        4,
    );
    let now = p.now;
    p.a.ep.initiate(now, p.a.addr, p.b.addr, child).unwrap();
    p.advance(Duration::from_secs(120));
    // A (initiator): up, soft expiry at 80 s, new pair up, then the old one deleted.
    let kinds = |events: &[Event]| -> Vec<String> {
        events
            .iter()
            .filter_map(|e| match e {
                Event::ChildSaUp(c) => Some(format!("up {}", c.inbound.spi)),
                Event::ChildSaExpiring {
                    inbound_spi,
                    hard: false,
                    ..
                } => Some(format!("soft {inbound_spi}")),
                Event::ChildSaExpiring {
                    inbound_spi,
                    hard: true,
                    ..
                } => Some(format!("hard {inbound_spi}")),
                Event::ChildSaDeleted { inbound_spi, .. } => Some(format!("deleted {inbound_spi}")),
                _ => None,
            })
            .collect()
    };
    let a_up = children(&p.a.events);
    assert_eq!(a_up.len(), 2, "{:?}", kinds(&p.a.events));
    let (old, new) = (a_up[0].inbound.spi, a_up[1].inbound.spi);
    assert_eq!(
        kinds(&p.a.events),
        [
            format!("up {old}"),
            format!("soft {old}"),
            format!("up {new}"),
            format!("deleted {old}")
        ]
    );
    // B (responder): the new pair is up before the peer's Delete of the old one arrives.
    let b_up = children(&p.b.events);
    let (b_old, b_new) = (b_up[0].inbound.spi, b_up[1].inbound.spi);
    let bk = kinds(&p.b.events);
    let pos = |s: String| {
        bk.iter()
            .position(|k| *k == s)
            .unwrap_or_else(|| panic!("{s} missing in {bk:?}"))
    };
    assert!(
        pos(format!("up {b_new}")) < pos(format!("deleted {b_old}")),
        "{bk:?}"
    );
    assert!(
        !bk.iter().any(|k| k.starts_with("hard")),
        "the old pair never reached its hard lifetime: {bk:?}"
    );
    assert_eq!(deleted(&p.b.events), [(b_old, b_up[0].outbound.spi, true)]);
    // One ISAKMP SA carried both Quick Modes.
    assert_eq!(
        p.a.events
            .iter()
            .filter(|e| matches!(e, Event::Phase1Up { .. }))
            .count(),
        1
    );
}

#[test]
fn hard_expiry_removes_a_pair_nobody_rekeyed() {
    let mut child = pix_child();
    child.lifetime = Lifetime::seconds(100);
    let mut b_child = child.clone();
    b_child.lifetime = Lifetime::seconds(100);
    let mut p = pair_with(
        peer(B, vec![pix_phase1()], vec![child.clone()]),
        peer(A, vec![pix_phase1()], vec![b_child]),
        5,
    );
    let now = p.now;
    p.a.ep.initiate(now, p.a.addr, p.b.addr, child).unwrap();
    p.drive_until(Duration::from_secs(5), |p| {
        !children(&p.a.events).is_empty()
    });
    // The initiator goes silent (as if it crashed): the responder's pair must still go at 100 s.
    p.a.blackhole = true;
    p.advance(Duration::from_secs(110));
    assert!(
        p.b.events
            .iter()
            .any(|e| matches!(e, Event::ChildSaExpiring { hard: true, .. }))
    );
    assert_eq!(deleted(&p.b.events).len(), 1);
}

#[test]
fn initial_contact_after_a_peer_restart_drops_the_old_sas() {
    let mut p = established(6);
    let old_b = children(&p.b.events)[0].clone();
    // A restarts: new endpoint, no memory of the old SAs.
    p.a = Node::new(
        endpoint(B, b"mekmitasdigoat", vec![pix_phase1()], 600),
        p.a.addr,
    );
    let now = p.now;
    p.a.ep
        .initiate(now, p.a.addr, p.b.addr, pix_child())
        .unwrap();
    assert!(p.drive_until(Duration::from_secs(5), |p| children(&p.b.events).len() == 2));
    assert!(p.b.events.iter().any(|e| matches!(
        e,
        Event::Phase1Down {
            reason: DownReason::InitialContact,
            ..
        }
    )));
    assert_eq!(
        deleted(&p.b.events),
        [(old_b.inbound.spi, old_b.outbound.spi, true)]
    );
    let new_b = children(&p.b.events)[1].clone();
    let new_a = children(&p.a.events)[0].clone();
    assert_eq!(new_a.outbound.spi, new_b.inbound.spi);
}

#[test]
fn simultaneous_initiation_converges_on_one_pair() {
    for seed in [7, 8, 9] {
        let mut p = pix_pair(seed);
        let now = p.now;
        p.a.ep
            .initiate(now, p.a.addr, p.b.addr, pix_child())
            .unwrap();
        p.b.ep
            .initiate(now, p.b.addr, p.a.addr, pix_child())
            .unwrap();
        p.advance(Duration::from_secs(30));
        assert!(failures(&p.a.events).is_empty() && failures(&p.b.events).is_empty());
        let live = |events: &[Event]| {
            let gone: Vec<ChildSaId> = events
                .iter()
                .filter_map(|e| match e {
                    Event::ChildSaDeleted { child, .. } => Some(*child),
                    _ => None,
                })
                .collect();
            children(events)
                .into_iter()
                .filter(|c| !gone.contains(&c.id))
                .cloned()
                .collect::<Vec<_>>()
        };
        let (a, b) = (live(&p.a.events), live(&p.b.events));
        assert_eq!((a.len(), b.len()), (1, 1), "seed {seed}");
        assert_eq!(a[0].outbound.spi, b[0].inbound.spi);
        assert_eq!(a[0].inbound.spi, b[0].outbound.spi);
        assert_eq!(*a[0].outbound.encryption, *b[0].inbound.encryption);
        // The kept pair is the one the lower address (A) initiated.
        assert!(a[0].initiator);
        // One ISAKMP SA each: B, which initiated the redundant one, deleted
        // it; the survivor is the one A initiated, carrying the pair.
        let live_sas = |events: &[Event]| {
            let down: Vec<IkeSaHandle> = events
                .iter()
                .filter_map(|e| match e {
                    Event::Phase1Down { sa, .. } => Some(*sa),
                    _ => None,
                })
                .collect();
            events
                .iter()
                .filter_map(|e| match e {
                    Event::Phase1Up { sa, initiator, .. } if !down.contains(sa) => {
                        Some((*sa, *initiator))
                    }
                    _ => None,
                })
                .collect::<Vec<_>>()
        };
        let (sas_a, sas_b) = (live_sas(&p.a.events), live_sas(&p.b.events));
        assert_eq!(sas_a.len(), 1, "seed {seed}: A's ISAKMP SAs {sas_a:?}");
        assert_eq!(sas_b.len(), 1, "seed {seed}: B's ISAKMP SAs {sas_b:?}");
        assert!(sas_a[0].1 && !sas_b[0].1, "A's Phase 1 survives");
        assert_eq!(a[0].ike_sa, sas_a[0].0);
        assert_eq!(b[0].ike_sa, sas_b[0].0);
        let reason = |events: &[Event]| {
            events
                .iter()
                .filter_map(|e| match e {
                    Event::Phase1Down { reason, .. } => Some(reason.clone()),
                    _ => None,
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(reason(&p.b.events), [DownReason::Replaced]);
        assert_eq!(reason(&p.a.events), [DownReason::DeletedByPeer]);
        // No endless duplicates: the traffic stops.
        let sent = p.a.sent.len() + p.b.sent.len();
        p.advance(Duration::from_secs(600));
        assert_eq!(
            p.a.sent.len() + p.b.sent.len(),
            sent,
            "seed {seed}: traffic after convergence"
        );
    }
}

/// A Phase 1 of 100 s and a pair of 300 s, A initiating.
fn short_lived_phase1(seed: u64) -> Pair {
    let mut p1 = pix_phase1();
    p1.lifetime = Lifetime::seconds(100);
    let mut child = pix_child();
    child.lifetime = Lifetime::seconds(300);
    let mut p = pair_with(
        peer(B, vec![p1], vec![child.clone()]),
        peer(A, vec![p1], vec![child.clone()]),
        seed,
    );
    let now = p.now;
    p.a.ep.initiate(now, p.a.addr, p.b.addr, child).unwrap();
    p
}

#[test]
fn isakmp_sa_is_re_established_for_a_rekey_after_it_expired() {
    let mut p = short_lived_phase1(10);
    // A's proactive Phase 1 rekey (at 90 s) goes nowhere: A is cut off
    // from 85 s to 160 s, so the ISAKMP SA expires at 100 s with its pair.
    p.advance(Duration::from_secs(85));
    p.a.blackhole = true;
    p.advance(Duration::from_secs(75));
    p.a.blackhole = false;
    assert_eq!(
        failures(&p.a.events).len(),
        1,
        "the rekey's Phase 1 gave up"
    );
    p.advance(Duration::from_secs(100));
    let downs =
        p.a.events
            .iter()
            .filter(|e| {
                matches!(
                    e,
                    Event::Phase1Down {
                        reason: DownReason::Expired,
                        ..
                    }
                )
            })
            .count();
    assert!(downs >= 1);
    assert_eq!(
        p.a.events
            .iter()
            .filter(|e| matches!(e, Event::Phase1Up { .. }))
            .count(),
        2,
        "a second Phase 1 for the rekey"
    );
    let (a, b) = (children(&p.a.events), children(&p.b.events));
    assert_eq!((a.len(), b.len()), (2, 2));
    assert_eq!(a[1].outbound.spi, b[1].inbound.spi);
    assert!(
        deleted(&p.a.events).is_empty(),
        "the old pair lives until its hard expiry"
    );
    assert!(
        deleted(&p.b.events).is_empty(),
        "no INITIAL-CONTACT on a re-established SA"
    );
    p.advance(Duration::from_secs(50));
    assert_eq!(deleted(&p.a.events).len(), 1, "old pair gone at 300 s");
}

#[test]
fn byte_lifetime_reported_by_the_data_path_rekeys() {
    let mut child = pix_child();
    child.lifetime = Lifetime {
        seconds: Some(3600),
        kilobytes: Some(1024),
    };
    let mut p = pair_with(
        peer(B, vec![pix_phase1()], vec![child.clone()]),
        peer(A, vec![pix_phase1()], vec![child.clone()]),
        11,
    );
    let now = p.now;
    p.a.ep.initiate(now, p.a.addr, p.b.addr, child).unwrap();
    assert!(p.drive_until(Duration::from_secs(5), |p| {
        !children(&p.b.events).is_empty()
    }));
    let first = children(&p.a.events)[0].clone();
    assert_eq!(
        first.lifetime.bytes(),
        Some(1024 * 1024),
        "kilobytes are 1024 bytes, as racoon counts"
    );
    // esp-core says 80% of the bytes went through: soft expiry, rekey.
    let now = p.now;
    p.a.ep.child_lifetime_reached(now, first.id, false).unwrap();
    assert!(p.drive_until(Duration::from_secs(5), |p| children(&p.b.events).len() == 2));
    p.advance(Duration::from_secs(1));
    assert_eq!(
        deleted(&p.a.events),
        [(first.inbound.spi, first.outbound.spi, false)]
    );
    assert!(
        p.a.ep
            .child_lifetime_reached(p.now, first.id, true)
            .is_err(),
        "already gone"
    );
}

#[test]
fn dpd_probe_is_answered() {
    let mut p = established(12);
    let Some(Event::Phase1Up { sa, .. }) =
        p.a.events
            .iter()
            .find(|e| matches!(e, Event::Phase1Up { .. }))
            .cloned()
    else {
        unreachable!()
    };
    let now = p.now;
    let seq = p.a.ep.probe_peer(now, sa).unwrap();
    p.advance(Duration::from_secs(1));
    let answered: Vec<u32> =
        p.a.events
            .iter()
            .filter_map(|e| match e {
                Event::PeerAlive { sequence, .. } => Some(*sequence),
                _ => None,
            })
            .collect();
    assert_eq!(answered, [seq]);
    let next = p.a.ep.probe_peer(p.now, sa).unwrap();
    assert_eq!(next, seq.wrapping_add(1));
}

#[test]
fn phase1_is_rekeyed_before_it_expires_and_children_keep_working() {
    // Phase 1 lives 100 s: A re-establishes it at 90 s and 180 s. The pair
    // lives 300 s, so its rekey (soft expiry at 240 s) runs on the third
    // ISAKMP SA, and its Delete of the old pair is understood by B.
    let mut p = short_lived_phase1(12);
    p.advance(Duration::from_secs(200));
    let ups = |events: &[Event]| {
        events
            .iter()
            .filter_map(|e| match e {
                Event::Phase1Up { sa, .. } => Some(*sa),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    let downs = |events: &[Event]| {
        events
            .iter()
            .filter_map(|e| match e {
                Event::Phase1Down { sa, reason, .. } => Some((*sa, reason.clone())),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    let (ups_a, ups_b) = (ups(&p.a.events), ups(&p.b.events));
    assert_eq!((ups_a.len(), ups_b.len()), (3, 3), "two Phase 1 rekeys");
    // Make-before-break: each old SA went only after its successor was up,
    // with a Delete B acted on; none expired.
    assert_eq!(
        downs(&p.a.events),
        [
            (ups_a[0], DownReason::Rekeyed),
            (ups_a[1], DownReason::Rekeyed)
        ]
    );
    assert_eq!(
        downs(&p.b.events),
        [
            (ups_b[0], DownReason::DeletedByPeer),
            (ups_b[1], DownReason::DeletedByPeer)
        ]
    );
    let up_then_down = |events: &[Event], new: IkeSaHandle, old: IkeSaHandle| {
        let at = |f: &dyn Fn(&Event) -> bool| events.iter().position(f).unwrap();
        at(&|e| matches!(e, Event::Phase1Up { sa, .. } if *sa == new))
            < at(&|e| matches!(e, Event::Phase1Down { sa, .. } if *sa == old))
    };
    assert!(up_then_down(&p.a.events, ups_a[1], ups_a[0]));
    assert!(up_then_down(&p.a.events, ups_a[2], ups_a[1]));
    assert!(
        deleted(&p.a.events).is_empty() && deleted(&p.b.events).is_empty(),
        "the pair outlives both ISAKMP SAs"
    );
    assert!(failures(&p.a.events).is_empty() && failures(&p.b.events).is_empty());
    // The pair's own rekey runs under the newest ISAKMP SA.
    p.advance(Duration::from_secs(60));
    let (a, b) = (children(&p.a.events), children(&p.b.events));
    assert_eq!((a.len(), b.len()), (2, 2), "{:?}", failures(&p.a.events));
    assert_eq!(a[1].ike_sa, ups_a[2]);
    assert_eq!(b[1].ike_sa, ups_b[2]);
    assert_eq!(a[1].outbound.spi, b[1].inbound.spi);
    // The old pair was deleted by A after the new one came up, and B, which
    // moved it to the new ISAKMP SA, acted on that Delete.
    assert_eq!(
        deleted(&p.a.events),
        [(a[0].inbound.spi, a[0].outbound.spi, false)]
    );
    assert_eq!(
        deleted(&p.b.events),
        [(b[0].inbound.spi, b[0].outbound.spi, true)]
    );
    assert!(failures(&p.a.events).is_empty() && failures(&p.b.events).is_empty());
}
