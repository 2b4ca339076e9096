//! Authentication method 3, RSA signatures (RFC 2409 §5.1), as the Main
//! and Aggressive Mode states use it: CR payloads asking for the peer's
//! certificate, our CERT and SIG payloads, and the peer's checked through
//! [`crate::auth::authenticate_peer`].
//!
//! ```text
//! Main Mode:       MM3/MM4  KE, NONCE [, CR]      MM5/MM6  ID [, CERT], SIG
//! Aggressive Mode: AM1      SA, KE, Ni, IDii [, CR]
//!                  AM2      SA, KE, Nr, IDir [, CERT], SIG_R [, CR]
//!                  AM3      [CERT,] SIG_I
//! ```
//!
//! SIG is over HASH_I / HASH_R computed as for pre-shared keys, with
//! SKEYID = prf(Ni_b | Nr_b, g^xy).

#![deny(clippy::indexing_slicing)]

use rand_core::CryptoRngCore;

use super::proof::{self, PeerAuthenticated};
use crate::auth::{AuthError, PeerCertificate, authenticate_peer, certificates_from_payload};
use crate::config::{Identity, RsaAuthConfig};
use crate::crypto::HashValue;
use crate::endpoint::FailureReason;
use crate::wire::{
    CertEncoding, Certificate, CertificateRequest, Notification, NotifyType, Payload, PayloadBody,
    PayloadType, ProtocolId,
};

/// Most CERT payloads read from one message: a chain longer than the trust
/// store follows is refused there anyway.
const MAX_CERT_PAYLOADS: usize = 8;
/// Most CR payloads remembered from one message.
const MAX_CERT_REQUESTS: usize = 16;

/// Our CR payloads (`send_cr`): one per configured CA, or a single empty CR
/// (any X.509 certificate) when none is configured (RFC 2408 §3.10).
pub(crate) fn certificate_requests(rsa: &RsaAuthConfig) -> Vec<Payload> {
    if !rsa.send_cr {
        return Vec::new();
    }
    let mut crs = rsa.trust.certificate_requests();
    if crs.is_empty() {
        crs.push(CertificateRequest {
            cert_type: CertEncoding::X509_SIGNATURE,
            authority: Vec::new(),
        });
    }
    crs.iter().filter_map(|cr| cr.to_payload().ok()).collect()
}

/// The CR payloads the peer sent, as far as they parse.
pub(crate) fn received_requests(payloads: &[Payload]) -> Vec<CertificateRequest> {
    payloads
        .iter()
        .filter(|p| p.ty == PayloadType::CERTIFICATE_REQUEST)
        .filter_map(|p| CertificateRequest::parse_body(&p.body).ok())
        .take(MAX_CERT_REQUESTS)
        .collect()
}

/// Whether to send our certificates, given the peer's CRs: always without
/// CRs (racoon and charon both accept an unrequested CERT), when a CR
/// names an issuer in our chain, and otherwise — empty CRs, or CRs naming
/// only CAs we are not from — as `match_empty_cr` says.
fn send_certificates(rsa: &RsaAuthConfig, requests: &[CertificateRequest]) -> bool {
    if !rsa.send_cert || rsa.certificates.is_empty() {
        return false;
    }
    if requests.is_empty() {
        return true;
    }
    let issuers: Vec<Vec<u8>> = rsa
        .certificates
        .iter()
        .filter_map(|c| {
            use der::Encode;
            c.parsed().tbs_certificate.issuer.to_der().ok()
        })
        .collect();
    let asked_for_ours = requests
        .iter()
        .any(|cr| !cr.authority.is_empty() && issuers.contains(&cr.authority));
    asked_for_ours || rsa.match_empty_cr
}

/// Our CERT payloads (when [`send_certificates`] says so) and our SIG over
/// `hash` (HASH_I or HASH_R).
pub(crate) fn our_proof(
    rng: &mut dyn CryptoRngCore,
    rsa: &RsaAuthConfig,
    peer_requests: &[CertificateRequest],
    hash: &HashValue,
) -> Result<Vec<Payload>, FailureReason> {
    let mut out = Vec::new();
    if send_certificates(rsa, peer_requests) {
        for cert in &rsa.certificates {
            let payload = cert.to_cert_payload().to_payload().map_err(|e| {
                FailureReason::LocalAuthentication(format!(
                    "our certificate {} does not fit a CERT payload: {e}",
                    cert.subject()
                ))
            })?;
            out.push(payload);
        }
    }
    let sig = rsa
        .signer
        .sign_hash(rng, hash.as_bytes())
        .map_err(|e| FailureReason::LocalAuthentication(e.to_string()))?;
    out.push(Payload::new(PayloadType::SIGNATURE, sig));
    Ok(out)
}

/// The certificates in the peer's CERT payloads, leaf first as sent. An
/// unreadable CERT payload is refused with its reason.
fn peer_certificates(payloads: &[Payload]) -> Result<Vec<PeerCertificate>, FailureReason> {
    let mut out = Vec::new();
    for p in payloads
        .iter()
        .filter(|p| p.ty == PayloadType::CERTIFICATE)
        .take(MAX_CERT_PAYLOADS)
    {
        let cert = Certificate::parse_body(&p.body).map_err(|e| {
            FailureReason::PeerAuthentication(AuthError::Load(crate::auth::LoadError::new(
                "CERT payload",
                e,
            )))
        })?;
        let certs = certificates_from_payload(cert.encoding, &cert.data)
            .map_err(|e| FailureReason::PeerAuthentication(AuthError::Load(e)))?;
        out.extend(certs);
    }
    Ok(out)
}

/// Checks the peer's CERT and SIG payloads in `payloads` (MM5, MM6, AM2 or
/// AM3, called `message` in errors) against `hash`, computed locally over
/// the ID the peer sent (`peer_id`).
pub(crate) fn verify_peer(
    rsa: &RsaAuthConfig,
    wall_clock: Option<crate::auth::UnixTime>,
    message: &'static str,
    payloads: &[Payload],
    peer_id: &Identity,
    hash: &HashValue,
) -> Result<PeerAuthenticated, FailureReason> {
    let Some(sig) = payloads.iter().find(|p| p.ty == PayloadType::SIGNATURE) else {
        return Err(FailureReason::MissingSignature(message));
    };
    let certificates = peer_certificates(payloads)?;
    // Only a certificate chain needs the date; a raw key does not.
    let needs_time = rsa.policy.verify_cert && rsa.policy.raw_key.is_none();
    let now = match wall_clock {
        Some(t) => t,
        None if needs_time => return Err(FailureReason::WallClockNotSet),
        None => crate::auth::UnixTime::since_unix_epoch(core::time::Duration::ZERO),
    };
    let verified = authenticate_peer(
        &rsa.policy,
        &rsa.trust,
        &peer_id.to_wire(),
        &certificates,
        hash.as_bytes(),
        &sig.body,
        now,
    )
    .map_err(FailureReason::PeerAuthentication)?;
    Ok(proof::signature_verified(verified.signature))
}

/// The Notify payload telling the peer why we refused it.
pub(crate) fn refusal_notify(reason: &FailureReason) -> Option<Payload> {
    let ty: NotifyType = reason.notify_type()?;
    Notification::new(ty, ProtocolId::ISAKMP, Vec::new(), Vec::new())
        .to_payload()
        .ok()
}
