//! tanuki's user-space ESP data path: the IPsec SA pairs ike-core
//! negotiated, as esp-core SAs. Inner packets from the TUN device go out
//! through the newest SA whose remote selector holds their destination;
//! ESP from the peer is found by SPI. ike-core and esp-core do not know each
//! other, so this is where their types meet.

#![deny(clippy::indexing_slicing)]

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

use esp_core::crypto::{EncryptionAlgorithm, IntegrityAlgorithm as EspIntegrity};
use esp_core::{InboundSa, Mode, OutboundSa, SaConfig};
use ike_core::config::{
    EncapsulationMode, EspCipher, IntegrityAlgorithm, SelectorAddr, TrafficSelector,
};
use ike_core::endpoint::{ChildSa, ChildSaId, SaKeys};
use rand_core::{CryptoRng, RngCore};

/// Why a packet did not pass.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DataPathError {
    /// The negotiated transform is one esp-core does not implement.
    #[error("esp-core has no {0}")]
    Unsupported(String),
    /// esp-core refused the SA parameters.
    #[error("SA setup: {0}")]
    Setup(String),
    /// No IPsec SA covers the inner packet's destination.
    #[error("no IPsec-SA for destination {0}")]
    NoOutboundSa(IpAddr),
    /// The inner packet is not IPv4/IPv6.
    #[error("not an IP packet")]
    NotIp,
    /// ESP for an SPI we do not hold.
    #[error("ESP for unknown spi {0:#x}")]
    UnknownSpi(u32),
    /// ESP shorter than its SPI.
    #[error("ESP packet too short")]
    Truncated,
    /// esp-core refused the packet (authentication, replay, padding, …).
    #[error("spi {spi:#x}: {reason}")]
    Rejected {
        /// The SA.
        spi: u32,
        /// esp-core's reason.
        reason: String,
    },
}

/// Where an ESP packet goes: in UDP to the peer's port 4500 (RFC 3948), or
/// as IP protocol 50 to the peer's address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EspDestination {
    /// ESP-in-UDP: send on the daemon's port-4500 socket.
    Udp(SocketAddr),
    /// Plain ESP: send on the raw protocol-50 socket.
    Raw(IpAddr),
}

struct Outbound {
    child: ChildSaId,
    remote_ts: Option<TrafficSelector>,
    destination: EspDestination,
    sa: OutboundSa,
}

/// The installed SAs.
#[derive(Default)]
pub struct DataPath {
    inbound: HashMap<u32, (ChildSaId, InboundSa)>,
    /// Newest last: a rekeyed pair takes over as soon as it is installed,
    /// while the old inbound SA still accepts packets in flight.
    outbound: Vec<Outbound>,
}

/// esp-core's parameters for one direction of a negotiated pair.
pub fn esp_config(c: &ChildSa, keys: &SaKeys) -> Result<SaConfig, DataPathError> {
    let encryption = match c.transform.cipher {
        EspCipher::AesCbc => EncryptionAlgorithm::AesCbc,
        EspCipher::TripleDes => EncryptionAlgorithm::TripleDesCbc,
        EspCipher::AesCtr => EncryptionAlgorithm::AesCtr,
        EspCipher::AesGcm16 => EncryptionAlgorithm::AesGcm16,
        EspCipher::Null => EncryptionAlgorithm::Null,
        other => return Err(DataPathError::Unsupported(format!("{other:?}"))),
    };
    let mode = match c.mode {
        EncapsulationMode::Tunnel => Mode::Tunnel,
        EncapsulationMode::Transport => Mode::Transport,
    };
    let mut cfg = SaConfig::new(keys.spi, mode, encryption, &keys.encryption);
    if let Some(i) = c.transform.integrity {
        let alg = match i {
            IntegrityAlgorithm::HmacMd5 => EspIntegrity::HmacMd5_96,
            IntegrityAlgorithm::HmacSha1 => EspIntegrity::HmacSha1_96,
            IntegrityAlgorithm::HmacSha256 => EspIntegrity::HmacSha256_128,
            IntegrityAlgorithm::HmacSha384 => EspIntegrity::HmacSha384_192,
            IntegrityAlgorithm::HmacSha512 => EspIntegrity::HmacSha512_256,
            other => return Err(DataPathError::Unsupported(format!("{other:?}"))),
        };
        cfg = cfg.with_integrity(alg, &keys.integrity);
    }
    Ok(cfg)
}

