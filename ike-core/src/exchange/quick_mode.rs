//! Phase 2 Quick Mode (RFC 2409 §5.5), with optional PFS.
//!
//! ```text
//! Initiator                                   Responder
//! HDR*, HASH(1), SA, Ni [, KE] [, IDci, IDcr] -->
//!          <-- HDR*, HASH(2), SA, Nr [, KE] [, IDci, IDcr] [, N(RESPONDER-LIFETIME)]
//! HDR*, HASH(3)                               -->
//! ```
//!
//! HASH(1) = prf(SKEYID_a, M-ID | everything after HASH),
//! HASH(2) = prf(SKEYID_a, M-ID | Ni_b | everything after HASH),
//! HASH(3) = prf(SKEYID_a, 0 | M-ID | Ni_b | Nr_b).
//! KEYMAT = prf(SKEYID_d, [g(qm)^xy |] protocol | SPI | Ni_b | Nr_b), once
//! per direction, with the SPI its receiver chose.

use rand_core::CryptoRngCore;
use zeroize::Zeroizing;

use super::proof::{HashVerified, verify_hash};
use super::proposals;
use super::{Decrypted, Phase1Session, chain_bytes};
use crate::config::{
    ChildPolicy, EncapsulationMode, EspTransform, IpsecProtocol, Lifetime, PeerConfig,
    TrafficSelector,
};
use crate::crypto::quick_mode::{KeymatInputs, hash1, hash2, hash3, keymat};
use crate::crypto::{DhGroup, DhPrivateKey, Gxy};
use crate::endpoint::{FailureReason, IpcompSa, SaKeys};
use crate::policy::{Attribute, Mismatch, Phase2Offer, ProposalCheck, select_phase2};
use crate::wire::{
    Cookie, ExchangeType, Flags, Header, Identification, MessageId, NatOa, Payload, PayloadBody,
    PayloadType,
};

/// What a Quick Mode needs from its ISAKMP SA.
pub(crate) struct QuickCtx<'a> {
    pub(crate) rng: &'a mut dyn CryptoRngCore,
    pub(crate) peer: &'a PeerConfig,
    pub(crate) session: &'a mut Phase1Session,
    pub(crate) cky_i: Cookie,
    pub(crate) cky_r: Cookie,
    pub(crate) nonce_len: usize,
    /// How to carry ESP: UDP-encapsulated when NAT-T is in use (RFC 3947 §5).
    pub(crate) carriage: proposals::Carriage,
    /// Whether Phase 1 NAT-D showed a NAT between us (or NAT-T is forced):
    /// the responder accepts UDP-encapsulated modes only then (RFC 3947 §5.1).
    pub(crate) nat_detected: bool,
    /// Set the commit bit on what we seal (QM2 of a committing responder).
    pub(crate) commit: bool,
    /// Our address and the peer's, as we see them (for NAT-OA).
    pub(crate) local: std::net::IpAddr,
    /// The peer's address as we see it.
    pub(crate) remote: std::net::IpAddr,
}

impl QuickCtx<'_> {
    fn header(&self, mid: u32) -> Header {
        let mut h = Header::new(
            self.cky_i,
            self.cky_r,
            ExchangeType::QUICK_MODE,
            MessageId(mid),
        );
        if self.commit {
            h.flags = Flags(h.flags.0 | Flags::COMMIT.0);
        }
        h
    }

    fn nonce(&mut self) -> Vec<u8> {
        let mut n = vec![0u8; self.nonce_len.clamp(8, 256)];
        self.rng.fill_bytes(&mut n);
        n
    }

    /// A fresh CPI from the negotiated range 256..=61439 (RFC 3173 §3.3).
    fn cpi(&mut self) -> u16 {
        loop {
            let c = (self.rng.next_u32() & 0xffff) as u16;
            if (256..=61439).contains(&c) {
                return c;
            }
        }
    }

    /// A fresh SPI outside the reserved range 1..=255 (RFC 4303 §2.1).
    pub(crate) fn spi(&mut self) -> u32 {
        loop {
            let s = self.rng.next_u32();
            if s > 255 {
                return s;
            }
        }
    }

    /// Seals `rest` behind a HASH payload computed by `hash_of(after_hash)`.
    fn seal_with_hash(
        &mut self,
        mid: u32,
        rest: Vec<Payload>,
        hash_of: impl FnOnce(&[u8]) -> Vec<u8>,
    ) -> Option<Vec<u8>> {
        let hash = hash_of(&chain_bytes(&rest));
        let mut all = vec![Payload::new(PayloadType::HASH, hash)];
        all.extend(rest);
        let header = self.header(mid);
        self.session.seal(header, &all)
    }
}

