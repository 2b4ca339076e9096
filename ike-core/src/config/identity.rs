//! Phase 1 identities (RFC 2407 §4.6.2.1) as configured and as received.

use core::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The identity a peer claims in its Phase 1 ID payload (IDii / IDir).
///
/// The identity types IKEv1 peers authenticate with: addresses, names,
/// key IDs (pre-shared keys) and ASN.1 DNs (certificates).
#[derive(Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Identity {
    /// `ID_IPV4_ADDR`.
    Ipv4(Ipv4Addr),
    /// `ID_IPV6_ADDR`.
    Ipv6(Ipv6Addr),
    /// `ID_FQDN`, e.g. `gw.example.com`.
    Fqdn(String),
    /// `ID_USER_FQDN`, e.g. `alice@example.com`.
    UserFqdn(String),
    /// `ID_KEY_ID`: opaque bytes (Cisco peers use it for group names).
    KeyId(Vec<u8>),
    /// `ID_DER_ASN1_DN`: a DER-encoded distinguished name, usually the
    /// subject of the certificate the peer signs with (racoon's `asn1dn`;
    /// see [`super::RsaAuthConfig::certificate_subject_identity`]).
    DerAsn1Dn(Vec<u8>),
}

impl Identity {
    /// The identity that names a host by its address.
    pub fn from_ip(addr: IpAddr) -> Self {
        match addr {
            IpAddr::V4(a) => Self::Ipv4(a),
            IpAddr::V6(a) => Self::Ipv6(a),
        }
    }

    /// The address, if this identity is an address.
    pub fn ip(&self) -> Option<IpAddr> {
        match self {
            Self::Ipv4(a) => Some(IpAddr::V4(*a)),
            Self::Ipv6(a) => Some(IpAddr::V6(*a)),
            _ => None,
        }
    }

    /// The ID type number of RFC 2407 §4.6.2.1.
    pub fn id_type(&self) -> u8 {
        match self {
            Self::Ipv4(_) => 1,
            Self::Fqdn(_) => 2,
            Self::UserFqdn(_) => 3,
            Self::Ipv6(_) => 5,
            Self::DerAsn1Dn(_) => 9,
            Self::KeyId(_) => 11,
        }
    }

    /// The identification data as it goes on the wire after the 4-byte
    /// type/protocol/port prefix.
    pub fn data(&self) -> Vec<u8> {
        match self {
            Self::Ipv4(a) => a.octets().to_vec(),
            Self::Ipv6(a) => a.octets().to_vec(),
            Self::Fqdn(s) | Self::UserFqdn(s) => s.as_bytes().to_vec(),
            Self::KeyId(k) | Self::DerAsn1Dn(k) => k.clone(),
        }
    }

    /// Decodes an identity from its ID type and data, as received.
    ///
    /// Returns `None` for types this engine does not authenticate with, or for
    /// address data of the wrong length.
    pub fn from_wire(id_type: u8, data: &[u8]) -> Option<Self> {
        match id_type {
            1 => <[u8; 4]>::try_from(data)
                .ok()
                .map(|o| Self::Ipv4(Ipv4Addr::from(o))),
            5 => <[u8; 16]>::try_from(data)
                .ok()
                .map(|o| Self::Ipv6(Ipv6Addr::from(o))),
            2 => core::str::from_utf8(data)
                .ok()
                .map(|s| Self::Fqdn(s.to_owned())),
            3 => core::str::from_utf8(data)
                .ok()
                .map(|s| Self::UserFqdn(s.to_owned())),
            9 => Some(Self::DerAsn1Dn(data.to_vec())),
            11 => Some(Self::KeyId(data.to_vec())),
            _ => None,
        }
    }

    /// The codec's form of this identity, for an ID payload.
    pub fn to_wire(&self) -> crate::wire::Identity {
        use crate::wire::Identity as W;
        match self {
            Self::Ipv4(a) => W::Ipv4(*a),
            Self::Ipv6(a) => W::Ipv6(*a),
            Self::Fqdn(s) => W::Fqdn(s.as_bytes().to_vec()),
            Self::UserFqdn(s) => W::UserFqdn(s.as_bytes().to_vec()),
            Self::KeyId(k) => W::KeyId(k.clone()),
            Self::DerAsn1Dn(d) => W::DerAsn1Dn(d.clone()),
        }
    }

    /// The identity a received ID payload names. `None` for the types this
    /// engine does not authenticate with, or names that are not UTF-8.
    pub fn from_wire_identity(id: &crate::wire::Identity) -> Option<Self> {
        use crate::wire::Identity as W;
        let text = |b: &[u8]| core::str::from_utf8(b).ok().map(str::to_owned);
        match id {
            W::Ipv4(a) => Some(Self::Ipv4(*a)),
            W::Ipv6(a) => Some(Self::Ipv6(*a)),
            W::Fqdn(b) => text(b).map(Self::Fqdn),
            W::UserFqdn(b) => text(b).map(Self::UserFqdn),
            W::KeyId(k) => Some(Self::KeyId(k.clone())),
            W::DerAsn1Dn(d) => Some(Self::DerAsn1Dn(d.clone())),
            _ => None,
        }
    }