/// Whether `ts` (absent: anything) covers `addr`.
pub fn selector_contains(ts: Option<&TrafficSelector>, addr: IpAddr) -> bool {
    let Some(ts) = ts else { return true };
    let as_u128 = |a: IpAddr| match a {
        IpAddr::V4(v) => (u128::from(u32::from(v)), 32u32),
        IpAddr::V6(v) => (u128::from(v), 128u32),
    };
    let (x, bits) = as_u128(addr);
    match ts.addr {
        SelectorAddr::Host(h) => h == addr,
        SelectorAddr::Subnet { addr: net, prefix } => {
            let (n, nbits) = as_u128(net);
            if nbits != bits {
                return false;
            }
            let host_bits = bits.saturating_sub(u32::from(prefix));
            // prefix 0 covers everything; checked_shr avoids the 128-bit overflow.
            x.checked_shr(host_bits).unwrap_or(0) == n.checked_shr(host_bits).unwrap_or(0)
        }
        SelectorAddr::Range { start, end } => {
            let ((s, sb), (e, eb)) = (as_u128(start), as_u128(end));
            sb == bits && eb == bits && s <= x && x <= e
        }
    }
}

/// The destination address of an IPv4 or IPv6 packet.
fn destination(packet: &[u8]) -> Option<IpAddr> {
    match packet.first()? >> 4 {
        4 => {
            let b: [u8; 4] = packet.get(16..20)?.try_into().ok()?;
            Some(IpAddr::from(b))
        }
        6 => {
            let b: [u8; 16] = packet.get(24..40)?.try_into().ok()?;
            Some(IpAddr::from(b))
        }
        _ => None,
    }
}

impl DataPath {
    /// Installs both directions of a negotiated pair.
    pub fn install(&mut self, c: &ChildSa) -> Result<(), DataPathError> {
        let setup = |e: esp_core::ConfigError| DataPathError::Setup(e.to_string());
        let inbound = InboundSa::new(&esp_config(c, &c.inbound)?).map_err(setup)?;
        let outbound = OutboundSa::new(&esp_config(c, &c.outbound)?).map_err(setup)?;
        let destination = match c.udp_encapsulation {
            Some((_, remote_port)) => {
                EspDestination::Udp(SocketAddr::new(c.remote.ip(), remote_port))
            }
            None => EspDestination::Raw(c.remote.ip()),
        };
        self.inbound.insert(c.inbound.spi, (c.id, inbound));
        self.outbound.push(Outbound {
            child: c.id,
            remote_ts: c.remote_ts,
            destination,
            sa: outbound,
        });
        Ok(())
    }

    /// Removes a pair (deleted or expired).
    pub fn remove(&mut self, child: ChildSaId) {
        self.inbound.retain(|_, (id, _)| *id != child);
        self.outbound.retain(|o| o.child != child);
    }

    /// Number of installed pairs (by outbound SA).
    pub fn len(&self) -> usize {
        self.outbound.len()
    }

    /// Whether nothing is installed.
    pub fn is_empty(&self) -> bool {
        self.outbound.is_empty()
    }

    /// Protects an inner packet read from the TUN device: the bare ESP
    /// packet in `out` and where to send it.
    pub fn outbound<'o, R: RngCore + CryptoRng>(
        &mut self,
        rng: &mut R,
        packet: &[u8],
        out: &'o mut [u8],
    ) -> Result<(EspDestination, &'o [u8]), DataPathError> {
        let dst = destination(packet).ok_or(DataPathError::NotIp)?;
        let o = self
            .outbound
            .iter_mut()
            .rev()
            .find(|o| selector_contains(o.remote_ts.as_ref(), dst))
            .ok_or(DataPathError::NoOutboundSa(dst))?;
        let spi = o.sa.spi();
        let esp =
            o.sa.encapsulate_esp(rng, packet, out)
                .map_err(|e| DataPathError::Rejected {
                    spi,
                    reason: e.to_string(),
                })?;
        Ok((o.destination, esp))
    }

    /// Opens a bare ESP packet (from UDP 4500 or a raw socket with the IP
    /// header removed), in place: the inner packet for the TUN device.
    pub fn inbound<'a>(&mut self, esp: &'a mut [u8]) -> Result<&'a [u8], DataPathError> {
        let spi_bytes: [u8; 4] = esp
            .get(..4)
            .and_then(|b| b.try_into().ok())
            .ok_or(DataPathError::Truncated)?;
        let spi = u32::from_be_bytes(spi_bytes);
        let (_, sa) = self
            .inbound
            .get_mut(&spi)
            .ok_or(DataPathError::UnknownSpi(spi))?;
        let d = sa
            .decapsulate_esp(esp)
            .map_err(|e| DataPathError::Rejected {
                spi,
                reason: e.to_string(),
            })?;
        Ok(d.data)
    }
}

