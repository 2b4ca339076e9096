//! Proof tokens: values only the verifying functions can build, so a state
//! that needs a verified peer cannot be reached without the check
//! (rustls' `HandshakeSignatureValid` idea).

use crate::auth::SignatureVerified;
use crate::crypto::HashValue;

/// The peer authenticated its Phase 1 (RFC 2409 §5): its HASH_I / HASH_R
/// verified (pre-shared keys), or its SIG did (RSA signatures).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PeerAuthenticated(#[allow(dead_code, reason = "held as proof")] By);

/// How the peer proved itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum By {
    /// A HASH keyed by the pre-shared key.
    Hash,
    /// A SIG payload over HASH_I / HASH_R, checked by
    /// [`crate::auth::verify_signature`].
    Signature(#[allow(dead_code, reason = "held as proof")] SignatureVerified),
}

#[allow(dead_code, reason = "held by Quick Mode states")]
/// A HASH(n) over an encrypted Phase 2 or Informational message verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HashVerified(());

/// Checks a Phase 1 authentication hash in constant time.
pub(crate) fn verify_phase1(expected: &HashValue, received: &[u8]) -> Option<PeerAuthenticated> {
    expected
        .verify(received)
        .then_some(PeerAuthenticated(By::Hash))
}

/// A verified SIG authenticates the peer; only [`crate::auth`] builds the token.
pub(crate) const fn signature_verified(token: SignatureVerified) -> PeerAuthenticated {
    PeerAuthenticated(By::Signature(token))
}

#[allow(dead_code, reason = "used by Quick Mode")]
/// Checks a Quick Mode or Informational HASH in constant time.
pub(crate) fn verify_hash(expected: &HashValue, received: &[u8]) -> Option<HashVerified> {
    expected.verify(received).then_some(HashVerified(()))
}
