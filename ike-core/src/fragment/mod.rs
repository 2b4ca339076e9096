//! IKEv1 fragmentation in the Cisco scheme that strongSwan and racoon also
//! speak (announced with the FRAGMENTATION vendor ID, carried in payload 132;
//! see [`crate::wire::Fragment`]).
//!
//! A whole ISAKMP message (header included, body possibly encrypted) is cut
//! into pieces; each piece travels in its own datagram made of an ISAKMP
//! header (the original cookies, exchange type and message ID, E flag
//! cleared) and one fragment payload. Fragment numbers count from 1 and the
//! last piece carries the LAST flag.
//!
//! - [`fragment_message`] cuts a message for a path MTU ([`FragmentSizing`]).
//! - [`Reassembler`] collects fragments per peer and gives back the whole
//!   message once every number from 1 to the last is present.
//!
//! Fragments are not authenticated before reassembly, so anyone who can spoof
//! the peer's address can send them. The reassembler therefore bounds memory
//! per message, per peer and globally, bounds the fragment count, expires
//! partial messages by the caller's clock, and never lets a later fragment
//! overwrite one already held (racoon's CVE-2016-10396 class). Duplicates,
//! reordering and retransmitted last fragments are accepted (racoon's first
//! fix for that CVE dropped retransmitted last fragments, so a message whose
//! earlier fragment was lost never completed).

mod reassemble;
mod split;

#[doc(hidden)]
pub mod fuzzing;

pub use reassemble::{Reassembler, ReassemblyLimits, ReassemblyOutcome};
pub use split::{FragmentSizing, fragment_message};

use crate::config::{Fragmentation, PeerConfig};
use crate::wire::{self, KnownVendorId, Payload, PayloadBody, PayloadType, VendorId};

/// Capability bit of the FRAGMENTATION vendor ID meaning "Main and
/// Aggressive Mode messages may be fragmented" (racoon's
/// `VENDORID_FRAG_IDENT`; Cisco also sets 0x40000000 for other exchanges).
const CAPABILITY_PHASE1: u32 = 0x8000_0000;

/// Whether a vendor ID announces fragmentation support: the 16-byte hash
/// alone (Windows sends it so), or followed by 4 capability bytes with the
/// Phase 1 bit set (Cisco, racoon and strongSwan send `80000000` or
/// `c0000000`). This is the rule charon applies.
#[must_use]
pub fn announces_fragmentation(vid: &VendorId) -> bool {
    if vid.recognise() != Some(KnownVendorId::Fragmentation) {
        return false;
    }
    match vid.data.get(16..) {
        Some([]) => true,
        Some(&[a, b, c, d]) => u32::from_be_bytes([a, b, c, d]) & CAPABILITY_PHASE1 != 0,
        _ => false,
    }
}

/// Whether any vendor ID in `payloads` announces fragmentation.
#[must_use]
pub fn peer_announced(payloads: &[Payload]) -> bool {
    payloads
        .iter()
        .filter(|p| p.ty == PayloadType::VENDOR_ID)
        .filter_map(|p| VendorId::parse_body(&p.body).ok())
        .any(|v| announces_fragmentation(&v))
}

/// The FRAGMENTATION vendor ID payload we send in MM1/MM2/AM1/AM2, unless
/// fragmentation is off for `peer`. We send Cisco's form (hash plus
/// `80000000`), as strongSwan and racoon do.
pub(crate) fn vendor_id(peer: &PeerConfig) -> Option<Payload> {
    if peer.fragmentation == Fragmentation::Off {
        return None;
    }
    VendorId::known(KnownVendorId::Fragmentation)
        .to_payload()
        .ok()
}

