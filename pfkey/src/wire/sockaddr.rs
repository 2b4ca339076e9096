//! Linux `struct sockaddr_in` / `sockaddr_in6` as they sit inside address,
//! ipsecrequest and kmaddress extensions. Linux has no `sa_len`: the family
//! is a host-order `u16`, and the port, flow label and address are in
//! network order. af_key accepts only these two families.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

use super::Error;
use super::codec::{Reader, Writer};
use super::constants::{AF_INET, AF_INET6};

/// Reads one sockaddr, consuming exactly its size.
pub(crate) fn read(r: &mut Reader<'_>) -> Result<SocketAddr, Error> {
    let family = r.u16_ne("sockaddr family")?;
    match family {
        AF_INET => {
            let port = r.u16_be("sockaddr_in")?;
            let ip = Ipv4Addr::from(r.array::<4>("sockaddr_in")?);
            r.skip(8, "sockaddr_in")?; // sin_zero
            Ok(SocketAddr::V4(SocketAddrV4::new(ip, port)))
        }
        AF_INET6 => {
            let port = r.u16_be("sockaddr_in6")?;
            let flowinfo = r.u32_be("sockaddr_in6")?;
            let ip = Ipv6Addr::from(r.array::<16>("sockaddr_in6")?);
            let scope_id = r.u32_ne("sockaddr_in6")?;
            Ok(SocketAddr::V6(SocketAddrV6::new(
                ip, port, flowinfo, scope_id,
            )))
        }
        other => Err(Error::AddressFamily(other)),
    }
}

/// Writes `addr` as the kernel lays it out (no padding after it).
pub(crate) fn write(w: &mut Writer<'_>, addr: &SocketAddr) {
    match addr {
        SocketAddr::V4(a) => {
            w.u16_ne(AF_INET);
            w.u16_be(a.port());
            w.bytes(&a.ip().octets());
            w.zeros(8);
        }
        SocketAddr::V6(a) => {
            w.u16_ne(AF_INET6);
            w.u16_be(a.port());
            w.u32_be(a.flowinfo());
            w.bytes(&a.ip().octets());
            w.u32_ne(a.scope_id());
        }
    }
}
