//! Quick Mode proxy identities (IDci / IDcr, RFC 2409 §5.5, RFC 2407 §4.6.2).

use core::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The address part of a traffic selector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SelectorAddr {
    /// One host (`ID_IPV4_ADDR` / `ID_IPV6_ADDR`).
    Host(IpAddr),
    /// A subnet (`ID_IPV4_ADDR_SUBNET` / `ID_IPV6_ADDR_SUBNET`).
    Subnet {
        /// Network address.
        addr: IpAddr,
        /// Prefix length in bits.
        prefix: u8,
    },
    /// An inclusive range (`ID_IPV4_ADDR_RANGE` / `ID_IPV6_ADDR_RANGE`).
    Range {
        /// First address.
        start: IpAddr,
        /// Last address.
        end: IpAddr,
    },
}

/// One side of a Quick Mode's proxy identities: addresses, IP protocol and port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TrafficSelector {
    /// Addresses covered.
    pub addr: SelectorAddr,
    /// IP protocol number, 0 for any.
    pub protocol: u8,
    /// Port, 0 for any.
    pub port: u16,
}

impl TrafficSelector {
    /// Any protocol and port on one host.
    pub fn host(addr: IpAddr) -> Self {
        Self {
            addr: SelectorAddr::Host(addr),
            protocol: 0,
            port: 0,
        }
    }

    /// Any protocol and port on a subnet.
    pub fn subnet(addr: IpAddr, prefix: u8) -> Self {
        Self {
            addr: SelectorAddr::Subnet { addr, prefix },
            protocol: 0,
            port: 0,
        }
    }

    /// The ID type of RFC 2407 §4.6.2.1 for this selector.
    pub fn id_type(&self) -> u8 {
        match self.addr {
            SelectorAddr::Host(IpAddr::V4(_)) => 1,
            SelectorAddr::Subnet {
                addr: IpAddr::V4(_),
                ..
            } => 4,
            SelectorAddr::Host(IpAddr::V6(_)) => 5,
            SelectorAddr::Subnet {
                addr: IpAddr::V6(_),
                ..
            } => 6,
            SelectorAddr::Range {
                start: IpAddr::V4(_),
                ..
            } => 7,
            SelectorAddr::Range {
                start: IpAddr::V6(_),
                ..
            } => 8,
        }
    }

    /// Identification data: the address, address+mask, or start+end.
    pub fn data(&self) -> Vec<u8> {
        match self.addr {
            SelectorAddr::Host(a) => ip_bytes(a),
            SelectorAddr::Subnet { addr, prefix } => {
                let mut v = ip_bytes(addr);
                let mask = prefix_mask(v.len(), prefix);
                v.extend_from_slice(&mask);
                v
            }
            SelectorAddr::Range { start, end } => {
                let mut v = ip_bytes(start);
                v.extend_from_slice(&ip_bytes(end));
                v
            }
        }
    }

    /// Decodes a selector from an ID payload's type, protocol, port and data.
    /// `None` for non-address types, bad lengths or non-contiguous masks.
    pub fn from_wire(id_type: u8, protocol: u8, port: u16, data: &[u8]) -> Option<Self> {
        let addr = match id_type {
            1 | 5 => SelectorAddr::Host(ip_from(data)?),
            4 | 6 => {
                let (a, m) = data.split_at_checked(data.len() / 2)?;
                SelectorAddr::Subnet {
                    addr: ip_from(a)?,
                    prefix: mask_prefix(m)?,
                }
            }
            7 | 8 => {
                let (a, b) = data.split_at_checked(data.len() / 2)?;
                SelectorAddr::Range {
                    start: ip_from(a)?,
                    end: ip_from(b)?,
                }
            }
            _ => return None,
        };
        let v6 = matches!(id_type, 5 | 6 | 8);
        let is_v6 = match addr {
            SelectorAddr::Host(a)
            | SelectorAddr::Subnet { addr: a, .. }
            | SelectorAddr::Range { start: a, .. } => a.is_ipv6(),
        };
        (v6 == is_v6).then_some(Self {
            addr,
            protocol,
            port,
        })
    }
}

