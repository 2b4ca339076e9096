//! Identification payload (RFC 2408 §3.8 with the IPsec DOI layout of
//! RFC 2407 §4.6.2):
//!
//! ```text
//! ID Type (1) | Protocol ID (1) | Port (2) | Identification Data
//! ```
//!
//! In Phase 1 protocol and port are usually 0 (or UDP/500); in Quick Mode
//! they restrict the proxy identities (traffic selectors).

use std::net::{Ipv4Addr, Ipv6Addr};

use super::error::{Error, ErrorKind};
use super::payload::{PayloadBody, PayloadType};
use super::reader::Reader;

wire_enum! {
    /// Identification Type (RFC 2407 §4.6.2.1, ID_LIST RFC 3554).
    pub struct IdType(u8) {
        IPV4_ADDR = 1 => "ID_IPV4_ADDR",
        FQDN = 2 => "ID_FQDN",
        USER_FQDN = 3 => "ID_USER_FQDN",
        IPV4_ADDR_SUBNET = 4 => "ID_IPV4_ADDR_SUBNET",
        IPV6_ADDR = 5 => "ID_IPV6_ADDR",
        IPV6_ADDR_SUBNET = 6 => "ID_IPV6_ADDR_SUBNET",
        IPV4_ADDR_RANGE = 7 => "ID_IPV4_ADDR_RANGE",
        IPV6_ADDR_RANGE = 8 => "ID_IPV6_ADDR_RANGE",
        DER_ASN1_DN = 9 => "ID_DER_ASN1_DN",
        DER_ASN1_GN = 10 => "ID_DER_ASN1_GN",
        KEY_ID = 11 => "ID_KEY_ID",
        LIST = 12 => "ID_LIST",
    }
}

/// The identity carried by an ID payload, typed by its ID Type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Identity {
    /// ID_IPV4_ADDR.
    Ipv4(Ipv4Addr),
    /// ID_IPV6_ADDR.
    Ipv6(Ipv6Addr),
    /// ID_IPV4_ADDR_SUBNET: address and netmask.
    Ipv4Subnet(Ipv4Addr, Ipv4Addr),
    /// ID_IPV6_ADDR_SUBNET: address and netmask.
    Ipv6Subnet(Ipv6Addr, Ipv6Addr),
    /// ID_IPV4_ADDR_RANGE: first and last address.
    Ipv4Range(Ipv4Addr, Ipv4Addr),
    /// ID_IPV6_ADDR_RANGE: first and last address.
    Ipv6Range(Ipv6Addr, Ipv6Addr),
    /// ID_FQDN (not necessarily UTF-8 on the wire).
    Fqdn(Vec<u8>),
    /// ID_USER_FQDN (`user@host`).
    UserFqdn(Vec<u8>),
    /// ID_DER_ASN1_DN: a DER-encoded distinguished name.
    DerAsn1Dn(Vec<u8>),
    /// ID_DER_ASN1_GN: a DER-encoded general name.
    DerAsn1Gn(Vec<u8>),
    /// ID_KEY_ID: opaque bytes.
    KeyId(Vec<u8>),
    /// Any other type (ID_LIST and unknown ones), kept as bytes.
    Other(IdType, Vec<u8>),
}

impl Identity {
    /// The ID Type this identity is sent as.
    #[must_use]
    pub const fn id_type(&self) -> IdType {
        match self {
            Self::Ipv4(_) => IdType::IPV4_ADDR,
            Self::Ipv6(_) => IdType::IPV6_ADDR,
            Self::Ipv4Subnet(..) => IdType::IPV4_ADDR_SUBNET,
            Self::Ipv6Subnet(..) => IdType::IPV6_ADDR_SUBNET,
            Self::Ipv4Range(..) => IdType::IPV4_ADDR_RANGE,
            Self::Ipv6Range(..) => IdType::IPV6_ADDR_RANGE,
            Self::Fqdn(_) => IdType::FQDN,
            Self::UserFqdn(_) => IdType::USER_FQDN,
            Self::DerAsn1Dn(_) => IdType::DER_ASN1_DN,
            Self::DerAsn1Gn(_) => IdType::DER_ASN1_GN,
            Self::KeyId(_) => IdType::KEY_ID,
            Self::Other(t, _) => *t,
        }
    }

