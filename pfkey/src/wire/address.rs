//! `SADB_EXT_ADDRESS_{SRC,DST,PROXY}` and `SADB_X_EXT_NAT_T_OA`:
//! `struct sadb_address` followed by a sockaddr (RFC 2367 §2.3.3).

use std::net::{IpAddr, SocketAddr};

use super::codec::{Reader, Writer};
use super::constants::IPSEC_ULPROTO_ANY;
use super::{Body, Error, sockaddr};

/// An address (or, in SPD messages, a selector: address/prefix, port, protocol).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Address {
    /// `sadb_address_proto`: upper-layer protocol, 255 (`IPSEC_ULPROTO_ANY`) for any.
    pub proto: u8,
    /// `sadb_address_prefixlen`
    pub prefixlen: u8,
    /// The sockaddr that follows; port 0 means any.
    pub addr: SocketAddr,
}

impl Address {
    /// A host address (full prefix, any port, any protocol), as SA messages use.
    pub fn host(ip: IpAddr) -> Self {
        let prefixlen = match ip {
            IpAddr::V4(_) => 32,
            IpAddr::V6(_) => 128,
        };
        Self {
            proto: IPSEC_ULPROTO_ANY,
            prefixlen,
            addr: SocketAddr::new(ip, 0),
        }
    }

    /// A policy selector.
    pub fn selector(ip: IpAddr, prefixlen: u8, port: u16, proto: u8) -> Self {
        Self {
            proto,
            prefixlen,
            addr: SocketAddr::new(ip, port),
        }
    }
}

impl Body for Address {
    const NAME: &'static str = "sadb_address";

    fn parse(r: &mut Reader<'_>) -> Result<Self, Error> {
        let proto = r.u8(Self::NAME)?;
        let prefixlen = r.u8(Self::NAME)?;
        r.skip(2, Self::NAME)?; // sadb_address_reserved
        let addr = sockaddr::read(r)?;
        Ok(Self {
            proto,
            prefixlen,
            addr,
        })
    }

    fn emit(&self, w: &mut Writer<'_>) {
        w.u8(self.proto);
        w.u8(self.prefixlen);
        w.u16_ne(0);
        sockaddr::write(w, &self.addr);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{Extension, Message, MessageType, SaType};

    fn emitted(a: Address) -> Vec<u8> {
        let m = Message::new(MessageType::Add, SaType::Esp).with(Extension::AddressSrc(a));
        m.to_bytes().unwrap()[16..].to_vec()
    }

    #[test]
    fn ipv4_sockaddr_in_without_sin_len() {
        // suite/053: 10.0.0.1 port 500, UDP: family is host order, port network order.
        let want = [
            0x03, 0x00, 0x05, 0x00, 0x11, 0x20, 0x00, 0x00, 0x02, 0x00, 0x01, 0xf4, 0x0a, 0x00,
            0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0,
        ];
        let a = Address::selector("10.0.0.1".parse().unwrap(), 32, 500, 17);
        assert_eq!(emitted(a), want);
        assert_eq!(Address::parse(&mut Reader::new(&want[4..])).unwrap(), a);
    }

    #[test]
    fn ipv6_sockaddr_in6_is_padded_to_40() {
        // suite/021: fd00::1, any protocol, /128.
        let a = Address::host("fd00::1".parse().unwrap());
        let bytes = emitted(a);
        assert_eq!(bytes.len(), 40);
        assert_eq!(
            &bytes[..12],
            &[0x05, 0, 0x05, 0, 0xff, 0x80, 0, 0, 0x0a, 0, 0, 0]
        );
        assert_eq!(bytes[16], 0xfd);
        assert_eq!(bytes[31], 0x01);
        assert_eq!(Address::parse(&mut Reader::new(&bytes[4..])).unwrap(), a);
    }
}
