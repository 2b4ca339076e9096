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

/// Most CERT payloads read from one message, and most certificates kept
/// from them (a PKCS#7 bundle holds many): a chain longer than the trust
/// store follows is refused there anyway, and each extra certificate with
/// a matching issuer name could cost a signature check.
const MAX_CERT_PAYLOADS: usize = 8;
const MAX_CERTIFICATES: usize = 2 * crate::auth::TrustStore::MAX_DEPTH;
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
    // A CR names a CA by its DN (RFC 2408 §3.10), encoded as the peer
    // likes: compared as names, not bytes (RFC 5280 §7.1).
    let issuers: Vec<Vec<u8>> = rsa
        .certificates
        .iter()
        .filter_map(|c| {
            use der::Encode;
            c.parsed().tbs_certificate.issuer.to_der().ok()
        })
        .collect();
    let asked_for_ours = requests.iter().any(|cr| {
        !cr.authority.is_empty()
            && issuers
                .iter()
                .any(|issuer| crate::auth::same_der_name(issuer, &cr.authority))
    });
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
    out.truncate(MAX_CERTIFICATES);
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
    match &verified.chain {
        Some(chain) => tracing::info!(
            message,
            certificate = %chain.leaf_subject,
            ca = %chain.anchor_subject,
            chain_length = chain.length,
            "peer certificate and signature verified"
        ),
        None => tracing::info!(
            message,
            "peer signature verified (verify_cert off, or a configured key)"
        ),
    }
    Ok(proof::signature_verified(verified.signature))
}

