//! Vendor ID payload (RFC 2408 §3.16) and the vendor IDs that matter for
//! interoperability.
//!
//! Most well-known vendor IDs are the MD5 hash of a string, sometimes cut
//! short or followed by version or capability bytes; the table below holds
//! the strings and computes the hashes, so each entry can be checked against
//! the document that defines it.  The few that are not hashes (RFC 3706 DPD,
//! the Openswan / Libreswan ASCII prefixes) are given as bytes.

use std::sync::LazyLock;

use md5::{Digest, Md5};

use super::error::Error;
use super::payload::{PayloadBody, PayloadType};

/// The body of a Vendor ID payload.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VendorId {
    /// The vendor ID bytes.
    pub data: Vec<u8>,
}

/// Vendor IDs this library recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KnownVendorId {
    /// RFC 3947 NAT traversal.
    NatTRfc3947,
    /// draft-ietf-ipsec-nat-t-ike-00.
    NatTDraft00,
    /// draft-ietf-ipsec-nat-t-ike-01.
    NatTDraft01,
    /// draft-ietf-ipsec-nat-t-ike-02.
    NatTDraft02,
    /// draft-ietf-ipsec-nat-t-ike-02 hashed with a trailing newline, as
    /// several implementations sent it.
    NatTDraft02Newline,
    /// draft-ietf-ipsec-nat-t-ike-03.
    NatTDraft03,
    /// RFC 3706 Dead Peer Detection, version 1.0.
    Dpd,
    /// XAUTH (draft-ietf-ipsra-isakmp-xauth-06): first 8 bytes of the hash.
    Xauth,
    /// Cisco Unity: 14 bytes of the hash, then major/minor version bytes.
    CiscoUnity,
    /// IKE fragmentation (Cisco, strongSwan, racoon): the hash, usually
    /// followed by 4 capability bytes.
    Fragmentation,
    /// strongSwan.
    StrongSwan,
    /// KAME racoon.
    KameRacoon,
    /// ipsec-tools racoon.
    IpsecTools,
    /// Libreswan 3.6 and later ("OE-Libreswan-" followed by a version).
    Libreswan,
    /// Libreswan 3.0 to 3.5 ("OEN" prefix).
    LibreswanOld,
    /// Openswan ("OE" prefix).
    Openswan,
}

impl KnownVendorId {
    /// Every recognised vendor ID.
    pub const ALL: [Self; 16] = [
        Self::NatTRfc3947,
        Self::NatTDraft00,
        Self::NatTDraft01,
        Self::NatTDraft02,
        Self::NatTDraft02Newline,
        Self::NatTDraft03,
        Self::Dpd,
        Self::Xauth,
        Self::CiscoUnity,
        Self::Fragmentation,
        Self::StrongSwan,
        Self::KameRacoon,
        Self::IpsecTools,
        Self::Libreswan,
        Self::LibreswanOld,
        Self::Openswan,
    ];

    /// A human-readable name.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::NatTRfc3947 => "RFC 3947 (NAT-T)",
            Self::NatTDraft00 => "draft-ietf-ipsec-nat-t-ike-00",
            Self::NatTDraft01 => "draft-ietf-ipsec-nat-t-ike-01",
            Self::NatTDraft02 => "draft-ietf-ipsec-nat-t-ike-02",
            Self::NatTDraft02Newline => "draft-ietf-ipsec-nat-t-ike-02\\n",
            Self::NatTDraft03 => "draft-ietf-ipsec-nat-t-ike-03",
            Self::Dpd => "RFC 3706 (DPD)",
            Self::Xauth => "XAUTH",
            Self::CiscoUnity => "Cisco Unity",
            Self::Fragmentation => "IKE fragmentation",
            Self::StrongSwan => "strongSwan",
            Self::KameRacoon => "KAME/racoon",
            Self::IpsecTools => "ipsec-tools",
            Self::Libreswan => "Libreswan (3.6+)",
            Self::LibreswanOld => "Libreswan 3.0 - 3.5",
            Self::Openswan => "Openswan",
        }
    }

    /// How the ID is made, and how much of it identifies the vendor.
    const fn recipe(self) -> Recipe {
        use Recipe::{Bytes, Md5Prefix};
        match self {
            Self::NatTRfc3947 => Md5Prefix("RFC 3947", 16, &[]),
            Self::NatTDraft00 => Md5Prefix("draft-ietf-ipsec-nat-t-ike-00", 16, &[]),
            Self::NatTDraft01 => Md5Prefix("draft-ietf-ipsec-nat-t-ike-01", 16, &[]),
            Self::NatTDraft02 => Md5Prefix("draft-ietf-ipsec-nat-t-ike-02", 16, &[]),
            Self::NatTDraft02Newline => Md5Prefix("draft-ietf-ipsec-nat-t-ike-02\n", 16, &[]),
            Self::NatTDraft03 => Md5Prefix("draft-ietf-ipsec-nat-t-ike-03", 16, &[]),
            // RFC 3706 §3: fixed bytes ending in major version 1, minor 0.
            Self::Dpd => Bytes(
                &[
                    0xaf, 0xca, 0xd7, 0x13, 0x68, 0xa1, 0xf1, 0xc9, 0x6b, 0x86, 0x96, 0xfc, 0x77,
                    0x57, 0x01, 0x00,
                ],
                14,
            ),
            Self::Xauth => Md5Prefix("draft-ietf-ipsra-isakmp-xauth-06.txt", 8, &[]),
            Self::CiscoUnity => Md5Prefix("CISCO-UNITY", 14, &[1, 0]),
            // Cisco sends capability flags 0x80000000 after the hash.
            Self::Fragmentation => Md5Prefix("FRAGMENTATION", 16, &[0x80, 0, 0, 0]),
            Self::StrongSwan => Md5Prefix("strongSwan", 16, &[]),
            Self::KameRacoon => Md5Prefix("KAME/racoon", 16, &[]),
            Self::IpsecTools => Md5Prefix("IPSec-Tools", 16, &[]),
            Self::Libreswan => Bytes(b"OE-Libreswan-", 13),
            Self::LibreswanOld => Bytes(b"OEN", 3),
            Self::Openswan => Bytes(b"OE", 2),
        }
    }

    /// The bytes this library sends for this vendor ID.
    #[must_use]
    pub fn bytes(self) -> Vec<u8> {
        match self.recipe() {
            Recipe::Md5Prefix(s, n, suffix) => {
                let hash = Md5::digest(s.as_bytes());
                let mut v: Vec<u8> = hash.iter().copied().take(n).collect();
                v.extend_from_slice(suffix);
                v
            }
            Recipe::Bytes(b, _) => b.to_vec(),
        }
    }

    /// The leading bytes that identify this vendor.
    fn signature(self) -> Vec<u8> {
        let n = match self.recipe() {
            Recipe::Md5Prefix(_, n, _) | Recipe::Bytes(_, n) => n,
        };
        self.bytes().into_iter().take(n).collect()
    }
}

