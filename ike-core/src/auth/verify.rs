//! The signature check and the whole peer decision built on it.

use rsa::RsaPublicKey;
use rustls_pki_types::UnixTime;

use super::chain::{TrustStore, VerifiedChain};
use super::error::AuthError;
use super::identity::{ExpectedIdentity, match_identity};
use super::load::PeerCertificate;
use crate::crypto::rsa_sig;
use crate::wire::Identity;

/// Proof that a SIG payload verified. Only [`verify_signature`] builds it,
/// so a state that must hold one cannot be reached with the check skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignatureVerified(());

/// The key a peer's signature is checked with.
#[derive(Debug, Clone, Copy)]
pub enum PeerKey<'a> {
    /// The subject key of the peer's certificate.
    Certificate(&'a PeerCertificate),
    /// A configured raw RSA key (racoon's `plain_rsa`).
    Raw(&'a RsaPublicKey),
}

impl PeerKey<'_> {
    fn describe(&self) -> String {
        match self {
            Self::Certificate(c) => format!("certificate {}", c.subject()),
            Self::Raw(_) => "the raw RSA key (plain_rsa)".to_owned(),
        }
    }
}

/// Verifies the SIG payload body `signature` over `hash` (HASH_I or HASH_R,
/// RFC 2409 §5.1: PKCS#1 v1.5 without DigestInfo) with `key`.
pub fn verify_signature(
    key: PeerKey<'_>,
    hash: &[u8],
    signature: &[u8],
) -> Result<SignatureVerified, AuthError> {
    let public = match key {
        PeerKey::Certificate(cert) => cert.rsa_public_key()?,
        PeerKey::Raw(raw) => raw.clone(),
    };
    rsa_sig::verify(&public, hash, signature)
        .map(|()| SignatureVerified(()))
        .map_err(|_| AuthError::BadSignature {
            key: key.describe(),
        })
}

/// What to check about a peer, named after racoon's options.
#[derive(Debug, Clone)]
pub struct PeerAuthPolicy {
    /// `verify_cert on` (the default): the chain must verify to a CA in the
    /// trust store at `now`, and the ID payload must match the certificate.
    pub verify_cert: bool,
    /// `peers_identifier` with `verify_identifier on`: the ID the peer must
    /// claim. `None` checks nothing (racoon's `verify_identifier` is off by
    /// default, so a configured `peers_identifier` alone does not count).
    /// racoon's `peers_identifier address;` without a value means the
    /// address the peer sends from: pass [`ExpectedIdentity::Address`] of it.
    pub peers_identifier: Option<ExpectedIdentity>,
    /// `peers_certfile x509 FILE`: only this certificate is accepted (the
    /// chain is still verified if `verify_cert` is on).
    pub pinned: Option<PeerCertificate>,
    /// `peers_certfile plain_rsa FILE`: a raw key instead of certificates.
    pub raw_key: Option<RsaPublicKey>,
}

impl Default for PeerAuthPolicy {
    fn default() -> Self {
        Self {
            verify_cert: true,
            peers_identifier: None,
            pinned: None,
            raw_key: None,
        }
    }
}

/// A peer that passed [`authenticate_peer`].
#[derive(Debug, Clone)]
pub struct PeerAuthenticated {
    /// The signature proof.
    pub signature: SignatureVerified,
    /// The verified chain, when `verify_cert` was on and a certificate used.
    pub chain: Option<VerifiedChain>,
}

/// The whole decision for an RSA-signature peer: pinning, chain, ID ↔
/// certificate, peers_identifier, then the signature, which is checked
/// whatever the options. `certificates` are the peer's CERT payloads in
/// order received, the first being its own (as every peer we know sends
/// them); `hash` is the HASH_I / HASH_R computed locally.
pub fn authenticate_peer(
    policy: &PeerAuthPolicy,
    trust: &TrustStore,
    peer_id: &Identity,
    certificates: &[PeerCertificate],
    hash: &[u8],
    signature: &[u8],
    now: UnixTime,
) -> Result<PeerAuthenticated, AuthError> {
    if let Some(raw) = &policy.raw_key {
        if let Some(expected) = &policy.peers_identifier {
            expected.check(peer_id, None)?;
        }
        let signature = verify_signature(PeerKey::Raw(raw), hash, signature)?;
        return Ok(PeerAuthenticated {
            signature,
            chain: None,
        });
    }
    let leaf = match (&policy.pinned, certificates.split_first()) {
        (Some(pinned), Some((sent, _))) if sent != pinned => {
            return Err(AuthError::NotPinned {
                subject: sent.subject(),
                pinned: pinned.subject(),
            });
        }
        (Some(pinned), _) => pinned,
        (None, Some((sent, _))) => sent,
        (None, None) => return Err(AuthError::NoPeerKey),
    };
    if let Some(expected) = &policy.peers_identifier {
        expected.check(peer_id, Some(leaf))?;
    }
    let rest = certificates.get(1..).unwrap_or_default();
    let chain = if policy.verify_cert {
        let chain = trust.verify(leaf, rest, now)?;
        match_identity(peer_id, leaf)?;
        Some(chain)
    } else {
        None
    };
    let signature = verify_signature(PeerKey::Certificate(leaf), hash, signature)?;
    Ok(PeerAuthenticated { signature, chain })
}
