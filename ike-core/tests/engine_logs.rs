//! The engine's `tracing` lines: Phase 1 and Quick Mode up, failure
//! reasons, dropped datagrams with their reason.

mod sim;

use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sim::fixtures::{A, B, children, endpoint_with, peer, pix_child, pix_pair, pix_phase1};
use sim::{Node, Pair};

/// Everything the subscriber writes, shared with the test.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Runs `f` with a debug-level subscriber on this thread; returns the log.
fn logged(f: impl FnOnce()) -> String {
    let out = Captured::default();
    let sink = out.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || sink.clone())
        .finish();
    tracing::subscriber::with_default(subscriber, f);
    String::from_utf8(out.0.lock().unwrap().clone()).unwrap()
}

fn start(p: &mut Pair) {
    let now = p.now;
    p.a.ep
        .initiate(now, p.a.addr, SocketAddr::new(B, 500), pix_child())
        .unwrap();
}

#[test]
fn established_sas_are_logged_like_racoon() {
    let log = logged(|| {
        let mut p = pix_pair(41);
        start(&mut p);
        assert!(p.drive_until(Duration::from_secs(10), |p| {
            !children(&p.a.events).is_empty() && !children(&p.b.events).is_empty()
        }));
    });
    assert_eq!(log.matches("ISAKMP-SA established").count(), 2, "{log}");
    assert_eq!(log.matches("IPsec-SA established").count(), 2, "{log}");
    assert!(log.contains("remote=198.51.100.2:500"), "{log}");
    assert!(log.contains("inbound_spi=0x"), "{log}");
}

#[test]
fn failures_and_drops_carry_their_reason() {
    let log = logged(|| {
        let a = Node::new(
            endpoint_with(peer(B, vec![pix_phase1()], vec![pix_child()]), b"right", 42),
            SocketAddr::new(A, 500),
        );
        let b = Node::new(
            endpoint_with(peer(A, vec![pix_phase1()], vec![pix_child()]), b"wrong", 43),
            SocketAddr::new(B, 500),
        );
        let mut p = Pair::new(a, b, 42);
        start(&mut p);
        p.drive_for(Duration::from_secs(300));
        // Not IKE at all.
        let now = p.now;
        p.b.ep.handle_datagram(
            now,
            SocketAddr::new(B, 500),
            SocketAddr::new(A, 500),
            b"junk",
        );
    });
    assert!(log.contains("negotiation failed"), "{log}");
    assert!(log.contains("phase=One"), "{log}");
    assert!(
        log.contains("reason=\"did not decrypt or HASH mismatch\""),
        "{log}"
    );
    assert!(log.contains("reason=\"malformed\""), "{log}");
}

#[test]
fn fragmenting_and_reassembling_are_logged() {
    // A 3000-byte FQDN makes MM5 and MM6 too large for the default
    // fragment_size (1232), so each goes as 3 fragments.
    let long_id = |addr| {
        let mut p = peer(addr, vec![pix_phase1()], vec![pix_child()]);
        p.my_identifier = Some(ike_core::config::Identity::Fqdn("f".repeat(3000)));
        p
    };
    let log = logged(|| {
        let mut p = sim::fixtures::pair_with(long_id(B), long_id(A), 43);
        start(&mut p);
        assert!(p.drive_until(Duration::from_secs(10), |p| {
            !children(&p.a.events).is_empty() && !children(&p.b.events).is_empty()
        }));
    });
    assert_eq!(
        log.matches("IKE message sent as fragments").count(),
        2,
        "{log}"
    );
    assert_eq!(log.matches("fragments=3").count(), 2, "{log}");
    assert_eq!(
        log.matches("IKE message reassembled from fragments")
            .count(),
        2,
        "{log}"
    );
}

#[test]
fn a_proposal_mismatch_is_logged_with_the_attribute_and_both_values() {
    let log = logged(|| {
        // Phase 1: A offers group 2 only, B requires group 5.
        let mut offer = pix_phase1();
        offer.group = ike_core::crypto::DhGroup::Modp1024;
        let a = Node::new(
            endpoint_with(peer(B, vec![offer], vec![pix_child()]), b"k", 50),
            SocketAddr::new(A, 500),
        );
        let b = Node::new(
            endpoint_with(peer(A, vec![pix_phase1()], vec![pix_child()]), b"k", 51),
            SocketAddr::new(B, 500),
        );
        let mut p = Pair::new(a, b, 50);
        start(&mut p);
        p.drive_for(Duration::from_secs(5));
        // Phase 2: A offers PFS group 2, B requires group 5.
        let mut b_child = pix_child();
        b_child.pfs_group = Some(ike_core::crypto::DhGroup::Modp1536);
        let mut p = sim::fixtures::pair_with(
            peer(B, vec![pix_phase1()], vec![pix_child()]),
            peer(A, vec![pix_phase1()], vec![b_child]),
            52,
        );
        let mut a_child = pix_child();
        a_child.pfs_group = Some(ike_core::crypto::DhGroup::Modp1024);
        let now = p.now;
        p.a.ep.initiate(now, p.a.addr, p.b.addr, a_child).unwrap();
        p.drive_for(Duration::from_secs(5));
    });
    let failed: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("negotiation failed"))
        .collect();
    assert!(
        failed.iter().any(|l| l.contains("phase=One")
            && l.contains("peer offered DH group 2, policy requires group 5")),
        "{log}"
    );
    assert!(
        failed.iter().any(|l| l.contains("phase=Two")
            && l.contains("peer offered PFS group 2, policy requires 5")),
        "{log}"
    );
}
