//! Proof tokens: values only the verifying functions can build, so a state
//! that needs a verified peer cannot be reached without the check
//! (rustls' `HandshakeSignatureValid` idea).

use crate::crypto::HashValue;

/// The peer's Phase 1 HASH_I or HASH_R verified (RFC 2409 §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PeerAuthenticated(());

#[allow(dead_code, reason = "held by Quick Mode states")]
/// A HASH(n) over an encrypted Phase 2 or Informational message verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HashVerified(());

/// Checks a Phase 1 authentication hash in constant time.
pub(crate) fn verify_phase1(expected: &HashValue, received: &[u8]) -> Option<PeerAuthenticated> {
    expected.verify(received).then_some(PeerAuthenticated(()))
}

#[allow(dead_code, reason = "used by Quick Mode")]
/// Checks a Quick Mode or Informational HASH in constant time.
pub(crate) fn verify_hash(expected: &HashValue, received: &[u8]) -> Option<HashVerified> {
    expected.verify(received).then_some(HashVerified(()))
}
