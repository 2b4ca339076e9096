//! The Sans-IO IKEv1 endpoint: owns every ISAKMP SA and is driven only by
//! its caller (quinn-proto's shape).
//!
//! Inputs: [`Endpoint::handle_datagram`], [`Endpoint::handle_timeout`],
//! [`Endpoint::initiate`] (the analogue of a kernel ACQUIRE) and
//! [`Endpoint::delete`]. Outputs, drained in this order after every input:
//! [`Endpoint::poll_transmit`] until `None`, then [`Endpoint::poll_timeout`],
//! then [`Endpoint::poll_event`] until `None`.
//!
//! `now` must never go backwards. Malformed, unexpected or unauthenticated
//! input is counted in [`Endpoint::stats`] and dropped; it is never an error
//! returned to the I/O loop.

mod event;
mod fragmentation;
pub mod fuzzing;
mod phase2;

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use rand_core::CryptoRngCore;

pub use event::{
    ChildSa, ChildSaId, DownReason, EndpointStats, Event, FailureReason, IkeSaHandle,
    InitiateError, IpcompSa, Phase, SaKeys, Transmit,
};

use crate::config::{ChildPolicy, EndpointConfig, ExchangeMode, NatTraversal, canonical};
use crate::exchange::aggressive_mode;
use crate::exchange::main_mode::{self, DropKind, Phase1Ctx, Phase1State, Step};
use crate::exchange::nat::{self, NAT_T_PORT, NatDetection, NatVariant};
use crate::timer::{Retransmission, Timer, TimerTable};
use crate::wire::{
    Cookie, ExchangeType, Header, Message, MessageId, Notification, PayloadBody, PayloadType,
    ProtocolId,
};

/// Our role in an ISAKMP SA's Phase 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Initiator,
    Responder,
}

/// One ISAKMP SA and what hangs off it.
struct IkeSa {
    handle: IkeSaHandle,
    role: Role,
    /// Main or Aggressive Mode.
    mode: ExchangeMode,
    peer_index: usize,
    local: SocketAddr,
    remote: SocketAddr,
    cky_i: Cookie,
    cky_r: Cookie,
    state: Phase1State,
    timers: TimerTable,
    /// Our last Phase 1 message, for resends and for answering duplicates.
    last_sent: Option<Retransmission>,
    /// The peer's last Phase 1 message as received, to recognise duplicates.
    last_received: Option<Vec<u8>>,
    /// Child policies waiting for Phase 1 to complete.
    pending_children: Vec<ChildPolicy>,
    /// Encrypted messages that did not decrypt or verify in this negotiation.
    bad_hashes: u32,
    started: Instant,
    /// Quick Modes by message ID.
    quick: BTreeMap<u32, phase2::QuickMode>,
    /// IPsec SA pairs negotiated under this SA.
    children: Vec<phase2::ChildRecord>,
    /// Pairs whose responder set the commit bit, held until its CONNECTED.
    held: Vec<phase2::HeldChild>,
    /// Phase 1 lifetime is over; kept only while its children live.
    expired: bool,
    /// When Phase 1 completed.
    established_at: Option<Instant>,
    /// The type of an unauthenticated error notify the peer sent.
    peer_hint: Option<String>,
    /// NAT-T dialect both sides announced.
    nat: Option<NatVariant>,
    /// What NAT-D showed.
    nat_detection: Option<NatDetection>,
    /// IKE moved to port 4500 (RFC 3947 §4); ESP is UDP-encapsulated.
    floated: bool,
    /// Our last DPD sequence number.
    dpd_sequence: Option<u32>,
    /// Message IDs of Quick Modes already over, so a replay starts none.
    finished_quick: phase2::FinishedMessageIds,
    /// Whether the peer takes fragments, and our current fragment ID.
    fragments: fragmentation::SaFragmentation,
}