/// A negotiated pair, before the endpoint gives it an id.
pub(crate) struct NegotiatedChild {
    pub(crate) protocol: IpsecProtocol,
    pub(crate) ipcomp: Option<IpcompSa>,
    pub(crate) transform: EspTransform,
    pub(crate) mode: EncapsulationMode,
    pub(crate) udp: bool,
    pub(crate) inbound: SaKeys,
    pub(crate) outbound: SaKeys,
    pub(crate) local_ts: Option<TrafficSelector>,
    pub(crate) remote_ts: Option<TrafficSelector>,
    pub(crate) lifetime: Lifetime,
    pub(crate) pfs_group: Option<DhGroup>,
    pub(crate) nat_oa: Option<(std::net::IpAddr, std::net::IpAddr)>,
    pub(crate) policy: ChildPolicy,
    _verified: HashVerified,
}

/// Result of handling a Quick Mode message.
pub(crate) enum QuickStep {
    /// Send `reply` (if any), move to `next`; `child` is up.
    Next {
        next: QuickState,
        reply: Option<Vec<u8>>,
        expect_reply: bool,
        child: Option<Box<NegotiatedChild>>,
    },
    /// Did not decrypt, verify or parse: drop, stay put.
    Drop(QuickState),
    /// Failed for a reason the caller should hear about.
    Fail(FailureReason),
}

/// Progress of one Quick Mode exchange.
pub(crate) enum QuickState {
    ExpectQm2(Box<ExpectQm2>),
    ExpectQm3(Box<ExpectQm3>),
    Done,
}

pub(crate) struct ExpectQm2 {
    mid: u32,
    policy: ChildPolicy,
    spi_in: u32,
    /// Our CPI, when we offered IPComp.
    cpi_in: Option<u16>,
    ni: Vec<u8>,
    dh: Option<DhPrivateKey>,
}

pub(crate) struct ExpectQm3 {
    mid: u32,
    ni: Vec<u8>,
    nr: Vec<u8>,
    child: NegotiatedChildParts,
}

/// A responder's child waiting for HASH(3).
struct NegotiatedChildParts {
    protocol: IpsecProtocol,
    ipcomp: Option<IpcompSa>,
    transform: EspTransform,
    mode: EncapsulationMode,
    udp: bool,
    inbound: SaKeys,
    outbound: SaKeys,
    local_ts: Option<TrafficSelector>,
    remote_ts: Option<TrafficSelector>,
    lifetime: Lifetime,
    pfs_group: Option<DhGroup>,
    nat_oa: Option<(std::net::IpAddr, std::net::IpAddr)>,
    policy: ChildPolicy,
}

impl NegotiatedChildParts {
    fn finish(self, verified: HashVerified) -> NegotiatedChild {
        NegotiatedChild {
            protocol: self.protocol,
            ipcomp: self.ipcomp,
            transform: self.transform,
            mode: self.mode,
            udp: self.udp,
            inbound: self.inbound,
            outbound: self.outbound,
            local_ts: self.local_ts,
            remote_ts: self.remote_ts,
            lifetime: self.lifetime,
            pfs_group: self.pfs_group,
            nat_oa: self.nat_oa,
            policy: self.policy,
            _verified: verified,
        }
    }
}

fn selector_payload(ts: &TrafficSelector) -> Payload {
    ts.to_identification()
        .to_payload()
        .unwrap_or_else(|_| Payload::new(PayloadType::IDENTIFICATION, Vec::new()))
}

