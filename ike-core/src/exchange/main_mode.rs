//! Phase 1 Main Mode with pre-shared keys (RFC 2409 §5, §5.4) or RSA
//! signatures (§5.1).
//!
//! ```text
//! Initiator                         Responder
//! HDR, SA                    -->                         MM1
//!                            <--    HDR, SA              MM2
//! HDR, KE, Ni [, CR]         -->                         MM3
//!                            <--    HDR, KE, Nr [, CR]   MM4
//! HDR*, IDii, HASH_I [, N]   -->                         MM5 (PSK)
//! HDR*, IDii [, CERT], SIG_I [, N] -->                   MM5 (RSA)
//!                            <--    HDR*, IDir, HASH_R   MM6 (PSK)
//!                            <--    HDR*, IDir [, CERT], SIG_R  MM6 (RSA)
//! ```
//!
//! The PSK is chosen by the peer's address: MM5 is encrypted under keys
//! derived from it, so the identity inside cannot select it. With RSA
//! signatures the keys need no secret but the DH one, and the peer is
//! judged by its certificate and SIG (see [`super::signature`]).

use std::net::SocketAddr;

use rand_core::CryptoRngCore;

use super::nat::{self, NatDetection, NatVariant};
use super::proof::{PeerAuthenticated, verify_phase1};
use super::{Decrypted, Phase1Session};
use super::{informational, proposals, signature};
use crate::config::{
    AuthMethod, EndpointConfig, Identity, PeerConfig, Phase1Proposal, RsaAuthConfig,
};
use crate::crypto::key_schedule::Phase1Inputs;
use crate::crypto::phase1_hash::Phase1HashInputs;
use crate::crypto::{DhPrivateKey, IvChain, KeySchedule, Phase1Auth, Prf};
use crate::endpoint::FailureReason;
use crate::policy::{confirm_phase1, select_phase1};
use crate::wire::{
    CertificateRequest, Cookie, ExchangeType, Header, Identification, Message, MessageId, Payload,
    PayloadBody, PayloadType,
};

/// What one Phase 1 message needs from its surroundings.
pub(crate) struct Phase1Ctx<'a> {
    pub(crate) rng: &'a mut dyn CryptoRngCore,
    pub(crate) config: &'a EndpointConfig,
    pub(crate) peer: &'a PeerConfig,
    pub(crate) local: SocketAddr,
    pub(crate) remote: SocketAddr,
    pub(crate) cky_i: Cookie,
    pub(crate) cky_r: Cookie,
    /// Send INITIAL-CONTACT: configured, and we hold no other SA with this
    /// peer (RFC 2407 §4.6.3.3: only on first contact).
    pub(crate) first_contact: bool,
    /// Main or Aggressive Mode.
    pub(crate) exchange: ExchangeType,
    /// The identity an Aggressive Mode peer claimed, to pick its PSK.
    pub(crate) peer_claim: Option<Identity>,
    /// The NAT-T dialect both sides announced, if any.
    pub(crate) nat: Option<NatVariant>,
    /// Out: what the peer's NAT-D payloads showed.
    pub(crate) nat_result: Option<NatDetection>,
    /// Wall-clock time now, for certificate validity; `None` until the
    /// caller set it.
    pub(crate) wall_clock: Option<crate::auth::UnixTime>,
}