impl IkeSa {
    fn next_timeout(&self) -> Option<Instant> {
        let resend = self.last_sent.as_ref().and_then(|r| r.next);
        [
            resend,
            self.timers.next_timeout(),
            self.phase2_next_timeout(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    fn half_open(&self) -> bool {
        self.role == Role::Responder && self.state.established().is_none()
    }
}

/// The IKEv1 endpoint.
pub struct Endpoint {
    config: Arc<EndpointConfig>,
    rng: Box<dyn CryptoRngCore + Send>,
    sas: BTreeMap<IkeSaHandle, IkeSa>,
    next_handle: u64,
    transmits: VecDeque<(SocketAddr, SocketAddr, Vec<u8>)>,
    events: VecDeque<Event>,
    stats: EndpointStats,
    /// Digests of first messages we refused, so their retransmissions are
    /// dropped quietly instead of failing again (bounded).
    refused: VecDeque<[u8; 20]>,
    /// Fragments waiting for the rest of their message, per peer address.
    reassembler: fragmentation::Reassembly,
    /// An `Instant` and the wall-clock time it corresponds to, for
    /// certificate validity (see [`Endpoint::set_wall_clock`]).
    wall_clock: Option<(Instant, crate::auth::UnixTime)>,
}

/// The four zero bytes before IKE on port 4500 (RFC 3948 §2.2).
const NON_ESP_MARKER: [u8; 4] = [0; 4];
/// The NAT-keepalive payload (RFC 3948 §2.3).
const NAT_KEEPALIVE: u8 = 0xff;

/// Where `sa` sends to: our address, the peer's, and whether IKE floated.
type Path = (SocketAddr, SocketAddr, bool);

/// A message for `sa` arrived on port 4500: IKE may have floated, and the
/// source may be where the peer's NAT now maps it. The move is tentative:
/// the returned old path must be put back with [`undo_float`] unless the
/// message authenticates (RFC 3947 §5.2, RFC 3948 §5.1; a forged datagram
/// must not redirect our traffic).
fn follow_float(sa: &mut IkeSa, local: SocketAddr, remote: SocketAddr) -> Option<Path> {
    if local.port() != NAT_T_PORT || sa.nat.is_none() {
        return None;
    }
    let old = (sa.local, sa.remote, sa.floated);
    sa.local = local;
    sa.remote = remote;
    sa.floated = true;
    (old != (sa.local, sa.remote, sa.floated)).then_some(old)
}

/// Puts back the path a tentative [`follow_float`] replaced.
fn undo_float(sa: &mut IkeSa, old: Option<Path>) {
    if let Some((local, remote, floated)) = old {
        sa.local = local;
        sa.remote = remote;
        sa.floated = floated;
    }
}

/// Why an input was dropped: the stats counter it feeds and the debug log.
#[derive(Debug, Clone, Copy)]
enum Dropped {
    /// No SA or state wanted it.
    Unexpected,
    /// It did not parse.
    Malformed,
    /// It did not decrypt or its HASH did not verify.
    BadHash,
    /// An Informational that did not authenticate.
    Unauthenticated,
    /// A new responder SA over the half-open cap.
    HalfOpenCap,
}

impl Dropped {
    fn reason(self) -> &'static str {
        match self {
            Self::Unexpected => "unexpected (no SA or exchange state wants it)",
            Self::Malformed => "malformed",
            Self::BadHash => "did not decrypt or HASH mismatch",
            Self::Unauthenticated => "unauthenticated informational",
            Self::HalfOpenCap => "half-open ISAKMP SA cap reached",
        }
    }
}

/// The wall-clock time at `now`, given the pair recorded by
/// [`Endpoint::set_wall_clock`] (`None` if it never was).
fn wall_clock_at(
    clock: Option<(Instant, crate::auth::UnixTime)>,
    now: Instant,
) -> Option<crate::auth::UnixTime> {
    let (base, unix) = clock?;
    let at = core::time::Duration::from_secs(unix.as_secs());
    let at = if now >= base {
        at.saturating_add(now.saturating_duration_since(base))
    } else {
        at.saturating_sub(base.saturating_duration_since(now))
    };
    Some(crate::auth::UnixTime::since_unix_epoch(at))
}

/// How many refused first messages are remembered.
const REFUSED_MEMORY: usize = 32;

impl core::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Endpoint")
            .field("sas", &self.sas.len())
            .field("stats", &self.stats)
            .finish()
    }
}

impl Endpoint {
    /// An endpoint with `config`, drawing cookies, nonces, SPIs and DH
    /// secrets from `rng`.
    pub fn new(config: Arc<EndpointConfig>, rng: Box<dyn CryptoRngCore + Send>) -> Self {
        let reassembly = config.reassembly;
        Self {
            config,
            rng,
            sas: BTreeMap::new(),
            next_handle: 1,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            stats: EndpointStats::default(),
            refused: VecDeque::new(),
            reassembler: fragmentation::Reassembly::new(reassembly),
            wall_clock: None,
        }
    }

    /// Tells the endpoint that `now` is `unix` in wall-clock time. The
    /// engine reads no clock; it derives the wall-clock time of later
    /// instants from this pair, to check certificate validity (RSA-signature
    /// peers with `verify_cert`). Call it before the first such Phase 1 and
    /// again whenever the system clock is corrected. Until it is called,
    /// certificate peers fail with "wall-clock time not set".
    pub fn set_wall_clock(&mut self, now: Instant, unix: crate::auth::UnixTime) {
        self.wall_clock = Some((now, unix));
    }

    /// What was dropped or refused so far.
    pub fn stats(&self) -> EndpointStats {
        self.stats
    }

    /// The configuration.
    pub fn config(&self) -> &EndpointConfig {
        &self.config
    }