fn selectors(msg: &Decrypted) -> Option<(Option<TrafficSelector>, Option<TrafficSelector>)> {
    let ids: Vec<&Payload> = msg.all(PayloadType::IDENTIFICATION).collect();
    match ids.as_slice() {
        [] => Some((None, None)),
        [ci, cr] => {
            let parse = |p: &Payload| {
                let id = Identification::parse_body(&p.body).ok()?;
                TrafficSelector::from_identification(&id)
            };
            Some((Some(parse(ci)?), Some(parse(cr)?)))
        }
        _ => None,
    }
}

/// One direction's KEYMAT for `protocol`'s SPI (RFC 2409 §5.5), split
/// into the encryption key and the integrity key (AH: integrity only).
#[allow(
    clippy::too_many_arguments,
    reason = "the KEYMAT inputs of RFC 2409 §5.5"
)]
fn split_keys(
    ctx: &QuickCtx<'_>,
    protocol: IpsecProtocol,
    transform: &EspTransform,
    gxy: Option<&Gxy>,
    spi: u32,
    ni: &[u8],
    nr: &[u8],
) -> Option<SaKeys> {
    let keys = ctx.session.keys.keys();
    let inputs = KeymatInputs {
        pfs_gxy: gxy,
        protocol: protocol.protocol_id(),
        spi: &spi.to_be_bytes(),
        ni_b: ni,
        nr_b: nr,
    };
    let km = keymat(
        ctx.session.keys.prf(),
        &keys.skeyid_d,
        &inputs,
        transform.keymat_len(),
    )
    .ok()?;
    let (enc, int) = km
        .as_bytes()
        .split_at_checked(transform.cipher.keymat_len(transform.key_bits))?;
    Some(SaKeys {
        spi,
        encryption: Zeroizing::new(enc.to_vec()),
        integrity: Zeroizing::new(int.to_vec()),
    })
}

/// The child policy to offer across what Phase 1 saw: without AH when a
/// NAT is between us, because AH authenticates the IP header the NAT
/// rewrites (RFC 3715 §2.1) and only ESP has a UDP encapsulation (RFC 3948).
fn offerable(policy: &ChildPolicy, nat_detected: bool) -> Result<ChildPolicy, FailureReason> {
    let mut policy = policy.clone();
    if !nat_detected || !policy.accept_ah {
        return Ok(policy);
    }
    policy.accept_ah = false;
    if policy.esp.is_empty() {
        return Err(FailureReason::NoProposalChosenDetail(
            "the child policy offers only AH, which cannot cross the NAT detected in Phase 1 \
             (RFC 3715 §2.1); configure ESP for this peer"
                .into(),
        ));
    }
    Ok(policy)
}

/// Starts a Quick Mode as initiator: QM1. Fails with a reason when the
/// policy has nothing to offer; `Ok(None)` when QM1 could not be built.
pub(crate) fn initiate(
    ctx: &mut QuickCtx<'_>,
    mid: u32,
    policy: &ChildPolicy,
) -> Result<Option<(QuickState, Vec<u8>, u32)>, FailureReason> {
    let policy = offerable(policy, ctx.nat_detected)?;
    Ok(build_qm1(ctx, mid, &policy))
}

fn build_qm1(
    ctx: &mut QuickCtx<'_>,
    mid: u32,
    policy: &ChildPolicy,
) -> Option<(QuickState, Vec<u8>, u32)> {
    let spi_in = ctx.spi();
    let cpi_in = policy.ipcomp.then(|| ctx.cpi());
    let ni = ctx.nonce();
    let dh = match policy.pfs_group {
        Some(g) => Some(g.generate(&mut &mut *ctx.rng, None).ok()?),
        None => None,
    };
    let mut rest = vec![
        proposals::phase2_sa(policy, spi_in, cpi_in, ctx.carriage),
        Payload::new(PayloadType::NONCE, ni.clone()),
    ];
    if let Some(dh) = &dh {
        rest.push(Payload::new(
            PayloadType::KEY_EXCHANGE,
            dh.public_value().to_vec(),
        ));
    }
    if let (Some(l), Some(r)) = (&policy.local, &policy.remote) {
        rest.push(selector_payload(l));
        rest.push(selector_payload(r));
    }
    if ctx.carriage != proposals::Carriage::Plain && policy.mode == EncapsulationMode::Transport {
        rest.extend(nat_oa_payloads(ctx.local, ctx.remote));
    }
    let prf = ctx.session.keys.prf();
    let a = ctx.session.keys.keys().skeyid_a.clone();
    let bytes = ctx.seal_with_hash(mid, rest, |after| {
        hash1(prf, &a, mid, after).as_bytes().to_vec()
    })?;
    let state = QuickState::ExpectQm2(Box::new(ExpectQm2 {
        mid,
        policy: policy.clone(),
        spi_in,
        cpi_in,
        ni,
        dh,
    }));
    Some((state, bytes, spi_in))
}

