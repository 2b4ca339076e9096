//! The check shared by the `ike_fragments` fuzz target and its corpus
//! replay test (`tests/fragment_fuzz_corpus.rs`). Not a stable API.
//!
//! The input is a script. Byte 0 picks the path MTU and bytes 1–2 the
//! length of one genuine message, which is fragmented with
//! [`fragment_message`]. Then records, by the low two bits of their first
//! byte:
//! - `0`: a datagram (next byte: length) from one of four other peers;
//! - `1`: the clock advances by the next byte in seconds;
//! - `2`: the genuine fragment picked by the next byte is delivered again
//!   (duplicates, reordering);
//! - `3`: a forged fragment from the genuine peer: ID (2), number (1),
//!   flags (1), data length (1), data.
//!
//! Finally every genuine fragment is delivered in order. Checked: no panic,
//! the held bytes and messages never exceed the limits, and, unless a forged
//! fragment was accepted for the genuine message or the global caps refused
//! a genuine fragment, the genuine message comes out and nothing else does
//! for that peer.

#![deny(clippy::indexing_slicing)]

use std::time::{Duration, Instant};

use super::{
    FragmentError, FragmentSizing, Reassembler, ReassemblyLimits, ReassemblyOutcome,
    fragment_message,
};
use crate::wire::{
    Cookie, ExchangeType, Flags, Fragment, Header, Message, MessageId, PayloadBody, PayloadType,
};

const GENUINE_ID: u16 = 0x4242;
const GENUINE_PEER: u8 = 255;

fn genuine_header() -> Header {
    Header::new(
        Cookie([0xc1; 8]),
        Cookie([0xc2; 8]),
        ExchangeType::MAIN_MODE,
        MessageId(0),
    )
}

fn genuine_message(len: usize) -> Vec<u8> {
    let mut header = genuine_header();
    header.flags = Flags::ENCRYPTION;
    let len = len.max(Header::LEN);
    let mut out = Vec::with_capacity(len);
    header.emit(
        PayloadType::IDENTIFICATION,
        u32::try_from(len).unwrap_or(0),
        &mut out,
    );
    out.extend((0..len - Header::LEN).map(|i| i.to_le_bytes().first().copied().unwrap_or(0)));
    out
}

/// Runs one script (see the module documentation). `start` is the clock's
/// starting point.
///
/// # Panics
/// When a limit is exceeded or the genuine message is lost or altered.
pub fn run(start: Instant, data: &[u8]) {
    let (Some(&mtu), Some(&hi), Some(&lo)) = (data.first(), data.get(1), data.get(2)) else {
        return;
    };
    let sizing = FragmentSizing::ipv4(200 + usize::from(mtu) * 8);
    let message = genuine_message(usize::from(u16::from_be_bytes([hi, lo])) % 20_000);
    let Ok(genuine) = fragment_message(&message, GENUINE_ID, sizing) else {
        return;
    };
    let limits = ReassemblyLimits {
        max_fragments: 255,
        max_message_bytes: 20_000,
        max_peer_bytes: 30_000,
        max_total_bytes: 60_000,
        max_peer_messages: 3,
        max_total_messages: 8,
        timeout: Duration::from_secs(20),
    };
    let mut r = Reassembler::new(limits);
    let mut now = start;
    let mut tainted = false;
    let mut completed = 0usize;
    let deliver = |r: &mut Reassembler<u8>, now: Instant, peer: u8, d: &[u8]| {
        let outcome = r.handle(now, peer, d);
        assert!(r.held_bytes() <= limits.max_total_bytes);
        assert!(r.pending_messages() <= limits.max_total_messages);
        if let Ok(ReassemblyOutcome::Complete(m)) = &outcome {
            assert!(m.len() <= limits.max_message_bytes);
        }
        outcome
    };
    let mut rest = data.get(3..).unwrap_or_default();
    while let Some((&op, tail)) = rest.split_first() {
        rest = tail;
        match op & 3 {
            0 => {
                let Some((&len, tail)) = rest.split_first() else {
                    break;
                };
                let Some((datagram, tail)) = tail.split_at_checked(usize::from(len)) else {
                    break;
                };
                rest = tail;
                let _ = deliver(&mut r, now, (op >> 2) & 3, datagram);
            }
            1 => {
                let Some((&secs, tail)) = rest.split_first() else {
                    break;
                };
                rest = tail;
                now += Duration::from_secs(u64::from(secs));
            }
            2 => {
                let Some((&pick, tail)) = rest.split_first() else {
                    break;
                };
                rest = tail;
                let index = usize::from(pick) % genuine.len().max(1);
                if let Some(d) = genuine.get(index) {
                    tally(
                        deliver(&mut r, now, GENUINE_PEER, d),
                        &message,
                        &mut tainted,
                        &mut completed,
                    );
                }
            }
            _ => {
                let Some((head, tail)) = rest.split_at_checked(5) else {
                    break;
                };
                let [id_hi, id_lo, number, flags, len] =
                    <[u8; 5]>::try_from(head).unwrap_or_default();
                let Some((body, tail)) = tail.split_at_checked(usize::from(len)) else {
                    break;
                };
                rest = tail;
                let id = u16::from_be_bytes([id_hi, id_lo]);
                let forged = Fragment {
                    id,
                    number,
                    flags,
                    data: body.to_vec(),
                };
                let Ok(payload) = forged.to_payload() else {
                    continue;
                };
                let Ok(d) = Message::new(genuine_header(), vec![payload]).to_bytes() else {
                    continue;
                };
                let outcome = deliver(&mut r, now, GENUINE_PEER, &d);
                if id == GENUINE_ID && outcome.is_ok() {
                    tainted = true;
                }
            }
        }
    }
    for d in &genuine {
        tally(
            deliver(&mut r, now, GENUINE_PEER, d),
            &message,
            &mut tainted,
            &mut completed,
        );
    }
    if !tainted {
        assert!(completed > 0, "the genuine message never completed");
    }
}

fn tally(
    outcome: Result<ReassemblyOutcome, FragmentError>,
    message: &[u8],
    tainted: &mut bool,
    completed: &mut usize,
) {
    match outcome {
        Ok(ReassemblyOutcome::Complete(m)) if !*tainted => {
            assert_eq!(m, message, "the genuine message came out altered");
            *completed += 1;
        }
        Ok(_) => {}
        // Fair refusals under memory pressure or after a forgery.
        Err(FragmentError::GlobalMemoryFull { .. }) => *tainted = true,
        Err(e) => assert!(*tainted, "genuine fragment refused: {e}"),
    }
}
