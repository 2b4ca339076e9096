//! tanuki's user-space ESP data path: the IPsec SA pairs ike-core
//! negotiated, as esp-core SAs. Inner packets from the TUN device go out
//! through the newest SA whose remote selector holds their destination;
//! ESP from the peer is found by SPI. ike-core and esp-core do not know each
//! other, so this is where their types meet.
//!
//! Byte lifetimes count payload bytes, the inner packets esp-core protects
//! or returns (RFC 4301 §4.4.2.1, as esp-core's `LifetimeLimit` documents).

#![deny(clippy::indexing_slicing)]

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};

use esp_core::crypto::{EncryptionAlgorithm, IntegrityAlgorithm as EspIntegrity};
use esp_core::lifetime::{LifetimeEvent, LifetimeLimit, Lifetimes};
use esp_core::{InboundSa, Mode, OutboundSa, SaConfig};
use ike_core::config::{
    EncapsulationMode, EspCipher, IntegrityAlgorithm, Lifetime, SelectorAddr, TrafficSelector,
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

/// A pair reached its soft or hard byte lifetime in one of its directions;
/// the caller tells the engine (`Endpoint::child_lifetime_reached`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LifetimeReached {
    /// The pair.
    pub child: ChildSaId,
    /// `false`: soft (rekey); `true`: hard (the pair no longer passes traffic).
    pub hard: bool,
}

/// Which limits of a pair were already reported: soft and hard once per
/// pair, whichever direction reaches them first.
#[derive(Debug, Default, Clone, Copy)]
struct Reported {
    soft: bool,
    hard: bool,
}

/// The installed SAs.
#[derive(Default)]
pub struct DataPath {
    inbound: HashMap<u32, (ChildSaId, InboundSa)>,
    /// Newest last: a rekeyed pair takes over as soon as it is installed,
    /// while the old inbound SA still accepts packets in flight.
    outbound: Vec<Outbound>,
    reported: HashMap<ChildSaId, Reported>,
    reached: VecDeque<LifetimeReached>,
}

/// esp-core's byte limits for a negotiated pair: hard at the negotiated
/// kilobytes, soft where the kernel glue puts it
/// ([`crate::daemon::kernel::lifetimes`], 80%). No kilobytes: no limit.
pub fn byte_lifetimes(l: &Lifetime) -> Lifetimes {
    let (hard, soft) = crate::daemon::kernel::lifetimes(l);
    // PF_KEY's 0 means "no limit", as `None` does here.
    let limit = |bytes: u64| LifetimeLimit {
        bytes: (bytes > 0).then_some(bytes),
        packets: None,
    };
    Lifetimes {
        soft: limit(soft.bytes),
        hard: limit(hard.bytes),
    }
}