/// The payload of an IPv4 datagram read from a raw socket (which includes
/// the IP header).
pub fn strip_ipv4_header(datagram: &[u8]) -> Option<&[u8]> {
    let ihl = usize::from(datagram.first()? & 0x0f) * 4;
    if ihl < 20 {
        return None;
    }
    datagram.get(ihl..)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subnet(s: &str, p: u8) -> TrafficSelector {
        TrafficSelector::subnet(s.parse().expect("ip"), p)
    }

    #[test]
    fn selectors_cover_what_they_say() {
        let ip = |s: &str| s.parse::<IpAddr>().expect("ip");
        let net = subnet("10.99.2.0", 24);
        assert!(selector_contains(Some(&net), ip("10.99.2.1")));
        assert!(selector_contains(Some(&net), ip("10.99.2.255")));
        assert!(!selector_contains(Some(&net), ip("10.99.3.1")));
        assert!(!selector_contains(Some(&net), ip("::1")));
        assert!(selector_contains(
            Some(&subnet("0.0.0.0", 0)),
            ip("192.0.2.7")
        ));
        assert!(selector_contains(Some(&subnet("::", 0)), ip("2001:db8::1")));
        assert!(selector_contains(
            Some(&subnet("2001:db8::", 32)),
            ip("2001:db8:1::1")
        ));
        assert!(!selector_contains(
            Some(&subnet("2001:db8::", 32)),
            ip("2001:db9::1")
        ));
        let host = TrafficSelector::host(ip("10.1.1.1"));
        assert!(selector_contains(Some(&host), ip("10.1.1.1")));
        assert!(!selector_contains(Some(&host), ip("10.1.1.2")));
        assert!(selector_contains(None, ip("10.1.1.2")));
    }

    #[test]
    fn destinations_and_raw_headers() {
        let mut v4 = vec![0x45u8; 20];
        v4[16..20].copy_from_slice(&[10, 99, 2, 1]);
        assert_eq!(destination(&v4), Some("10.99.2.1".parse().expect("ip")));
        assert_eq!(destination(&v4[..19]), None);
        assert_eq!(destination(&[0x20; 40]), None);
        assert_eq!(destination(&[]), None);
        let mut raw = vec![0u8; 24];
        raw[0] = 0x45;
        raw[20..].copy_from_slice(&[1, 2, 3, 4]);
        assert_eq!(strip_ipv4_header(&raw), Some(&[1u8, 2, 3, 4][..]));
        raw[0] = 0x44;
        assert_eq!(strip_ipv4_header(&raw), None);
        assert_eq!(strip_ipv4_header(&[]), None);
    }

    #[test]
    fn unknown_spi_and_short_esp_are_errors() {
        let mut dp = DataPath::default();
        assert_eq!(dp.inbound(&mut [0, 0, 1]), Err(DataPathError::Truncated));
        assert_eq!(
            dp.inbound(&mut [0, 0, 1, 0, 0, 0, 0, 1]),
            Err(DataPathError::UnknownSpi(0x100))
        );
        let mut out = [0u8; 64];
        let mut v4 = vec![0x45u8; 20];
        v4[16..20].copy_from_slice(&[10, 99, 2, 1]);
        assert_eq!(
            dp.outbound(&mut rand_core::OsRng, &v4, &mut out)
                .map(|_| ()),
            Err(DataPathError::NoOutboundSa(
                "10.99.2.1".parse().expect("ip")
            ))
        );
        assert!(dp.is_empty());
    }
}