    /// Starts Phase 1 with the peer at `remote` (if no ISAKMP SA is
    /// established or negotiating), and queues `child` for Quick Mode.
    pub fn initiate(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        child: ChildPolicy,
    ) -> Result<IkeSaHandle, InitiateError> {
        let config = Arc::clone(&self.config);
        let (peer_index, peer) = config
            .peer_for(remote.ip())
            .ok_or(InitiateError::UnknownPeer(remote))?;
        if peer.proposals.is_empty() {
            return Err(InitiateError::NoProposals(remote));
        }
        if let Some(handle) = self.established_for(remote, peer_index) {
            if let Some(mut sa) = self.sas.remove(&handle) {
                self.start_quick(now, &mut sa, &child, None);
                self.sas.insert(handle, sa);
            }
            return Ok(handle);
        }
        if let Some(sa) = self.sas.values_mut().find(|s| {
            phase2::is_same_peer(s, remote, peer_index)
                && s.role == Role::Initiator
                && s.state.established().is_none()
        }) {
            sa.pending_children.push(child);
            return Ok(sa.handle);
        }
        self.start_phase1(now, local, remote, vec![child])
    }

    /// Starts a new Phase 1 with `remote` as initiator, whatever SAs exist
    /// with it, with `pending` queued for Quick Mode.
    fn start_phase1(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        pending: Vec<ChildPolicy>,
    ) -> Result<IkeSaHandle, InitiateError> {
        let config = Arc::clone(&self.config);
        let (peer_index, peer) = config
            .peer_for(remote.ip())
            .ok_or(InitiateError::UnknownPeer(remote))?;
        let handle = self.alloc_handle();
        let cky_i = self.cookie();
        let mut ctx = Phase1Ctx {
            rng: &mut *self.rng,
            config: &config,
            peer,
            local,
            remote,
            cky_i,
            cky_r: Cookie::ZERO,
            first_contact: false,
            exchange: match peer.exchange_mode {
                ExchangeMode::Main => ExchangeType::MAIN_MODE,
                ExchangeMode::Aggressive => ExchangeType::AGGRESSIVE,
            },
            peer_claim: None,
            nat: None,
            nat_result: None,
            wall_clock: wall_clock_at(self.wall_clock, now),
        };
        let started = match peer.exchange_mode {
            ExchangeMode::Main => main_mode::initiate(&mut ctx),
            ExchangeMode::Aggressive => {
                // AM1 carries IDii and AM3 may carry INITIAL-CONTACT: decide now.
                ctx.first_contact = peer.initial_contact
                    && !self
                        .sas
                        .values()
                        .any(|s| canonical(s.remote.ip()) == canonical(remote.ip()));
                self.stats.dh_operations += 1;
                aggressive_mode::initiate(&mut ctx)
            }
        };
        let (state, bytes) = started.ok_or(InitiateError::NoProposals(remote))?;
        let mut sa = IkeSa {
            handle,
            role: Role::Initiator,
            mode: peer.exchange_mode,
            peer_index,
            local,
            remote,
            cky_i,
            cky_r: Cookie::ZERO,
            state,
            timers: TimerTable::default(),
            last_sent: None,
            last_received: None,
            pending_children: pending,
            bad_hashes: 0,
            started: now,
            quick: BTreeMap::new(),
            children: Vec::new(),
            held: Vec::new(),
            expired: false,
            established_at: None,
            peer_hint: None,
            nat: None,
            nat_detection: None,
            floated: false,
            dpd_sequence: None,
            finished_quick: phase2::FinishedMessageIds::default(),
            fragments: fragmentation::SaFragmentation::default(),
        };
        sa.timers
            .set(Timer::NegotiationTimeout, now + config.phase1_timeout);
        self.send(&mut sa, now, bytes, true);
        self.sas.insert(handle, sa);
        Ok(handle)
    }

    /// Deletes an ISAKMP SA and every IPsec SA pair under it, telling the
    /// peer with authenticated Deletes (RFC 2408 §3.15): the IPsec SAs
    /// first, then the ISAKMP SA.
    pub fn delete(&mut self, now: Instant, sa: IkeSaHandle) -> Result<(), InitiateError> {
        let _ = now;
        let mut s = self.sas.remove(&sa).ok_or(InitiateError::NoSuchSa)?;
        let ids: Vec<ChildSaId> = s.children.iter().map(|c| c.id).collect();
        for id in ids {
            self.delete_child_in(&mut s, id, true);
        }
        if s.state.established().is_some() && !s.expired {
            let payload = crate::exchange::informational::delete_isakmp(s.cky_i, s.cky_r);
            self.send_informational(&mut s, vec![payload]);
            self.events.push_back(Event::Phase1Down {
                sa,
                remote: s.remote,
                reason: DownReason::DeletedLocally,
            });
        }
        Ok(())
    }

