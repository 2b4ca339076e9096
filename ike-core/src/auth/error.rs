//! Why a peer was not authenticated, in words that say what to fix.

use super::load::LoadError;

/// A rejected peer. Each variant names the certificate (by subject) and the
/// value that did not match.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// A certificate, CRL or key could not be read.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// The peer sent no certificate and none is pinned or configured.
    #[error(
        "peer sent no certificate and no peer key is configured; send a CERT payload (send_cert on the peer) or set peers_certfile (x509 or plain_rsa)"
    )]
    NoPeerKey,
    /// The chain ends at an issuer that is not a configured CA.
    #[error(
        "certificate {subject} was issued by {issuer}, which is not a configured CA certificate nor in the chain the peer sent; add the CA's certificate (ca_type / certificate directory) or set verify_cert off"
    )]
    UntrustedIssuer {
        /// The certificate whose issuer was not found.
        subject: String,
        /// Its issuer.
        issuer: String,
    },
    /// An issuer with the right name exists, but its key did not sign the
    /// certificate (a forged certificate, or a CA re-keyed under the same name).
    #[error(
        "the signature on certificate {subject} does not verify with the key of {issuer} (a CA of that name is configured, but it did not sign this certificate)"
    )]
    BadCertificateSignature {
        /// The certificate whose signature failed.
        subject: String,
        /// The issuer whose key was tried.
        issuer: String,
    },
    /// A certificate's validity ended before `now`.
    #[error(
        "certificate {subject} expired at {not_after} (unix time), checked at {now}; renew it, or check the clock"
    )]
    Expired {
        /// The expired certificate.
        subject: String,
        /// Its notAfter, seconds since the epoch.
        not_after: u64,
        /// The time checked against.
        now: u64,
    },
    /// A certificate's validity starts after `now`.
    #[error(
        "certificate {subject} is not valid before {not_before} (unix time), checked at {now}; check the clock"
    )]
    NotYetValid {
        /// The certificate.
        subject: String,
        /// Its notBefore, seconds since the epoch.
        not_before: u64,
        /// The time checked against.
        now: u64,
    },
    /// A certificate that signed another one is not a CA.
    #[error(
        "certificate {subject} signed {child} but is not a CA (basicConstraints CA:TRUE missing)"
    )]
    NotACa {
        /// The would-be issuer.
        subject: String,
        /// The certificate it signed.
        child: String,
    },
    /// The certificate is listed on its issuer's CRL.
    #[error("certificate {subject} (serial {serial}) is revoked by the CRL of {crl_issuer}")]
    Revoked {
        /// The revoked certificate.
        subject: String,
        /// Its serial number, hex.
        serial: String,
        /// The CRL's issuer.
        crl_issuer: String,
    },
    /// A signature algorithm this module does not verify.
    #[error(
        "certificate {subject} is signed with {algorithm}, which is not supported (RSA PKCS#1 v1.5 with SHA-1/256/384/512 are)"
    )]
    UnsupportedAlgorithm {
        /// The certificate.
        subject: String,
        /// The algorithm OID.
        algorithm: String,
    },
    /// Longer than [`super::TrustStore::MAX_DEPTH`].
    #[error("certificate chain of {subject} is longer than {max} certificates")]
    ChainTooLong {
        /// The leaf.
        subject: String,
        /// The limit.
        max: usize,
    },
    /// The ID payload asks for a subjectAltName kind the certificate lacks.
    #[error(
        "peer identified as {id} ({id_type}), but its certificate has no subjectAltName {kind} entry (subject {subject}); set verify_cert off or use an ASN.1 DN identity"
    )]
    NoSubjectAltName {
        /// The claimed identity.
        id: String,
        /// Its ID type name.
        id_type: &'static str,
        /// `IP`, `DNS` or `email`.
        kind: &'static str,
        /// The certificate's subject.
        subject: String,
    },
    /// The certificate has subjectAltName entries of that kind, none equal to the ID.
    #[error(
        "peer identified as {id} ({id_type}), but its certificate's subjectAltName {kind} entries are {found} (subject {subject}); set verify_cert off or fix my_identifier on the peer"
    )]
    SubjectAltNameMismatch {
        /// The claimed identity.
        id: String,
        /// Its ID type name.
        id_type: &'static str,
        /// `IP`, `DNS` or `email`.
        kind: &'static str,
        /// The entries found, comma separated.
        found: String,
        /// The certificate's subject.
        subject: String,
    },
    /// ID_DER_ASN1_DN differs from the certificate's subject.
    #[error(
        "peer identified as {id} (ID_DER_ASN1_DN), but its certificate's subject is {subject}; set verify_cert off or use the certificate's subject as my_identifier on the peer"
    )]
    SubjectMismatch {
        /// The claimed DN.
        id: String,
        /// The certificate's subject.
        subject: String,
    },
    /// An ID type that cannot be checked against a certificate.
    #[error(
        "peer identified with {id_type}, which cannot be matched against a certificate (subject {subject}); set verify_cert off or use an address, FQDN, USER_FQDN or ASN.1 DN identity"
    )]
    UncheckableIdType {
        /// The ID type name.
        id_type: String,
        /// The certificate's subject.
        subject: String,
    },
    /// verify_identifier: the peer claimed another identity than configured.
    #[error(
        "peer identified as {id} ({id_type}), but peers_identifier expects {expected}; fix peers_identifier or set verify_identifier off"
    )]
    UnexpectedIdentity {
        /// The claimed identity.
        id: String,
        /// Its ID type name.
        id_type: String,
        /// The configured identity.
        expected: String,
    },
    /// peers_certfile: the peer sent another certificate than the pinned one.
    #[error(
        "peer sent certificate {subject}, which is not the pinned peers_certfile certificate {pinned}"
    )]
    NotPinned {
        /// The certificate the peer sent.
        subject: String,
        /// The pinned certificate.
        pinned: String,
    },
    /// The SIG payload does not verify with the peer's key.
    #[error(
        "the peer's SIG payload does not verify over HASH with the key of {key}: the peer does not hold that key, or the two sides derived different SKEYIDs"
    )]
    BadSignature {
        /// Which key: a certificate subject or `raw RSA key (plain_rsa)`.
        key: String,
    },
}
