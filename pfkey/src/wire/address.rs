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
