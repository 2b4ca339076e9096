//! Just enough IPv4 (RFC 791) and IPv6 (RFC 8200) to insert ESP after the
//! IP header and its extension headers (RFC 4303 §3.1.1), take it out again,
//! and read an inner packet's length and 5-tuple.
#![deny(clippy::indexing_slicing)]

/// IP protocol number of UDP.
pub const IPPROTO_UDP: u8 = 17;
/// IP protocol number of TCP.
pub const IPPROTO_TCP: u8 = 6;
/// Length of the fixed IPv6 header.
pub const IPV6_HEADER_LEN: usize = 40;
/// Length of an IPv4 header without options.
pub const IPV4_HEADER_LEN: usize = 20;

const IPV6_HOP_BY_HOP: u8 = 0;
const IPV6_ROUTING: u8 = 43;
const IPV6_FRAGMENT: u8 = 44;
const IPV6_DEST_OPTS: u8 = 60;
/// Bound on extension headers walked, so a crafted chain cannot loop long.
const MAX_EXTENSION_HEADERS: usize = 16;

/// Where the upper-layer (or ESP) part of an IP packet starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpLayout {
    /// 4 or 6.
    pub version: u8,
    /// Offset of the first byte after the IP header and the extension
    /// headers that precede ESP.
    pub header_len: usize,
    /// Offset of the next-header / protocol byte that names what is at
    /// `header_len`.
    pub protocol_offset: usize,
    /// The protocol at `header_len`.
    pub protocol: u8,
    /// Length of the whole packet according to its header.
    pub packet_len: usize,
}

/// Reads a big-endian u16 at `at`.
fn be16(bytes: &[u8], at: usize) -> Option<u16> {
    let b = bytes.get(at..at.checked_add(2)?)?;
    Some(u16::from_be_bytes([*b.first()?, *b.get(1)?]))
}

/// The length an IPv4 or IPv6 packet claims (IPv4 total length; IPv6 fixed
/// header plus payload length). Jumbograms are not supported.
pub fn packet_len(packet: &[u8]) -> Result<usize, &'static str> {
    match packet.first().map(|b| b >> 4) {
        Some(4) => {
            let ihl = usize::from(packet.first().copied().unwrap_or(0) & 0x0f) * 4;
            let total = usize::from(be16(packet, 2).ok_or("IPv4 header truncated")?);
            if ihl < IPV4_HEADER_LEN || total < ihl {
                return Err("IPv4 header length");
            }
            Ok(total)
        }
        Some(6) => {
            let payload = usize::from(be16(packet, 4).ok_or("IPv6 header truncated")?);
            if payload == 0 {
                return Err("IPv6 jumbogram or empty payload");
            }
            Ok(IPV6_HEADER_LEN + payload)
        }
        Some(_) => Err("not IPv4 or IPv6"),
        None => Err("empty packet"),
    }
}

/// Finds where ESP is to be inserted in transport mode (RFC 4303 §3.1.1):
/// after the IPv4 header, or after the IPv6 hop-by-hop, routing and
/// destination-options headers, except destination options that follow a
/// routing header (Linux's placement). Checks that the packet is as long as
/// its header says.
pub fn transport_insertion_point(packet: &[u8]) -> Result<IpLayout, &'static str> {
    walk(packet, None)
}

/// Finds the header named `protocol` (ESP, or UDP for RFC 3948) that
/// follows the IP header and its extension headers.
pub fn find_protocol(packet: &[u8], protocol: u8) -> Result<IpLayout, &'static str> {
    let layout = walk(packet, Some(protocol))?;
    if layout.protocol == protocol {
        Ok(layout)
    } else {
        Err("protocol not found after the IP headers")
    }
}

fn walk(packet: &[u8], target: Option<u8>) -> Result<IpLayout, &'static str> {
    let packet_len = packet_len(packet)?;
    if packet_len > packet.len() {
        return Err("packet shorter than its header says");
    }
    let first = packet.first().copied().unwrap_or(0);
    if first >> 4 == 4 {
        let header_len = usize::from(first & 0x0f) * 4;
        if header_len > packet_len {
            return Err("IPv4 header longer than the packet");
        }
        let flags = be16(packet, 6).ok_or("IPv4 header truncated")?;
        // More-fragments or a fragment offset: ESP applies to whole packets.
        if flags & 0x3fff != 0 {
            return Err("IPv4 fragment");
        }
        let protocol = *packet.get(9).ok_or("IPv4 header truncated")?;
        return Ok(IpLayout {
            version: 4,
            header_len,
            protocol_offset: 9,
            protocol,
            packet_len,
        });
    }
    if packet.len() < IPV6_HEADER_LEN {
        return Err("IPv6 header truncated");
    }
    let mut protocol_offset = 6;
    let mut offset = IPV6_HEADER_LEN;
    let mut seen_routing = false;
    for _ in 0..MAX_EXTENSION_HEADERS {
        let next = *packet.get(protocol_offset).ok_or("IPv6 header truncated")?;
        if Some(next) == target {
            break;
        }
        let ext_len = match (next, target) {
            (IPV6_HOP_BY_HOP | IPV6_ROUTING | IPV6_DEST_OPTS, _) => {
                let units = *packet.get(offset + 1).ok_or("IPv6 extension truncated")?;
                (usize::from(units) + 1) * 8
            }
            // Looking for ESP or UDP behind a fragment header is fine;
            // inserting ESP goes before it.
            (IPV6_FRAGMENT, Some(_)) => 8,
            _ => break,
        };
        if target.is_none() {
            // As Linux (ip6_find_1stfragopt) and scapy do: destination
            // options after a routing header are for the final destination
            // and go inside ESP; earlier ones stay outside.
            if next == IPV6_DEST_OPTS && seen_routing {
                break;
            }
            seen_routing |= next == IPV6_ROUTING;
        }
        if offset + ext_len > packet_len {
            return Err("IPv6 extension header overruns the packet");
        }
        protocol_offset = offset;
        offset += ext_len;
    }
    let protocol = *packet.get(protocol_offset).ok_or("IPv6 header truncated")?;
    Ok(IpLayout {
        version: 6,
        header_len: offset,
        protocol_offset,
        protocol,
        packet_len,
    })
}