impl TrafficSelector {
    /// The codec's ID payload for this selector (IDci / IDcr).
    pub fn to_identification(&self) -> crate::wire::Identification {
        use crate::wire::Identity as W;
        let v4_mask = |p: u8| <[u8; 4]>::try_from(prefix_mask(4, p)).map(Ipv4Addr::from);
        let v6_mask = |p: u8| <[u8; 16]>::try_from(prefix_mask(16, p)).map(Ipv6Addr::from);
        let identity = match self.addr {
            SelectorAddr::Host(IpAddr::V4(a)) => Some(W::Ipv4(a)),
            SelectorAddr::Host(IpAddr::V6(a)) => Some(W::Ipv6(a)),
            SelectorAddr::Subnet {
                addr: IpAddr::V4(a),
                prefix,
            } => v4_mask(prefix).ok().map(|m| W::Ipv4Subnet(a, m)),
            SelectorAddr::Subnet {
                addr: IpAddr::V6(a),
                prefix,
            } => v6_mask(prefix).ok().map(|m| W::Ipv6Subnet(a, m)),
            SelectorAddr::Range {
                start: IpAddr::V4(a),
                end: IpAddr::V4(b),
            } => Some(W::Ipv4Range(a, b)),
            SelectorAddr::Range {
                start: IpAddr::V6(a),
                end: IpAddr::V6(b),
            } => Some(W::Ipv6Range(a, b)),
            SelectorAddr::Range { .. } => None,
        };
        // A range mixing families has no ID type; send what `data` says and
        // let the peer refuse it.
        let identity =
            identity.unwrap_or_else(|| W::Other(crate::wire::IdType(self.id_type()), self.data()));
        crate::wire::Identification::with_protocol(identity, self.protocol, self.port)
    }

    /// The selector a received ID payload names. `None` for non-address
    /// types and non-contiguous masks.
    pub fn from_identification(id: &crate::wire::Identification) -> Option<Self> {
        use crate::wire::Identity as W;
        let addr = match &id.identity {
            W::Ipv4(a) => SelectorAddr::Host(IpAddr::V4(*a)),
            W::Ipv6(a) => SelectorAddr::Host(IpAddr::V6(*a)),
            W::Ipv4Subnet(a, m) => SelectorAddr::Subnet {
                addr: IpAddr::V4(*a),
                prefix: mask_prefix(&m.octets())?,
            },
            W::Ipv6Subnet(a, m) => SelectorAddr::Subnet {
                addr: IpAddr::V6(*a),
                prefix: mask_prefix(&m.octets())?,
            },
            W::Ipv4Range(a, b) => SelectorAddr::Range {
                start: IpAddr::V4(*a),
                end: IpAddr::V4(*b),
            },
            W::Ipv6Range(a, b) => SelectorAddr::Range {
                start: IpAddr::V6(*a),
                end: IpAddr::V6(*b),
            },
            _ => return None,
        };
        Some(Self {
            addr,
            protocol: id.protocol,
            port: id.port,
        })
    }
}

impl fmt::Display for TrafficSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.addr {
            SelectorAddr::Host(a) => write!(f, "{a}")?,
            SelectorAddr::Subnet { addr, prefix } => write!(f, "{addr}/{prefix}")?,
            SelectorAddr::Range { start, end } => write!(f, "{start}-{end}")?,
        }
        if self.port != 0 {
            write!(f, "[{}]", self.port)?;
        } else {
            f.write_str("[any]")?;
        }
        if self.protocol != 0 {
            write!(f, " proto={}", self.protocol)?;
        }
        Ok(())
    }
}

fn ip_bytes(a: IpAddr) -> Vec<u8> {
    match a {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    }
}

fn ip_from(b: &[u8]) -> Option<IpAddr> {
    if let Ok(o) = <[u8; 4]>::try_from(b) {
        return Some(IpAddr::from(o));
    }
    <[u8; 16]>::try_from(b).ok().map(IpAddr::from)
}