    /// Feeds one received UDP payload, as received. On port 4500 (NAT-T)
    /// IKE messages start with the 4-byte non-ESP marker, which is checked
    /// and stripped here; NAT-keepalives are ignored, and ESP (a non-zero
    /// SPI where the marker would be) belongs to the data path and is
    /// counted as unexpected (RFC 3948 §2.2).
    pub fn handle_datagram(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        data: &[u8],
    ) {
        self.stats.datagrams_in += 1;
        let data = if local.port() == NAT_T_PORT {
            match data.split_first_chunk::<4>() {
                Some((&NON_ESP_MARKER, ike)) => ike,
                // A NAT-keepalive, or ESP for the data path: not ours.
                _ => {
                    if data != [NAT_KEEPALIVE] {
                        self.dropped(Dropped::Unexpected);
                    }
                    return;
                }
            }
        } else {
            data
        };
        let reassembled;
        let data = if crate::fragment::Reassembler::<SocketAddr>::is_fragment(data) {
            reassembled = self.reassemble(now, remote, data);
            match reassembled.as_deref() {
                Some(whole) => whole,
                None => return,
            }
        } else {
            data
        };
        let Ok(msg) = Message::parse(data) else {
            self.dropped(Dropped::Malformed);
            return;
        };
        let h = msg.header;
        match h.exchange_type {
            ExchangeType::MAIN_MODE | ExchangeType::AGGRESSIVE => {
                self.handle_phase1(now, local, remote, data, &msg)
            }
            ExchangeType::QUICK_MODE | ExchangeType::INFORMATIONAL => {
                self.handle_protected(now, local, remote, &msg.header, data, &msg)
            }
            _ => self.dropped(Dropped::Unexpected),
        }
    }

    fn find_sa(&self, h: &Header) -> Option<IkeSaHandle> {
        self.sas
            .values()
            .find(|s| {
                s.cky_i == h.initiator_cookie
                    && (s.cky_r == h.responder_cookie
                        || (s.cky_r.is_zero() && s.role == Role::Initiator))
            })
            .map(|s| s.handle)
    }

    fn handle_phase1(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        data: &[u8],
        msg: &Message,
    ) {
        let h = msg.header;
        let handle = match self.find_sa(&h) {
            Some(handle) => handle,
            None if h.responder_cookie.is_zero() && !msg.is_encrypted() => {
                match self.new_responder(now, local, remote, data, msg) {
                    Some(handle) => handle,
                    None => return,
                }
            }
            None => {
                self.dropped(Dropped::Unexpected);
                return;
            }
        };
        let Some(mut sa) = self.sas.remove(&handle) else {
            return;
        };
        // A retransmission of the peer's last message: answer with our cached
        // reply, byte for byte (the IV chain must not move).
        if sa.last_received.as_deref() == Some(data) {
            if let Some(last) = sa.last_sent.as_ref().map(|r| r.bytes.clone()) {
                self.stats.retransmits_answered += 1;
                self.queue_phase1(&sa, &last);
            } else {
                self.dropped(Dropped::Unexpected);
            }
            self.sas.insert(handle, sa);
            return;
        }
        if sa.state.established().is_some() {
            self.dropped(Dropped::Unexpected);
            self.sas.insert(handle, sa);
            return;
        }
        if sa.role == Role::Initiator && sa.cky_r.is_zero() {
            sa.cky_r = h.responder_cookie;
        }
        let config = Arc::clone(&self.config);
        let Some(peer) = config.peers.get(sa.peer_index) else {
            return;
        };
        let first_contact = peer.initial_contact && !self.has_other_sa_with(&sa);
        sa.fragments.note_peer_message(msg);
        if sa.role == Role::Initiator && sa.nat.is_none() && peer.nat_traversal != NatTraversal::Off
        {
            sa.nat = msg.payloads().and_then(nat::variant_of);
        }
        let old_path = follow_float(&mut sa, local, remote);
        let mut ctx = Phase1Ctx {
            rng: &mut *self.rng,
            config: &config,
            peer,
            local: sa.local,
            remote: sa.remote,
            cky_i: sa.cky_i,
            cky_r: sa.cky_r,
            first_contact,
            exchange: h.exchange_type,
            peer_claim: None,
            nat: sa.nat,
            nat_result: None,
            wall_clock: wall_clock_at(self.wall_clock, now),
        };
        let state = core::mem::replace(&mut sa.state, Phase1State::Dead);
        // The states whose handling generates a DH key or the shared secret.
        if matches!(
            state,
            Phase1State::ExpectMm2(_)
                | Phase1State::ExpectMm3(_)
                | Phase1State::ExpectMm4(_)
                | Phase1State::ExpectAm2(_)
        ) {
            self.stats.dh_operations += 1;
        }
        let step = state.handle(&mut ctx, msg);
        let nat_result = ctx.nat_result;
        match step {
            Step::Next {
                next,
                reply,
                expect_reply,
            } => {
                sa.state = next;
                sa.last_received = Some(data.to_vec());
                // Only the message that authenticates the peer (MM5, MM6,
                // AM3) may move it; earlier ones are unauthenticated.
                if sa.state.established().is_none() {
                    undo_float(&mut sa, old_path);
                }
                if nat_result.is_some() {
                    sa.nat_detection = nat_result;
                }
                // RFC 3947 §4: the initiator moves to 4500 with MM5 once a NAT
                // is seen (or always, with `nat_traversal force`).
                let force = peer.nat_traversal == NatTraversal::Force;
                if sa.role == Role::Initiator
                    && !sa.floated
                    && sa.nat.is_some()
                    && (nat_result.is_some_and(NatDetection::any) || force && nat_result.is_some())
                {
                    sa.local.set_port(NAT_T_PORT);
                    sa.remote.set_port(NAT_T_PORT);
                    sa.floated = true;
                }
                if let Some(bytes) = reply {
                    self.send(&mut sa, now, bytes, expect_reply);
                } else {
                    sa.last_sent = None;
                }
                if sa.state.established().is_some() {
                    self.on_established(now, &mut sa);
                }
                self.sas.insert(handle, sa);
            }
            Step::Drop(state, kind) => {
                sa.state = state;
                undo_float(&mut sa, old_path);
                match kind {
                    DropKind::Malformed => self.dropped(Dropped::Malformed),
                    DropKind::BadHash => {
                        self.dropped(Dropped::BadHash);
                        sa.bad_hashes = sa.bad_hashes.saturating_add(1);
                    }
                }
                self.sas.insert(handle, sa);
            }
            Step::Fail(reason) => {
                undo_float(&mut sa, old_path);
                self.fail(&sa, Phase::One, reason);
            }
            Step::FailNotify(reason, notify) => {
                // The refusal, encrypted under the keys this Phase 1 derived.
                undo_float(&mut sa, old_path);
                self.transmits.push_back((sa.local, sa.remote, notify));
                self.fail(&sa, Phase::One, reason);
            }
        }
    }