/// The SPI of the first proposal in a QM1, to name it in a refusal.
pub(crate) fn offered_spi(msg: &Decrypted) -> Option<u32> {
    let sa = msg.find(PayloadType::SA)?;
    proposals::parse_phase2_offers(&sa.body)?
        .first()
        .map(|o| o.spi)
}

/// Verifies the HASH payload that must come first in `msg`.
fn check_first_hash(msg: &Decrypted, expected: &crate::crypto::HashValue) -> Option<HashVerified> {
    let first = msg.payloads.first().filter(|p| p.ty == PayloadType::HASH)?;
    verify_hash(expected, &first.body)
}

/// Keeps the offers whose encapsulation mode fits what Phase 1 saw: the
/// UDP-encapsulated modes (3/4, or draft 61443/61444) only across a NAT, the
/// plain ones only without (RFC 3947 §5.1). Offers with no or an unknown
/// mode are kept for the policy to judge. When nothing fits, says why.
fn offers_fitting_nat(
    offers: Vec<Phase2Offer>,
    nat_detected: bool,
    ours: EncapsulationMode,
) -> Result<Vec<Phase2Offer>, Mismatch> {
    let udp_of = |o: &Phase2Offer| {
        o.mode
            .and_then(EncapsulationMode::from_ike_id)
            .map(|(_, udp)| udp)
    };
    let Some(misfit) = offers
        .iter()
        .find(|o| udp_of(o).is_some_and(|udp| udp != nat_detected))
        .copied()
    else {
        return Ok(offers);
    };
    let fitting: Vec<Phase2Offer> = offers
        .into_iter()
        .filter(|o| udp_of(o).is_none_or(|udp| udp == nat_detected))
        .collect();
    if !fitting.is_empty() {
        return Ok(fitting);
    }
    let offered = misfit.mode.map_or_else(String::new, |m| {
        crate::wire::EncapsulationMode(m).to_string()
    });
    let required = if nat_detected {
        format!("UDP-Encapsulated-{} (a NAT was detected)", ours.name())
    } else {
        format!("{} (no NAT was detected)", ours.name())
    };
    Err(Mismatch {
        attribute: Attribute::EncapsulationMode,
        offered,
        required,
        check: None,
    })
}

/// Drops the AH proposals (and the IPComp bundled under the same proposal
/// number) when a NAT is between us: AH's ICV covers the addresses the NAT
/// rewrites (RFC 3715 §2.1) and RFC 3948 encapsulates ESP only. When only
/// AH was offered, says so.
fn without_ah_across_nat(
    offers: Vec<Phase2Offer>,
    nat_detected: bool,
) -> Result<Vec<Phase2Offer>, Mismatch> {
    let ah = IpsecProtocol::Ah.protocol_id();
    let ah_proposals: Vec<u8> = offers
        .iter()
        .filter(|o| o.protocol == ah)
        .map(|o| o.proposal)
        .collect();
    if !nat_detected || ah_proposals.is_empty() {
        return Ok(offers);
    }
    let rest: Vec<Phase2Offer> = offers
        .into_iter()
        .filter(|o| !ah_proposals.contains(&o.proposal))
        .collect();
    if !rest.is_empty() {
        return Ok(rest);
    }
    Err(Mismatch {
        attribute: Attribute::Protocol,
        offered: "AH".into(),
        required: "ESP (AH cannot cross the NAT detected in Phase 1)".into(),
        check: None,
    })
}