fn prefix_mask(len: usize, prefix: u8) -> Vec<u8> {
    let mut left = usize::from(prefix);
    (0..len)
        .map(|_| {
            let bits = left.min(8);
            left -= bits;
            // bits <= 8, so the shift stays in range.
            (0xff_u16 << (8 - bits)) as u8
        })
        .collect()
}

fn mask_prefix(mask: &[u8]) -> Option<u8> {
    let mut prefix = 0u8;
    let mut ended = false;
    for &b in mask {
        let ones = b.leading_ones() as u8;
        if ended && b != 0 || b.checked_shl(u32::from(ones)).unwrap_or(0) != 0 {
            return None;
        }
        if ones < 8 {
            ended = true;
        }
        prefix = prefix.checked_add(ones)?;
    }
    Some(prefix)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{Identification, PayloadBody};

    #[test]
    fn codec_form_known_answer() {
        // 192.168.1.0/255.255.255.0, TCP port 80 (RFC 2407 §4.6.2.1 layout).
        let body = [4, 6, 0, 80, 192, 168, 1, 0, 255, 255, 255, 0];
        let ts = TrafficSelector {
            protocol: 6,
            port: 80,
            ..TrafficSelector::subnet("192.168.1.0".parse().unwrap(), 24)
        };
        assert_eq!(ts.to_identification().to_body().unwrap(), body);
        let parsed = Identification::parse_body(&body).unwrap();
        assert_eq!(TrafficSelector::from_identification(&parsed), Some(ts));
    }

    #[test]
    fn non_contiguous_mask_and_names_are_not_selectors() {
        let holey = Identification::parse_body(&[4, 0, 0, 0, 10, 0, 0, 0, 255, 0, 255, 0]).unwrap();
        assert_eq!(TrafficSelector::from_identification(&holey), None);
        let fqdn = Identification::parse_body(&[2, 0, 0, 0, b'a']).unwrap();
        assert_eq!(TrafficSelector::from_identification(&fqdn), None);
    }

    #[test]
    fn every_form_round_trips() {
        let sels = [
            TrafficSelector::host("192.0.2.7".parse().unwrap()),
            TrafficSelector::subnet("10.1.0.0".parse().unwrap(), 16),
            TrafficSelector::subnet("2001:db8::".parse().unwrap(), 62),
            TrafficSelector {
                addr: SelectorAddr::Range {
                    start: "10.0.0.1".parse().unwrap(),
                    end: "10.0.0.9".parse().unwrap(),
                },
                protocol: 17,
                port: 500,
            },
        ];
        for s in sels {
            let back = TrafficSelector::from_wire(s.id_type(), s.protocol, s.port, &s.data());
            assert_eq!(back, Some(s));
            // The codec's form carries the same bytes and reads back the same.
            let mut body = vec![s.id_type(), s.protocol];
            body.extend_from_slice(&s.port.to_be_bytes());
            body.extend_from_slice(&s.data());
            assert_eq!(s.to_identification().to_body().unwrap(), body, "{s}");
            let parsed = Identification::parse_body(&body).unwrap();
            assert_eq!(TrafficSelector::from_identification(&parsed), Some(s));
        }
    }

    #[test]
    fn subnet_bytes_match_rfc_layout() {
        let s = TrafficSelector::subnet("10.1.0.0".parse().unwrap(), 20);
        assert_eq!(s.id_type(), 4);
        assert_eq!(s.data(), [10, 1, 0, 0, 255, 255, 240, 0]);
    }

    #[test]
    fn non_contiguous_mask_is_refused() {
        assert_eq!(
            TrafficSelector::from_wire(4, 0, 0, &[10, 0, 0, 0, 255, 0, 255, 0]),
            None
        );
        assert_eq!(
            TrafficSelector::from_wire(4, 0, 0, &[10, 0, 0, 0, 0xf0, 0x0f, 0, 0]),
            None
        );
        assert_eq!(TrafficSelector::from_wire(1, 0, 0, &[10, 0, 0]), None);
    }
}