    fn new_responder(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        data: &[u8],
        msg: &Message,
    ) -> Option<IkeSaHandle> {
        let config = Arc::clone(&self.config);
        let Some((peer_index, peer)) = config.peer_for(remote.ip()) else {
            self.dropped(Dropped::Unexpected);
            return None;
        };
        // Half-open cap: refuse before any proposal or DH work.
        let half_open = self.sas.values().filter(|s| s.half_open()).count();
        if half_open >= config.max_half_open {
            self.dropped(Dropped::HalfOpenCap);
            return None;
        }
        let digest: [u8; 20] = crate::crypto::HashAlgorithm::Sha1
            .hash(&[data])
            .try_into()
            .unwrap_or([0; 20]);
        if self.refused.contains(&digest) {
            self.stats.retransmits_answered += 1;
            return None;
        }
        let handle = self.alloc_handle();
        let cky_r = self.cookie();
        let cky_i = msg.header.initiator_cookie;
        let nat = if peer.nat_traversal == NatTraversal::Off {
            None
        } else {
            msg.payloads().and_then(nat::variant_of)
        };
        let mut ctx = Phase1Ctx {
            rng: &mut *self.rng,
            config: &config,
            peer,
            local,
            remote,
            cky_i,
            cky_r,
            first_contact: false,
            exchange: msg.header.exchange_type,
            peer_claim: None,
            nat,
            nat_result: None,
            wall_clock: wall_clock_at(self.wall_clock, now),
        };
        let mode = if msg.header.exchange_type == ExchangeType::AGGRESSIVE {
            ExchangeMode::Aggressive
        } else {
            ExchangeMode::Main
        };
        if !peer.accept_modes.contains(&mode) {
            self.dropped(Dropped::Unexpected);
            return None;
        }
        if mode == ExchangeMode::Aggressive {
            self.stats.dh_operations += 1;
        }
        let step = match mode {
            ExchangeMode::Main => main_mode::respond(&mut ctx, msg),
            ExchangeMode::Aggressive => aggressive_mode::respond(&mut ctx, msg),
        };
        match step {
            Step::Next {
                next,
                reply,
                expect_reply,
            } => {
                let mut sa = IkeSa {
                    handle,
                    role: Role::Responder,
                    mode,
                    peer_index,
                    local,
                    remote,
                    cky_i,
                    cky_r,
                    state: next,
                    timers: TimerTable::default(),
                    last_sent: None,
                    last_received: None,
                    pending_children: Vec::new(),
                    bad_hashes: 0,
                    started: now,
                    quick: BTreeMap::new(),
                    children: Vec::new(),
                    held: Vec::new(),
                    expired: false,
                    established_at: None,
                    peer_hint: None,
                    nat,
                    nat_detection: None,
                    floated: local.port() == NAT_T_PORT,
                    dpd_sequence: None,
                    finished_quick: phase2::FinishedMessageIds::default(),
                    fragments: fragmentation::SaFragmentation::default(),
                };
                sa.fragments.note_peer_message(msg);
                sa.timers
                    .set(Timer::NegotiationTimeout, now + config.phase1_timeout);
                if let Some(bytes) = reply {
                    self.send(&mut sa, now, bytes, expect_reply);
                }
                // A resent MM1 must find MM2 cached, not start a second SA.
                sa.last_received = Some(data.to_vec());
                self.sas.insert(handle, sa);
                None
            }
            Step::Drop(_, _) => {
                self.dropped(Dropped::Malformed);
                None
            }
            Step::Fail(reason) | Step::FailNotify(reason, _) => {
                if self.refused.len() == REFUSED_MEMORY {
                    self.refused.pop_front();
                }
                self.refused.push_back(digest);
                // Tell the initiator in clear (no keys exist yet); it must not
                // act on this, but it can show the reason to its user.
                if let Some(ty) = reason.notify_type() {
                    let n = Notification::new(ty, ProtocolId::ISAKMP, Vec::new(), Vec::new());
                    let header =
                        Header::new(cky_i, cky_r, ExchangeType::INFORMATIONAL, MessageId(0));
                    if let Some(bytes) = n
                        .to_payload()
                        .ok()
                        .and_then(|p| Message::new(header, vec![p]).to_bytes().ok())
                    {
                        self.transmits.push_back((local, remote, bytes));
                    }
                }
                // The same line as `fail` writes: the mismatch is what people read.
                tracing::info!(remote = %remote, phase = ?Phase::One, %reason, "negotiation failed");
                self.events.push_back(Event::NegotiationFailed {
                    sa: handle,
                    remote,
                    phase: Phase::One,
                    reason,
                });
                None
            }
        }
    }

