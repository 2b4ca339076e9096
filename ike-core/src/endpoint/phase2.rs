//! The endpoint's Quick Mode, Informational and child SA bookkeeping.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use super::{ChildSa, ChildSaId, DownReason, Endpoint, Event, FailureReason, IkeSa, Phase};
use crate::config::{ChildPolicy, IpsecProtocol, canonical};
use crate::exchange::informational::{self, Request};
use crate::exchange::nat::NatVariant;
use crate::exchange::proposals::Carriage;
use crate::exchange::quick_mode::{self, NegotiatedChild, QuickCtx, QuickState, QuickStep};
use crate::exchange::{Decrypted, Phase1Session};
use crate::timer::Retransmission;
use crate::wire::{Header, Message, MessageBody, NotifyType};

/// One Quick Mode in progress (or just finished, kept to answer duplicates).
pub(super) struct QuickMode {
    pub(super) state: QuickState,
    pub(super) last_sent: Option<Retransmission>,
    pub(super) last_received: Option<Vec<u8>>,
    /// Give up at this time.
    pub(super) deadline: Instant,
    /// Keep the finished exchange until then, to answer retransmissions.
    pub(super) linger_until: Option<Instant>,
    /// The child this Quick Mode replaces (a rekey).
    pub(super) rekey_of: Option<ChildSaId>,
    /// Whether we sent QM1.
    pub(super) initiator: bool,
}

/// An established IPsec SA pair.
pub(super) struct ChildRecord {
    pub(super) id: ChildSaId,
    /// ESP or AH: what a Delete for it names (RFC 2408 §3.15).
    pub(super) protocol: IpsecProtocol,
    pub(super) inbound_spi: u32,
    pub(super) outbound_spi: u32,
    pub(super) policy: ChildPolicy,
    pub(super) initiator: bool,
    pub(super) soft_at: Instant,
    pub(super) hard_at: Instant,
    pub(super) soft_fired: bool,
}

/// A negotiated pair whose responder set the commit bit: not reported up
/// (and not to be used) until its CONNECTED arrives.
pub(super) struct HeldChild {
    pub(super) child: NegotiatedChild,
    pub(super) rekey_of: Option<ChildSaId>,
    /// Give up waiting for CONNECTED at this time.
    pub(super) deadline: Instant,
}

/// The message IDs of the last [`FinishedMessageIds::CAPACITY`] Quick Modes
/// that ended on an ISAKMP SA. Once an exchange's state is dropped, a replay
/// of its first message would otherwise be answered as a new Quick Mode
/// (RFC 2408 §3.1: a Message ID names one exchange of the SA).
#[derive(Debug, Default)]
pub(super) struct FinishedMessageIds(std::collections::VecDeque<u32>);

impl FinishedMessageIds {
    /// Bounded: the oldest ID is forgotten first.
    const CAPACITY: usize = 64;

    fn insert(&mut self, mid: u32) {
        if self.0.len() >= Self::CAPACITY {
            self.0.pop_front();
        }
        self.0.push_back(mid);
    }

    fn contains(&self, mid: u32) -> bool {
        self.0.contains(&mid)
    }
}

impl IkeSa {
    /// Drops the Quick Mode `mid` and remembers that its message ID is used.
    fn end_quick(&mut self, mid: u32) {
        if self.quick.remove(&mid).is_some() {
            self.finished_quick.insert(mid);
        }
    }

    pub(super) fn phase2_next_timeout(&self) -> Option<Instant> {
        let qms = self.quick.values().flat_map(|q| {
            [
                q.last_sent.as_ref().and_then(|r| r.next),
                Some(q.deadline).filter(|_| q.linger_until.is_none()),
                q.linger_until,
            ]
        });
        let children = self
            .children
            .iter()
            .flat_map(|c| [(!c.soft_fired).then_some(c.soft_at), Some(c.hard_at)]);
        let held = self.held.iter().map(|h| Some(h.deadline));
        qms.chain(children).chain(held).flatten().min()
    }

    /// Over (lifetime or replaced) and holding no pair: nothing keeps it.
    pub(super) fn retired(&self) -> bool {
        self.expired && self.children.is_empty()
    }

    fn session(&mut self) -> Option<&mut Phase1Session> {
        self.state.established_mut().map(|e| &mut e.session)
    }
}