/// Rewrites the length fields of the IP header at the start of `packet`
/// for a packet of `new_len` bytes, sets the protocol byte at
/// `layout.protocol_offset`, and recomputes the IPv4 header checksum.
pub fn rewrite_header(
    packet: &mut [u8],
    layout: &IpLayout,
    protocol: u8,
    new_len: usize,
) -> Result<(), &'static str> {
    let len16 = |n: usize| u16::try_from(n).map_err(|_| "packet too long for IP");
    if let Some(p) = packet.get_mut(layout.protocol_offset) {
        *p = protocol;
    }
    if layout.version == 4 {
        let total = len16(new_len)?;
        let header = packet
            .get_mut(..layout.header_len)
            .ok_or("IPv4 header truncated")?;
        header
            .get_mut(2..4)
            .ok_or("IPv4 header truncated")?
            .copy_from_slice(&total.to_be_bytes());
        header
            .get_mut(10..12)
            .ok_or("IPv4 header truncated")?
            .fill(0);
        let sum = internet_checksum(header, 0);
        header
            .get_mut(10..12)
            .ok_or("IPv4 header truncated")?
            .copy_from_slice(&sum.to_be_bytes());
    } else {
        let payload = len16(
            new_len
                .checked_sub(IPV6_HEADER_LEN)
                .ok_or("IPv6 packet too short")?,
        )?;
        packet
            .get_mut(4..6)
            .ok_or("IPv6 header truncated")?
            .copy_from_slice(&payload.to_be_bytes());
    }
    Ok(())
}

/// The one's-complement Internet checksum (RFC 1071) over `data`, starting
/// from a partial `initial` sum (e.g. a pseudo-header).
pub fn internet_checksum(data: &[u8], initial: u32) -> u16 {
    let mut sum = u64::from(initial);
    let mut chunks = data.chunks_exact(2);
    for pair in &mut chunks {
        sum += u64::from(u16::from_be_bytes([
            pair.first().copied().unwrap_or(0),
            pair.get(1).copied().unwrap_or(0),
        ]));
    }
    if let Some(&last) = chunks.remainder().first() {
        sum += u64::from(u16::from_be_bytes([last, 0]));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Sum of the pseudo-header words of an upper-layer checksum (RFC 8200
/// §8.1 / RFC 768) for the addresses taken from the IP header in `packet`.
pub fn pseudo_header_sum(packet: &[u8], protocol: u8, upper_len: usize) -> Option<u32> {
    let addrs = match packet.first()? >> 4 {
        4 => packet.get(12..20)?,
        6 => packet.get(8..40)?,
        _ => return None,
    };
    let mut sum: u32 = 0;
    for pair in addrs.chunks_exact(2) {
        sum += u32::from(u16::from_be_bytes([*pair.first()?, *pair.get(1)?]));
    }
    sum += u32::from(protocol);
    sum += u32::try_from(upper_len).ok()? & 0xffff;
    sum += u32::try_from(upper_len).ok()? >> 16;
    Some(sum)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 3602 §4 case 5's outer header, checksum f9a5.
    const IPV4: &str = "4500007c08f200004032f9a5c0a87b03c0a87b64";

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn ipv4_checksum_matches_a_published_header() {
        let mut h = hex(IPV4);
        assert_eq!(internet_checksum(&h, 0), 0, "a valid header sums to zero");
        h[10] = 0;
        h[11] = 0;
        assert_eq!(internet_checksum(&h, 0), 0xf9a5);
    }

    #[test]
    fn ipv6_extension_headers_are_walked() {
        // IPv6, next header hop-by-hop (0), then routing (43), then UDP.
        let mut p = vec![0u8; 40 + 8 + 8 + 8];
        p[0] = 0x60;
        p[4..6].copy_from_slice(&24u16.to_be_bytes());
        p[6] = 0;
        p[40] = 43; // hop-by-hop: next = routing, len 0
        p[48] = 17; // routing: next = UDP, len 0
        let l = transport_insertion_point(&p).unwrap();
        assert_eq!((l.header_len, l.protocol_offset, l.protocol), (56, 48, 17));
        // Destination options after the routing header stay inside ESP.
        p[48] = 60;
        let l = transport_insertion_point(&p).unwrap();
        assert_eq!((l.header_len, l.protocol), (56, 60));
        // Before any routing header they stay outside.
        p[40] = 60;
        p[6] = 0;
        let mut q = p.clone();
        q[48] = 17;
        let l = transport_insertion_point(&q).unwrap();
        assert_eq!((l.header_len, l.protocol), (56, 17));
        p[48] = 17;
        // An overrunning extension header is rejected.
        p[49] = 200;
        assert!(transport_insertion_point(&p).is_err());
    }

    #[test]
    fn truncated_and_fragmented_packets_are_rejected() {
        let h = hex(IPV4);
        assert!(transport_insertion_point(&h).is_err(), "claims 124 bytes");
        assert!(packet_len(&[]).is_err());
        assert!(packet_len(&[0x45]).is_err());
        let mut frag = hex("45000014000020004011000001020304050607 08"
            .replace(' ', "")
            .as_str());
        frag[10] = 0;
        assert_eq!(transport_insertion_point(&frag), Err("IPv4 fragment"));
    }
}