    /// Parses the way racoon's psk.txt and `peers_identifier` write
    /// identities: an address, `user@fqdn`, or an FQDN.
    pub fn parse_text(text: &str) -> Self {
        if let Ok(ip) = text.parse::<IpAddr>() {
            return Self::from_ip(ip);
        }
        if text.contains('@') {
            return Self::UserFqdn(text.to_owned());
        }
        Self::Fqdn(text.to_owned())
    }
}

impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ipv4(a) => write!(f, "{a}"),
            Self::Ipv6(a) => write!(f, "{a}"),
            Self::Fqdn(s) => write!(f, "fqdn:{s}"),
            Self::UserFqdn(s) => write!(f, "user_fqdn:{s}"),
            Self::KeyId(k) => {
                f.write_str("keyid:")?;
                for b in k {
                    write!(f, "{b:02x}")?;
                }
                Ok(())
            }
            Self::DerAsn1Dn(d) => {
                use der::Decode;
                match x509_cert::name::Name::from_der(d) {
                    Ok(name) => write!(f, "asn1dn:{}", crate::auth::display_name(&name)),
                    Err(_) => write!(f, "asn1dn:(undecodable, {} bytes)", d.len()),
                }
            }
        }
    }
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{Identification, PayloadBody};

    #[test]
    fn codec_form_known_answer() {
        // IDii_b of the RUB-NDS Main Mode PSK exchange: 10.0.3.1.
        assert_eq!(
            Identification::new(Identity::Ipv4(Ipv4Addr::new(10, 0, 3, 1)).to_wire())
                .to_body()
                .unwrap(),
            [0x01, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x03, 0x01]
        );
    }

    #[test]
    fn names_that_are_not_utf8_and_subnets_are_not_phase1_identities() {
        let bad = Identification::parse_body(&[2, 0, 0, 0, 0xff, 0xfe]).unwrap();
        assert_eq!(Identity::from_wire_identity(&bad.identity), None);
        let subnet = Identification::parse_body(&[4, 0, 0, 0, 10, 0, 0, 0, 255, 0, 0, 0]).unwrap();
        assert_eq!(Identity::from_wire_identity(&subnet.identity), None);
    }

    #[test]
    fn wire_round_trip_for_every_type() {
        let ids = [
            Identity::Ipv4(Ipv4Addr::new(192, 0, 2, 1)),
            Identity::Ipv6("2001:db8::1".parse().unwrap()),
            Identity::Fqdn("gw.example.com".into()),
            Identity::UserFqdn("alice@example.com".into()),
            Identity::KeyId(vec![0, 1, 0xfe]),
            // SEQUENCE { SET { SEQUENCE { OID 2.5.4.3 (CN), UTF8String "gw" } } }
            Identity::DerAsn1Dn(vec![
                0x30, 0x0d, 0x31, 0x0b, 0x30, 0x09, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x02, b'g',
                b'w',
            ]),
        ];
        for id in ids {
            assert_eq!(
                Identity::from_wire(id.id_type(), &id.data()),
                Some(id.clone())
            );
            // The codec's form carries the same bytes and reads back the same.
            let body = Identification::new(id.to_wire()).to_body().unwrap();
            let mut old = vec![id.id_type(), 0, 0, 0];
            old.extend_from_slice(&id.data());
            assert_eq!(body, old, "{id}");
            let back = Identification::parse_body(&body).unwrap();
            assert_eq!(
                Identity::from_wire_identity(&back.identity),
                Some(id.clone())
            );
        }
    }

    #[test]
    fn asn1dn_displays_its_name() {
        let dn = Identity::DerAsn1Dn(vec![
            0x30, 0x0d, 0x31, 0x0b, 0x30, 0x09, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x02, b'g',
            b'w',
        ]);
        assert_eq!(dn.to_string(), "asn1dn:CN=gw");
        assert_eq!(
            Identity::DerAsn1Dn(vec![1, 2]).to_string(),
            "asn1dn:(undecodable, 2 bytes)"
        );
    }

    #[test]
    fn address_of_wrong_length_is_refused() {
        assert_eq!(Identity::from_wire(1, &[1, 2, 3]), None);
        assert_eq!(Identity::from_wire(5, &[0; 4]), None);
    }

    #[test]
    fn text_forms_follow_racoon() {
        assert_eq!(
            Identity::parse_text("10.0.0.1"),
            Identity::Ipv4(Ipv4Addr::new(10, 0, 0, 1))
        );
        assert_eq!(
            Identity::parse_text("a@b.c"),
            Identity::UserFqdn("a@b.c".into())
        );
        assert_eq!(Identity::parse_text("b.c"), Identity::Fqdn("b.c".into()));
    }
}