/// Answers QM1 as responder: QM2.
pub(crate) fn respond(
    ctx: &mut QuickCtx<'_>,
    mid: u32,
    msg: &Decrypted,
    check: ProposalCheck,
) -> QuickStep {
    let prf = ctx.session.keys.prf();
    let a = ctx.session.keys.keys().skeyid_a.clone();
    if check_first_hash(msg, &hash1(prf, &a, mid, msg.after_first())).is_none() {
        return QuickStep::Drop(QuickState::Done);
    }
    ctx.session.accept(mid, msg);
    let (Some(sa), Some(ni)) = (msg.find(PayloadType::SA), msg.find(PayloadType::NONCE)) else {
        return QuickStep::Fail(FailureReason::Protocol("QM1 without SA or nonce".into()));
    };
    let Some(offers) = proposals::parse_phase2_offers(&sa.body) else {
        return QuickStep::Fail(FailureReason::Protocol(
            "QM1 SA payload did not parse".into(),
        ));
    };
    let Some((ci, cr)) = selectors(msg) else {
        return QuickStep::Fail(FailureReason::Protocol(
            "QM1 proxy identities did not parse".into(),
        ));
    };
    // From our side: IDcr is ours, IDci the peer's.
    let Some(policy) = ctx
        .peer
        .children
        .iter()
        .find(|c| c.matches(cr.as_ref(), ci.as_ref()))
        .cloned()
    else {
        let show =
            |t: &Option<TrafficSelector>| t.map_or_else(|| "host".to_owned(), |t| t.to_string());
        return QuickStep::Fail(FailureReason::NoProposalChosenDetail(format!(
            "no sainfo for proxy identities {} <-> {}",
            show(&ci),
            show(&cr)
        )));
    };
    let offers = match without_ah_across_nat(offers, ctx.nat_detected) {
        Ok(o) => o,
        Err(m) => return QuickStep::Fail(FailureReason::NoProposalChosen(m)),
    };
    let offers = match offers_fitting_nat(offers, ctx.nat_detected, policy.mode) {
        Ok(o) => o,
        Err(m) => return QuickStep::Fail(FailureReason::NoProposalChosen(m)),
    };
    let choice = match select_phase2(&offers, &policy, check) {
        Ok(c) => c,
        Err(m) => return QuickStep::Fail(FailureReason::NoProposalChosen(m)),
    };
    let peer_ke = msg.find(PayloadType::KEY_EXCHANGE);
    let (dh, gxy) = match (choice.pfs_group, peer_ke) {
        (Some(g), Some(ke)) => {
            let Ok(dh) = g.generate(&mut &mut *ctx.rng, None) else {
                return QuickStep::Fail(FailureReason::Protocol("DH generation failed".into()));
            };
            match dh.compute_shared(&ke.body) {
                Ok(gxy) => (Some(dh), Some(gxy)),
                Err(e) => {
                    return QuickStep::Fail(FailureReason::Protocol(format!(
                        "peer's PFS public value refused: {e}"
                    )));
                }
            }
        }
        (Some(g), None) => {
            return QuickStep::Fail(FailureReason::Protocol(format!(
                "PFS group {} proposed without a KE payload",
                g.id()
            )));
        }
        (None, _) => (None, None),
    };
    let spi_in = ctx.spi();
    let ipcomp = choice.ipcomp.map(|offer| IpcompSa {
        inbound_cpi: ctx.cpi(),
        outbound_cpi: (offer.spi & 0xffff) as u16,
    });
    let nr = ctx.nonce();
    let mut rest = vec![
        proposals::phase2_reply(&choice, &policy, spi_in, ipcomp.map(|c| c.inbound_cpi)),
        Payload::new(PayloadType::NONCE, nr.clone()),
    ];
    if let Some(dh) = &dh {
        rest.push(Payload::new(
            PayloadType::KEY_EXCHANGE,
            dh.public_value().to_vec(),
        ));
    }
    if let (Some(ci), Some(cr)) = (&ci, &cr) {
        rest.push(selector_payload(ci));
        rest.push(selector_payload(cr));
    }
    let nat_oa = received_nat_oa(msg);
    if choice.mode == (EncapsulationMode::Transport, true) {
        rest.extend(nat_oa_payloads(ctx.remote, ctx.local));
    }
    if choice.notify_lifetime {
        rest.push(proposals::responder_lifetime(
            choice.protocol,
            spi_in,
            &choice.lifetime,
        ));
    }
    let inbound = split_keys(
        ctx,
        choice.protocol,
        &choice.transform,
        gxy.as_ref(),
        spi_in,
        &ni.body,
        &nr,
    );
    let outbound = split_keys(
        ctx,
        choice.protocol,
        &choice.transform,
        gxy.as_ref(),
        choice.offer.spi,
        &ni.body,
        &nr,
    );
    let (Some(inbound), Some(outbound)) = (inbound, outbound) else {
        return QuickStep::Fail(FailureReason::Protocol("KEYMAT derivation failed".into()));
    };
    let ni_b = ni.body.clone();
    ctx.commit = ctx.peer.commit_bit;
    let sealed = ctx.seal_with_hash(mid, rest, |after| {
        hash2(prf, &a, mid, &ni_b, after).as_bytes().to_vec()
    });
    ctx.commit = false;
    let Some(bytes) = sealed else {
        return QuickStep::Fail(FailureReason::Protocol("could not encrypt QM2".into()));
    };
    let child = NegotiatedChildParts {
        protocol: choice.protocol,
        ipcomp,
        transform: choice.transform,
        mode: choice.mode.0,
        udp: choice.mode.1,
        inbound,
        outbound,
        local_ts: cr,
        remote_ts: ci,
        lifetime: choice.lifetime,
        pfs_group: choice.pfs_group,
        nat_oa,
        policy,
    };
    QuickStep::Next {
        next: QuickState::ExpectQm3(Box::new(ExpectQm3 {
            mid,
            ni: ni_b,
            nr,
            child,
        })),
        reply: Some(bytes),
        expect_reply: true,
        child: None,
    }
}