impl Phase1Ctx<'_> {
    pub(crate) fn header(&self) -> Header {
        Header::new(self.cky_i, self.cky_r, self.exchange, MessageId(0))
    }

    pub(crate) fn nonce(&mut self) -> Vec<u8> {
        let mut n = vec![0u8; self.config.nonce_len.clamp(8, 256)];
        self.rng.fill_bytes(&mut n);
        n
    }

    /// Our NAT-D payloads, when NAT-T was agreed.
    pub(crate) fn nat_d(&self, hash: crate::crypto::HashAlgorithm) -> Vec<Payload> {
        let force = self.peer.nat_traversal == crate::config::NatTraversal::Force;
        self.nat.map_or_else(Vec::new, |v| {
            nat::nat_d_payloads(
                v,
                hash,
                &self.cky_i,
                &self.cky_r,
                self.local,
                self.remote,
                force,
            )
        })
    }

    /// Reads the peer's NAT-D payloads into `nat_result`.
    pub(crate) fn check_nat_d(&mut self, hash: crate::crypto::HashAlgorithm, payloads: &[Payload]) {
        if let Some(v) = self.nat {
            self.nat_result = nat::detect(
                v,
                hash,
                &self.cky_i,
                &self.cky_r,
                self.local,
                self.remote,
                payloads,
            );
        }
    }

    pub(crate) fn our_identity(&self) -> Identity {
        self.peer
            .my_identifier
            .clone()
            .unwrap_or_else(|| Identity::from_ip(self.local.ip()))
    }

    fn psk(&self) -> Result<&[u8], FailureReason> {
        let claimed = self
            .peer_claim
            .as_ref()
            .and_then(|id| self.config.psk.by_identity(id));
        claimed
            .or_else(|| {
                self.config
                    .psk
                    .by_address(crate::config::canonical(self.remote.ip()))
            })
            .or_else(|| {
                self.peer
                    .peers_identifier
                    .as_ref()
                    .and_then(|id| self.config.psk.by_identity(id))
            })
            .map(|k| k.as_bytes())
            .ok_or_else(|| FailureReason::NoPreSharedKey(self.remote.ip().to_string()))
    }
}

/// The result of handling one message.
pub(crate) enum Step {
    /// Move to `next`, sending `reply` if any; `expect_reply` arms the resend timer.
    Next {
        next: Phase1State,
        reply: Option<Vec<u8>>,
        expect_reply: bool,
    },
    /// The message does not fit or did not verify: drop it, stay put.
    Drop(Phase1State, DropKind),
    /// The negotiation failed.
    Fail(FailureReason),
    /// The negotiation failed; send the peer this encrypted Informational
    /// saying why (the Phase 1 keys exist).
    FailNotify(FailureReason, Vec<u8>),
}

/// Why a message was dropped, for stats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DropKind {
    /// Did not parse or lacks a payload.
    Malformed,
    /// Did not decrypt or its hash did not verify.
    BadHash,
}

/// Phase 1 progress of one ISAKMP SA.
pub(crate) enum Phase1State {
    ExpectMm2(Box<ExpectMm2>),
    ExpectMm4(Box<ExpectMm4>),
    ExpectMm6(Box<ExpectMm6>),
    ExpectMm3(Box<ExpectMm3>),
    ExpectMm5(Box<ExpectMm5>),
    ExpectAm2(Box<super::aggressive_mode::ExpectAm2>),
    ExpectAm3(Box<super::aggressive_mode::ExpectAm3>),
    Established(Box<Established>),
    /// Terminal; waiting to be removed.
    Dead,
}

/// An established ISAKMP SA.
#[allow(dead_code, reason = "the session keys Quick Mode and Informational")]
pub(crate) struct Established {
    pub(crate) session: Phase1Session,
    pub(crate) peer_id: Identity,
    pub(crate) proposal: Phase1Proposal,
    /// Whether the peer sent INITIAL-CONTACT.
    pub(crate) initial_contact: bool,
    _authenticated: PeerAuthenticated,
}

impl Established {
    /// An established SA; only reachable with proof that the peer's hash verified.
    pub(crate) fn new(
        session: Phase1Session,
        peer_id: Identity,
        proposal: Phase1Proposal,
        initial_contact: bool,
        proof: PeerAuthenticated,
    ) -> Self {
        Self {
            session,
            peer_id,
            proposal,
            initial_contact,
            _authenticated: proof,
        }
    }
}

pub(crate) struct ExpectMm2 {
    sai_b: Vec<u8>,
}

pub(crate) struct ExpectMm4 {
    sai_b: Vec<u8>,
    proposal: Phase1Proposal,
    dh: DhPrivateKey,
    ni: Vec<u8>,
}

pub(crate) struct ExpectMm6 {
    sai_b: Vec<u8>,
    proposal: Phase1Proposal,
    session: Phase1Session,
    gxi: Vec<u8>,
    gxr: Vec<u8>,
}

pub(crate) struct ExpectMm3 {
    sai_b: Vec<u8>,
    proposal: Phase1Proposal,
}