    /// An unencrypted notify about a Phase 1 we are negotiating: remember its
    /// type for the failure message, act on nothing (RFC 2408 §5.5 leaves
    /// unprotected notifies untrusted).
    fn note_unauthenticated(&mut self, h: &Header, msg: &Message) {
        self.dropped(Dropped::Unauthenticated);
        // An encrypted one is what a peer whose PSK differs sends after MM5
        // (strongSwan does): its keys are not ours, so we cannot read it.
        // After MM5/MM6/AM2 both sides hold the keys, and a peer that
        // refused our certificate or SIG says why in one we can read.
        let hint = if msg.is_encrypted() {
            let readable = self
                .sas
                .values_mut()
                .find(|s| s.cky_i == h.initiator_cookie && s.state.established().is_none())
                .and_then(|sa| sa.state.refusal_notify(msg));
            match readable {
                Some(ty) => ty.name().map_or_else(|| ty.0.to_string(), str::to_owned),
                None => "encrypted notify that did not decrypt".to_owned(),
            }
        } else {
            let Some(n) = msg
                .find(PayloadType::NOTIFICATION)
                .and_then(|p| Notification::parse_body(&p.body).ok())
            else {
                return;
            };
            n.notify_type
                .name()
                .map_or_else(|| n.notify_type.0.to_string(), str::to_owned)
        };
        if let Some(sa) = self
            .sas
            .values_mut()
            .find(|s| s.cky_i == h.initiator_cookie && s.state.established().is_none())
        {
            sa.peer_hint = Some(hint);
        }
    }

    fn on_established(&mut self, now: Instant, sa: &mut IkeSa) {
        sa.established_at = Some(now);
        sa.timers.stop(Timer::NegotiationTimeout);
        let Some(est) = sa.state.established() else {
            return;
        };
        let lifetime = est.proposal.lifetime;
        sa.timers.set(Timer::HardExpiry, now + lifetime.duration());
        // The initiator re-establishes Phase 1 at 90% of its lifetime
        // (make-before-break; see `rekey_phase1`).
        if sa.role == Role::Initiator {
            sa.timers
                .set(Timer::SoftExpiry, now + lifetime.duration() * 9 / 10);
        }
        if est.initial_contact {
            self.drop_others_with_peer(sa);
        }
        // Behind a NAT we keep its mapping alive (RFC 3948 §2.3).
        if sa.floated && sa.nat_detection.is_some_and(|d| d.local_behind) {
            sa.timers
                .set(Timer::NatKeepalive, now + self.config.nat_keepalive);
        }
        self.start_pending(now, sa);
        let Some(est) = sa.state.established() else {
            return;
        };
        tracing::info!(
            remote = %sa.remote,
            peer_id = %est.peer_id,
            initiator = sa.role == Role::Initiator,
            "ISAKMP-SA established"
        );
        self.events.push_back(Event::Phase1Up {
            sa: sa.handle,
            remote: sa.remote,
            peer_id: est.peer_id.clone(),
            transform: est.proposal,
            initiator: sa.role == Role::Initiator,
            cookies: (sa.cky_i.0, sa.cky_r.0),
        });
        if sa.role == Role::Initiator {
            self.replace_older_phase1(sa);
        }
    }

    /// Whether any other SA (even an expired one still holding IPsec SAs)
    /// exists with `sa`'s peer. `sa` itself is out of the table here.
    fn has_other_sa_with(&self, sa: &IkeSa) -> bool {
        let ip = canonical(sa.remote.ip());
        self.sas.values().any(|s| canonical(s.remote.ip()) == ip)
    }