impl QuickState {
    /// The SPIs this exchange has put on the wire (ours, the peer's), so an
    /// error notify naming one of them can be tied to it (RFC 2408 §3.14).
    pub(crate) fn spis(&self) -> [Option<u32>; 2] {
        match self {
            Self::ExpectQm2(s) => [Some(s.spi_in), None],
            Self::ExpectQm3(s) => [Some(s.child.inbound.spi), Some(s.child.outbound.spi)],
            Self::Done => [None, None],
        }
    }

    /// Whether the exchange still waits for a message.
    pub(crate) fn in_progress(&self) -> bool {
        !matches!(self, Self::Done)
    }

    /// The policy an initiator offered and will judge QM2 against, so a
    /// test can make it refuse an honest responder's choice.
    #[cfg(test)]
    pub(crate) fn offered_policy_mut(&mut self) -> Option<&mut ChildPolicy> {
        match self {
            Self::ExpectQm2(s) => Some(&mut s.policy),
            _ => None,
        }
    }

    /// Handles the next message of this Quick Mode.
    pub(crate) fn handle(self, ctx: &mut QuickCtx<'_>, msg: &Decrypted) -> QuickStep {
        match self {
            Self::ExpectQm2(s) => s.handle(ctx, msg),
            Self::ExpectQm3(s) => s.handle(ctx, msg),
            Self::Done => QuickStep::Drop(Self::Done),
        }
    }
}