/// `Md5Prefix(string, significant bytes, bytes appended when sending)` or
/// `Bytes(bytes, significant bytes)`.
#[derive(Clone, Copy)]
enum Recipe {
    Md5Prefix(&'static str, usize, &'static [u8]),
    Bytes(&'static [u8], usize),
}

/// The signatures, longest first so that a specific match ("OEN") wins over
/// a generic one ("OE").
static SIGNATURES: LazyLock<Vec<(Vec<u8>, KnownVendorId)>> = LazyLock::new(|| {
    let mut table: Vec<_> = KnownVendorId::ALL
        .iter()
        .map(|&k| (k.signature(), k))
        .collect();
    table.sort_by_key(|(sig, _)| core::cmp::Reverse(sig.len()));
    table
});

impl VendorId {
    /// A Vendor ID body.
    #[must_use]
    pub fn new(data: impl Into<Vec<u8>>) -> Self {
        Self { data: data.into() }
    }

    /// The Vendor ID this library sends for `known`.
    #[must_use]
    pub fn known(known: KnownVendorId) -> Self {
        Self::new(known.bytes())
    }

    /// Which well-known vendor ID this is, if any.
    #[must_use]
    pub fn recognise(&self) -> Option<KnownVendorId> {
        SIGNATURES
            .iter()
            .find(|(sig, _)| self.data.starts_with(sig))
            .map(|&(_, k)| k)
    }
}

impl PayloadBody for VendorId {
    const TYPE: PayloadType = PayloadType::VENDOR_ID;

    fn parse_body(body: &[u8]) -> Result<Self, Error> {
        Ok(Self::new(body))
    }

    fn emit_body(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        out.extend_from_slice(&self.data);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len() / 2)
            .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
            .collect()
    }

    /// Vendor IDs as seen on the wire (RUB-NDS recordings, strongSwan and
    /// Cisco captures), checked against the computed table.
    #[test]
    fn wire_vendor_ids_are_recognised() {
        let cases = [
            (
                "4a131c81070358455c5728f20e95452f",
                KnownVendorId::NatTRfc3947,
            ),
            (
                "cd60464335df21f87cfdb2fc68b6a448",
                KnownVendorId::NatTDraft02,
            ),
            (
                "90cb80913ebb696e086381b5ec427b1f",
                KnownVendorId::NatTDraft02Newline,
            ),
            (
                "7d9419a65310ca6f2c179d9215529d56",
                KnownVendorId::NatTDraft03,
            ),
            ("afcad71368a1f1c96b8696fc77570100", KnownVendorId::Dpd),
            ("09002689dfd6b712", KnownVendorId::Xauth),
            (
                "12f5f28c457168a9702d9fe274cc0100",
                KnownVendorId::CiscoUnity,
            ),
            (
                "4048b7d56ebce88525e7de7f00d6c2d380000000",
                KnownVendorId::Fragmentation,
            ),
            (
                "4048b7d56ebce88525e7de7f00d6c2d3c0000000",
                KnownVendorId::Fragmentation,
            ),
            (
                "882fe56d6fd20dbc2251613b2ebe5beb",
                KnownVendorId::StrongSwan,
            ),
        ];
        for (h, want) in cases {
            assert_eq!(VendorId::new(hex(h)).recognise(), Some(want), "{h}");
        }
        assert_eq!(
            VendorId::new(b"OE-Libreswan-4.12".to_vec()).recognise(),
            Some(KnownVendorId::Libreswan)
        );
        assert_eq!(
            VendorId::new(b"OENx".to_vec()).recognise(),
            Some(KnownVendorId::LibreswanOld)
        );
        assert_eq!(
            VendorId::new(b"OEab".to_vec()).recognise(),
            Some(KnownVendorId::Openswan)
        );
        assert_eq!(
            VendorId::new(hex("d9634c7a438dfda970f20bcb0c1ac1c7")).recognise(),
            None
        );
    }

    #[test]
    fn sent_bytes_are_recognised_and_round_trip() {
        for k in KnownVendorId::ALL {
            let v = VendorId::known(k);
            assert_eq!(v.recognise(), Some(k), "{}", k.name());
            assert_eq!(VendorId::parse_body(&v.to_body().unwrap()).unwrap(), v);
        }
        assert_eq!(
            VendorId::known(KnownVendorId::Xauth).data,
            hex("09002689dfd6b712")
        );
        assert_eq!(
            VendorId::known(KnownVendorId::CiscoUnity).data,
            hex("12f5f28c457168a9702d9fe274cc0100")
        );
    }
}