pub(crate) struct ExpectMm5 {
    sai_b: Vec<u8>,
    proposal: Phase1Proposal,
    session: Phase1Session,
    gxi: Vec<u8>,
    gxr: Vec<u8>,
    /// The initiator's CR payloads from MM3, to choose what MM6 carries.
    peer_requests: Vec<CertificateRequest>,
}

pub(crate) fn plain(msg: &Message) -> Option<&[Payload]> {
    msg.payloads()
}

pub(crate) fn find(payloads: &[Payload], ty: PayloadType) -> Option<&Payload> {
    payloads.iter().find(|p| p.ty == ty)
}

pub(crate) fn emit(header: Header, payloads: Vec<Payload>) -> Option<Vec<u8>> {
    Message::new(header, payloads).to_bytes().ok()
}

#[allow(clippy::too_many_arguments, reason = "the RFC 2409 inputs, each named")]
pub(crate) fn session(
    ctx: &Phase1Ctx<'_>,
    proposal: &Phase1Proposal,
    dh: &DhPrivateKey,
    peer_ke: &[u8],
    ni: &[u8],
    nr: &[u8],
    gxi: &[u8],
    gxr: &[u8],
) -> Result<Phase1Session, FailureReason> {
    let auth = match proposal.auth {
        AuthMethod::PreSharedKey => Phase1Auth::PreSharedKey(ctx.psk()?),
        AuthMethod::RsaSignature => {
            rsa_config(ctx.peer, proposal)?;
            Phase1Auth::Signature
        }
    };
    let gxy = dh
        .compute_shared(peer_ke)
        .map_err(|e| FailureReason::Protocol(format!("peer's DH public value refused: {e}")))?;
    let inputs = Phase1Inputs {
        prf: Prf::hmac(proposal.hash),
        auth,
        gxy: &gxy,
        ni,
        nr,
        cky_i: &ctx.cky_i.0,
        cky_r: &ctx.cky_r.0,
    };
    let keys = KeySchedule::derive(&inputs, proposal.hash, proposal.cipher)
        .map_err(|e| FailureReason::Protocol(format!("key schedule: {e}")))?;
    let iv = keys.phase1_iv(gxi, gxr);
    let ivs = IvChain::new(proposal.hash, proposal.cipher.block_len(), iv);
    Ok(Phase1Session { keys, ivs })
}

/// The peer's RSA configuration when `proposal` authenticates with RSA
/// signatures; `None` for pre-shared keys.
pub(crate) fn rsa_config<'a>(
    peer: &'a PeerConfig,
    proposal: &Phase1Proposal,
) -> Result<Option<&'a RsaAuthConfig>, FailureReason> {
    match proposal.auth {
        AuthMethod::PreSharedKey => Ok(None),
        AuthMethod::RsaSignature => peer.auth.rsa().map(Some).ok_or_else(|| {
            FailureReason::LocalAuthentication(
                "an RSA-signature transform was negotiated but this peer has no RSA key or certificate configured (PeerConfig::auth)".into(),
            )
        }),
    }
}

/// Our proof for MM5/MM6/AM2/AM3: HASH for pre-shared keys; for RSA
/// signatures [CERT…,] SIG over the same hash.
pub(crate) fn our_proof(
    ctx: &mut Phase1Ctx<'_>,
    proposal: &Phase1Proposal,
    peer_requests: &[CertificateRequest],
    hash: &crate::crypto::HashValue,
) -> Result<Vec<Payload>, FailureReason> {
    match rsa_config(ctx.peer, proposal)? {
        None => Ok(vec![Payload::new(
            PayloadType::HASH,
            hash.as_bytes().to_vec(),
        )]),
        Some(rsa) => signature::our_proof(&mut *ctx.rng, rsa, peer_requests, hash),
    }
}

