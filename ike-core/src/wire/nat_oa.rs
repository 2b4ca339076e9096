//! NAT Original Address payload (RFC 3947 §5.2), type 21 or 131 (drafts):
//!
//! ```text
//! ID Type (1) | RESERVED (1) | RESERVED (2) | IPv4 (4) or IPv6 (16) address
//! ```

use std::net::IpAddr;

use super::error::{Error, ErrorKind};
use super::identification::IdType;
use super::payload::{PayloadBody, PayloadType};
use super::reader::Reader;

/// The body of a NAT-OA payload: an original (pre-NAT) address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NatOa {
    /// The address; its family selects ID_IPV4_ADDR or ID_IPV6_ADDR.
    pub address: IpAddr,
}

impl PayloadBody for NatOa {
    const TYPE: PayloadType = PayloadType::NAT_OA;

    fn parse_body(body: &[u8]) -> Result<Self, Error> {
        const WHAT: &str = "NAT-OA payload";
        let mut r = Reader::new(body, 0);
        let id_type = IdType(r.u8(WHAT)?);
        let _reserved = r.take(3, WHAT)?;
        let address = match id_type {
            IdType::IPV4_ADDR => IpAddr::from(r.array::<4>(WHAT)?),
            IdType::IPV6_ADDR => IpAddr::from(r.array::<16>(WHAT)?),
            _ => {
                return Err(Error::new(
                    ErrorKind::Invalid {
                        what: WHAT,
                        why: "ID type is neither ID_IPV4_ADDR nor ID_IPV6_ADDR",
                    },
                    0,
                ));
            }
        };
        r.expect_end(WHAT)?;
        Ok(Self { address })
    }

    fn emit_body(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        match self.address {
            IpAddr::V4(a) => {
                out.extend_from_slice(&[IdType::IPV4_ADDR.0, 0, 0, 0]);
                out.extend_from_slice(&a.octets());
            }
            IpAddr::V6(a) => {
                out.extend_from_slice(&[IdType::IPV6_ADDR.0, 0, 0, 0]);
                out.extend_from_slice(&a.octets());
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    #[test]
    fn known_answers_both_directions() {
        let v4 = [1, 0, 0, 0, 192, 168, 0, 7];
        let oa = NatOa::parse_body(&v4).unwrap();
        assert_eq!(oa.address, IpAddr::V4(Ipv4Addr::new(192, 168, 0, 7)));
        assert_eq!(oa.to_body().unwrap(), v4);
        let mut v6 = vec![5, 0, 0, 0];
        v6.extend_from_slice(&Ipv6Addr::LOCALHOST.octets());
        let oa = NatOa::parse_body(&v6).unwrap();
        assert_eq!(oa.address, IpAddr::V6(Ipv6Addr::LOCALHOST));
        assert_eq!(oa.to_body().unwrap(), v6);
    }

    #[test]
    fn wrong_type_or_size_is_refused() {
        assert!(NatOa::parse_body(&[2, 0, 0, 0, 1, 2, 3, 4]).is_err());
        assert!(NatOa::parse_body(&[1, 0, 0, 0, 1, 2, 3]).is_err());
        assert_eq!(
            NatOa::parse_body(&[1, 0, 0, 0, 1, 2, 3, 4, 5])
                .unwrap_err()
                .kind,
            ErrorKind::TrailingBytes("NAT-OA payload")
        );
    }
}
