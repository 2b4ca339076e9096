//! The Informational exchange hash (RFC 2409 §5.7):
//! `HASH(1) = prf(SKEYID_a, M-ID | N/D)`, over every payload after the HASH
//! payload as on the wire.

use super::{HashValue, Prf, SkeyidA};

/// HASH(1) of an Informational message.
pub fn hash1(prf: Prf, skeyid_a: &SkeyidA, message_id: u32, after_hash: &[u8]) -> HashValue {
    super::quick_mode::hash1(prf, skeyid_a, message_id, after_hash)
}
