//! Vendor IDs (DPD, NAT-T) and NAT traversal in Phase 1 (RFC 3947, and the draft-02/03 form older
//! peers speak): vendor IDs, NAT-D payloads and NAT detection.
//!
//! NAT-D = hash(CKY-I | CKY-R | IP | Port) with the negotiated hash. Each
//! side sends the hash of the peer's address first, then its own; a
//! receiver whose own address hash is missing is behind a NAT, and one that
//! finds none of the peer's hashes knows the peer is.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use crate::config::{NatTraversal, PeerConfig};
use crate::crypto::HashAlgorithm;
use crate::crypto::nat_d::nat_d;
use crate::wire::{Cookie, KnownVendorId, Payload, PayloadBody, PayloadType, VendorId};

/// The UDP port IKE floats to (RFC 3947 §4).
pub(crate) const NAT_T_PORT: u16 = 4500;

/// Which NAT-T dialect both sides announced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NatVariant {
    /// RFC 3947: NAT-D is payload 20.
    Rfc3947,
    /// draft-ietf-ipsec-nat-t-ike-02/03: NAT-D is payload 130.
    Draft,
}

impl NatVariant {
    fn nat_d_type(self) -> PayloadType {
        match self {
            Self::Rfc3947 => PayloadType::NAT_D,
            Self::Draft => PayloadType::NAT_D_DRAFT,
        }
    }
}

/// What NAT-D showed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct NatDetection {
    /// Our address is translated.
    pub(crate) local_behind: bool,
    /// The peer's address is translated.
    pub(crate) remote_behind: bool,
}

impl NatDetection {
    /// Whether IKE and ESP must move to UDP 4500.
    pub(crate) fn any(self) -> bool {
        self.local_behind || self.remote_behind
    }
}

/// The NAT-T dialect a peer announced in its vendor IDs, best first.
pub(crate) fn variant_of(payloads: &[Payload]) -> Option<NatVariant> {
    let known: Vec<KnownVendorId> = payloads
        .iter()
        .filter(|p| p.ty == PayloadType::VENDOR_ID)
        .filter_map(|p| VendorId::parse_body(&p.body).ok()?.recognise())
        .collect();
    if known.contains(&KnownVendorId::NatTRfc3947) {
        return Some(NatVariant::Rfc3947);
    }
    known
        .iter()
        .any(|k| {
            matches!(
                k,
                KnownVendorId::NatTDraft02
                    | KnownVendorId::NatTDraft02Newline
                    | KnownVendorId::NatTDraft03
            )
        })
        .then_some(NatVariant::Draft)
}

fn vid(k: KnownVendorId) -> Option<Payload> {
    VendorId::known(k).to_payload().ok()
}

/// Vendor IDs for MM1/AM1 (everything we speak) or for a reply (only the
/// dialect the initiator offered, RFC 3947 §3.1).
pub(crate) fn vendor_ids(
    peer: &PeerConfig,
    reply_to: Option<NatVariant>,
    replying: bool,
) -> Vec<Payload> {
    // We answer R-U-THERE (RFC 3706 §4), so say so; we do not probe unasked.
    // IKE fragmentation is announced unless configured off.
    let capabilities = vid(KnownVendorId::Dpd)
        .into_iter()
        .chain(crate::fragment::vendor_id(peer));
    if peer.nat_traversal == NatTraversal::Off {
        return capabilities.collect();
    }
    let ids: &[KnownVendorId] = match (replying, reply_to) {
        (false, _) => &[
            KnownVendorId::NatTRfc3947,
            KnownVendorId::NatTDraft03,
            KnownVendorId::NatTDraft02Newline,
            KnownVendorId::NatTDraft02,
        ],
        (true, Some(NatVariant::Rfc3947)) => &[KnownVendorId::NatTRfc3947],
        (true, Some(NatVariant::Draft)) => &[KnownVendorId::NatTDraft02Newline],
        (true, None) => &[],
    };
    ids.iter()
        .copied()
        .filter_map(vid)
        .chain(capabilities)
        .collect()
}

/// Our two NAT-D payloads: the peer's address, then ours. With `force`
/// (racoon's `nat_traversal force`) ours is hashed over an address nobody
/// has, so both sides see a NAT and encapsulate.
pub(crate) fn nat_d_payloads(
    variant: NatVariant,
    hash: HashAlgorithm,
    cky_i: &Cookie,
    cky_r: &Cookie,
    local: SocketAddr,
    remote: SocketAddr,
    force: bool,
) -> Vec<Payload> {
    let ours = if force {
        SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0)
    } else {
        local
    };
    [remote, ours]
        .into_iter()
        .map(|a| {
            Payload::new(
                variant.nat_d_type(),
                nat_d(hash, &cky_i.0, &cky_r.0, a.ip(), a.port())
                    .as_bytes()
                    .to_vec(),
            )
        })
        .collect()
}

