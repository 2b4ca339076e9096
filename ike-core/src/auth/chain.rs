//! Chain verification to configured CA certificates (RFC 5280 §6, the
//! parts IKEv1 peers rely on): issuer signatures, validity at the caller's
//! time, basicConstraints on intermediates, and CRLs from files.

#![deny(clippy::indexing_slicing)]

use const_oid::ObjectIdentifier;
use const_oid::db::rfc5912;
use der::Encode;
use rsa::{Pkcs1v15Sign, RsaPublicKey};
use rustls_pki_types::UnixTime;
use sha2::Digest;
use x509_cert::Certificate;
use x509_cert::ext::pkix::BasicConstraints;
use x509_cert::time::Validity;

use super::error::AuthError;
use super::load::{Crl, PeerCertificate};
use super::name::same_name;

/// Configured CA certificates and CRLs.
#[derive(Debug, Clone, Default)]
pub struct TrustStore {
    anchors: Vec<PeerCertificate>,
    crls: Vec<Crl>,
}

/// Proof that a chain was verified: who it was issued to and by which anchor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedChain {
    /// Subject of the peer's certificate.
    pub leaf_subject: String,
    /// Subject of the configured CA it chains to.
    pub anchor_subject: String,
    /// Certificates from leaf to anchor, both included.
    pub length: usize,
}

impl TrustStore {
    /// The longest chain followed (leaf and anchor included).
    pub const MAX_DEPTH: usize = 8;

    /// An empty store (trusts nothing).
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Trusts `ca` as an anchor. Anchors are trusted as configured: their own
    /// signature and basicConstraints are not checked, their validity is.
    pub fn add_anchor(&mut self, ca: PeerCertificate) {
        self.anchors.push(ca);
    }

    /// Adds a CRL; it is used only if it verifies with its issuer's key.
    pub fn add_crl(&mut self, crl: Crl) {
        self.crls.push(crl);
    }

    /// CR payload bodies naming every configured CA (racoon's `send_cr`):
    /// certificate type X.509 Signature, authority the CA's DER subject
    /// (RFC 2408 §3.10).
    #[must_use]
    pub fn certificate_requests(&self) -> Vec<crate::wire::CertificateRequest> {
        self.anchors
            .iter()
            .filter_map(|a| a.subject_der().ok())
            .map(|authority| crate::wire::CertificateRequest {
                cert_type: crate::wire::CertEncoding::X509_SIGNATURE,
                authority,
            })
            .collect()
    }

    /// Verifies `leaf` up to an anchor, using `intermediates` (the other
    /// certificates the peer sent) in any order.
    pub fn verify(
        &self,
        leaf: &PeerCertificate,
        intermediates: &[PeerCertificate],
        now: UnixTime,
    ) -> Result<VerifiedChain, AuthError> {
        let mut current = leaf;
        for length in 1..Self::MAX_DEPTH {
            check_validity(current, now)?;
            let issuer_name = &current.parsed().tbs_certificate.issuer;
            let anchors: Vec<&PeerCertificate> = self
                .anchors
                .iter()
                .filter(|a| same_name(&a.parsed().tbs_certificate.subject, issuer_name))
                .collect();
            if !anchors.is_empty() {
                let Some(anchor) = anchors
                    .iter()
                    .copied()
                    .find(|a| signed_by(current.parsed(), a).is_ok_and(|ok| ok))
                else {
                    signed_by(
                        current.parsed(),
                        anchors.first().copied().unwrap_or(current),
                    )?;
                    return Err(AuthError::BadCertificateSignature {
                        subject: current.subject(),
                        issuer: current.issuer(),
                    });
                };
                check_validity(anchor, now)?;
                self.check_revocation(current, anchor)?;
                return Ok(VerifiedChain {
                    leaf_subject: leaf.subject(),
                    anchor_subject: anchor.subject(),
                    length: length + 1,
                });
            }
            let candidates: Vec<&PeerCertificate> = intermediates
                .iter()
                .filter(|c| {
                    same_name(&c.parsed().tbs_certificate.subject, issuer_name) && *c != current
                })
                .collect();
            let Some(issuer) = candidates
                .iter()
                .copied()
                .find(|c| signed_by(current.parsed(), c).is_ok_and(|ok| ok))
            else {
                if candidates.is_empty() {
                    return Err(AuthError::UntrustedIssuer {
                        subject: current.subject(),
                        issuer: current.issuer(),
                    });
                }
                return Err(AuthError::BadCertificateSignature {
                    subject: current.subject(),
                    issuer: current.issuer(),
                });
            };
            if !is_ca(issuer) {
                return Err(AuthError::NotACa {
                    subject: issuer.subject(),
                    child: current.subject(),
                });
            }
            self.check_revocation(current, issuer)?;
            current = issuer;
        }
        Err(AuthError::ChainTooLong {
            subject: leaf.subject(),
            max: Self::MAX_DEPTH,
        })
    }