/// The Notify payload telling the peer why we refused it.
pub(crate) fn refusal_notify(reason: &FailureReason) -> Option<Payload> {
    let ty: NotifyType = reason.notify_type()?;
    Notification::new(ty, ProtocolId::ISAKMP, Vec::new(), Vec::new())
        .to_payload()
        .ok()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use rand_core::SeedableRng;

    use super::*;
    use crate::auth::{RsaCrateSigner, TrustStore, load_certificates};

    const A_CERT: &[u8] = include_bytes!("../../tests/data/auth/engine/a.pem");
    const A_KEY: &[u8] = include_bytes!("../../tests/data/auth/engine/a.key");
    const SUB_CA: &[u8] = include_bytes!("../../tests/data/auth/sub-ca.pem");
    const ROOT_CA: &[u8] = include_bytes!("../../tests/data/auth/root-ca.pem");
    const ROGUE_CA: &[u8] = include_bytes!("../../tests/data/auth/rogue-ca.pem");
    const GW: &[u8] = include_bytes!("../../tests/data/auth/gw.pem");

    fn cert(pem: &[u8]) -> PeerCertificate {
        load_certificates(pem).unwrap().remove(0)
    }

    /// a.pem (issued by the sub CA) sent with the sub CA (issued by the root).
    fn ours(match_empty_cr: bool) -> RsaAuthConfig {
        let signer = Arc::new(RsaCrateSigner::load(A_KEY).unwrap());
        let mut trust = TrustStore::new();
        trust.add_anchor(cert(ROOT_CA));
        let mut rsa = RsaAuthConfig::new(signer, vec![cert(A_CERT), cert(SUB_CA)], trust);
        rsa.match_empty_cr = match_empty_cr;
        rsa
    }

    fn cr_for(ca: &[u8]) -> CertificateRequest {
        CertificateRequest {
            cert_type: CertEncoding::X509_SIGNATURE,
            authority: cert(ca).subject_der().unwrap(),
        }
    }

    fn empty_cr() -> CertificateRequest {
        CertificateRequest {
            cert_type: CertEncoding::X509_SIGNATURE,
            authority: Vec::new(),
        }
    }

    #[test]
    fn certificates_go_out_unasked_or_when_the_peer_names_one_of_our_issuers() {
        for match_empty_cr in [false, true] {
            let rsa = ours(match_empty_cr);
            assert!(send_certificates(&rsa, &[]));
            // The sub CA issued a.pem; the root issued the sub CA.
            assert!(send_certificates(&rsa, &[cr_for(SUB_CA)]));
            assert!(send_certificates(&rsa, &[cr_for(ROOT_CA)]));
            assert!(send_certificates(&rsa, &[cr_for(GW), cr_for(ROOT_CA)]));
        }
    }

    #[test]
    fn match_empty_cr_decides_for_empty_or_foreign_requests() {
        // rogue-ca has the root's name but another key: its DER subject is
        // the same, so it counts as ours; gw.pem names a CA we are not from.
        let foreign = cr_for(GW);
        for requests in [
            vec![empty_cr()],
            vec![foreign.clone()],
            vec![empty_cr(), foreign],
        ] {
            assert!(!send_certificates(&ours(false), &requests), "{requests:?}");
            assert!(send_certificates(&ours(true), &requests), "{requests:?}");
        }
        assert!(send_certificates(&ours(false), &[cr_for(ROGUE_CA)]));
    }

    /// `der`'s name with each PrintableString re-encoded as UTF8String and
    /// each UTF8String as PrintableString: the same DN, other bytes.
    fn swap_string_types(der: &[u8]) -> Vec<u8> {
        use der::asn1::{Any, SetOfVec};
        use der::{Decode, Encode, Tag, Tagged};
        use x509_cert::attr::AttributeTypeAndValue;
        let mut name = x509_cert::name::Name::from_der(der).unwrap();
        for rdn in &mut name.0 {
            let swapped: Vec<AttributeTypeAndValue> = rdn
                .0
                .iter()
                .map(|atv| {
                    let tag = match atv.value.tag() {
                        Tag::PrintableString => Tag::Utf8String,
                        Tag::Utf8String => Tag::PrintableString,
                        other => other,
                    };
                    AttributeTypeAndValue {
                        oid: atv.oid,
                        value: Any::new(tag, atv.value.value()).unwrap(),
                    }
                })
                .collect();
            rdn.0 = SetOfVec::try_from(swapped).unwrap();
        }
        name.to_der().unwrap()
    }

    #[test]
    fn a_request_naming_our_issuer_in_other_string_types_is_for_us() {
        let sub_ca = cr_for(SUB_CA);
        let recoded = CertificateRequest {
            authority: swap_string_types(&sub_ca.authority),
            ..sub_ca.clone()
        };
        assert_ne!(recoded.authority, sub_ca.authority, "other bytes");
        assert!(send_certificates(&ours(false), &[recoded]));
        // A CA name that is not ours stays foreign however it is encoded.
        let foreign = CertificateRequest {
            authority: swap_string_types(&cr_for(GW).authority),
            ..sub_ca
        };
        assert!(!send_certificates(&ours(false), &[foreign]));
    }

    #[test]
    fn send_cert_off_or_no_chain_sends_nothing() {
        let mut rsa = ours(true);
        rsa.send_cert = false;
        assert!(!send_certificates(&rsa, &[]));
        let mut plain = ours(true);
        plain.certificates.clear();
        assert!(!send_certificates(&plain, &[empty_cr()]));
    }

    #[test]
    fn requests_name_each_ca_or_ask_for_any() {
        let rsa = ours(true);
        let crs = certificate_requests(&rsa);
        assert_eq!(crs.len(), 1);
        assert_eq!(
            CertificateRequest::parse_body(&crs.first().unwrap().body).unwrap(),
            cr_for(ROOT_CA)
        );
        let mut none = ours(true);
        none.trust = TrustStore::new();
        let crs = certificate_requests(&none);
        assert_eq!(
            crs.iter()
                .map(|p| CertificateRequest::parse_body(&p.body).unwrap())
                .collect::<Vec<_>>(),
            [empty_cr()]
        );
        none.send_cr = false;
        assert!(certificate_requests(&none).is_empty());
    }

    #[test]
    fn our_proof_is_cert_chain_then_a_signature_that_verifies() {
        let rsa = ours(true);
        let hash = HashValue::new(vec![0x5a; 20]);
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(3);
        let payloads = our_proof(&mut rng, &rsa, &[], &hash).unwrap();
        let types: Vec<PayloadType> = payloads.iter().map(|p| p.ty).collect();
        assert_eq!(
            types,
            [
                PayloadType::CERTIFICATE,
                PayloadType::CERTIFICATE,
                PayloadType::SIGNATURE
            ]
        );
        let sig = &payloads.last().unwrap().body;
        assert_eq!(sig.len(), 256);
        crate::auth::verify_signature(
            crate::auth::PeerKey::Certificate(&cert(A_CERT)),
            hash.as_bytes(),
            sig,
        )
        .unwrap();
    }
}