/// Refuses the peer after Phase 1 keys exist: the reason, and an
/// Informational carrying its notify encrypted under those keys, with a
/// Delete of this ISAKMP SA: a responder that sent MM6 (or an initiator
/// that sent AM3) already counts it established and must drop it.
pub(crate) fn refuse(
    ctx: &mut Phase1Ctx<'_>,
    session: &mut Phase1Session,
    reason: FailureReason,
) -> Step {
    let Some(notify) = signature::refusal_notify(&reason) else {
        return Step::Fail(reason);
    };
    let mut mid = 0;
    while mid == 0 {
        mid = ctx.rng.next_u32();
    }
    let delete = informational::delete_isakmp(ctx.cky_i, ctx.cky_r);
    match informational::seal(session, ctx.cky_i, ctx.cky_r, mid, vec![notify, delete]) {
        Some(bytes) => Step::FailNotify(reason, bytes),
        None => Step::Fail(reason),
    }
}

/// What the peer's MM5/MM6/AM2/AM3 offers as proof, and the hash it must
/// prove (HASH_I or HASH_R, computed locally).
pub(crate) struct PeerProof<'m> {
    pub(crate) message: &'static str,
    pub(crate) payloads: &'m [Payload],
    pub(crate) peer_id: &'m Identity,
    pub(crate) expected: &'m crate::crypto::HashValue,
}

/// The outcome of [`PeerProof::check`].
pub(crate) enum Verdict {
    /// The peer is authenticated.
    Authenticated(PeerAuthenticated),
    /// A HASH that does not verify: garbage or a wrong PSK; stay put.
    Drop,
    /// The peer was refused: fail with this step (which may carry an
    /// encrypted notify).
    Refused(Step),
}

impl PeerProof<'_> {
    /// Checks the HASH (pre-shared keys) or the CERT and SIG payloads (RSA
    /// signatures). `received`, when the message was encrypted, moves the
    /// IV chain past it once it counts: always with signatures (the refusal
    /// notify follows it), only when the HASH verified with a PSK.
    pub(crate) fn check(
        self,
        ctx: &mut Phase1Ctx<'_>,
        proposal: &Phase1Proposal,
        session: &mut Phase1Session,
        received: Option<&Decrypted>,
    ) -> Verdict {
        let accept = |session: &mut Phase1Session| {
            if let Some(dec) = received {
                session.accept(0, dec);
            }
        };
        match rsa_config(ctx.peer, proposal) {
            Err(e) => Verdict::Refused(Step::Fail(e)),
            Ok(Some(rsa)) => {
                let verdict = signature::verify_peer(
                    rsa,
                    ctx.wall_clock,
                    self.message,
                    self.payloads,
                    self.peer_id,
                    self.expected,
                );
                accept(session);
                match verdict {
                    Ok(proof) => Verdict::Authenticated(proof),
                    Err(reason) => Verdict::Refused(refuse(ctx, session, reason)),
                }
            }
            Ok(None) => {
                let Some(proof) = find(self.payloads, PayloadType::HASH)
                    .and_then(|hash| verify_phase1(self.expected, &hash.body))
                else {
                    return Verdict::Drop;
                };
                accept(session);
                Verdict::Authenticated(proof)
            }
        }
    }
}

pub(crate) fn id_payload(id: &Identity) -> Payload {
    Identification::new(id.to_wire())
        .to_payload()
        .unwrap_or_else(|_| Payload::new(PayloadType::IDENTIFICATION, Vec::new()))
}

/// Reads the peer's ID payload, checks it against `peers_identifier`.
pub(crate) fn peer_identity(
    ctx: &Phase1Ctx<'_>,
    payloads: &[Payload],
) -> Result<(Identity, Vec<u8>), Option<FailureReason>> {
    let p = find(payloads, PayloadType::IDENTIFICATION).ok_or(None)?;
    // Too short for the ID header: garbage (a wrong key), not a claim.
    if p.body.len() < 4 {
        return Err(None);
    }
    let wire_id = Identification::parse_body(&p.body)
        .map_err(|e| Some(FailureReason::Protocol(format!("peer's ID payload: {e}"))))?;
    let id = Identity::from_wire_identity(&wire_id.identity).ok_or_else(|| {
        Some(FailureReason::Protocol(format!(
            "unsupported ID type {}",
            wire_id.identity.id_type()
        )))
    })?;
    if let Some(expected) = &ctx.peer.peers_identifier
        && !same_identity(expected, &id)
    {
        return Err(Some(FailureReason::WrongIdentity {
            got: id.to_string(),
            expected: expected.to_string(),
        }));
    }
    Ok((id, p.body.clone()))
}

