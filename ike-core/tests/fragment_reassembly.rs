//! IKEv1 fragmentation: cutting for a path MTU and bounded reassembly.

use std::time::{Duration, Instant};

use ike_core::fragment::{
    FragmentError, FragmentSizing, Reassembler, ReassemblyLimits, ReassemblyOutcome,
    fragment_message,
};
use ike_core::wire::{
    Cookie, ExchangeType, Flags, Fragment, Header, Message, MessageId, Payload, PayloadBody,
    PayloadType, patch_length,
};
use proptest::prelude::*;

/// A fixed test epoch; the reassembler itself never reads the clock.
#[allow(clippy::disallowed_methods)]
fn epoch() -> Instant {
    Instant::now()
}

const PEER: &str = "192.0.2.1:500";

/// An encrypted Main Mode message of `len` bytes (MM5/MM6 carry certificates
/// inside the encrypted body).
fn encrypted_message(len: usize, seed: u8) -> Vec<u8> {
    let mut header = Header::new(
        Cookie([0x11; 8]),
        Cookie([0x22; 8]),
        ExchangeType::MAIN_MODE,
        MessageId(0),
    );
    header.flags = Flags::ENCRYPTION;
    let mut out = Vec::new();
    header.emit(PayloadType::IDENTIFICATION, 0, &mut out);
    out.extend((0..len.saturating_sub(Header::LEN)).map(|i| (i as u8).wrapping_mul(31) ^ seed));
    patch_length(&mut out).unwrap();
    out
}

/// A fragment datagram built by hand, as a peer (or an attacker) might send it.
fn fragment_datagram(id: u16, number: u8, last: bool, data: &[u8]) -> Vec<u8> {
    let header = Header::new(
        Cookie([0x11; 8]),
        Cookie([0x22; 8]),
        ExchangeType::MAIN_MODE,
        MessageId(0),
    );
    let fragment = Fragment {
        id,
        number,
        flags: if last { Fragment::LAST } else { 0 },
        data: data.to_vec(),
    };
    Message::new(header, vec![fragment.to_payload().unwrap()])
        .to_bytes()
        .unwrap()
}

fn feed(r: &mut Reassembler<&'static str>, now: Instant, datagrams: &[Vec<u8>]) -> Vec<Vec<u8>> {
    datagrams
        .iter()
        .filter_map(|d| match r.handle(now, PEER, d) {
            Ok(ReassemblyOutcome::Complete(m)) => Some(m),
            _ => None,
        })
        .collect()
}

#[test]
fn sizes_for_576_and_1280() {
    let v4_576 = FragmentSizing::ipv4(576);
    assert_eq!(v4_576.max_datagram(), 576 - 20 - 8);
    assert_eq!(v4_576.data_per_fragment(), 576 - 20 - 8 - 28 - 8);
    let v6_1280 = FragmentSizing {
        path_mtu: 1280,
        ipv6: true,
        nat_t: true,
    };
    assert_eq!(v6_1280.max_datagram(), 1280 - 40 - 8 - 4);
    assert!(matches!(
        fragment_message(&encrypted_message(100, 0), 1, FragmentSizing::ipv4(60)),
        Err(FragmentError::MtuTooSmall { mtu: 60 })
    ));
}

/// MM5 with a 4096-bit chain (two certificates of about 1.5 KB each, a
/// 512-byte signature) through 576- and 1280-byte paths.
#[test]
fn large_mm5_through_small_paths() {
    let message = encrypted_message(4200, 7);
    for sizing in [
        FragmentSizing::ipv4(576),
        FragmentSizing::ipv4(1280),
        FragmentSizing {
            path_mtu: 1280,
            ipv6: true,
            nat_t: true,
        },
    ] {
        let datagrams = fragment_message(&message, 3, sizing).unwrap();
        assert_eq!(
            datagrams.len(),
            message.len().div_ceil(sizing.data_per_fragment())
        );
        for (i, d) in datagrams.iter().enumerate() {
            assert!(d.len() <= sizing.max_datagram());
            let parsed = Message::parse(d).unwrap();
            assert!(
                !parsed.header.flags.encrypted(),
                "fragments travel in the clear"
            );
            assert_eq!(parsed.header.initiator_cookie, Cookie([0x11; 8]));
            let payloads = parsed.payloads().unwrap();
            assert_eq!(payloads.len(), 1);
            let f: Fragment = payloads[0].parse_as().unwrap();
            assert_eq!((f.id, usize::from(f.number)), (3, i + 1));
            assert_eq!(f.is_last(), i + 1 == datagrams.len());
        }
        let mut r = Reassembler::new(ReassemblyLimits::default());
        assert_eq!(feed(&mut r, epoch(), &datagrams), vec![message.clone()]);
        assert_eq!((r.pending_messages(), r.held_bytes()), (0, 0));
    }
}