/// Why a fragment was not accepted or a message could not be fragmented.
/// None of these is fatal for the exchange: the datagram is dropped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FragmentError {
    /// The datagram is not a well-formed fragment datagram.
    #[error("malformed fragment datagram: {0}")]
    Malformed(#[from] wire::Error),
    /// The datagram's first payload is not a fragment payload.
    #[error("datagram carries no fragment payload (first payload {0})")]
    NotAFragment(PayloadType),
    /// Fragment number 0 (numbers start at 1).
    #[error("fragment number 0 of fragment ID {id} (numbers start at 1)")]
    ZeroNumber {
        /// The fragment ID.
        id: u16,
    },
    /// A fragment with no data (it could never help complete a message).
    #[error("fragment {number} of fragment ID {id} is empty")]
    Empty {
        /// The fragment ID.
        id: u16,
        /// The fragment number.
        number: u8,
    },
    /// The fragment's number lies past the last fragment already seen.
    #[error("fragment {number} of fragment ID {id} lies past the last fragment {last}")]
    PastLast {
        /// The fragment ID.
        id: u16,
        /// The fragment number.
        number: u8,
        /// The number of the fragment flagged LAST.
        last: u8,
    },
    /// A second, different fragment flagged LAST, or a LAST fragment below a
    /// number already held.
    #[error("fragment ID {id}: fragment {number} flagged LAST conflicts with {held}")]
    ConflictingLast {
        /// The fragment ID.
        id: u16,
        /// The fragment number.
        number: u8,
        /// The last fragment, or the highest number, already held.
        held: u8,
    },
    /// More fragments than [`ReassemblyLimits::max_fragments`].
    #[error("fragment {number} of fragment ID {id} exceeds the limit of {limit} fragments")]
    TooManyFragments {
        /// The fragment ID.
        id: u16,
        /// The fragment number.
        number: u8,
        /// The configured limit.
        limit: u8,
    },
    /// The message would grow past [`ReassemblyLimits::max_message_bytes`].
    #[error("fragment ID {id} would exceed {limit} bytes reassembled")]
    MessageTooLarge {
        /// The fragment ID.
        id: u16,
        /// The configured limit.
        limit: usize,
    },
    /// Every peer together already hold [`ReassemblyLimits::max_total_bytes`].
    #[error("reassembly memory full ({limit} bytes held for all peers); fragment dropped")]
    GlobalMemoryFull {
        /// The configured limit.
        limit: usize,
    },
    /// The reassembled bytes do not form an ISAKMP message that matches the
    /// fragments' header.
    #[error("reassembled fragment ID {id} is not the message its fragments announced: {reason}")]
    BadReassembly {
        /// The fragment ID.
        id: u16,
        /// What did not match.
        reason: &'static str,
    },
    /// Fragmenting: the message needs more than 255 fragments at this size.
    #[error("a {len}-byte message needs more than 255 fragments of {per_fragment} bytes")]
    MessageTooLong {
        /// Length of the message.
        len: usize,
        /// Data bytes per fragment.
        per_fragment: usize,
    },
    /// Fragmenting: the MTU leaves no room for fragment data.
    #[error("path MTU {mtu} leaves no room for fragment data")]
    MtuTooSmall {
        /// The configured MTU.
        mtu: usize,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vid(hex: &str) -> VendorId {
        let bytes = (0..hex.len() / 2)
            .map(|i| u8::from_str_radix(hex.get(2 * i..2 * i + 2).unwrap(), 16).unwrap())
            .collect::<Vec<u8>>();
        VendorId::new(bytes)
    }

    /// MD5("FRAGMENTATION") with the capability words seen on the wire.
    #[test]
    fn fragmentation_vendor_id_forms() {
        let hash = "4048b7d56ebce88525e7de7f00d6c2d3";
        // Windows: the hash alone.
        assert!(announces_fragmentation(&vid(hash)));
        // strongSwan, racoon, Cisco: 4 capability bytes after it.
        assert!(announces_fragmentation(&vid(&format!("{hash}80000000"))));
        assert!(announces_fragmentation(&vid(&format!("{hash}c0000000"))));
        // Only "base ISAKMP" fragmentation, or an odd length: not for Phase 1.
        assert!(!announces_fragmentation(&vid(&format!("{hash}40000000"))));
        assert!(!announces_fragmentation(&vid(&format!("{hash}8000"))));
        assert!(!announces_fragmentation(&vid(
            "4a131c81070358455c5728f20e95452f"
        )));
        // What we send is what we accept.
        let mut peer = PeerConfig::new(None, vec![], vec![]);
        let ours = vendor_id(&peer).expect("announced when on");
        assert_eq!(ours.body, vid(&format!("{hash}80000000")).data);
        assert!(peer_announced(&[ours]));
        peer.fragmentation = Fragmentation::Off;
        assert!(vendor_id(&peer).is_none());
    }
}
