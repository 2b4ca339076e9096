//! Phase 1 Aggressive Mode with pre-shared keys (RFC 2409 §5, §5.4) or
//! RSA signatures (§5.1).
//!
//! ```text
//! Initiator                               Responder
//! HDR, SA, KE, Ni, IDii [, CR]   -->
//!                                <--      HDR, SA, KE, Nr, IDir, HASH_R  (PSK)
//!                                <--      HDR, SA, KE, Nr, IDir [, CERT], SIG_R [, CR]  (RSA)
//! HDR, HASH_I                    -->                                     (PSK)
//! HDR, [CERT,] SIG_I             -->                                     (RSA)
//! ```
//!
//! The identities travel in clear, so the PSK is found by the initiator's
//! claimed identity (then by address). AM2 exposes a hash keyed by the PSK
//! to any observer, which allows an offline dictionary attack on the key:
//! prefer Main Mode (see [`crate::config::ExchangeMode::Aggressive`]).
//! The initiator can offer only the DH group of its KE payload, so every
//! transform it offers uses the group of its first proposal.
//! With NAT-T, NAT-D rides in AM2 and AM3 and AM3 already goes to port 4500.
//! AM3 is sent in clear as RFC 2409 §5.4 shows; an encrypted AM3 is
//! accepted too, since some peers send one. An AM3 in clear that does not
//! authenticate may come from anyone on the path, so the responder drops
//! it and keeps waiting for the initiator's resend (see [`ClearRefusal`]);
//! an encrypted one that decrypts but does not authenticate ends the
//! negotiation at once.

use super::main_mode::{
    DropKind, Established, PeerProof, Phase1Ctx, Phase1State, Step, Verdict, emit, find,
    has_initial_contact, id_payload, our_proof, peer_identity, plain, rsa_config, session,
};
use super::{Phase1Session, proposals, signature};
use crate::config::{AuthMethod, Identity, Phase1Proposal};
use crate::crypto::DhPrivateKey;
use crate::crypto::phase1_hash::Phase1HashInputs;
use crate::endpoint::FailureReason;
use crate::policy::{confirm_phase1, select_phase1};
use crate::wire::{Message, MessageBody, Payload, PayloadType};

/// The initiator after AM1.
pub(crate) struct ExpectAm2 {
    sai_b: Vec<u8>,
    dh: DhPrivateKey,
    ni: Vec<u8>,
    idii_b: Vec<u8>,
}

/// The responder after AM2.
pub(crate) struct ExpectAm3 {
    session: Phase1Session,
    proposal: Phase1Proposal,
    peer_id: Identity,
    initial_contact: bool,
    expected_hash_i: crate::crypto::HashValue,
    /// The last AM3 sent in clear that did not authenticate, if any.
    refused_in_clear: Option<ClearRefusal>,
}

/// Why an AM3 sent in clear was refused. AM3 travels unencrypted (RFC 2409
/// §5), so anyone on the path can send one with a bad SIG: it is dropped
/// and the real initiator's resend awaited. If none comes before the
/// negotiation times out, this is the reason reported, and `notify` (our
/// encrypted refusal) is sent then.
pub(crate) struct ClearRefusal {
    pub(crate) reason: FailureReason,
    pub(crate) notify: Option<Vec<u8>>,
}

impl ExpectAm3 {
    /// The refusal of the last unauthenticated AM3 sent in clear.
    pub(crate) const fn refused_in_clear(&self) -> Option<&ClearRefusal> {
        self.refused_in_clear.as_ref()
    }

    /// The chosen transform.
    pub(crate) const fn proposal(&self) -> &Phase1Proposal {
        &self.proposal
    }

    /// The keys, for reading a refusal the initiator sent instead of AM3.
    pub(crate) fn session_mut(&mut self) -> &mut Phase1Session {
        &mut self.session
    }
}

/// Starts Aggressive Mode: AM1.
pub(crate) fn initiate(ctx: &mut Phase1Ctx<'_>) -> Option<(Phase1State, Vec<u8>)> {
    let group = ctx.peer.proposals.first()?.group;
    let offered: Vec<Phase1Proposal> = ctx
        .peer
        .proposals
        .iter()
        .filter(|p| p.group == group)
        .copied()
        .collect();
    let sa = proposals::phase1_sa(&offered);
    let dh = group.generate(&mut &mut *ctx.rng, None).ok()?;
    let ni = ctx.nonce();
    let id = id_payload(&ctx.our_identity());
    let state = ExpectAm2 {
        sai_b: sa.body.clone(),
        dh,
        ni: ni.clone(),
        idii_b: id.body.clone(),
    };
    let mut payloads = vec![
        sa,
        Payload::new(PayloadType::KEY_EXCHANGE, state.dh.public_value().to_vec()),
        Payload::new(PayloadType::NONCE, ni),
        id,
    ];
    // The method is not chosen yet: ask for certificates if we offer RSA.
    if let Some(rsa) = ctx.peer.auth.rsa()
        && offered.iter().any(|p| p.auth == AuthMethod::RsaSignature)
    {
        payloads.extend(signature::certificate_requests(rsa));
    }
    payloads.extend(super::nat::vendor_ids(ctx.peer, None, false));
    let bytes = emit(ctx.header(), payloads)?;
    Some((Phase1State::ExpectAm2(Box::new(state)), bytes))
}