/// Identities compare by value, DNs as names (RFC 5280 §7.1): a peer
/// may encode the DN it is configured with in other string types than
/// the certificate the DN was copied from.
fn same_identity(expected: &Identity, got: &Identity) -> bool {
    match (expected, got) {
        (Identity::DerAsn1Dn(want), Identity::DerAsn1Dn(got)) => {
            crate::auth::same_der_name(want, got)
        }
        _ => expected == got,
    }
}

pub(crate) fn has_initial_contact(payloads: &[Payload]) -> bool {
    payloads
        .iter()
        .filter(|p| p.ty == PayloadType::NOTIFICATION)
        .any(|p| proposals::is_initial_contact(&p.body))
}

/// Starts Main Mode as initiator: MM1.
pub(crate) fn initiate(ctx: &mut Phase1Ctx<'_>) -> Option<(Phase1State, Vec<u8>)> {
    let sa = proposals::phase1_sa(&ctx.peer.proposals);
    let sai_b = sa.body.clone();
    let mut payloads = vec![sa];
    payloads.extend(nat::vendor_ids(ctx.peer, None, false));
    let bytes = emit(ctx.header(), payloads)?;
    Some((Phase1State::ExpectMm2(Box::new(ExpectMm2 { sai_b })), bytes))
}

/// Answers MM1 as responder: MM2.
pub(crate) fn respond(ctx: &mut Phase1Ctx<'_>, msg: &Message) -> Step {
    let Some(sa) = plain(msg).and_then(|p| find(p, PayloadType::SA)) else {
        return Step::Drop(Phase1State::Dead, DropKind::Malformed);
    };
    let Some(offers) = proposals::parse_phase1_offers(&sa.body) else {
        return Step::Drop(Phase1State::Dead, DropKind::Malformed);
    };
    let choice = match select_phase1(&offers, &ctx.peer.proposals, ctx.peer.proposal_check) {
        Ok(c) => c,
        Err(m) => return Step::Fail(FailureReason::NoProposalChosen(m)),
    };
    let mut payloads = vec![proposals::phase1_reply(&choice.offer, &choice.proposal)];
    payloads.extend(nat::vendor_ids(ctx.peer, ctx.nat, true));
    let Some(bytes) = emit(ctx.header(), payloads) else {
        return Step::Drop(Phase1State::Dead, DropKind::Malformed);
    };
    Step::Next {
        next: Phase1State::ExpectMm3(Box::new(ExpectMm3 {
            sai_b: sa.body.clone(),
            proposal: choice.proposal,
        })),
        reply: Some(bytes),
        expect_reply: true,
    }
}

impl Phase1State {
    /// Handles the next Main Mode message from the peer.
    pub(crate) fn handle(self, ctx: &mut Phase1Ctx<'_>, msg: &Message) -> Step {
        match self {
            Self::ExpectMm2(s) => s.handle(ctx, msg),
            Self::ExpectMm4(s) => s.handle(ctx, msg),
            Self::ExpectMm6(s) => s.handle(ctx, msg),
            Self::ExpectMm3(s) => s.handle(ctx, msg),
            Self::ExpectMm5(s) => s.handle(ctx, msg),
            Self::ExpectAm2(s) => s.handle(ctx, msg),
            Self::ExpectAm3(s) => s.handle(ctx, msg),
            other @ (Self::Established(_) | Self::Dead) => Step::Drop(other, DropKind::Malformed),
        }
    }

    /// Whether Phase 1 is complete.
    pub(crate) fn established(&self) -> Option<&Established> {
        match self {
            Self::Established(e) => Some(e),
            _ => None,
        }
    }

    /// The refusal of the last AM3 in clear that did not authenticate, for
    /// a responder still waiting for a good one.
    pub(crate) fn refused_in_clear(&self) -> Option<&super::aggressive_mode::ClearRefusal> {
        match self {
            Self::ExpectAm3(s) => s.refused_in_clear(),
            _ => None,
        }
    }