impl ExpectQm2 {
    fn handle(self: Box<Self>, ctx: &mut QuickCtx<'_>, msg: &Decrypted) -> QuickStep {
        let prf = ctx.session.keys.prf();
        let a = ctx.session.keys.keys().skeyid_a.clone();
        let mid = self.mid;
        let Some(verified) =
            check_first_hash(msg, &hash2(prf, &a, mid, &self.ni, msg.after_first()))
        else {
            return QuickStep::Drop(QuickState::ExpectQm2(self));
        };
        ctx.session.accept(mid, msg);
        let (Some(sa), Some(nr)) = (msg.find(PayloadType::SA), msg.find(PayloadType::NONCE)) else {
            return QuickStep::Fail(FailureReason::Protocol("QM2 without SA or nonce".into()));
        };
        let Some(offers) = proposals::parse_phase2_offers(&sa.body) else {
            return QuickStep::Fail(FailureReason::Protocol(
                "QM2 SA payload did not parse".into(),
            ));
        };
        // The responder must return one of our transforms; any lifetime it
        // echoes is ours, a shorter one arrives in RESPONDER-LIFETIME.
        let choice = match select_phase2(&offers, &self.policy, ProposalCheck::Obey) {
            Ok(c) => c,
            Err(m) => {
                return QuickStep::Fail(FailureReason::NoProposalChosenDetail(format!(
                    "responder chose a transform we did not offer: {m}"
                )));
            }
        };
        if choice.pfs_group != self.policy.pfs_group {
            return QuickStep::Fail(FailureReason::Protocol(
                "responder changed the PFS group".into(),
            ));
        }
        let mut lifetime = self.policy.lifetime;
        for n in msg.all(PayloadType::NOTIFICATION) {
            if let Some(l) = proposals::parse_responder_lifetime(&n.body) {
                lifetime = merge_shorter(lifetime, l);
            }
        }
        let gxy = match (&self.dh, msg.find(PayloadType::KEY_EXCHANGE)) {
            (Some(dh), Some(ke)) => match dh.compute_shared(&ke.body) {
                Ok(g) => Some(g),
                Err(e) => {
                    return QuickStep::Fail(FailureReason::Protocol(format!(
                        "peer's PFS public value refused: {e}"
                    )));
                }
            },
            (Some(_), None) => {
                return QuickStep::Fail(FailureReason::Protocol(
                    "QM2 without the PFS KE payload".into(),
                ));
            }
            (None, _) => None,
        };
        let offer = choice.offer;
        let ipcomp = match (choice.ipcomp, self.cpi_in) {
            (None, _) => None,
            (Some(theirs), Some(ours)) => Some(IpcompSa {
                inbound_cpi: ours,
                outbound_cpi: (theirs.spi & 0xffff) as u16,
            }),
            (Some(_), None) => {
                return QuickStep::Fail(FailureReason::NoProposalChosenDetail(
                    "responder added IPComp, which we did not offer".into(),
                ));
            }
        };
        let inbound = split_keys(
            ctx,
            choice.protocol,
            &choice.transform,
            gxy.as_ref(),
            self.spi_in,
            &self.ni,
            &nr.body,
        );
        let outbound = split_keys(
            ctx,
            choice.protocol,
            &choice.transform,
            gxy.as_ref(),
            offer.spi,
            &self.ni,
            &nr.body,
        );
        let (Some(inbound), Some(outbound)) = (inbound, outbound) else {
            return QuickStep::Fail(FailureReason::Protocol("KEYMAT derivation failed".into()));
        };
        let h3 = hash3(prf, &a, mid, &self.ni, &nr.body);
        let header = ctx.header(mid);
        let Some(bytes) = ctx.session.seal(
            header,
            &[Payload::new(PayloadType::HASH, h3.as_bytes().to_vec())],
        ) else {
            return QuickStep::Fail(FailureReason::Protocol("could not encrypt QM3".into()));
        };
        let child = NegotiatedChild {
            protocol: choice.protocol,
            ipcomp,
            transform: choice.transform,
            mode: choice.mode.0,
            udp: choice.mode.1,
            inbound,
            outbound,
            local_ts: self.policy.local,
            remote_ts: self.policy.remote,
            lifetime,
            pfs_group: choice.pfs_group,
            nat_oa: received_nat_oa(msg),
            policy: self.policy,
            _verified: verified,
        };
        QuickStep::Next {
            next: QuickState::Done,
            reply: Some(bytes),
            expect_reply: false,
            child: Some(Box::new(child)),
        }
    }
}

impl ExpectQm3 {
    fn handle(self: Box<Self>, ctx: &mut QuickCtx<'_>, msg: &Decrypted) -> QuickStep {
        let prf = ctx.session.keys.prf();
        let a = ctx.session.keys.keys().skeyid_a.clone();
        let Some(verified) = check_first_hash(msg, &hash3(prf, &a, self.mid, &self.ni, &self.nr))
        else {
            return QuickStep::Drop(QuickState::ExpectQm3(self));
        };
        ctx.session.accept(self.mid, msg);
        QuickStep::Next {
            next: QuickState::Done,
            reply: None,
            expect_reply: false,
            child: Some(Box::new(self.child.finish(verified))),
        }
    }
}