impl Endpoint {
    fn quick_ctx<'a>(
        rng: &'a mut (dyn rand_core::CryptoRngCore + Send),
        peer: &'a crate::config::PeerConfig,
        sa: &'a mut IkeSa,
        nonce_len: usize,
    ) -> Option<QuickCtx<'a>> {
        let carriage = match (sa.floated, sa.nat) {
            (false, _) => Carriage::Plain,
            (true, Some(NatVariant::Draft)) => Carriage::UdpDraft,
            (true, _) => Carriage::Udp,
        };
        let (cky_i, cky_r) = (sa.cky_i, sa.cky_r);
        let (local, remote) = (sa.local.ip(), sa.remote.ip());
        let nat_detected = sa
            .nat_detection
            .is_some_and(crate::exchange::nat::NatDetection::any)
            || peer.nat_traversal == crate::config::NatTraversal::Force;
        Some(QuickCtx {
            rng,
            peer,
            session: sa.session()?,
            cky_i,
            cky_r,
            nonce_len,
            carriage,
            nat_detected,
            commit: false,
            local,
            remote,
        })
    }

    fn message_id(&mut self, sa: &IkeSa) -> u32 {
        loop {
            let mid = self.rng.next_u32();
            if mid != 0 && !sa.quick.contains_key(&mid) && !sa.finished_quick.contains(mid) {
                return mid;
            }
        }
    }

    /// Starts a Quick Mode on an established ISAKMP SA.
    pub(super) fn start_quick(
        &mut self,
        now: Instant,
        sa: &mut IkeSa,
        policy: &ChildPolicy,
        rekey_of: Option<ChildSaId>,
    ) {
        let config = Arc::clone(&self.config);
        let Some(peer) = config.peers.get(sa.peer_index) else {
            return;
        };
        let mid = self.message_id(sa);
        let Some(mut ctx) = Self::quick_ctx(&mut *self.rng, peer, sa, config.nonce_len) else {
            return;
        };
        let (state, bytes) = match quick_mode::initiate(&mut ctx, mid, policy) {
            Ok(Some((state, bytes, _spi))) => (state, bytes),
            Ok(None) => {
                self.fail(
                    sa,
                    Phase::Two,
                    FailureReason::Protocol("could not build QM1".into()),
                );
                return;
            }
            Err(reason) => {
                self.fail(sa, Phase::Two, reason);
                return;
            }
        };
        self.transmits
            .push_back((sa.local, sa.remote, bytes.clone()));
        sa.quick.insert(
            mid,
            QuickMode {
                state,
                last_sent: Some(Retransmission::new(bytes, now, &config.retransmit, true)),
                last_received: None,
                deadline: now + config.phase2_timeout,
                linger_until: None,
                rekey_of,
                initiator: true,
            },
        );
    }

    /// Starts the Quick Modes queued while Phase 1 was negotiating.
    pub(super) fn start_pending(&mut self, now: Instant, sa: &mut IkeSa) {
        for policy in core::mem::take(&mut sa.pending_children) {
            self.start_quick(now, sa, &policy, None);
        }
    }

    fn decrypt(sa: &mut IkeSa, msg: &Message) -> Option<Decrypted> {
        let MessageBody::Encrypted {
            first_payload,
            ciphertext,
        } = &msg.body
        else {
            return None;
        };
        let mid = msg.header.message_id.0;
        sa.session()?.open(mid, *first_payload, ciphertext)
    }

    pub(super) fn handle_quick(
        &mut self,
        now: Instant,
        sa: &mut IkeSa,
        data: &[u8],
        msg: &Message,
    ) -> bool {
        let mid = msg.header.message_id.0;
        if let Some(qm) = sa.quick.get(&mid)
            && qm.last_received.as_deref() == Some(data)
        {
            if let Some(last) = &qm.last_sent {
                self.stats.retransmits_answered += 1;
                self.transmits
                    .push_back((sa.local, sa.remote, last.bytes.clone()));
            }
            return false;
        }
        if !sa.quick.contains_key(&mid) && sa.finished_quick.contains(mid) {
            self.dropped(super::Dropped::Unexpected);
            return false;
        }
        let in_progress = sa
            .quick
            .values()
            .filter(|q| q.linger_until.is_none())
            .count();
        if !sa.quick.contains_key(&mid) && in_progress >= self.config.max_quick_modes {
            self.dropped(super::Dropped::Unexpected);
            return false;
        }
        let Some(dec) = Self::decrypt(sa, msg) else {
            self.dropped(super::Dropped::BadHash);
            return false;
        };
        let config = Arc::clone(&self.config);
        let Some(peer) = config.peers.get(sa.peer_index) else {
            return false;
        };
        let check = peer.proposal_check;
        let existing = sa
            .quick
            .get_mut(&mid)
            .map(|q| core::mem::replace(&mut q.state, QuickState::Done));
        let Some(mut ctx) = Self::quick_ctx(&mut *self.rng, peer, sa, config.nonce_len) else {
            return false;
        };
        // The SPI a refusal names: ours from QM1 as initiator, the
        // initiator's as responder (RFC 2408 §3.14.1).
        let refused_spi = match &existing {
            Some(state) => state.spis()[0],
            None => quick_mode::offered_spi(&dec),
        };
        let step = match existing {
            Some(state) => state.handle(&mut ctx, &dec),
            None => quick_mode::respond(&mut ctx, mid, &dec, check),
        };
        match step {
            QuickStep::Drop(state) => {
                self.dropped(super::Dropped::BadHash);
                if let Some(q) = sa.quick.get_mut(&mid) {
                    q.state = state;
                }
                return false;
            }
            QuickStep::Fail(reason) => {
                sa.end_quick(mid);
                // Every Fail comes after the HASH verified, so the peer is
                // waiting on this exchange: tell it now instead of letting
                // it time out.
                if let Some(ty) = reason.notify_type() {
                    self.send_informational(sa, vec![informational::notify(ty, refused_spi)]);
                }
                self.fail(sa, Phase::Two, reason);
            }
            QuickStep::Next {
                next,
                reply,
                expect_reply,
                child,
            } => {
                let done = matches!(next, QuickState::Done);
                let q = sa.quick.entry(mid).or_insert_with(|| QuickMode {
                    state: QuickState::Done,
                    last_sent: None,
                    last_received: None,
                    deadline: now + config.phase2_timeout,
                    linger_until: None,
                    rekey_of: None,
                    initiator: false,
                });
                q.state = next;
                q.last_received = Some(data.to_vec());
                // A final message gets no reply, so a duplicate of it gets none either.
                q.last_sent = reply.map(|bytes| {
                    self.transmits
                        .push_back((sa.local, sa.remote, bytes.clone()));
                    Retransmission::new(bytes, now, &config.retransmit, expect_reply)
                });
                if done {
                    // Keep the exchange a while to answer a resent QM2 with our QM3.
                    q.linger_until = Some(now + config.phase2_timeout);
                }
                let (rekey_of, initiator) = (q.rekey_of, q.initiator);
                let committed = msg.header.flags.contains(crate::wire::Flags::COMMIT);
                if let Some(child) = child {
                    if initiator && committed {
                        // RFC 2408 §3.1: the responder commits; wait for its
                        // CONNECTED before using the pair.
                        sa.held.push(HeldChild {
                            child: *child,
                            rekey_of,
                            deadline: now + config.phase2_timeout,
                        });
                    } else {
                        let inbound_spi = child.inbound.spi;
                        self.child_up(now, sa, *child, rekey_of, initiator);
                        if !initiator && peer.commit_bit {
                            self.send_informational(
                                sa,
                                vec![informational::connected(inbound_spi)],
                            );
                        }
                    }
                }
            }
        }
        // Past the HASH check: the message is authentic.
        true
    }

    /// Releases the pair a committing responder's CONNECTED names by its
    /// SPI (RFC 2408 §4.6.1; ours sends its inbound SPI, either direction's
    /// is accepted). Other held pairs keep waiting for their own. A
    /// CONNECTED without an SPI releases the oldest held pair.
    fn release_held(&mut self, now: Instant, sa: &mut IkeSa, spi: Option<u32>) {
        let pos = match spi {
            Some(s) => sa
                .held
                .iter()
                .position(|h| h.child.inbound.spi == s || h.child.outbound.spi == s),
            None => (!sa.held.is_empty()).then_some(0),
        };
        if let Some(pos) = pos {
            let h = sa.held.remove(pos);
            self.child_up(now, sa, h.child, h.rekey_of, true);
        }
    }

    fn child_up(
        &mut self,
        now: Instant,
        sa: &mut IkeSa,
        child: NegotiatedChild,
        rekey_of: Option<ChildSaId>,
        initiator: bool,
    ) {
        let id = ChildSaId(self.next_handle);
        self.next_handle += 1;
        let lifetime = child.lifetime;
        let udp_ports = child.udp.then(|| (sa.local.port(), sa.remote.port()));
        let event = ChildSa {
            id,
            ike_sa: sa.handle,
            peer_index: sa.peer_index,
            protocol: child.protocol,
            mode: child.mode,
            transform: child.transform,
            ipcomp: child.ipcomp,
            local: sa.local,
            remote: sa.remote,
            inbound: child.inbound.clone(),
            outbound: child.outbound.clone(),
            local_ts: child.local_ts,
            remote_ts: child.remote_ts,
            lifetime,
            pfs_group: child.pfs_group,
            udp_encapsulation: udp_ports,
            nat_oa: child.nat_oa,
            initiator,
        };
        sa.children.push(ChildRecord {
            id,
            protocol: child.protocol,
            inbound_spi: child.inbound.spi,
            outbound_spi: child.outbound.spi,
            policy: child.policy,
            initiator,
            soft_at: now + lifetime.soft_duration(),
            hard_at: now + lifetime.duration(),
            soft_fired: false,
        });
        tracing::info!(
            remote = %event.remote,
            protocol = event.protocol.name(),
            ipcomp = event.ipcomp.is_some(),
            inbound_spi = format_args!("{:#010x}", event.inbound.spi),
            outbound_spi = format_args!("{:#010x}", event.outbound.spi),
            "IPsec-SA established"
        );
        self.events.push_back(Event::ChildSaUp(Box::new(event)));
        // Make-before-break: the old pair goes only once the new one is up.
        match rekey_of {
            Some(old) => self.delete_child_in(sa, old, true),
            None => self.resolve_duplicate(sa, id),
        }
    }

    /// Simultaneous initiation (both peers acquire at once) yields two pairs
    /// for one policy, one initiated by each side. Both sides keep the pair
    /// initiated by the lower address; the higher address deletes the one it
    /// initiated. The rule needs no message, so it cannot deadlock.
    fn resolve_duplicate(&mut self, sa: &mut IkeSa, new: ChildSaId) {
        let Some(n) = sa.children.iter().find(|c| c.id == new) else {
            return;
        };
        let (n_init, n_policy) = (n.initiator, n.policy.clone());
        let same = |c: &ChildRecord| {
            c.id != new
                && !c.soft_fired
                && c.initiator != n_init
                && c.policy.local == n_policy.local
                && c.policy.remote == n_policy.remote
                && c.policy.mode == n_policy.mode
        };
        let peer_ip = canonical(sa.remote.ip());
        let other = sa
            .children
            .iter()
            .find(|c| same(c))
            .map(|c| (None, c.id))
            .or_else(|| {
                self.sas
                    .values()
                    .filter(|s| canonical(s.remote.ip()) == peer_ip)
                    .find_map(|s| {
                        s.children
                            .iter()
                            .find(|c| same(c))
                            .map(|c| (Some(s.handle), c.id))
                    })
            });
        let Some((other_sa, other_id)) = other else {
            return;
        };
        let we_are_lower = sa.local < sa.remote;
        // The loser is the pair initiated by the higher address; delete it
        // only if that is us.
        let (loser_sa, loser_id) = if n_init != we_are_lower {
            (None, new)
        } else {
            (other_sa, other_id)
        };
        let loser_is_ours = if loser_id == new { n_init } else { !n_init };
        if !loser_is_ours {
            return;
        }
        match loser_sa {
            None => {
                self.delete_child_in(sa, loser_id, true);
                self.retire_if_redundant(sa, false);
            }
            Some(h) => {
                if let Some(mut o) = self.sas.remove(&h) {
                    self.delete_child_in(&mut o, loser_id, true);
                    // `sa`, out of the table here, is the peer's SA that stays.
                    let beside = sa.state.established().is_some() && !sa.expired;
                    self.retire_if_redundant(&mut o, beside);
                    if !o.retired() {
                        self.sas.insert(h, o);
                    }
                }
            }
        }
    }

    /// Phase 1 soft expiry (90% of its lifetime) on an SA we initiated:
    /// negotiate its successor while it still works, if anything needs one
    /// (pairs to rekey and delete later, or DPD). The old SA goes only once
    /// the new one is up ([`Self::replace_older_phase1`]).
    pub(super) fn rekey_phase1(&mut self, now: Instant, sa: &IkeSa) {
        let needed = !sa.children.is_empty() || sa.dpd_sequence.is_some();
        let peer_ip = canonical(sa.remote.ip());
        let underway = self.sas.values().any(|s| {
            canonical(s.remote.ip()) == peer_ip
                && s.role == super::Role::Initiator
                && s.state.established().is_none()
        });
        if sa.expired || !needed || underway {
            return;
        }
        tracing::info!(remote = %sa.remote, "ISAKMP-SA rekey: starting its successor");
        if let Err(e) = self.start_phase1(now, sa.local, sa.remote, Vec::new()) {
            tracing::info!(remote = %sa.remote, %e, "ISAKMP-SA rekey could not start");
        }
    }

    /// A Phase 1 we initiated is up: older ISAKMP SAs with the peer (ones
    /// established before this negotiation began, so not a simultaneous
    /// initiation) hand their IPsec SA pairs over and are deleted with an
    /// authenticated Delete (RFC 2408 §3.15). IPsec SAs outlive the ISAKMP
    /// SA that made them (RFC 2409 §5.5), so the data path is untouched.
    pub(super) fn replace_older_phase1(&mut self, new: &mut IkeSa) {
        let peer_ip = canonical(new.remote.ip());
        let older: Vec<super::IkeSaHandle> = self
            .sas
            .values()
            .filter(|s| {
                s.handle != new.handle
                    && canonical(s.remote.ip()) == peer_ip
                    && s.state.established().is_some()
                    && !s.expired
                    && s.established_at.is_some_and(|t| t < new.started)
            })
            .map(|s| s.handle)
            .collect();
        for h in older {
            let Some(mut old) = self.sas.remove(&h) else {
                continue;
            };
            new.children.append(&mut old.children);
            new.held.append(&mut old.held);
            let delete = informational::delete_isakmp(old.cky_i, old.cky_r);
            self.send_informational(&mut old, vec![delete]);
            tracing::info!(remote = %old.remote, "ISAKMP-SA deleted: replaced by its rekey");
            self.events.push_back(Event::Phase1Down {
                sa: h,
                remote: old.remote,
                reason: DownReason::Rekeyed,
            });
        }
    }

    /// A simultaneous initiation also leaves two ISAKMP SAs. Once the pair
    /// we initiated lost to the peer's (see [`Self::resolve_duplicate`]),
    /// the ISAKMP SA we initiated for it carries nothing: we delete it with
    /// an authenticated Delete (RFC 2408 §3.15), as strongSwan and racoon
    /// remove duplicate IKEv1 SAs, and the peer's SA stays. Only its
    /// initiator does this, so the two sides never delete both.
    /// `beside`: another established SA with the peer is out of the table.
    fn retire_if_redundant(&mut self, s: &mut IkeSa, beside: bool) {
        let peer_ip = canonical(s.remote.ip());
        let idle = s.children.is_empty()
            && s.held.is_empty()
            && s.pending_children.is_empty()
            && !s.quick.values().any(|q| q.linger_until.is_none());
        let other = beside
            || self.sas.values().any(|o| {
                o.handle != s.handle
                    && canonical(o.remote.ip()) == peer_ip
                    && o.state.established().is_some()
                    && !o.expired
            });
        if s.role != super::Role::Initiator || s.expired || !idle || !other {
            return;
        }
        let delete = informational::delete_isakmp(s.cky_i, s.cky_r);
        self.send_informational(s, vec![delete]);
        tracing::info!(remote = %s.remote, "ISAKMP-SA deleted: duplicate of a simultaneous initiation");
        self.events.push_back(Event::Phase1Down {
            sa: s.handle,
            remote: s.remote,
            reason: DownReason::Replaced,
        });
        s.expired = true;
    }

    /// Removes a child, telling the peer with a Delete when `notify`.
    pub(super) fn delete_child_in(&mut self, sa: &mut IkeSa, id: ChildSaId, notify: bool) {
        let Some(pos) = sa.children.iter().position(|c| c.id == id) else {
            return;
        };
        let c = sa.children.remove(pos);
        if notify {
            let delete = informational::delete_ipsec(c.protocol, &[c.inbound_spi]);
            self.send_informational(sa, vec![delete]);
        }
        self.events.push_back(Event::ChildSaDeleted {
            child: c.id,
            inbound_spi: c.inbound_spi,
            outbound_spi: c.outbound_spi,
            by_peer: false,
        });
    }

    pub(super) fn send_informational(
        &mut self,
        sa: &mut IkeSa,
        payloads: Vec<crate::wire::Payload>,
    ) {
        let mid = self.message_id(sa);
        let (cky_i, cky_r, local, remote) = (sa.cky_i, sa.cky_r, sa.local, sa.remote);
        let Some(session) = sa.session() else { return };
        if let Some(bytes) = informational::seal(session, cky_i, cky_r, mid, payloads) {
            self.transmits.push_back((local, remote, bytes));
        }
    }

    /// Handles an Informational. Returns whether to keep the ISAKMP SA
    /// (false when the peer deleted it) and whether the message
    /// authenticated (decrypted and its HASH verified).
    pub(super) fn handle_informational(
        &mut self,
        now: Instant,
        sa: &mut IkeSa,
        msg: &Message,
    ) -> (bool, bool) {
        let mid = msg.header.message_id.0;
        let Some(dec) = Self::decrypt(sa, msg) else {
            self.dropped(super::Dropped::Unauthenticated);
            return (true, false);
        };
        let Some(proof) = sa
            .session()
            .and_then(|s| informational::verify(s, mid, &dec))
        else {
            self.dropped(super::Dropped::Unauthenticated);
            return (true, false);
        };
        let mut keep = true;
        let requests = informational::requests(&dec, proof);
        // A peer that refuses us after our side counted the SA up (our
        // AM3, our MM5/MM6 as it saw them) says why beside its Delete.
        let peer_error = requests.iter().find_map(|r| match r {
            Request::Notify { ty, .. } if ty.is_error() => Some(notify_name(*ty)),
            _ => None,
        });
        for req in requests {
            match req {
                Request::DeleteEsp(spis) => {
                    for spi in spis {
                        // The peer names its inbound SPI, which is our outbound one.
                        if let Some(pos) = sa.children.iter().position(|c| c.outbound_spi == spi) {
                            let c = sa.children.remove(pos);
                            self.events.push_back(Event::ChildSaDeleted {
                                child: c.id,
                                inbound_spi: c.inbound_spi,
                                outbound_spi: c.outbound_spi,
                                by_peer: true,
                            });
                        }
                    }
                }
                Request::DeleteIsakmp(i, r) if i == sa.cky_i && r == sa.cky_r => {
                    let reason = match &peer_error {
                        Some(notify) => {
                            tracing::info!(remote = %sa.remote, "ISAKMP-SA deleted by peer, which sent {notify}");
                            DownReason::RefusedByPeer(notify.clone())
                        }
                        None => {
                            tracing::info!(remote = %sa.remote, "ISAKMP-SA deleted by peer");
                            DownReason::DeletedByPeer
                        }
                    };
                    self.events.push_back(Event::Phase1Down {
                        sa: sa.handle,
                        remote: sa.remote,
                        reason,
                    });
                    // A peer that rekeyed Phase 1 deletes the old SA once
                    // the new one is up: the pairs live on under the newest
                    // (RFC 2409 §5.5).
                    let peer_ip = canonical(sa.remote.ip());
                    let successor = self
                        .sas
                        .values_mut()
                        .filter(|s| {
                            canonical(s.remote.ip()) == peer_ip
                                && s.state.established().is_some()
                                && !s.expired
                        })
                        .max_by_key(|s| s.established_at);
                    if let Some(next) = successor {
                        next.children.append(&mut sa.children);
                    }
                    // Otherwise the peer dropped everything it had under
                    // this SA (the seeds' instability): drop our children
                    // too, so traffic triggers a fresh negotiation instead
                    // of a black hole.
                    for c in core::mem::take(&mut sa.children) {
                        self.events.push_back(Event::ChildSaDeleted {
                            child: c.id,
                            inbound_spi: c.inbound_spi,
                            outbound_spi: c.outbound_spi,
                            by_peer: true,
                        });
                    }
                    keep = false;
                }
                Request::DeleteIsakmp(..) => {}
                Request::Notify { ty, spi } if ty.is_error() => {
                    self.fail_quick_modes_named(sa, ty, spi);
                }
                Request::Notify {
                    ty: NotifyType::CONNECTED,
                    spi,
                } => {
                    self.release_held(now, sa, spi);
                }
                Request::Notify { .. } => {}
                Request::AreYouThere(seq) => {
                    let ack = informational::dpd(true, sa.cky_i, sa.cky_r, seq);
                    self.send_informational(sa, vec![ack]);
                }
                Request::Alive(sequence) => {
                    self.events.push_back(Event::PeerAlive {
                        sa: sa.handle,
                        sequence,
                    });
                }
            }
        }
        (keep, true)
    }

    /// An authenticated error notify ends the Quick Mode whose SPI it names,
    /// in either role and whichever message we wait for. A notify without
    /// an SPI cannot be tied to one exchange, so it ends every Quick Mode in
    /// progress; one naming an SPI we do not know ends none.
    fn fail_quick_modes_named(&mut self, sa: &mut IkeSa, ty: NotifyType, spi: Option<u32>) {
        let doomed: Vec<u32> = sa
            .quick
            .iter()
            .filter(|(_, q)| q.linger_until.is_none() && q.state.in_progress())
            .filter(|(_, q)| spi.is_none_or(|s| q.state.spis().contains(&Some(s))))
            .map(|(m, _)| *m)
            .collect();
        let name = notify_name(ty);
        for m in doomed {
            sa.end_quick(m);
            self.fail(sa, Phase::Two, FailureReason::PeerNotify(name.clone()));
        }
    }

    /// Quick Mode retransmissions and timeouts, child lifetimes.
    pub(super) fn phase2_timeouts(&mut self, now: Instant, sa: &mut IkeSa) {
        let (late, held) = core::mem::take(&mut sa.held)
            .into_iter()
            .partition::<Vec<_>, _>(|h| h.deadline <= now);
        sa.held = held;
        for _ in late {
            self.fail(
                sa,
                Phase::Two,
                FailureReason::Protocol(
                    "responder set the commit bit but sent no CONNECTED".into(),
                ),
            );
        }
        let policy = self.config.retransmit;
        let mids: Vec<u32> = sa.quick.keys().copied().collect();
        for mid in mids {
            let Some(q) = sa.quick.get_mut(&mid) else {
                continue;
            };
            if q.linger_until.is_some_and(|t| t <= now) {
                sa.end_quick(mid);
                continue;
            }
            if q.last_sent
                .as_ref()
                .and_then(|r| r.next)
                .is_some_and(|t| t <= now)
            {
                let retry = q
                    .last_sent
                    .as_mut()
                    .is_some_and(|r| r.on_timeout(now, &policy));
                if retry {
                    if let Some(r) = &q.last_sent {
                        self.stats.retransmits_sent += 1;
                        self.transmits
                            .push_back((sa.local, sa.remote, r.bytes.clone()));
                    }
                } else {
                    sa.end_quick(mid);
                    self.fail(sa, Phase::Two, FailureReason::Timeout(policy.max_retries));
                    continue;
                }
            }
            if let Some(q) = sa.quick.get(&mid)
                && q.linger_until.is_none()
                && q.deadline <= now
            {
                sa.end_quick(mid);
                self.fail(
                    sa,
                    Phase::Two,
                    FailureReason::NegotiationTimeout(self.config.phase2_timeout),
                );
            }
        }
        let mut rekeys = Vec::new();
        let mut hard = Vec::new();
        for c in &mut sa.children {
            if !c.soft_fired && c.soft_at <= now {
                c.soft_fired = true;
                self.events.push_back(Event::ChildSaExpiring {
                    child: c.id,
                    inbound_spi: c.inbound_spi,
                    hard: false,
                });
                // The initiator rekeys (racoon does the same); the responder waits.
                if c.initiator {
                    rekeys.push((c.id, c.policy.clone()));
                }
            }
            if c.hard_at <= now {
                self.events.push_back(Event::ChildSaExpiring {
                    child: c.id,
                    inbound_spi: c.inbound_spi,
                    hard: true,
                });
                hard.push(c.id);
            }
        }
        for (id, policy) in rekeys {
            if sa.state.established().is_some() && !sa.expired {
                self.start_quick(now, sa, &policy, Some(id));
            } else {
                // The ISAKMP SA is gone: negotiate a new one for the rekey.
                // The old pair lives until its hard expiry, so still no gap.
                let (local, remote) = (sa.local, sa.remote);
                if self.initiate(now, local, remote, policy).is_err() {
                    self.fail(sa, Phase::Two, FailureReason::IkeSaGone);
                }
            }
        }
        for id in hard {
            self.delete_child_in(sa, id, true);
        }
    }

    /// The data path saw a pair reach its byte lifetime (kilobytes, see
    /// [`crate::config::BYTES_PER_KILOBYTE`]): time lifetimes are ours to
    /// track, bytes only the data path (esp-core or the kernel) can count.
    /// `hard: false` starts the rekey as a soft time expiry would; `hard:
    /// true` removes the pair.
    pub fn child_lifetime_reached(
        &mut self,
        now: Instant,
        child: ChildSaId,
        hard: bool,
    ) -> Result<(), super::InitiateError> {
        let c = self
            .sas
            .values_mut()
            .flat_map(|s| s.children.iter_mut())
            .find(|c| c.id == child)
            .ok_or(super::InitiateError::NoSuchSa)?;
        if hard {
            c.hard_at = c.hard_at.min(now);
        } else {
            c.soft_at = c.soft_at.min(now);
        }
        self.handle_timeout(now);
        Ok(())
    }

    /// Sends a DPD R-U-THERE (RFC 3706) on an established ISAKMP SA; the
    /// answer arrives as [`Event::PeerAlive`] with the returned sequence
    /// number. Deciding when a silent peer is dead is the caller's policy.
    pub fn probe_peer(
        &mut self,
        now: Instant,
        sa: super::IkeSaHandle,
    ) -> Result<u32, super::InitiateError> {
        let _ = now;
        let mut s = self.sas.remove(&sa).ok_or(super::InitiateError::NoSuchSa)?;
        if s.state.established().is_none() {
            self.sas.insert(sa, s);
            return Err(super::InitiateError::NoSuchSa);
        }
        // RFC 3706 §5.5: start from a random sequence number.
        let seq = match s.dpd_sequence {
            Some(n) => n.wrapping_add(1),
            None => self.rng.next_u32() >> 1,
        };
        s.dpd_sequence = Some(seq);
        let probe = informational::dpd(false, s.cky_i, s.cky_r, seq);
        self.send_informational(&mut s, vec![probe]);
        self.sas.insert(sa, s);
        Ok(seq)
    }

    /// Deletes one IPsec SA pair and tells the peer.
    pub fn delete_child(
        &mut self,
        now: Instant,
        child: ChildSaId,
    ) -> Result<(), super::InitiateError> {
        let _ = now;
        let handle = self
            .sas
            .values()
            .find(|s| s.children.iter().any(|c| c.id == child))
            .map(|s| s.handle)
            .ok_or(super::InitiateError::NoSuchSa)?;
        let Some(mut sa) = self.sas.remove(&handle) else {
            return Err(super::InitiateError::NoSuchSa);
        };
        self.delete_child_in(&mut sa, child, true);
        self.sas.insert(handle, sa);
        Ok(())
    }

    /// The established ISAKMP SA with the peer configured at `peer_index`
    /// whose address is `remote`'s IP, if any. Ports are not compared: after
    /// a float (RFC 3947 §4) the SA talks to port 4500, or a NAT's port,
    /// while the caller still names port 500. An exact address match wins.
    pub(super) fn established_for(
        &self,
        remote: SocketAddr,
        peer_index: usize,
    ) -> Option<super::IkeSaHandle> {
        let usable = |s: &&IkeSa| {
            is_same_peer(s, remote, peer_index) && s.state.established().is_some() && !s.expired
        };
        let mut candidates = self.sas.values().filter(usable);
        let first = candidates.next()?;
        if first.remote == remote {
            return Some(first.handle);
        }
        Some(
            candidates
                .find(|s| s.remote == remote)
                .map_or(first.handle, |s| s.handle),
        )
    }

    /// Handles a Quick Mode or Informational for the SA named by `h`.
    pub(super) fn handle_protected(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        h: &Header,
        data: &[u8],
        msg: &Message,
    ) {
        let Some(handle) = self
            .sas
            .values()
            .find(|s| {
                s.cky_i == h.initiator_cookie
                    && s.cky_r == h.responder_cookie
                    && s.state.established().is_some()
            })
            .map(|s| s.handle)
        else {
            if h.exchange_type == crate::wire::ExchangeType::INFORMATIONAL {
                self.note_unauthenticated(h, msg);
            } else {
                self.dropped(super::Dropped::Unexpected);
            }
            return;
        };
        let Some(mut sa) = self.sas.remove(&handle) else {
            return;
        };
        let old_path = super::follow_float(&mut sa, local, remote);
        let (keep, authenticated) = if h.exchange_type == crate::wire::ExchangeType::QUICK_MODE {
            (true, self.handle_quick(now, &mut sa, data, msg))
        } else {
            self.handle_informational(now, &mut sa, msg)
        };
        if !authenticated {
            super::undo_float(&mut sa, old_path);
        }
        if keep && !sa.retired() {
            self.sas.insert(handle, sa);
        }
    }
}

