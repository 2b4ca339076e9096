//! How a peer authenticates in Phase 1 (racoon's `authentication_method`,
//! `certificate_type`, `ca_type`, `peers_certfile`, `verify_cert`,
//! `send_cert`, `send_cr`): a pre-shared key from the [`super::PskTable`],
//! or RSA signatures (RFC 2409 §5.1) with the pieces of [`crate::auth`].

use std::sync::Arc;

use super::Identity;
use crate::auth::{HashSigner, PeerAuthPolicy, PeerCertificate, TrustStore};

/// Phase 1 authentication for one peer. The proposals'
/// [`super::AuthMethod`] must agree: [`super::AuthMethod::RsaSignature`]
/// transforms need [`PeerAuth::RsaSignature`].
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub enum PeerAuth {
    /// Pre-shared keys, looked up in [`super::EndpointConfig::psk`].
    #[default]
    PreSharedKey,
    /// RSA signatures with certificates or raw keys.
    RsaSignature(Arc<RsaAuthConfig>),
}

impl PeerAuth {
    /// The RSA configuration, if this peer signs.
    #[must_use]
    pub fn rsa(&self) -> Option<&RsaAuthConfig> {
        match self {
            Self::RsaSignature(rsa) => Some(rsa),
            Self::PreSharedKey => None,
        }
    }
}

/// Our key and certificates and how we judge the peer's, for
/// authentication method 3.
///
/// Certificate validity is checked against wall-clock time, which the
/// engine gets only from [`crate::endpoint::Endpoint::set_wall_clock`].
#[derive(Clone)]
pub struct RsaAuthConfig {
    /// Makes our SIG payload (racoon's `certificate_type x509 CERT KEY`
    /// key, or a `plain_rsa` private key).
    pub signer: Arc<dyn HashSigner + Send + Sync>,
    /// Our certificate first, then any intermediates to send. Empty for
    /// `plain_rsa` (no CERT payload is sent; the peer must have our
    /// public key).
    pub certificates: Vec<PeerCertificate>,
    /// What the peer must prove: `verify_cert`, `peers_identifier`,
    /// `peers_certfile` (a pinned certificate or a raw key).
    pub policy: PeerAuthPolicy,
    /// CA certificates and CRLs the peer's chain is verified against.
    pub trust: TrustStore,
    /// `send_cert`: send our certificates in CERT payloads (RFC 2409 §5.1
    /// makes them optional; strongSwan asks with a CR and racoon expects
    /// them unless it pins ours).
    pub send_cert: bool,
    /// `send_cr`: ask for the peer's certificate with CR payloads naming
    /// our CAs (or one empty CR when no CA is configured).
    pub send_cr: bool,
    /// racoon's `match_empty_cr`: when the peer's CRs are empty or name
    /// only CAs our chain is not from, still send our certificates. Off,
    /// we send them only if the peer asked for none or for one of our
    /// issuers.
    pub match_empty_cr: bool,
}

impl core::fmt::Debug for RsaAuthConfig {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RsaAuthConfig")
            .field("signature_len", &self.signer.signature_len())
            .field("certificates", &self.certificates)
            .field("policy", &self.policy)
            .field("trust", &self.trust)
            .field("send_cert", &self.send_cert)
            .field("send_cr", &self.send_cr)
            .field("match_empty_cr", &self.match_empty_cr)
            .finish()
    }
}

impl RsaAuthConfig {
    /// Signing with `signer`, sending `certificates` (ours first), checking
    /// the peer against `trust` with racoon's defaults: `verify_cert on`,
    /// `send_cert on`, `send_cr on`, `match_empty_cr on`.
    pub fn new(
        signer: Arc<dyn HashSigner + Send + Sync>,
        certificates: Vec<PeerCertificate>,
        trust: TrustStore,
    ) -> Self {
        Self {
            signer,
            certificates,
            policy: PeerAuthPolicy::default(),
            trust,
            send_cert: true,
            send_cr: true,
            match_empty_cr: true,
        }
    }

    /// Our certificate's subject as an `ID_DER_ASN1_DN` identity: what
    /// racoon's `my_identifier asn1dn;` sends. Put it in
    /// [`super::PeerConfig::my_identifier`]. `None` without a certificate.
    #[must_use]
    pub fn certificate_subject_identity(&self) -> Option<Identity> {
        let ours = self.certificates.first()?;
        ours.subject_der().ok().map(Identity::DerAsn1Dn)
    }
}