/// Compares the peer's NAT-D payloads with the addresses we see.
pub(crate) fn detect(
    variant: NatVariant,
    hash: HashAlgorithm,
    cky_i: &Cookie,
    cky_r: &Cookie,
    local: SocketAddr,
    remote: SocketAddr,
    payloads: &[Payload],
) -> Option<NatDetection> {
    let hashes: Vec<&[u8]> = payloads
        .iter()
        .filter(|p| p.ty == variant.nat_d_type())
        .map(|p| p.body.as_slice())
        .collect();
    let (first, others) = hashes.split_first()?;
    let ours = nat_d(hash, &cky_i.0, &cky_r.0, local.ip(), local.port());
    let theirs = nat_d(hash, &cky_i.0, &cky_r.0, remote.ip(), remote.port());
    Some(NatDetection {
        local_behind: !ours.verify(first),
        remote_behind: !others.iter().any(|h| theirs.verify(h)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn no_nat_when_addresses_agree() {
        let (i, r) = (Cookie([1; 8]), Cookie([2; 8]));
        let (a, b) = (addr("192.0.2.1:500"), addr("198.51.100.2:500"));
        let from_a = nat_d_payloads(
            NatVariant::Rfc3947,
            HashAlgorithm::Sha1,
            &i,
            &r,
            a,
            b,
            false,
        );
        assert_eq!(from_a.len(), 2);
        assert_eq!(
            detect(
                NatVariant::Rfc3947,
                HashAlgorithm::Sha1,
                &i,
                &r,
                b,
                a,
                &from_a
            ),
            Some(NatDetection::default())
        );
    }

    #[test]
    fn translated_sender_and_receiver_are_told_apart() {
        let (i, r) = (Cookie([1; 8]), Cookie([2; 8]));
        // A is 10.0.0.2:500 inside, seen by B as 203.0.113.7:40000.
        let from_a = nat_d_payloads(
            NatVariant::Draft,
            HashAlgorithm::Sha1,
            &i,
            &r,
            addr("10.0.0.2:500"),
            addr("198.51.100.2:500"),
            false,
        );
        let at_b = detect(
            NatVariant::Draft,
            HashAlgorithm::Sha1,
            &i,
            &r,
            addr("198.51.100.2:500"),
            addr("203.0.113.7:40000"),
            &from_a,
        );
        assert_eq!(
            at_b,
            Some(NatDetection {
                local_behind: false,
                remote_behind: true
            })
        );
        let from_b = nat_d_payloads(
            NatVariant::Draft,
            HashAlgorithm::Sha1,
            &i,
            &r,
            addr("198.51.100.2:500"),
            addr("203.0.113.7:40000"),
            false,
        );
        let at_a = detect(
            NatVariant::Draft,
            HashAlgorithm::Sha1,
            &i,
            &r,
            addr("10.0.0.2:500"),
            addr("198.51.100.2:500"),
            &from_b,
        );
        assert_eq!(
            at_a,
            Some(NatDetection {
                local_behind: true,
                remote_behind: false
            })
        );
        // Payload type 130 is not read as RFC 3947 NAT-D.
        assert_eq!(
            detect(
                NatVariant::Rfc3947,
                HashAlgorithm::Sha1,
                &i,
                &r,
                addr("10.0.0.2:500"),
                addr("198.51.100.2:500"),
                &from_b
            ),
            None
        );
    }

    #[test]
    fn vendor_ids_announce_and_answer() {
        let mut peer = PeerConfig::new(None, vec![], vec![]);
        peer.nat_traversal = NatTraversal::On;
        let offer = vendor_ids(&peer, None, false);
        assert_eq!(offer.len(), 6, "four NAT-T dialects, DPD, fragmentation");
        assert_eq!(variant_of(&offer), Some(NatVariant::Rfc3947));
        let reply = vendor_ids(&peer, Some(NatVariant::Draft), true);
        assert_eq!(variant_of(&reply), Some(NatVariant::Draft));
        peer.nat_traversal = NatTraversal::Off;
        let off = vendor_ids(&peer, None, false);
        assert_eq!(variant_of(&off), None);
        assert_eq!(off.len(), 2, "DPD and fragmentation");
        peer.fragmentation = crate::config::Fragmentation::Off;
        assert_eq!(vendor_ids(&peer, None, false).len(), 1, "DPD only");
    }
}