#[test]
fn too_long_for_255_fragments() {
    let message = encrypted_message(255 * 512 + 1, 0);
    assert!(matches!(
        fragment_message(&message, 1, FragmentSizing::ipv4(576)),
        Err(FragmentError::MessageTooLong { .. })
    ));
}

/// The regression in racoon's fix for CVE-2016-10396: the last fragment is
/// retransmitted while an earlier one is still missing; the message must
/// still complete when the missing one arrives.
#[test]
fn retransmitted_last_fragment_before_the_missing_one() {
    let message = encrypted_message(1500, 1);
    let d = fragment_message(&message, 9, FragmentSizing::ipv4(576)).unwrap();
    assert_eq!(d.len(), 3);
    let now = epoch();
    let mut r = Reassembler::new(ReassemblyLimits::default());
    assert_eq!(r.handle(now, PEER, &d[0]), Ok(ReassemblyOutcome::Pending));
    assert_eq!(r.handle(now, PEER, &d[2]), Ok(ReassemblyOutcome::Pending));
    // The peer's retransmission: every fragment again, the second lost again.
    assert_eq!(r.handle(now, PEER, &d[0]), Ok(ReassemblyOutcome::Duplicate));
    assert_eq!(r.handle(now, PEER, &d[2]), Ok(ReassemblyOutcome::Duplicate));
    assert_eq!(
        r.handle(now, PEER, &d[1]),
        Ok(ReassemblyOutcome::Complete(message.clone()))
    );
    // A whole retransmission after completion reassembles again, so the
    // engine sees the retransmit and can answer it.
    assert_eq!(feed(&mut r, now, &d), vec![message]);
}

/// CVE-2016-10396 class: a forged fragment must not replace one held, nor
/// move the end of the message.
#[test]
fn forged_fragments_do_not_overwrite() {
    let message = encrypted_message(1500, 2);
    let d = fragment_message(&message, 4, FragmentSizing::ipv4(576)).unwrap();
    let now = epoch();
    let mut r = Reassembler::new(ReassemblyLimits::default());
    assert_eq!(r.handle(now, PEER, &d[0]), Ok(ReassemblyOutcome::Pending));
    assert_eq!(r.handle(now, PEER, &d[2]), Ok(ReassemblyOutcome::Pending));
    let forged = fragment_datagram(4, 1, false, b"forged");
    assert_eq!(
        r.handle(now, PEER, &forged),
        Ok(ReassemblyOutcome::Duplicate)
    );
    assert_eq!(
        r.handle(now, PEER, &fragment_datagram(4, 2, true, b"x")),
        Err(FragmentError::ConflictingLast {
            id: 4,
            number: 2,
            held: 3
        })
    );
    assert_eq!(
        r.handle(now, PEER, &fragment_datagram(4, 5, false, b"x")),
        Err(FragmentError::PastLast {
            id: 4,
            number: 5,
            last: 3
        })
    );
    assert_eq!(
        r.handle(now, PEER, &d[1]),
        Ok(ReassemblyOutcome::Complete(message))
    );
}