    /// Whether this negotiation chose RSA signatures (known from MM2 on,
    /// or AM2 for the responder).
    pub(crate) fn uses_signatures(&self) -> bool {
        let proposal = match self {
            Self::ExpectMm4(s) => &s.proposal,
            Self::ExpectMm6(s) => &s.proposal,
            Self::ExpectMm3(s) => &s.proposal,
            Self::ExpectMm5(s) => &s.proposal,
            Self::ExpectAm3(s) => s.proposal(),
            Self::Established(e) => &e.proposal,
            Self::ExpectMm2(_) | Self::ExpectAm2(_) | Self::Dead => return false,
        };
        proposal.auth == AuthMethod::RsaSignature
    }

    /// The notify in an encrypted Informational the peer sent during this
    /// Phase 1, once both sides hold its keys (a peer that refused our
    /// certificate or SIG says why this way), if it decrypts and its
    /// HASH(1) verifies. The peer is not authenticated yet: a hint only.
    pub(crate) fn refusal_notify(&mut self, msg: &Message) -> Option<crate::wire::NotifyType> {
        let session = match self {
            Self::ExpectMm5(s) => &mut s.session,
            Self::ExpectMm6(s) => &mut s.session,
            Self::ExpectAm3(s) => s.session_mut(),
            _ => return None,
        };
        let dec = session.open_message(msg)?;
        informational::verify(session, msg.header.message_id.0, &dec)?;
        let n = dec.find(PayloadType::NOTIFICATION)?;
        crate::wire::Notification::parse_body(&n.body)
            .ok()
            .map(|n| n.notify_type)
    }

    /// Mutable access to an established SA.
    #[allow(dead_code, reason = "used by Quick Mode")]
    pub(crate) fn established_mut(&mut self) -> Option<&mut Established> {
        match self {
            Self::Established(e) => Some(e),
            _ => None,
        }
    }
}

impl ExpectMm2 {
    fn handle(self: Box<Self>, ctx: &mut Phase1Ctx<'_>, msg: &Message) -> Step {
        let Some(offer) = plain(msg)
            .and_then(|p| find(p, PayloadType::SA))
            .and_then(|sa| proposals::parse_phase1_offers(&sa.body))
            .and_then(|o| o.into_iter().next())
        else {
            return Step::Drop(Phase1State::ExpectMm2(self), DropKind::Malformed);
        };
        let proposal = match confirm_phase1(&offer, &ctx.peer.proposals) {
            Ok(p) => p,
            Err(m) => {
                return Step::Fail(FailureReason::Protocol(format!(
                    "responder chose a transform we did not offer: {m}"
                )));
            }
        };
        let dh = match proposal.group.generate(&mut &mut *ctx.rng, None) {
            Ok(dh) => dh,
            Err(e) => return Step::Fail(FailureReason::Protocol(format!("DH: {e}"))),
        };
        let ni = ctx.nonce();
        let mut payloads = vec![
            Payload::new(PayloadType::KEY_EXCHANGE, dh.public_value().to_vec()),
            Payload::new(PayloadType::NONCE, ni.clone()),
        ];
        match rsa_config(ctx.peer, &proposal) {
            Ok(rsa) => {
                payloads.extend(rsa.map(signature::certificate_requests).unwrap_or_default())
            }
            Err(e) => return Step::Fail(e),
        }
        payloads.extend(ctx.nat_d(proposal.hash));
        let Some(bytes) = emit(ctx.header(), payloads) else {
            return Step::Drop(Phase1State::ExpectMm2(self), DropKind::Malformed);
        };
        Step::Next {
            next: Phase1State::ExpectMm4(Box::new(ExpectMm4 {
                sai_b: self.sai_b,
                proposal,
                dh,
                ni,
            })),
            reply: Some(bytes),
            expect_reply: true,
        }
    }
}