    fn emit_data(&self, out: &mut Vec<u8>) {
        match self {
            Self::Ipv4(a) => out.extend_from_slice(&a.octets()),
            Self::Ipv6(a) => out.extend_from_slice(&a.octets()),
            Self::Ipv4Subnet(a, b) | Self::Ipv4Range(a, b) => {
                out.extend_from_slice(&a.octets());
                out.extend_from_slice(&b.octets());
            }
            Self::Ipv6Subnet(a, b) | Self::Ipv6Range(a, b) => {
                out.extend_from_slice(&a.octets());
                out.extend_from_slice(&b.octets());
            }
            Self::Fqdn(d)
            | Self::UserFqdn(d)
            | Self::DerAsn1Dn(d)
            | Self::DerAsn1Gn(d)
            | Self::KeyId(d)
            | Self::Other(_, d) => out.extend_from_slice(d),
        }
    }

    fn read(id_type: IdType, r: &mut Reader<'_>) -> Result<Self, Error> {
        const WHAT: &str = "ID payload address";
        let v4 = |r: &mut Reader<'_>| r.array::<4>(WHAT).map(Ipv4Addr::from);
        let v6 = |r: &mut Reader<'_>| r.array::<16>(WHAT).map(Ipv6Addr::from);
        let identity = match id_type {
            IdType::IPV4_ADDR => Self::Ipv4(v4(r)?),
            IdType::IPV6_ADDR => Self::Ipv6(v6(r)?),
            IdType::IPV4_ADDR_SUBNET => Self::Ipv4Subnet(v4(r)?, v4(r)?),
            IdType::IPV6_ADDR_SUBNET => Self::Ipv6Subnet(v6(r)?, v6(r)?),
            IdType::IPV4_ADDR_RANGE => Self::Ipv4Range(v4(r)?, v4(r)?),
            IdType::IPV6_ADDR_RANGE => Self::Ipv6Range(v6(r)?, v6(r)?),
            IdType::FQDN => Self::Fqdn(r.rest().to_vec()),
            IdType::USER_FQDN => Self::UserFqdn(r.rest().to_vec()),
            IdType::DER_ASN1_DN => Self::DerAsn1Dn(r.rest().to_vec()),
            IdType::DER_ASN1_GN => Self::DerAsn1Gn(r.rest().to_vec()),
            IdType::KEY_ID => Self::KeyId(r.rest().to_vec()),
            other => Self::Other(other, r.rest().to_vec()),
        };
        r.expect_end(WHAT)?;
        Ok(identity)
    }
}

/// The body of an ID payload.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Identification {
    /// IP protocol (0 = any; 17 = UDP for Phase 1 on port 500).
    pub protocol: u8,
    /// Port (0 = any).
    pub port: u16,
    /// The identity.
    pub identity: Identity,
}

impl Identification {
    /// An identity with protocol and port 0 (the usual Phase 1 form, and
    /// "any protocol, any port" in Quick Mode).
    #[must_use]
    pub const fn new(identity: Identity) -> Self {
        Self {
            protocol: 0,
            port: 0,
            identity,
        }
    }

    /// A proxy identity restricted to `protocol` and `port`.
    #[must_use]
    pub const fn with_protocol(identity: Identity, protocol: u8, port: u16) -> Self {
        Self {
            protocol,
            port,
            identity,
        }
    }
}

impl PayloadBody for Identification {
    const TYPE: PayloadType = PayloadType::IDENTIFICATION;