#[test]
fn last_below_a_held_number_is_refused() {
    let mut r = Reassembler::new(ReassemblyLimits::default());
    let now = epoch();
    r.handle(now, PEER, &fragment_datagram(1, 5, false, b"e"))
        .unwrap();
    assert_eq!(
        r.handle(now, PEER, &fragment_datagram(1, 2, true, b"b")),
        Err(FragmentError::ConflictingLast {
            id: 1,
            number: 2,
            held: 5
        })
    );
}

#[test]
fn malformed_fragments_are_refused() {
    let mut r = Reassembler::new(ReassemblyLimits::default());
    let now = epoch();
    assert_eq!(
        r.handle(now, PEER, &fragment_datagram(1, 0, false, b"a")),
        Err(FragmentError::ZeroNumber { id: 1 })
    );
    assert_eq!(
        r.handle(now, PEER, &fragment_datagram(1, 1, false, b"")),
        Err(FragmentError::Empty { id: 1, number: 1 })
    );
    assert_eq!(
        r.handle(now, PEER, &fragment_datagram(1, 65, false, b"a")),
        Err(FragmentError::TooManyFragments {
            id: 1,
            number: 65,
            limit: 64
        })
    );
    let plain = encrypted_message(100, 0);
    assert!(matches!(
        r.handle(now, PEER, &plain),
        Err(FragmentError::NotAFragment(_))
    ));
    assert!(!Reassembler::<&str>::is_fragment(&plain));
    assert!(Reassembler::<&str>::is_fragment(&fragment_datagram(
        1, 1, true, b"a"
    )));
    assert!(matches!(
        r.handle(now, PEER, &[0u8; 10]),
        Err(FragmentError::Malformed(_))
    ));
    // One fragment that is its own whole message, but not an ISAKMP message.
    assert!(matches!(
        r.handle(now, PEER, &fragment_datagram(2, 1, true, b"not isakmp")),
        Err(FragmentError::BadReassembly { id: 2, .. })
    ));
    assert_eq!((r.pending_messages(), r.held_bytes()), (0, 0));
}

#[test]
fn per_message_peer_and_global_bounds() {
    let limits = ReassemblyLimits {
        max_message_bytes: 1000,
        max_peer_bytes: 1500,
        max_peer_messages: 2,
        max_total_bytes: 2000,
        max_total_messages: 3,
        ..ReassemblyLimits::default()
    };
    let mut r = Reassembler::new(limits);
    let now = epoch();
    let big = vec![0xab; 600];
    r.handle(now, PEER, &fragment_datagram(1, 1, false, &big))
        .unwrap();
    assert_eq!(
        r.handle(now, PEER, &fragment_datagram(1, 2, false, &big)),
        Err(FragmentError::MessageTooLarge { id: 1, limit: 1000 })
    );
    // The same peer's new messages evict its oldest, by count and by bytes.
    let later = now + Duration::from_secs(1);
    r.handle(later, PEER, &fragment_datagram(2, 1, false, &big))
        .unwrap();
    assert_eq!(r.pending_messages(), 2);
    let later2 = now + Duration::from_secs(2);
    r.handle(later2, PEER, &fragment_datagram(3, 1, false, &big))
        .unwrap();
    assert_eq!(r.pending_messages(), 2);
    assert_eq!(r.held_bytes(), 1200);
    // Other peers are refused by the global caps rather than evicting.
    const OTHER: &str = "198.51.100.7:500";
    r.handle(now, OTHER, &fragment_datagram(1, 1, false, &big))
        .unwrap();
    assert_eq!(r.held_bytes(), 1800);
    assert_eq!(
        r.handle(now, OTHER, &fragment_datagram(1, 2, false, &[1; 300])),
        Err(FragmentError::GlobalMemoryFull { limit: 2000 })
    );
    assert_eq!(
        r.handle(
            now,
            "203.0.113.9:500",
            &fragment_datagram(1, 1, false, b"small")
        ),
        Err(FragmentError::GlobalMemoryFull { limit: 2000 })
    );
    r.forget_peer(&PEER);
    assert_eq!((r.pending_messages(), r.held_bytes()), (1, 600));
}