    /// RFC 5280 §6.3, reduced: a CRL by `issuer` that verifies and lists
    /// `cert`'s serial revokes it.
    fn check_revocation(
        &self,
        cert: &PeerCertificate,
        issuer: &PeerCertificate,
    ) -> Result<(), AuthError> {
        let serial = &cert.parsed().tbs_certificate.serial_number;
        for crl in &self.crls {
            let list = &crl.parsed;
            // RFC 5280 §5.1.1.2, as for certificates.
            if !same_name(
                &list.tbs_cert_list.issuer,
                &issuer.parsed().tbs_certificate.subject,
            ) || list.signature_algorithm != list.tbs_cert_list.signature
            {
                continue;
            }
            let Ok(tbs) = list.tbs_cert_list.to_der() else {
                continue;
            };
            let verified = verify_rsa(
                &tbs,
                &list.signature_algorithm.oid,
                list.signature.raw_bytes(),
                issuer,
            )
            .is_ok_and(|ok| ok);
            if !verified {
                continue;
            }
            let listed = list
                .tbs_cert_list
                .revoked_certificates
                .iter()
                .flatten()
                .any(|r| &r.serial_number == serial);
            if listed {
                let hex: String = serial
                    .as_bytes()
                    .iter()
                    .map(|b| format!("{b:02X}"))
                    .collect();
                return Err(AuthError::Revoked {
                    subject: cert.subject(),
                    serial: hex,
                    crl_issuer: crl.issuer(),
                });
            }
        }
        Ok(())
    }
}

fn unix(validity_time: x509_cert::time::Time) -> u64 {
    validity_time.to_unix_duration().as_secs()
}

fn check_validity(cert: &PeerCertificate, now: UnixTime) -> Result<(), AuthError> {
    let Validity {
        not_before,
        not_after,
    } = cert.parsed().tbs_certificate.validity;
    let now = now.as_secs();
    if now < unix(not_before) {
        return Err(AuthError::NotYetValid {
            subject: cert.subject(),
            not_before: unix(not_before),
            now,
        });
    }
    if now > unix(not_after) {
        return Err(AuthError::Expired {
            subject: cert.subject(),
            not_after: unix(not_after),
            now,
        });
    }
    Ok(())
}

fn is_ca(cert: &PeerCertificate) -> bool {
    matches!(
        cert.parsed().tbs_certificate.get::<BasicConstraints>(),
        Ok(Some((_, BasicConstraints { ca: true, .. })))
    )
}

/// Whether `issuer`'s key signed `cert`; `Err` for an unsupported algorithm.
fn signed_by(cert: &Certificate, issuer: &PeerCertificate) -> Result<bool, AuthError> {
    // The outer algorithm is not covered by the signature, so it must repeat
    // the signed one (RFC 5280 §4.1.1.2), or an attacker could alter it.
    if cert.signature_algorithm != cert.tbs_certificate.signature {
        return Err(AuthError::UnsupportedAlgorithm {
            subject: super::name::display_name(&cert.tbs_certificate.subject),
            algorithm: "an outer signatureAlgorithm that differs from the signed one".to_owned(),
        });
    }
    let tbs = cert.tbs_certificate.to_der().map_err(|e| {
        AuthError::Load(super::load::LoadError {
            what: "certificate",
            detail: e.to_string(),
        })
    })?;
    verify_rsa(
        &tbs,
        &cert.signature_algorithm.oid,
        cert.signature.raw_bytes(),
        issuer,
    )
    .map_err(|algorithm| AuthError::UnsupportedAlgorithm {
        subject: super::name::display_name(&cert.tbs_certificate.subject),
        algorithm,
    })
}

/// PKCS#1 v1.5 with the digest the algorithm OID names (RFC 4055 §5).
/// `Err` carries the unsupported OID.
fn verify_rsa(
    signed: &[u8],
    algorithm: &ObjectIdentifier,
    signature: &[u8],
    issuer: &PeerCertificate,
) -> Result<bool, String> {
    let Ok(key) = issuer.rsa_public_key() else {
        return Ok(false);
    };
    let check = |scheme: Pkcs1v15Sign, digest: &[u8], key: &RsaPublicKey| {
        key.verify(scheme, digest, signature).is_ok()
    };
    let ok = match *algorithm {
        rfc5912::SHA_1_WITH_RSA_ENCRYPTION => check(
            Pkcs1v15Sign::new::<sha1::Sha1>(),
            &sha1::Sha1::digest(signed),
            &key,
        ),
        rfc5912::SHA_256_WITH_RSA_ENCRYPTION => check(
            Pkcs1v15Sign::new::<sha2::Sha256>(),
            &sha2::Sha256::digest(signed),
            &key,
        ),
        rfc5912::SHA_384_WITH_RSA_ENCRYPTION => check(
            Pkcs1v15Sign::new::<sha2::Sha384>(),
            &sha2::Sha384::digest(signed),
            &key,
        ),
        rfc5912::SHA_512_WITH_RSA_ENCRYPTION => check(
            Pkcs1v15Sign::new::<sha2::Sha512>(),
            &sha2::Sha512::digest(signed),
            &key,
        ),
        other => return Err(other.to_string()),
    };
    Ok(ok)
}