impl ExpectMm3 {
    fn handle(self: Box<Self>, ctx: &mut Phase1Ctx<'_>, msg: &Message) -> Step {
        let payloads = plain(msg).unwrap_or_default();
        let (Some(ke), Some(ni)) = (
            find(payloads, PayloadType::KEY_EXCHANGE),
            find(payloads, PayloadType::NONCE),
        ) else {
            return Step::Drop(Phase1State::ExpectMm3(self), DropKind::Malformed);
        };
        let dh = match self.proposal.group.generate(&mut &mut *ctx.rng, None) {
            Ok(dh) => dh,
            Err(e) => return Step::Fail(FailureReason::Protocol(format!("DH: {e}"))),
        };
        let nr = ctx.nonce();
        let gxr = dh.public_value().to_vec();
        let session = match session(
            ctx,
            &self.proposal,
            &dh,
            &ke.body,
            &ni.body,
            &nr,
            &ke.body,
            &gxr,
        ) {
            Ok(s) => s,
            Err(e) => return Step::Fail(e),
        };
        ctx.check_nat_d(self.proposal.hash, payloads);
        let mut reply = vec![
            Payload::new(PayloadType::KEY_EXCHANGE, gxr.clone()),
            Payload::new(PayloadType::NONCE, nr),
        ];
        if let Ok(Some(rsa)) = rsa_config(ctx.peer, &self.proposal) {
            reply.extend(signature::certificate_requests(rsa));
        }
        reply.extend(ctx.nat_d(self.proposal.hash));
        let Some(bytes) = emit(ctx.header(), reply) else {
            return Step::Drop(Phase1State::ExpectMm3(self), DropKind::Malformed);
        };
        Step::Next {
            next: Phase1State::ExpectMm5(Box::new(ExpectMm5 {
                sai_b: self.sai_b,
                proposal: self.proposal,
                session,
                gxi: ke.body.clone(),
                gxr,
                peer_requests: signature::received_requests(payloads),
            })),
            reply: Some(bytes),
            expect_reply: true,
        }
    }
}

impl ExpectMm4 {
    fn handle(self: Box<Self>, ctx: &mut Phase1Ctx<'_>, msg: &Message) -> Step {
        let payloads = plain(msg).unwrap_or_default();
        let (Some(ke), Some(nr)) = (
            find(payloads, PayloadType::KEY_EXCHANGE),
            find(payloads, PayloadType::NONCE),
        ) else {
            return Step::Drop(Phase1State::ExpectMm4(self), DropKind::Malformed);
        };
        ctx.check_nat_d(self.proposal.hash, payloads);
        let gxi = self.dh.public_value().to_vec();
        let mut session = match session(
            ctx,
            &self.proposal,
            &self.dh,
            &ke.body,
            &self.ni,
            &nr.body,
            &gxi,
            &ke.body,
        ) {
            Ok(s) => s,
            Err(e) => return Step::Fail(e),
        };
        let id = id_payload(&ctx.our_identity());
        let hash_i = session.keys.hash_i(&Phase1HashInputs {
            gxi: &gxi,
            gxr: &ke.body,
            cky_i: &ctx.cky_i.0,
            cky_r: &ctx.cky_r.0,
            sai_b: &self.sai_b,
            idii_b: &id.body,
            idir_b: &[],
        });
        let requests = signature::received_requests(payloads);
        let mut out = vec![id];
        match our_proof(ctx, &self.proposal, &requests, &hash_i) {
            Ok(proof) => out.extend(proof),
            Err(e) => return Step::Fail(e),
        }
        if ctx.first_contact {
            out.push(proposals::initial_contact(&ctx.cky_i, &ctx.cky_r));
        }
        let Some(bytes) = session.seal(ctx.header(), &out) else {
            return Step::Fail(FailureReason::Protocol("could not encrypt MM5".into()));
        };
        Step::Next {
            next: Phase1State::ExpectMm6(Box::new(ExpectMm6 {
                sai_b: self.sai_b,
                proposal: self.proposal,
                session,
                gxi,
                gxr: ke.body.clone(),
            })),
            reply: Some(bytes),
            expect_reply: true,
        }
    }
}

fn open_phase1(session: &mut Phase1Session, msg: &Message) -> Option<Decrypted> {
    match &msg.body {
        crate::wire::MessageBody::Encrypted {
            first_payload,
            ciphertext,
        } => session.open(0, *first_payload, ciphertext),
        crate::wire::MessageBody::Plain(_) => None,
    }
}

