//! Traffic selectors for user-space data paths (RFC 4301 §4.4.1): choose
//! the outbound SA for a packet by addresses, protocol and ports, and find
//! the inbound SA of an ESP packet by SPI (and destination).
#![deny(clippy::indexing_slicing)]

use core::net::IpAddr;
use core::ops::RangeInclusive;
use std::collections::HashMap;

use crate::error::DecapError;
use crate::wire::esp::EspHeader;
use crate::wire::ip::{self, IPPROTO_TCP, IPPROTO_UDP};

/// An address prefix such as 10.0.0.0/8 or 2001:db8::/32.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpPrefix {
    addr: IpAddr,
    len: u8,
}

impl IpPrefix {
    /// A prefix; `None` if `len` exceeds the address width.
    pub fn new(addr: IpAddr, len: u8) -> Option<Self> {
        let max = if addr.is_ipv4() { 32 } else { 128 };
        (len <= max).then_some(Self { addr, len })
    }

    /// The prefix matching every address of `addr`'s family.
    pub fn any(addr: IpAddr) -> Self {
        Self { addr, len: 0 }
    }

    /// Whether `a` lies inside the prefix (same family only).
    pub fn contains(&self, a: IpAddr) -> bool {
        let (net, a, width) = match (self.addr, a) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                (u128::from(u32::from(n)), u128::from(u32::from(a)), 32)
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => (u128::from(n), u128::from(a), 128),
            _ => return false,
        };
        let shift = width - u32::from(self.len);
        // A /0 matches everything; shifting a u128 by 128 is not allowed.
        shift >= 128 || (net >> shift) == (a >> shift)
    }
}

/// The 5-tuple of a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flow {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// Upper-layer protocol.
    pub protocol: u8,
    /// Source port, for TCP and UDP.
    pub src_port: Option<u16>,
    /// Destination port, for TCP and UDP.
    pub dst_port: Option<u16>,
}

impl Flow {
    /// Reads the 5-tuple of an IPv4 or IPv6 packet.
    pub fn from_packet(packet: &[u8]) -> Result<Self, &'static str> {
        let layout = ip::transport_insertion_point(packet)?;
        let (src, dst) = match layout.version {
            4 => {
                let s: [u8; 4] = packet
                    .get(12..16)
                    .and_then(|b| b.try_into().ok())
                    .ok_or("IPv4 header")?;
                let d: [u8; 4] = packet
                    .get(16..20)
                    .and_then(|b| b.try_into().ok())
                    .ok_or("IPv4 header")?;
                (IpAddr::from(s), IpAddr::from(d))
            }
            _ => {
                let s: [u8; 16] = packet
                    .get(8..24)
                    .and_then(|b| b.try_into().ok())
                    .ok_or("IPv6 header")?;
                let d: [u8; 16] = packet
                    .get(24..40)
                    .and_then(|b| b.try_into().ok())
                    .ok_or("IPv6 header")?;
                (IpAddr::from(s), IpAddr::from(d))
            }
        };
        let ports = matches!(layout.protocol, IPPROTO_TCP | IPPROTO_UDP)
            .then(|| packet.get(layout.header_len..layout.header_len + 4))
            .flatten();
        let (src_port, dst_port) = match ports {
            Some(&[a, b, c, d]) => (
                Some(u16::from_be_bytes([a, b])),
                Some(u16::from_be_bytes([c, d])),
            ),
            _ => (None, None),
        };
        Ok(Self {
            src,
            dst,
            protocol: layout.protocol,
            src_port,
            dst_port,
        })
    }
}

/// One traffic selector pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrafficSelector {
    /// Source addresses.
    pub src: IpPrefix,
    /// Destination addresses.
    pub dst: IpPrefix,
    /// Protocol, or any.
    pub protocol: Option<u8>,
    /// Source ports (0..=65535 for any).
    pub src_ports: RangeInclusive<u16>,
    /// Destination ports (0..=65535 for any).
    pub dst_ports: RangeInclusive<u16>,
}

const ANY_PORT: RangeInclusive<u16> = 0..=u16::MAX;

impl TrafficSelector {
    /// Everything from `src` to `dst`, any protocol and port.
    pub fn between(src: IpPrefix, dst: IpPrefix) -> Self {
        Self {
            src,
            dst,
            protocol: None,
            src_ports: ANY_PORT,
            dst_ports: ANY_PORT,
        }
    }

    /// Whether `flow` matches. A packet without ports (not TCP/UDP) matches
    /// only selectors that allow any port.
    pub fn matches(&self, flow: &Flow) -> bool {
        let port_ok = |range: &RangeInclusive<u16>, port: Option<u16>| match port {
            Some(p) => range.contains(&p),
            None => *range == ANY_PORT,
        };
        self.src.contains(flow.src)
            && self.dst.contains(flow.dst)
            && self.protocol.is_none_or(|p| p == flow.protocol)
            && port_ok(&self.src_ports, flow.src_port)
            && port_ok(&self.dst_ports, flow.dst_port)
    }
}

/// An ordered outbound policy: the first matching selector wins, as in the
/// SPD (RFC 4301 §4.4.1).
#[derive(Debug, Clone)]
pub struct OutboundPolicy<K> {
    entries: Vec<(TrafficSelector, K)>,
}