/// Whether `sa` is with the peer configured at `peer_index` at `remote`'s IP
/// (any port: IKE may have floated to 4500 or through a NAT's mapping).
pub(super) fn is_same_peer(sa: &IkeSa, remote: SocketAddr, peer_index: usize) -> bool {
    sa.peer_index == peer_index && canonical(sa.remote.ip()) == canonical(remote.ip())
}

/// A notify type as the logs and failure reasons name it.
fn notify_name(ty: NotifyType) -> String {
    ty.name().map_or_else(|| ty.0.to_string(), str::to_owned)
}

#[cfg(test)]
mod tests {
    //! Paths an honest peer of ours never takes, driven from inside the crate.

    use std::net::{IpAddr, Ipv4Addr, SocketAddr};
    use std::sync::Arc;
    use std::time::Instant;

    use super::super::{Endpoint, Event, FailureReason, Phase};
    use crate::config::{
        AuthMethod, ChildPolicy, EncapsulationMode, EndpointConfig, EspCipher, EspTransform,
        Identity, IntegrityAlgorithm, Lifetime, PeerConfig, Phase1Proposal, PresharedKey, PskTable,
    };
    use crate::crypto::{CipherAlgorithm, DhGroup, HashAlgorithm, Phase1Cipher};
    use crate::endpoint::fuzzing::InsecureFuzzRng;