/// Answers AM1: AM2.
pub(crate) fn respond(ctx: &mut Phase1Ctx<'_>, msg: &Message) -> Step {
    let payloads = plain(msg).unwrap_or_default();
    let (Some(sa), Some(ke), Some(ni)) = (
        find(payloads, PayloadType::SA),
        find(payloads, PayloadType::KEY_EXCHANGE),
        find(payloads, PayloadType::NONCE),
    ) else {
        return Step::Drop(Phase1State::Dead, DropKind::Malformed);
    };
    let (peer_id, idii_b) = match peer_identity(ctx, payloads) {
        Ok(x) => x,
        Err(None) => return Step::Drop(Phase1State::Dead, DropKind::Malformed),
        Err(Some(reason)) => return Step::Fail(reason),
    };
    let Some(offers) = proposals::parse_phase1_offers(&sa.body) else {
        return Step::Drop(Phase1State::Dead, DropKind::Malformed);
    };
    let choice = match select_phase1(&offers, &ctx.peer.proposals, ctx.peer.proposal_check) {
        Ok(c) => c,
        Err(m) => return Step::Fail(FailureReason::NoProposalChosen(m)),
    };
    let proposal = choice.proposal;
    let dh = match proposal.group.generate(&mut &mut *ctx.rng, None) {
        Ok(dh) => dh,
        Err(e) => return Step::Fail(FailureReason::Protocol(format!("DH: {e}"))),
    };
    let nr = ctx.nonce();
    let gxr = dh.public_value().to_vec();
    ctx.peer_claim = Some(peer_id.clone());
    let session = match session(ctx, &proposal, &dh, &ke.body, &ni.body, &nr, &ke.body, &gxr) {
        Ok(s) => s,
        Err(e) => return Step::Fail(e),
    };
    let id = id_payload(&ctx.our_identity());
    let inputs = Phase1HashInputs {
        gxi: &ke.body,
        gxr: &gxr,
        cky_i: &ctx.cky_i.0,
        cky_r: &ctx.cky_r.0,
        sai_b: &sa.body,
        idii_b: &idii_b,
        idir_b: &id.body,
    };
    let hash_r = session.keys.hash_r(&inputs);
    let expected_hash_i = session.keys.hash_i(&inputs);
    let mut out = vec![
        proposals::phase1_reply(&choice.offer, &proposal),
        Payload::new(PayloadType::KEY_EXCHANGE, gxr.clone()),
        Payload::new(PayloadType::NONCE, nr),
        id,
    ];
    match our_proof(
        ctx,
        &proposal,
        &signature::received_requests(payloads),
        &hash_r,
    ) {
        Ok(proof) => out.extend(proof),
        Err(e) => return Step::Fail(e),
    }
    if let Ok(Some(rsa)) = rsa_config(ctx.peer, &proposal) {
        out.extend(signature::certificate_requests(rsa));
    }
    out.extend(super::nat::vendor_ids(ctx.peer, ctx.nat, true));
    // RFC 3947 §3.2: NAT-D goes in AM2 and AM3 (AM1 has no responder cookie yet).
    out.extend(ctx.nat_d(proposal.hash));
    let Some(bytes) = emit(ctx.header(), out) else {
        return Step::Drop(Phase1State::Dead, DropKind::Malformed);
    };
    Step::Next {
        next: Phase1State::ExpectAm3(Box::new(ExpectAm3 {
            session,
            proposal,
            peer_id,
            initial_contact: has_initial_contact(payloads),
            expected_hash_i,
            refused_in_clear: None,
        })),
        reply: Some(bytes),
        expect_reply: true,
    }
}