/// NAT-OAi then NAT-OAr (RFC 3947 §5.2): the original addresses, so a
/// transport-mode receiver can fix TCP/UDP checksums after the NAT.
fn nat_oa_payloads(initiator: std::net::IpAddr, responder: std::net::IpAddr) -> Vec<Payload> {
    [initiator, responder]
        .into_iter()
        .filter_map(|address| NatOa { address }.to_payload().ok())
        .collect()
}

/// The peer's NAT-OA pair (RFC 3947 type 21 or the draft's 131), if sent.
fn received_nat_oa(msg: &Decrypted) -> Option<(std::net::IpAddr, std::net::IpAddr)> {
    let mut oas = msg
        .payloads
        .iter()
        .filter(|p| p.ty == PayloadType::NAT_OA || p.ty == PayloadType::NAT_OA_DRAFT)
        .filter_map(|p| NatOa::parse_body(&p.body).ok());
    Some((oas.next()?.address, oas.next()?.address))
}

/// The shorter of each lifetime kind (RFC 2407 §4.6.3.1).
fn merge_shorter(ours: Lifetime, theirs: Lifetime) -> Lifetime {
    let min = |a: Option<u32>, b: Option<u32>| match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    Lifetime {
        seconds: min(ours.seconds, theirs.seconds),
        kilobytes: min(ours.kilobytes, theirs.kilobytes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer(mode: Option<u16>) -> Phase2Offer {
        Phase2Offer {
            mode,
            ..Phase2Offer::default()
        }
    }

    #[test]
    fn draft_udp_values_fit_a_detected_nat() {
        for value in [3, 4, 61443, 61444] {
            let kept =
                offers_fitting_nat(vec![offer(Some(value))], true, EncapsulationMode::Tunnel)
                    .unwrap();
            assert_eq!(kept.len(), 1, "{value}");
        }
    }

    #[test]
    fn plain_modes_across_a_nat_are_refused_by_name() {
        let err =
            offers_fitting_nat(vec![offer(Some(1))], true, EncapsulationMode::Tunnel).unwrap_err();
        assert_eq!(err.attribute, Attribute::EncapsulationMode);
        assert_eq!(err.offered, "Tunnel");
        assert_eq!(err.required, "UDP-Encapsulated-Tunnel (a NAT was detected)");
        let err = offers_fitting_nat(
            vec![offer(Some(61444))],
            false,
            EncapsulationMode::Transport,
        )
        .unwrap_err();
        assert_eq!(err.offered, "UDP-Encapsulated-Transport (draft)");
        assert_eq!(err.required, "Transport (no NAT was detected)");
    }

    #[test]
    fn fitting_offers_are_kept_and_misfits_dropped() {
        let offers = vec![offer(Some(3)), offer(Some(1)), offer(None)];
        let kept = offers_fitting_nat(offers, false, EncapsulationMode::Tunnel).unwrap();
        assert_eq!(kept, vec![offer(Some(1)), offer(None)]);
    }

    #[test]
    fn ah_and_its_ipcomp_are_dropped_across_a_nat() {
        let at = |proposal: u8, protocol: u8| Phase2Offer {
            proposal,
            protocol,
            ..Phase2Offer::default()
        };
        // ESP as proposal 1; AH bundled with IPComp as proposal 2.
        let offers = vec![at(1, 3), at(2, 2), at(2, 4)];
        let kept = without_ah_across_nat(offers.clone(), true).unwrap();
        assert_eq!(kept, vec![at(1, 3)]);
        assert_eq!(without_ah_across_nat(offers, false).unwrap().len(), 3);
        let err = without_ah_across_nat(vec![at(1, 2), at(1, 4)], true).unwrap_err();
        assert_eq!(err.attribute, Attribute::Protocol);
        assert_eq!(
            err.to_string(),
            "peer offered protocol AH, policy requires ESP (AH cannot cross the NAT detected in Phase 1)"
        );
    }
}