    const A: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)), 500);
    const B: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(198, 51, 100, 2)), 500);

    fn child() -> ChildPolicy {
        ChildPolicy {
            local: None,
            remote: None,
            mode: EncapsulationMode::Tunnel,
            esp: vec![EspTransform {
                cipher: EspCipher::AesCbc,
                key_bits: Some(256),
                integrity: Some(IntegrityAlgorithm::HmacSha1),
            }],
            pfs_group: None,
            lifetime: Lifetime::seconds(3600),
            accept_ah: false,
            ah: Vec::new(),
            ipcomp: false,
        }
    }

    fn endpoint(peer: SocketAddr, seed: u64) -> Endpoint {
        let mut psk = PskTable::new();
        psk.insert(
            Identity::from_ip(peer.ip()),
            PresharedKey::new(b"k".to_vec()),
        );
        let p1 = Phase1Proposal {
            cipher: Phase1Cipher::new(CipherAlgorithm::Aes, Some(128)).unwrap(),
            hash: HashAlgorithm::Sha1,
            auth: AuthMethod::PreSharedKey,
            group: DhGroup::Modp768,
            lifetime: Lifetime::seconds(3600),
        };
        let peer = PeerConfig::new(Some(peer.ip()), vec![p1], vec![child()]);
        let cfg = EndpointConfig::new(vec![peer], psk);
        Endpoint::new(Arc::new(cfg), Box::new(InsecureFuzzRng::new(seed)))
    }

    fn transmits(ep: &mut Endpoint, now: Instant) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        let mut buf = Vec::new();
        while let Some(t) = ep.poll_transmit(now, &mut buf) {
            out.extend(buf.get(..t.size).map(<[u8]>::to_vec));
            buf.clear();
        }
        out
    }

    fn phase2_failures(ep: &mut Endpoint) -> Vec<String> {
        core::iter::from_fn(|| ep.poll_event())
            .filter_map(|e| match e {
                Event::NegotiationFailed {
                    phase: Phase::Two,
                    reason,
                    ..
                } => Some(reason.to_string()),
                _ => None,
            })
            .collect()
    }

    /// RFC 2408 §3.14.1: an initiator that refuses our QM2 says so in an
    /// authenticated notify naming its SPI; the responder's Quick Mode then
    /// ends at once (not at its timeout), naming the notify.
    #[test]
    fn responder_quick_mode_ends_when_the_initiator_refuses_qm2() {
        #[allow(clippy::disallowed_methods)]
        let now = Instant::now();
        let (mut a, mut b) = (endpoint(B, 1), endpoint(A, 2));
        a.initiate(now, A, B, child()).unwrap();
        let responding = |b: &Endpoint| b.sas.values().any(|s| !s.quick.is_empty());
        // Lossless exchange up to B's QM2, which is held back.
        let mut qm2 = None;
        for _ in 0..8 {
            for m in transmits(&mut a, now) {
                b.handle_datagram(now, B, A, &m);
            }
            let from_b = transmits(&mut b, now);
            if responding(&b) {
                qm2 = from_b.into_iter().last();
                break;
            }
            for m in from_b {
                a.handle_datagram(now, A, B, &m);
            }
        }
        let qm2 = qm2.expect("B answered QM1");
        // A's policy changes under its Quick Mode: it no longer takes AES-CBC.
        let offered = a
            .sas
            .values_mut()
            .flat_map(|s| s.quick.values_mut())
            .find_map(|q| q.state.offered_policy_mut())
            .expect("A waits for QM2");
        offered.esp[0].cipher = EspCipher::TripleDes;
        offered.esp[0].key_bits = None;
        a.handle_datagram(now, A, B, &qm2);
        let refused = phase2_failures(&mut a);
        assert_eq!(refused.len(), 1, "{refused:?}");
        assert!(
            refused[0]
                .starts_with("no proposal chosen: responder chose a transform we did not offer"),
            "{refused:?}"
        );
        let notify = transmits(&mut a, now);
        assert_eq!(notify.len(), 1, "one Informational");
        let _ = phase2_failures(&mut b);
        for m in &notify {
            b.handle_datagram(now, B, A, m);
        }
        assert_eq!(
            phase2_failures(&mut b),
            [FailureReason::PeerNotify("NO-PROPOSAL-CHOSEN".into()).to_string()]
        );
        assert!(!responding(&b), "B's Quick Mode is gone");
        // Nothing of that Quick Mode is left to resend or to time out.
        assert!(transmits(&mut b, now).is_empty());
    }
}