/// Queues what `events` says about `child`, once per limit.
fn note_lifetime(
    reported: &mut HashMap<ChildSaId, Reported>,
    reached: &mut VecDeque<LifetimeReached>,
    child: ChildSaId,
    events: impl Iterator<Item = LifetimeEvent>,
) {
    for ev in events {
        let r = reported.entry(child).or_default();
        let first = match ev {
            LifetimeEvent::Soft => !std::mem::replace(&mut r.soft, true),
            LifetimeEvent::Hard => !std::mem::replace(&mut r.hard, true),
        };
        if first {
            reached.push_back(LifetimeReached {
                child,
                hard: ev == LifetimeEvent::Hard,
            });
        }
    }
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
    let mut cfg = SaConfig::new(keys.spi, mode, encryption, &keys.encryption)
        .with_lifetimes(byte_lifetimes(&c.lifetime));
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
        self.reported.remove(&child);
    }

    /// The next byte-lifetime signal, if any: each pair's soft and hard
    /// limit once.
    pub fn poll_lifetime(&mut self) -> Option<LifetimeReached> {
        self.reached.pop_front()
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
        let reported = &mut self.reported;
        // A pair past its hard limit in either direction carries nothing.
        let o = self
            .outbound
            .iter_mut()
            .rev()
            .filter(|o| !reported.get(&o.child).is_some_and(|r| r.hard))
            .find(|o| selector_contains(o.remote_ts.as_ref(), dst))
            .ok_or(DataPathError::NoOutboundSa(dst))?;
        let spi = o.sa.spi();
        let result = o.sa.encapsulate_esp(rng, packet, out);
        note_lifetime(
            reported,
            &mut self.reached,
            o.child,
            std::iter::from_fn(|| o.sa.poll_event()),
        );
        let esp = result.map_err(|e| DataPathError::Rejected {
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
        let (child, sa) = self
            .inbound
            .get_mut(&spi)
            .ok_or(DataPathError::UnknownSpi(spi))?;
        let result = sa.decapsulate_esp(esp);
        note_lifetime(
            &mut self.reported,
            &mut self.reached,
            *child,
            std::iter::from_fn(|| sa.poll_event()),
        );
        let d = result.map_err(|e| DataPathError::Rejected {
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

    /// A real a <-> b pair (10.1/24 <-> 10.2/24, AES-128-CBC/HMAC-SHA1)
    /// with a byte lifetime of `kilobytes`, installed on each side.
    fn installed_pair(kilobytes: Option<u32>) -> (DataPath, DataPath, ChildSaId, ChildSaId) {
        use ike_core::config::{ChildPolicy, EspTransform};
        let child = |local: &str, remote: &str| ChildPolicy {
            local: Some(subnet(local, 24)),
            remote: Some(subnet(remote, 24)),
            mode: EncapsulationMode::Tunnel,
            esp: vec![EspTransform {
                cipher: EspCipher::AesCbc,
                key_bits: Some(128),
                integrity: Some(IntegrityAlgorithm::HmacSha1),
            }],
            pfs_group: None,
            lifetime: Lifetime {
                seconds: Some(3600),
                kilobytes,
            },
            accept_ah: false,
            ah: Vec::new(),
            ipcomp: false,
        };
        let ip = |s: &str| s.parse::<IpAddr>().expect("ip");
        let (a, b) = crate::daemon::kernel_testing::negotiate(
            ip("192.168.1.100"),
            ip("192.168.2.100"),
            child("10.1.0.0", "10.2.0.0"),
            child("10.2.0.0", "10.1.0.0"),
            false,
        )
        .expect("negotiated");
        assert_eq!(a.lifetime.kilobytes, kilobytes);
        let (mut da, mut db) = (DataPath::default(), DataPath::default());
        da.install(&a).expect("a installs");
        db.install(&b).expect("b installs");
        (da, db, a.id, b.id)
    }

    /// An IPv4 packet of `len` bytes to `dst`.
    fn inner(dst: [u8; 4], len: u16) -> Vec<u8> {
        let mut p = vec![0u8; usize::from(len)];
        p[0] = 0x45;
        p[2..4].copy_from_slice(&len.to_be_bytes());
        p[8] = 64;
        p[9] = 17;
        p[12..16].copy_from_slice(&[10, 9, 9, 9]);
        p[16..20].copy_from_slice(&dst);
        p
    }

    /// One packet `from` -> `to`; whether it arrived intact.
    fn send(
        from: &mut DataPath,
        to: &mut DataPath,
        dst: [u8; 4],
        len: u16,
    ) -> Result<(), DataPathError> {
        let packet = inner(dst, len);
        let mut out = vec![0u8; 2048];
        let (_, esp) = from.outbound(&mut rand_core::OsRng, &packet, &mut out)?;
        let mut esp = esp.to_vec();
        let got = to.inbound(&mut esp)?;
        assert_eq!(got, &packet[..]);
        Ok(())
    }

    const TO_B: [u8; 4] = [10, 2, 0, 5];
    const TO_A: [u8; 4] = [10, 1, 0, 5];

    #[test]
    fn byte_limits_are_the_kernel_glues_hard_and_eighty_percent_soft() {
        let l = byte_lifetimes(&Lifetime {
            seconds: Some(3600),
            kilobytes: Some(24),
        });
        assert_eq!(l.hard.bytes, Some(24 * 1024));
        assert_eq!(l.soft.bytes, Some(19_660));
        assert_eq!((l.soft.packets, l.hard.packets), (None, None));
        assert_eq!(
            byte_lifetimes(&Lifetime::seconds(3600)),
            Lifetimes::default()
        );
    }

    #[test]
    fn soft_then_hard_reported_once_by_sender_and_receiver() {
        // 2 KB: soft at 1638 bytes (4th 500-byte packet), hard at 2048 (5th).
        let (mut da, mut db, a, b) = installed_pair(Some(2));
        for _ in 0..3 {
            send(&mut da, &mut db, TO_B, 500).expect("passes");
        }
        assert_eq!((da.poll_lifetime(), db.poll_lifetime()), (None, None));
        send(&mut da, &mut db, TO_B, 500).expect("4th passes");
        let soft = |child| Some(LifetimeReached { child, hard: false });
        let hard = |child| Some(LifetimeReached { child, hard: true });
        // The sender learns it from its outbound SA, the receiver from its inbound SA.
        assert_eq!((da.poll_lifetime(), db.poll_lifetime()), (soft(a), soft(b)));
        assert_eq!((da.poll_lifetime(), db.poll_lifetime()), (None, None));
        // The packet that reaches the hard limit still passes; none after it.
        send(&mut da, &mut db, TO_B, 500).expect("5th passes");
        assert_eq!((da.poll_lifetime(), db.poll_lifetime()), (hard(a), hard(b)));
        let dst = IpAddr::from(TO_B);
        assert_eq!(
            send(&mut da, &mut db, TO_B, 500),
            Err(DataPathError::NoOutboundSa(dst))
        );
        // b's own outbound SA is barely used, but its pair is over: no replies on it.
        assert_eq!(
            send(&mut db, &mut da, TO_A, 100),
            Err(DataPathError::NoOutboundSa(IpAddr::from(TO_A)))
        );
        assert_eq!((da.poll_lifetime(), db.poll_lifetime()), (None, None));
        // Removing the pair (the engine deleted it) forgets it.
        da.remove(a);
        assert!(da.is_empty());
    }

    #[test]
    fn soft_is_reported_once_per_pair_whichever_direction_crosses_first() {
        let (mut da, mut db, a, b) = installed_pair(Some(2));
        // b -> a crosses the soft limit of a's inbound SA first…
        for _ in 0..4 {
            send(&mut db, &mut da, TO_A, 500).expect("passes");
        }
        let soft = |child| Some(LifetimeReached { child, hard: false });
        assert_eq!((da.poll_lifetime(), db.poll_lifetime()), (soft(a), soft(b)));
        // …then a -> b crosses a's outbound soft limit: nothing new.
        for _ in 0..4 {
            send(&mut da, &mut db, TO_B, 500).expect("passes");
        }
        assert_eq!((da.poll_lifetime(), db.poll_lifetime()), (None, None));
        // The first hard limit, in either direction, ends the pair on both.
        send(&mut db, &mut da, TO_A, 500).expect("passes");
        let hard = |child| Some(LifetimeReached { child, hard: true });
        assert_eq!((da.poll_lifetime(), db.poll_lifetime()), (hard(a), hard(b)));
        send(&mut da, &mut db, TO_B, 500).expect_err("a's pair is over");
        assert_eq!((da.poll_lifetime(), db.poll_lifetime()), (None, None));
    }

    #[test]
    fn without_kilobytes_nothing_is_counted_against_a_limit() {
        let (mut da, mut db, _, _) = installed_pair(None);
        for _ in 0..64 {
            send(&mut da, &mut db, TO_B, 1400).expect("passes");
            send(&mut db, &mut da, TO_A, 1400).expect("passes");
        }
        assert_eq!((da.poll_lifetime(), db.poll_lifetime()), (None, None));
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