    /// INITIAL-CONTACT (RFC 2407 §4.6.3.3): the peer has no state from
    /// before, so every other SA with it is stale.
    fn drop_others_with_peer(&mut self, keep: &IkeSa) {
        let stale: Vec<IkeSaHandle> = self
            .sas
            .values()
            .filter(|s| {
                // Only what existed before this negotiation began: an SA
                // from a simultaneous initiation is not stale.
                s.handle != keep.handle
                    && canonical(s.remote.ip()) == canonical(keep.remote.ip())
                    && s.established_at.is_some_and(|t| t < keep.started)
            })
            .map(|s| s.handle)
            .collect();
        for h in stale {
            let Some(s) = self.sas.remove(&h) else {
                continue;
            };
            if s.state.established().is_some() && !s.expired {
                self.events.push_back(Event::Phase1Down {
                    sa: h,
                    remote: s.remote,
                    reason: DownReason::InitialContact,
                });
            }
            for c in s.children {
                self.events.push_back(Event::ChildSaDeleted {
                    child: c.id,
                    inbound_spi: c.inbound_spi,
                    outbound_spi: c.outbound_spi,
                    by_peer: true,
                });
            }
        }
    }

    fn fail(&mut self, sa: &IkeSa, phase: Phase, reason: FailureReason) {
        tracing::info!(remote = %sa.remote, ?phase, %reason, "negotiation failed");
        self.events.push_back(Event::NegotiationFailed {
            sa: sa.handle,
            remote: sa.remote,
            phase,
            reason,
        });
    }

