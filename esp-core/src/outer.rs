//! Building and stripping the outer IPv4/IPv6 header of tunnel-mode ESP
//! sent on a raw socket or a TUN device (IP protocol 50, or UDP for RFC
//! 3948).
#![deny(clippy::indexing_slicing)]

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use core::ops::Range;

use crate::error::{DecapError, EncapError};
use crate::wire::ip::{self, IPPROTO_UDP, IPV4_HEADER_LEN, IPV6_HEADER_LEN};

/// Default TTL / hop limit of outer headers.
pub const DEFAULT_TTL: u8 = 64;

/// The addresses and protocol of a received outer header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OuterHeader {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// What follows: 50 (ESP) or 17 (UDP-encapsulated ESP).
    pub protocol: u8,
}

/// Length of the outer header for an address family.
pub fn header_len(addr: IpAddr) -> usize {
    match addr {
        IpAddr::V4(_) => IPV4_HEADER_LEN,
        IpAddr::V6(_) => IPV6_HEADER_LEN,
    }
}

/// Writes an outer header for `payload_len` bytes of `protocol` into the
/// start of `out` and returns its length. The addresses must be of one
/// family. IPv4 gets identification `id`, no options, DF clear.
pub fn emit(
    src: IpAddr,
    dst: IpAddr,
    protocol: u8,
    ttl: u8,
    id: u16,
    payload_len: usize,
    out: &mut [u8],
) -> Result<usize, EncapError> {
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => emit_ipv4(s, d, protocol, ttl, id, payload_len, out),
        (IpAddr::V6(s), IpAddr::V6(d)) => emit_ipv6(s, d, protocol, ttl, payload_len, out),
        _ => Err(EncapError::MalformedIpPacket("address families differ")),
    }
}

fn emit_ipv4(
    src: Ipv4Addr,
    dst: Ipv4Addr,
    protocol: u8,
    ttl: u8,
    id: u16,
    payload_len: usize,
    out: &mut [u8],
) -> Result<usize, EncapError> {
    let total = payload_len
        .checked_add(IPV4_HEADER_LEN)
        .and_then(|t| u16::try_from(t).ok())
        .ok_or(EncapError::PayloadTooLarge)?;
    let available = out.len();
    let h = out
        .get_mut(..IPV4_HEADER_LEN)
        .ok_or(EncapError::BufferTooSmall {
            needed: IPV4_HEADER_LEN,
            available,
        })?;
    let [t0, t1] = total.to_be_bytes();
    let [i0, i1] = id.to_be_bytes();
    let [s0, s1, s2, s3] = src.octets();
    let [d0, d1, d2, d3] = dst.octets();
    h.copy_from_slice(&[
        0x45, 0, t0, t1, i0, i1, 0, 0, ttl, protocol, 0, 0, s0, s1, s2, s3, d0, d1, d2, d3,
    ]);
    let sum = ip::internet_checksum(h, 0).to_be_bytes();
    if let Some(c) = h.get_mut(10..12) {
        c.copy_from_slice(&sum);
    }
    Ok(IPV4_HEADER_LEN)
}

fn emit_ipv6(
    src: Ipv6Addr,
    dst: Ipv6Addr,
    next_header: u8,
    hop_limit: u8,
    payload_len: usize,
    out: &mut [u8],
) -> Result<usize, EncapError> {
    let len = u16::try_from(payload_len).map_err(|_| EncapError::PayloadTooLarge)?;
    let available = out.len();
    let h = out
        .get_mut(..IPV6_HEADER_LEN)
        .ok_or(EncapError::BufferTooSmall {
            needed: IPV6_HEADER_LEN,
            available,
        })?;
    let (fixed, addrs) = h.split_at_mut(8);
    let [l0, l1] = len.to_be_bytes();
    fixed.copy_from_slice(&[0x60, 0, 0, 0, l0, l1, next_header, hop_limit]);
    let (s, d) = addrs.split_at_mut(16);
    s.copy_from_slice(&src.octets());
    d.copy_from_slice(&dst.octets());
    Ok(IPV6_HEADER_LEN)
}

