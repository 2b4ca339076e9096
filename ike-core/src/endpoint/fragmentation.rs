//! IKE fragmentation in the endpoint (see [`crate::fragment`]).
//!
//! Sending: a Phase 1 message of ours larger than
//! [`EndpointConfig::fragment_size`](crate::config::EndpointConfig) goes out
//! as fragment datagrams once the peer announced the FRAGMENTATION vendor ID
//! (or always, with [`Fragmentation::Force`]). Resends, timed or answering a
//! duplicate, send every fragment again under the same fragment ID, so the
//! peer can complete a message from pieces of different copies. Only Phase 1
//! messages are cut: they are the ones that carry certificates, and Quick
//! Mode and Informational messages stay far below any path MTU.
//!
//! Receiving: a datagram whose first payload is a fragment goes to a
//! [`Reassembler`]; the whole message then takes exactly the path of a
//! datagram that arrived whole, from the same addresses. Fragments are never
//! trusted for anything else. Fragments for an ISAKMP SA we hold and
//! fragments of a first message (responder cookie zero) fill separate
//! pools, so a flood of made-up first messages, even from a peer's own
//! address, cannot evict the pieces of a negotiation in progress (its
//! cookies are unknown to an off-path sender); fragments naming a responder
//! cookie we do not hold are dropped before anything is stored.

use std::net::SocketAddr;
use std::time::Instant;

use super::{Endpoint, IkeSa, NON_ESP_MARKER};
use crate::config::Fragmentation;
use crate::exchange::nat::NAT_T_PORT;
use crate::fragment::{
    self, FragmentSizing, Reassembler, ReassemblyLimits, ReassemblyOutcome, fragment_message,
};
use crate::wire::{Header, Message};

/// The endpoint's fragment pools, each bounded by
/// [`EndpointConfig::reassembly`](crate::config::EndpointConfig).
#[derive(Debug)]
pub(super) struct Reassembly {
    /// Messages for ISAKMP SAs we hold.
    known: Reassembler<SocketAddr>,
    /// First messages of a new ISAKMP SA (responder cookie zero).
    first: Reassembler<SocketAddr>,
}

impl Reassembly {
    pub(super) fn new(limits: ReassemblyLimits) -> Self {
        Self {
            known: Reassembler::new(limits),
            first: Reassembler::new(limits),
        }
    }

    /// Drops partial messages that waited too long.
    pub(super) fn handle_timeout(&mut self, now: Instant) {
        self.known.handle_timeout(now);
        self.first.handle_timeout(now);
    }

    /// When the oldest partial message expires.
    pub(super) fn poll_timeout(&self) -> Option<Instant> {
        [self.known.poll_timeout(), self.first.poll_timeout()]
            .into_iter()
            .flatten()
            .min()
    }
}

/// What one ISAKMP SA knows about fragmentation.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct SaFragmentation {
    /// The peer sent the FRAGMENTATION vendor ID in its MM1/MM2/AM1/AM2.
    peer_announced: bool,
    /// Fragment ID of our current message; resends reuse it.
    fragment_id: u16,
}

impl SaFragmentation {
    /// Notes the vendor IDs of an unencrypted Phase 1 message from the peer.
    pub(super) fn note_peer_message(&mut self, msg: &Message) {
        if msg.payloads().is_some_and(fragment::peer_announced) {
            self.peer_announced = true;
        }
    }

    /// A new message of ours: a new fragment ID (never 0).
    pub(super) fn next_message(&mut self) {
        self.fragment_id = self.fragment_id.checked_add(1).unwrap_or(1);
    }
}

impl Endpoint {
    /// Queues our Phase 1 message `bytes` to `sa`'s peer, whole or cut into
    /// fragments (RFC-less Cisco scheme; see the module comment).
    pub(super) fn queue_phase1(&mut self, sa: &IkeSa, bytes: &[u8]) {
        let nat_t = sa.local.port() == NAT_T_PORT;
        let on_wire = bytes.len() + if nat_t { NON_ESP_MARKER.len() } else { 0 };
        let setting = self
            .config
            .peers
            .get(sa.peer_index)
            .map_or(Fragmentation::Off, |p| p.fragmentation);
        let allowed = match setting {
            Fragmentation::Off => false,
            Fragmentation::On => sa.fragments.peer_announced,
            Fragmentation::Force => true,
        };
        if !allowed || on_wire <= self.config.fragment_size {
            self.transmits
                .push_back((sa.local, sa.remote, bytes.to_vec()));
            return;
        }
        let sizing = FragmentSizing::udp_payload(self.config.fragment_size, nat_t);
        match fragment_message(bytes, sa.fragments.fragment_id, sizing) {
            Ok(datagrams) => {
                tracing::debug!(
                    remote = %sa.remote,
                    len = bytes.len(),
                    fragments = datagrams.len(),
                    fragment_id = sa.fragments.fragment_id,
                    "IKE message sent as fragments"
                );
                self.stats.messages_fragmented += 1;
                for d in datagrams {
                    self.transmits.push_back((sa.local, sa.remote, d));
                }
            }
            Err(e) => {
                // Sent whole: it may still get through, and nothing is lost
                // by trying.
                tracing::debug!(remote = %sa.remote, reason = %e, "IKE message not fragmented");
                self.transmits
                    .push_back((sa.local, sa.remote, bytes.to_vec()));
            }
        }
    }

    /// Takes one fragment datagram (non-ESP marker already stripped) and
    /// returns the whole message once its last missing fragment arrived.
    pub(super) fn reassemble(
        &mut self,
        now: Instant,
        remote: SocketAddr,
        data: &[u8],
    ) -> Option<Vec<u8>> {
        self.stats.fragments_in += 1;
        let wanted = self
            .config
            .peer_for(remote.ip())
            .is_some_and(|(_, p)| p.fragmentation != Fragmentation::Off);
        if !wanted {
            self.fragment_dropped(&"fragmentation is off for this peer");
            return None;
        }
        let Ok(parsed) = Header::parse(data) else {
            self.fragment_dropped(&"no ISAKMP header");
            return None;
        };
        let pool = if self.find_sa(&parsed.header).is_some() {
            &mut self.reassembler.known
        } else if parsed.header.responder_cookie.is_zero() {
            &mut self.reassembler.first
        } else {
            self.fragment_dropped(&"no ISAKMP SA with these cookies");
            return None;
        };
        match pool.handle(now, remote, data) {
            Ok(ReassemblyOutcome::Pending | ReassemblyOutcome::Duplicate) => None,
            // A message made of fragments of fragments is nobody's.
            Ok(ReassemblyOutcome::Complete(whole))
                if Reassembler::<SocketAddr>::is_fragment(&whole) =>
            {
                self.fragment_dropped(&"reassembled message is itself a fragment");
                None
            }
            Ok(ReassemblyOutcome::Complete(whole)) => {
                self.stats.messages_reassembled += 1;
                tracing::debug!(%remote, len = whole.len(), "IKE message reassembled from fragments");
                Some(whole)
            }
            Err(e) => {
                self.fragment_dropped(&e);
                None
            }
        }
    }

    fn fragment_dropped(&mut self, reason: &dyn core::fmt::Display) {
        self.stats.fragments_dropped += 1;
        tracing::debug!(%reason, "IKE fragment dropped");
    }
}