    fn parse_body(body: &[u8]) -> Result<Self, Error> {
        const WHAT: &str = "ID payload";
        let mut r = Reader::new(body, 0);
        let id_type = IdType(r.u8(WHAT)?);
        let protocol = r.u8(WHAT)?;
        let port = r.u16(WHAT)?;
        let identity = Identity::read(id_type, &mut r).map_err(|e| match e.kind {
            ErrorKind::Truncated(_) | ErrorKind::TrailingBytes(_) => Error::new(
                ErrorKind::Invalid {
                    what: WHAT,
                    why: "identification data length does not fit its ID type",
                },
                4,
            ),
            _ => e,
        })?;
        Ok(Self {
            protocol,
            port,
            identity,
        })
    }

    fn emit_body(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        out.push(self.identity.id_type().0);
        out.push(self.protocol);
        out.extend_from_slice(&self.port.to_be_bytes());
        self.identity.emit_data(out);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_known_answer_both_directions() {
        // IDii_b of the RUB-NDS Main Mode PSK exchange: 10.0.3.1.
        let body = [0x01, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x03, 0x01];
        let id = Identification::parse_body(&body).unwrap();
        assert_eq!(
            id,
            Identification::new(Identity::Ipv4(Ipv4Addr::new(10, 0, 3, 1)))
        );
        assert_eq!(id.to_body().unwrap(), body);
    }

    #[test]
    fn proxy_subnet_known_answer_both_directions() {
        // 192.168.1.0/255.255.255.0, TCP port 80.
        let body = [4, 6, 0, 80, 192, 168, 1, 0, 255, 255, 255, 0];
        let id = Identification::parse_body(&body).unwrap();
        assert_eq!(
            id,
            Identification::with_protocol(
                Identity::Ipv4Subnet(
                    Ipv4Addr::new(192, 168, 1, 0),
                    Ipv4Addr::new(255, 255, 255, 0)
                ),
                6,
                80
            )
        );
        assert_eq!(id.to_body().unwrap(), body);
    }

    #[test]
    fn ipv6_range_fqdn_and_unknown_known_answers() {
        let mut body = vec![8, 0, 0, 0];
        body.extend_from_slice(&Ipv6Addr::LOCALHOST.octets());
        body.extend_from_slice(&Ipv6Addr::UNSPECIFIED.octets());
        let id = Identification::parse_body(&body).unwrap();
        assert_eq!(
            id.identity,
            Identity::Ipv6Range(Ipv6Addr::LOCALHOST, Ipv6Addr::UNSPECIFIED)
        );
        assert_eq!(id.to_body().unwrap(), body);
        let fqdn = [2, 17, 1, 244, b'v', b'p', b'n'];
        let id = Identification::parse_body(&fqdn).unwrap();
        assert_eq!((id.protocol, id.port), (17, 500));
        assert_eq!(id.identity, Identity::Fqdn(b"vpn".to_vec()));
        assert_eq!(id.to_body().unwrap(), fqdn);
        let unknown = [200, 0, 0, 0, 1, 2];
        let id = Identification::parse_body(&unknown).unwrap();
        assert_eq!(id.identity, Identity::Other(IdType(200), vec![1, 2]));
        assert_eq!(id.to_body().unwrap(), unknown);
    }

    #[test]
    fn address_of_the_wrong_size_is_refused() {
        for body in [&[1u8, 0, 0, 0, 10, 0, 3][..], &[1, 0, 0, 0, 10, 0, 3, 1, 0]] {
            let err = Identification::parse_body(body).unwrap_err();
            assert!(matches!(
                err.kind,
                ErrorKind::Invalid {
                    what: "ID payload",
                    ..
                }
            ));
            assert_eq!(err.offset, 4);
        }
        assert_eq!(
            Identification::parse_body(&[1, 0, 0]).unwrap_err().kind,
            ErrorKind::Truncated("ID payload")
        );
    }
}