    /// Fires every timer due at `now`. Early calls do nothing.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.reassembler.handle_timeout(now);
        let handles: Vec<IkeSaHandle> = self.sas.keys().copied().collect();
        for handle in handles {
            let Some(mut sa) = self.sas.remove(&handle) else {
                continue;
            };
            let mut keep = true;
            if sa
                .last_sent
                .as_ref()
                .and_then(|r| r.next)
                .is_some_and(|t| t <= now)
            {
                let policy = self.config.retransmit;
                let retry = sa
                    .last_sent
                    .as_mut()
                    .is_some_and(|r| r.on_timeout(now, &policy));
                if retry {
                    if let Some(bytes) = sa.last_sent.as_ref().map(|r| r.bytes.clone()) {
                        self.stats.retransmits_sent += 1;
                        self.queue_phase1(&sa, &bytes);
                    }
                } else if sa.state.established().is_none() {
                    self.give_up_phase1(&sa, FailureReason::Timeout(policy.max_retries));
                    keep = false;
                }
            }
            for timer in sa.timers.expire(now) {
                match timer {
                    Timer::NegotiationTimeout if sa.state.established().is_none() => {
                        let limit = self.config.phase1_timeout;
                        self.give_up_phase1(&sa, FailureReason::NegotiationTimeout(limit));
                        keep = false;
                    }
                    Timer::HardExpiry => {
                        self.events.push_back(Event::Phase1Down {
                            sa: handle,
                            remote: sa.remote,
                            reason: DownReason::Expired,
                        });
                        // IPsec SAs outlive their ISAKMP SA (RFC 2409 §5.5);
                        // a rekey then negotiates a new Phase 1.
                        sa.expired = true;
                        keep = !sa.children.is_empty();
                    }
                    Timer::SoftExpiry => self.rekey_phase1(now, &sa),
                    Timer::NatKeepalive => {
                        self.transmits
                            .push_back((sa.local, sa.remote, vec![NAT_KEEPALIVE]));
                        sa.timers
                            .set(Timer::NatKeepalive, now + self.config.nat_keepalive);
                    }
                    _ => {}
                }
            }
            if keep {
                self.phase2_timeouts(now, &mut sa);
                keep = !(sa.expired && sa.children.is_empty());
            }
            if keep {
                self.sas.insert(handle, sa);
            }
        }
    }

    /// Ends a Phase 1 that ran out of time or resends. A responder that
    /// dropped an AM3 in clear for its SIG reports that refusal (and sends
    /// it, encrypted) rather than a bare timeout.
    fn give_up_phase1(&mut self, sa: &IkeSa, fallback: FailureReason) {
        if let Some(refusal) = sa.state.refused_in_clear() {
            if let Some(notify) = &refusal.notify {
                self.transmits
                    .push_back((sa.local, sa.remote, notify.clone()));
            }
            self.fail(sa, Phase::One, refusal.reason.clone());
            return;
        }
        let reason = self.stall_reason(sa, fallback);
        self.fail(sa, Phase::One, reason);
    }

    /// A stalled negotiation whose encrypted messages never verified almost
    /// always means different pre-shared keys: say so instead of "timeout".
    fn stall_reason(&self, sa: &IkeSa, fallback: FailureReason) -> FailureReason {
        if let Some(reason) = self.psk_mismatch_reason(sa, &fallback) {
            return reason;
        }
        if sa.bad_hashes > 0 && sa.state.uses_signatures() {
            let what = match (sa.mode, sa.role) {
                (ExchangeMode::Main, Role::Responder) => "MM5",
                (ExchangeMode::Main, Role::Initiator) => "MM6",
                (ExchangeMode::Aggressive, Role::Responder) => "AM3",
                (ExchangeMode::Aggressive, Role::Initiator) => "AM2",
            };
            // No configured secret feeds SKEYID here (RFC 2409 §5.1).
            return FailureReason::Protocol(format!(
                "{what} did not decrypt: with RSA signatures the keys come from the DH exchange alone, so the peers derived different SKEYIDs or the message was damaged"
            ));
        }
        if sa.bad_hashes > 0 {
            let what = match (sa.mode, sa.role) {
                (ExchangeMode::Main, Role::Responder) => "MM5 (HASH_I)",
                (ExchangeMode::Main, Role::Initiator) => "MM6 (HASH_R)",
                (ExchangeMode::Aggressive, Role::Responder) => "AM3 (HASH_I)",
                (ExchangeMode::Aggressive, Role::Initiator) => "AM2 (HASH_R)",
            };
            FailureReason::AuthenticationFailed(what)
        } else if let Some(hint) = &sa.peer_hint {
            FailureReason::UnauthenticatedNotify(hint.clone())
        } else {
            fallback
        }
    }

    /// An initiator using pre-shared keys whose peer answered the key
    /// exchange (MM1-MM4, or AM1 with AM2) but never authenticated: the
    /// peer computed other keys from its PSK, so it cannot decrypt MM5 (and
    /// stays silent or sends a notify we cannot read), or its HASH_R does
    /// not verify here. Names the evidence and the peer.
    fn psk_mismatch_reason(&self, sa: &IkeSa, fallback: &FailureReason) -> Option<FailureReason> {
        let peer = self.config.peers.get(sa.peer_index)?;
        let psk = peer
            .proposals
            .iter()
            .all(|p| p.auth == crate::config::AuthMethod::PreSharedKey);
        if sa.role != Role::Initiator || !psk {
            return None;
        }
        let evidence = match (&sa.state, sa.bad_hashes) {
            (Phase1State::ExpectMm6(_), 0) => match (&sa.peer_hint, fallback) {
                (Some(hint), _) => format!(
                    "peer answered MM1-MM4, then sent an unauthenticated {hint} instead of MM6"
                ),
                (None, FailureReason::Timeout(_) | FailureReason::NegotiationTimeout(_)) => {
                    let resent = sa
                        .last_sent
                        .as_ref()
                        .map_or(0, |r| r.sent.saturating_sub(1));
                    format!("no answer to MM5 after {resent} retransmits, peer answered MM1-MM4")
                }
                (None, _) => return None,
            },
            (Phase1State::ExpectMm6(_), n) => {
                format!("MM6 did not decrypt or its HASH_R did not verify ({n} received)")
            }
            (Phase1State::ExpectAm2(_), n) if n > 0 => {
                format!("AM2's HASH_R did not verify ({n} received)")
            }
            _ => return None,
        };
        let ip = canonical(sa.remote.ip());
        Some(FailureReason::PresharedKeyMismatch(format!(
            "{evidence}: the PSK for {ip} likely differs"
        )))
    }

    /// The earliest time [`Endpoint::handle_timeout`] has work to do.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let sas = self.sas.values().filter_map(IkeSa::next_timeout);
        sas.chain(self.reassembler.poll_timeout()).min()
    }

    /// The next datagram to send, written to `buf` (which is cleared first).
    pub fn poll_transmit(&mut self, now: Instant, buf: &mut Vec<u8>) -> Option<Transmit> {
        let _ = now;
        let (local, remote, bytes) = self.transmits.pop_front()?;
        buf.clear();
        // On port 4500 IKE messages carry the non-ESP marker (RFC 3948 §2.2);
        // the one-byte keepalive does not.
        let non_esp_marker = local.port() == NAT_T_PORT && bytes != [NAT_KEEPALIVE];
        if non_esp_marker {
            buf.extend_from_slice(&NON_ESP_MARKER);
        }
        buf.extend_from_slice(&bytes);
        self.stats.datagrams_out += 1;
        Some(Transmit {
            local,
            remote,
            size: buf.len(),
            non_esp_marker,
        })
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    fn send(&mut self, sa: &mut IkeSa, now: Instant, bytes: Vec<u8>, expect_reply: bool) {
        sa.fragments.next_message();
        self.queue_phase1(sa, &bytes);
        sa.last_sent = Some(Retransmission::new(
            bytes,
            now,
            &self.config.retransmit,
            expect_reply,
        ));
    }

    fn dropped(&mut self, why: Dropped) {
        let counter = match why {
            Dropped::Unexpected => &mut self.stats.unexpected,
            Dropped::Malformed => &mut self.stats.malformed,
            Dropped::BadHash => &mut self.stats.bad_hash,
            Dropped::Unauthenticated => &mut self.stats.unauthenticated_notifies,
            Dropped::HalfOpenCap => &mut self.stats.half_open_refused,
        };
        *counter += 1;
        tracing::debug!(reason = why.reason(), "IKE input dropped");
    }

    fn alloc_handle(&mut self) -> IkeSaHandle {
        let h = IkeSaHandle(self.next_handle);
        self.next_handle += 1;
        h
    }

    fn cookie(&mut self) -> Cookie {
        let mut c = [0u8; 8];
        while c == [0; 8] {
            self.rng.fill_bytes(&mut c);
        }
        Cookie(c)
    }
}