impl ExpectMm5 {
    fn handle(mut self: Box<Self>, ctx: &mut Phase1Ctx<'_>, msg: &Message) -> Step {
        let Some(dec) = open_phase1(&mut self.session, msg) else {
            return Step::Drop(Phase1State::ExpectMm5(self), DropKind::BadHash);
        };
        let (peer_id, idii_b) = match peer_identity(ctx, &dec.payloads) {
            Ok(x) => x,
            Err(None) => return Step::Drop(Phase1State::ExpectMm5(self), DropKind::BadHash),
            Err(Some(reason)) => return Step::Fail(reason),
        };
        let (cky_i, cky_r) = (ctx.cky_i, ctx.cky_r);
        let inputs = Phase1HashInputs {
            gxi: &self.gxi,
            gxr: &self.gxr,
            cky_i: &cky_i.0,
            cky_r: &cky_r.0,
            sai_b: &self.sai_b,
            idii_b: &idii_b,
            idir_b: &[],
        };
        let expected = self.session.keys.hash_i(&inputs);
        let checked = PeerProof {
            message: "MM5",
            payloads: &dec.payloads,
            peer_id: &peer_id,
            expected: &expected,
        }
        .check(ctx, &self.proposal, &mut self.session, Some(&dec));
        let proof = match checked {
            Verdict::Authenticated(proof) => proof,
            Verdict::Drop => return Step::Drop(Phase1State::ExpectMm5(self), DropKind::BadHash),
            Verdict::Refused(step) => return step,
        };
        let initial_contact = has_initial_contact(&dec.payloads);
        let id = id_payload(&ctx.our_identity());
        let hash_r = self.session.keys.hash_r(&Phase1HashInputs {
            idir_b: &id.body,
            ..inputs
        });
        let mut out = vec![id];
        match our_proof(ctx, &self.proposal, &self.peer_requests, &hash_r) {
            Ok(proof) => out.extend(proof),
            Err(e) => return Step::Fail(e),
        }
        let Some(bytes) = self.session.seal(ctx.header(), &out) else {
            return Step::Fail(FailureReason::Protocol("could not encrypt MM6".into()));
        };
        Step::Next {
            next: Phase1State::Established(Box::new(Established::new(
                self.session,
                peer_id,
                self.proposal,
                initial_contact,
                proof,
            ))),
            reply: Some(bytes),
            expect_reply: false,
        }
    }
}

impl ExpectMm6 {
    fn handle(mut self: Box<Self>, ctx: &mut Phase1Ctx<'_>, msg: &Message) -> Step {
        let Some(dec) = open_phase1(&mut self.session, msg) else {
            return Step::Drop(Phase1State::ExpectMm6(self), DropKind::BadHash);
        };
        let (peer_id, idir_b) = match peer_identity(ctx, &dec.payloads) {
            Ok(x) => x,
            Err(None) => return Step::Drop(Phase1State::ExpectMm6(self), DropKind::BadHash),
            Err(Some(reason)) => return Step::Fail(reason),
        };
        let expected = self.session.keys.hash_r(&Phase1HashInputs {
            gxi: &self.gxi,
            gxr: &self.gxr,
            cky_i: &ctx.cky_i.0,
            cky_r: &ctx.cky_r.0,
            sai_b: &self.sai_b,
            idii_b: &[],
            idir_b: &idir_b,
        });
        let checked = PeerProof {
            message: "MM6",
            payloads: &dec.payloads,
            peer_id: &peer_id,
            expected: &expected,
        }
        .check(ctx, &self.proposal, &mut self.session, Some(&dec));
        let proof = match checked {
            Verdict::Authenticated(proof) => proof,
            Verdict::Drop => return Step::Drop(Phase1State::ExpectMm6(self), DropKind::BadHash),
            Verdict::Refused(step) => return step,
        };
        let initial_contact = has_initial_contact(&dec.payloads);
        Step::Next {
            next: Phase1State::Established(Box::new(Established::new(
                self.session,
                peer_id,
                self.proposal,
                initial_contact,
                proof,
            ))),
            reply: None,
            expect_reply: false,
        }
    }
}