#[test]
fn partial_messages_expire() {
    let limits = ReassemblyLimits::default();
    let mut r = Reassembler::new(limits);
    let now = epoch();
    let message = encrypted_message(1500, 3);
    let d = fragment_message(&message, 1, FragmentSizing::ipv4(576)).unwrap();
    assert_eq!(r.poll_timeout(), None);
    r.handle(now, PEER, &d[0]).unwrap();
    assert_eq!(r.poll_timeout(), Some(now + limits.timeout));
    r.handle_timeout(now + limits.timeout - Duration::from_millis(1));
    assert_eq!(r.pending_messages(), 1);
    r.handle_timeout(now + limits.timeout);
    assert_eq!((r.pending_messages(), r.held_bytes()), (0, 0));
    // The rest arriving late starts over and cannot complete alone.
    let late = now + limits.timeout;
    assert_eq!(feed(&mut r, late, &d[1..]), Vec::<Vec<u8>>::new());
    assert_eq!(r.pending_messages(), 1);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Random length and MTU, fragments shuffled and some sent two or three
    /// times: exactly one complete message, equal to the original, and
    /// nothing held afterwards.
    #[test]
    fn shuffled_duplicated_fragments_reassemble(
        len in 29usize..12_000,
        mtu in prop_oneof![Just(576usize), Just(1280), Just(1500), 200usize..2000],
        seed in any::<u8>(),
        order in proptest::collection::vec(any::<u32>(), 0..400),
        repeats in proptest::collection::vec(0usize..3, 0..400),
    ) {
        let message = encrypted_message(len, seed);
        let sizing = FragmentSizing::ipv4(mtu);
        let datagrams = match fragment_message(&message, 77, sizing) {
            Ok(d) => d,
            Err(FragmentError::MessageTooLong { .. }) => return Ok(()),
            Err(e) => panic!("{e}"),
        };
        let mut sends: Vec<(u32, &Vec<u8>)> = Vec::new();
        for (i, d) in datagrams.iter().enumerate() {
            for k in 0..=repeats.get(i).copied().unwrap_or(0) {
                let key = order.get(i * 3 + k).copied().unwrap_or(i as u32);
                sends.push((key, d));
            }
        }
        sends.sort_by_key(|(k, _)| *k);
        let limits = ReassemblyLimits { max_fragments: 255, ..ReassemblyLimits::default() };
        let mut r = Reassembler::new(limits);
        let now = epoch();
        let mut complete = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for (_, d) in sends {
            let outcome = r.handle(now, PEER, d).unwrap();
            match outcome {
                ReassemblyOutcome::Complete(m) => {
                    complete.push(m);
                    seen.clear();
                }
                ReassemblyOutcome::Pending => prop_assert!(seen.insert(d.clone())),
                ReassemblyOutcome::Duplicate => prop_assert!(seen.contains(d)),
            }
        }
        prop_assert!(!complete.is_empty());
        for m in &complete {
            prop_assert_eq!(m, &message);
        }
        // What is left is a later partial resend, never more than the message.
        prop_assert!(r.held_bytes() <= message.len());
    }

    /// Arbitrary bytes never panic and never grow the held data past the limits.
    #[test]
    fn arbitrary_datagrams_stay_bounded(
        datagrams in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..200), 0..50),
    ) {
        let limits = ReassemblyLimits { max_total_bytes: 4096, ..ReassemblyLimits::default() };
        let mut r = Reassembler::new(limits);
        let now = epoch();
        for d in &datagrams {
            let _ = r.handle(now, PEER, d);
            prop_assert!(r.held_bytes() <= 4096);
        }
    }
}

#[test]
fn payload_header_overhead_matches_the_codec() {
    // data_per_fragment must leave exactly the 28-byte header and the
    // 8-byte fragment payload header.
    let sizing = FragmentSizing::ipv4(576);
    let message = encrypted_message(sizing.data_per_fragment() * 2, 0);
    let d = fragment_message(&message, 1, sizing).unwrap();
    assert_eq!(d.len(), 2);
    assert_eq!(d[0].len(), sizing.max_datagram());
    assert_eq!(Header::LEN + Payload::HEADER_LEN + 4, 36);
}