impl ExpectAm2 {
    pub(crate) fn handle(self: Box<Self>, ctx: &mut Phase1Ctx<'_>, msg: &Message) -> Step {
        let payloads = plain(msg).unwrap_or_default();
        let (Some(sa), Some(ke), Some(nr)) = (
            find(payloads, PayloadType::SA),
            find(payloads, PayloadType::KEY_EXCHANGE),
            find(payloads, PayloadType::NONCE),
        ) else {
            return Step::Drop(Phase1State::ExpectAm2(self), DropKind::Malformed);
        };
        let Some(offer) =
            proposals::parse_phase1_offers(&sa.body).and_then(|o| o.into_iter().next())
        else {
            return Step::Drop(Phase1State::ExpectAm2(self), DropKind::Malformed);
        };
        let proposal = match confirm_phase1(&offer, &ctx.peer.proposals) {
            Ok(p) if p.group == self.dh.group() => p,
            Ok(_) => {
                return Step::Fail(FailureReason::Protocol(
                    "responder changed the DH group".into(),
                ));
            }
            Err(m) => {
                return Step::Fail(FailureReason::Protocol(format!(
                    "responder chose a transform we did not offer: {m}"
                )));
            }
        };
        let (peer_id, idir_b) = match peer_identity(ctx, payloads) {
            Ok(x) => x,
            Err(None) => return Step::Drop(Phase1State::ExpectAm2(self), DropKind::Malformed),
            Err(Some(reason)) => return Step::Fail(reason),
        };
        ctx.check_nat_d(proposal.hash, payloads);
        let gxi = self.dh.public_value().to_vec();
        let mut session = match session(
            ctx, &proposal, &self.dh, &ke.body, &self.ni, &nr.body, &gxi, &ke.body,
        ) {
            Ok(s) => s,
            Err(e) => return Step::Fail(e),
        };
        let inputs = Phase1HashInputs {
            gxi: &gxi,
            gxr: &ke.body,
            cky_i: &ctx.cky_i.0,
            cky_r: &ctx.cky_r.0,
            sai_b: &self.sai_b,
            idii_b: &self.idii_b,
            idir_b: &idir_b,
        };
        let expected = session.keys.hash_r(&inputs);
        let hash_i = session.keys.hash_i(&inputs);
        let checked = PeerProof {
            message: "AM2",
            payloads,
            peer_id: &peer_id,
            expected: &expected,
        }
        .check(ctx, &proposal, &mut session, None);
        let proof = match checked {
            Verdict::Authenticated(proof) => proof,
            // A wrong PSK shows here; the message cannot be fixed by a resend.
            Verdict::Drop => return Step::Drop(Phase1State::ExpectAm2(self), DropKind::BadHash),
            Verdict::Refused(step) => return step,
        };
        let mut out = match our_proof(
            ctx,
            &proposal,
            &signature::received_requests(payloads),
            &hash_i,
        ) {
            Ok(proof) => proof,
            Err(e) => return Step::Fail(e),
        };
        out.extend(ctx.nat_d(proposal.hash));
        if ctx.first_contact {
            out.push(proposals::initial_contact(&ctx.cky_i, &ctx.cky_r));
        }
        let Some(bytes) = emit(ctx.header(), out) else {
            return Step::Fail(FailureReason::Protocol("could not build AM3".into()));
        };
        let _ = &mut session;
        Step::Next {
            next: Phase1State::Established(Box::new(Established::new(
                session,
                peer_id,
                proposal,
                has_initial_contact(payloads),
                proof,
            ))),
            reply: Some(bytes),
            expect_reply: false,
        }
    }
}

impl ExpectAm3 {
    pub(crate) fn handle(mut self: Box<Self>, ctx: &mut Phase1Ctx<'_>, msg: &Message) -> Step {
        let in_clear = matches!(msg.body, MessageBody::Plain(_));
        let payloads: Vec<Payload> = match &msg.body {
            MessageBody::Plain(p) => p.clone(),
            MessageBody::Encrypted {
                first_payload,
                ciphertext,
            } => match self.session.open(0, *first_payload, ciphertext) {
                Some(dec) => {
                    self.session.accept(0, &dec);
                    dec.payloads
                }
                None => return Step::Drop(Phase1State::ExpectAm3(self), DropKind::BadHash),
            },
        };
        ctx.check_nat_d(self.proposal.hash, &payloads);
        if rsa_config(ctx.peer, &self.proposal).is_ok_and(|r| r.is_none())
            && find(&payloads, PayloadType::HASH).is_none()
        {
            return Step::Drop(Phase1State::ExpectAm3(self), DropKind::Malformed);
        }
        let checked = PeerProof {
            message: "AM3",
            payloads: &payloads,
            peer_id: &self.peer_id,
            expected: &self.expected_hash_i,
        }
        .check(ctx, &self.proposal, &mut self.session, None);
        let proof = match checked {
            Verdict::Authenticated(proof) => proof,
            Verdict::Drop => return Step::Drop(Phase1State::ExpectAm3(self), DropKind::BadHash),
            // Forgeable by anyone on the path: wait for the real one. An
            // AM3 that decrypted proves SKEYID_e, so its refusal is final.
            Verdict::Refused(Step::FailNotify(reason, notify)) if in_clear => {
                self.refused_in_clear = Some(ClearRefusal {
                    reason,
                    notify: Some(notify),
                });
                return Step::Drop(Phase1State::ExpectAm3(self), DropKind::BadHash);
            }
            Verdict::Refused(Step::Fail(reason @ FailureReason::PeerAuthentication(_)))
                if in_clear =>
            {
                self.refused_in_clear = Some(ClearRefusal {
                    reason,
                    notify: None,
                });
                return Step::Drop(Phase1State::ExpectAm3(self), DropKind::BadHash);
            }
            Verdict::Refused(step) => return step,
        };
        let initial_contact = self.initial_contact || has_initial_contact(&payloads);
        Step::Next {
            next: Phase1State::Established(Box::new(Established::new(
                self.session,
                self.peer_id,
                self.proposal,
                initial_contact,
                proof,
            ))),
            reply: None,
            expect_reply: false,
        }
    }
}