impl<K> Default for OutboundPolicy<K> {
    fn default() -> Self {
        Self {
            entries: Vec::new(),
        }
    }
}

impl<K> OutboundPolicy<K> {
    /// An empty policy.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a selector (lower priority than those already present).
    pub fn push(&mut self, selector: TrafficSelector, key: K) {
        self.entries.push((selector, key));
    }

    /// The key (e.g. an SA index) of the first selector that matches.
    pub fn lookup(&self, flow: &Flow) -> Option<&K> {
        self.entries
            .iter()
            .find(|(s, _)| s.matches(flow))
            .map(|(_, k)| k)
    }
}

/// Inbound SAs by SPI, optionally qualified by destination address
/// (RFC 4301 §4.1: unicast SAs are found by SPI alone).
#[derive(Debug)]
pub struct InboundTable<S> {
    by_spi: HashMap<(u32, Option<IpAddr>), S>,
}

impl<S> Default for InboundTable<S> {
    fn default() -> Self {
        Self {
            by_spi: HashMap::new(),
        }
    }
}

impl<S> InboundTable<S> {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an SA for `spi` (and `dst`, when the SPI alone is not unique).
    pub fn insert(&mut self, spi: u32, dst: Option<IpAddr>, sa: S) -> Option<S> {
        self.by_spi.insert((spi, dst), sa)
    }

    /// Removes an SA.
    pub fn remove(&mut self, spi: u32, dst: Option<IpAddr>) -> Option<S> {
        self.by_spi.remove(&(spi, dst))
    }

    /// The SA of an ESP packet: by SPI and destination first, then by SPI.
    pub fn lookup(&mut self, esp: &[u8], dst: Option<IpAddr>) -> Result<&mut S, DecapError> {
        let spi = EspHeader::parse(esp)?.spi;
        let key = if dst.is_some() && self.by_spi.contains_key(&(spi, dst)) {
            (spi, dst)
        } else {
            (spi, None)
        };
        self.by_spi.get_mut(&key).ok_or(DecapError::UnknownSpi(spi))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(a: [u8; 4]) -> IpAddr {
        IpAddr::from(a)
    }

    fn udp_packet(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16) -> Vec<u8> {
        let mut p = vec![0u8; 28];
        p[0] = 0x45;
        p[3] = 28;
        p[9] = 17;
        p[12..16].copy_from_slice(&src);
        p[16..20].copy_from_slice(&dst);
        p[20..22].copy_from_slice(&sport.to_be_bytes());
        p[22..24].copy_from_slice(&dport.to_be_bytes());
        p
    }

    #[test]
    fn first_matching_selector_wins() {
        let lan = IpPrefix::new(v4([10, 1, 0, 0]), 16).unwrap();
        let remote = IpPrefix::new(v4([10, 2, 0, 0]), 16).unwrap();
        let mut policy = OutboundPolicy::new();
        policy.push(
            TrafficSelector {
                protocol: Some(17),
                dst_ports: 53..=53,
                ..TrafficSelector::between(lan, remote)
            },
            "dns",
        );
        policy.push(TrafficSelector::between(lan, remote), "all");
        let dns = Flow::from_packet(&udp_packet([10, 1, 2, 3], [10, 2, 0, 1], 4000, 53)).unwrap();
        assert_eq!(dns.dst_port, Some(53));
        assert_eq!(policy.lookup(&dns), Some(&"dns"));
        let web = Flow::from_packet(&udp_packet([10, 1, 2, 3], [10, 2, 0, 1], 4000, 443)).unwrap();
        assert_eq!(policy.lookup(&web), Some(&"all"));
        let other =
            Flow::from_packet(&udp_packet([10, 9, 2, 3], [10, 2, 0, 1], 4000, 443)).unwrap();
        assert_eq!(policy.lookup(&other), None);
        assert!(IpPrefix::any(v4([0; 4])).contains(v4([1, 2, 3, 4])));
        assert!(!IpPrefix::any(v4([0; 4])).contains("::1".parse().unwrap()));
        assert!(IpPrefix::new(v4([0; 4]), 33).is_none());
    }

    #[test]
    fn inbound_lookup_by_spi_then_destination() {
        let mut t = InboundTable::new();
        t.insert(0x100, None, 'a');
        t.insert(0x100, Some(v4([1, 1, 1, 1])), 'b');
        let esp = [0, 0, 1, 0, 0, 0, 0, 1];
        assert_eq!(*t.lookup(&esp, None).unwrap(), 'a');
        assert_eq!(*t.lookup(&esp, Some(v4([1, 1, 1, 1]))).unwrap(), 'b');
        assert_eq!(*t.lookup(&esp, Some(v4([2, 2, 2, 2]))).unwrap(), 'a');
        assert_eq!(
            t.lookup(&[0, 0, 2, 0, 0, 0, 0, 1], None),
            Err(DecapError::UnknownSpi(0x200))
        );
        assert_eq!(
            t.lookup(&[0, 0], None),
            Err(DecapError::Truncated("ESP header"))
        );
    }
}