/// Fills in the UDP checksum of a UDP-encapsulated ESP packet behind an
/// outer IPv6 header (zero is not allowed there, RFC 8200 §8.1). `packet`
/// is the whole IPv6 packet, the UDP header right after the fixed header.
pub fn fill_udp_checksum_ipv6(packet: &mut [u8]) -> Result<(), EncapError> {
    crate::outbound::fill_udp6_checksum(packet, IPV6_HEADER_LEN)
}

/// Parses the outer header of a received packet and returns it with the
/// byte range of what follows it (the ESP packet or the UDP datagram).
pub fn strip(packet: &[u8]) -> Result<(OuterHeader, Range<usize>), DecapError> {
    let layout = ip::transport_insertion_point(packet).map_err(DecapError::MalformedOuter)?;
    let addr = |r: Range<usize>| packet.get(r).ok_or(DecapError::MalformedOuter("addresses"));
    let (src, dst) = if layout.version == 4 {
        let s: [u8; 4] = addr(12..16)?
            .try_into()
            .map_err(|_| DecapError::MalformedOuter("addresses"))?;
        let d: [u8; 4] = addr(16..20)?
            .try_into()
            .map_err(|_| DecapError::MalformedOuter("addresses"))?;
        (IpAddr::from(s), IpAddr::from(d))
    } else {
        let s: [u8; 16] = addr(8..24)?
            .try_into()
            .map_err(|_| DecapError::MalformedOuter("addresses"))?;
        let d: [u8; 16] = addr(24..40)?
            .try_into()
            .map_err(|_| DecapError::MalformedOuter("addresses"))?;
        (IpAddr::from(s), IpAddr::from(d))
    };
    if layout.protocol != crate::wire::esp::IPPROTO_ESP && layout.protocol != IPPROTO_UDP {
        return Err(DecapError::MalformedOuter("neither ESP nor UDP"));
    }
    Ok((
        OuterHeader {
            src,
            dst,
            protocol: layout.protocol,
        },
        layout.header_len..layout.packet_len,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_outer_header_matches_rfc3602_case5() {
        // RFC 3602 §4 case 5: 192.168.123.3 -> 192.168.123.100, id 0x08f2,
        // TTL 64, protocol 50, 124 bytes.
        let mut out = [0u8; 20];
        let n = emit(
            IpAddr::from([192, 168, 123, 3]),
            IpAddr::from([192, 168, 123, 100]),
            50,
            64,
            0x08f2,
            104,
            &mut out,
        )
        .unwrap();
        assert_eq!(n, 20);
        let want = [
            0x45, 0x00, 0x00, 0x7c, 0x08, 0xf2, 0x00, 0x00, 0x40, 0x32, 0xf9, 0xa5, 0xc0, 0xa8,
            0x7b, 0x03, 0xc0, 0xa8, 0x7b, 0x64,
        ];
        assert_eq!(out, want);
        let mut packet = want.to_vec();
        packet.resize(124, 0);
        let (h, range) = strip(&packet).unwrap();
        assert_eq!(h.protocol, 50);
        assert_eq!(h.dst, IpAddr::from([192, 168, 123, 100]));
        assert_eq!(range, 20..124);
        assert!(strip(&packet[..100]).is_err(), "shorter than its length");
    }

    #[test]
    fn ipv6_outer_header_round_trips() {
        let src: Ipv6Addr = "2001:db8::1".parse().unwrap();
        let dst: Ipv6Addr = "2001:db8::2".parse().unwrap();
        let mut packet = vec![0u8; 40 + 16];
        emit(src.into(), dst.into(), 50, 64, 0, 16, &mut packet).unwrap();
        let (h, range) = strip(&packet).unwrap();
        assert_eq!((h.src, h.dst, h.protocol), (src.into(), dst.into(), 50));
        assert_eq!(range, 40..56);
        assert!(
            emit(
                src.into(),
                IpAddr::from([1, 2, 3, 4]),
                50,
                64,
                0,
                1,
                &mut packet
            )
            .is_err()
        );
    }
}
