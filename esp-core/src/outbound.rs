//! Outbound processing (RFC 4303 §3.3): sequence number, IV, padding,
//! encryption, ICV, into a caller-provided buffer.
#![deny(clippy::indexing_slicing)]

use rand_core::{CryptoRng, RngCore};

use crate::crypto::{AeadHeader, CryptoBackend, CryptoError, RustCryptoBackend};
use crate::error::{ConfigError, EncapError};
use crate::lifetime::{LifetimeCounter, LifetimeEvent};
use crate::sa::{Mode, SaConfig, SaCore};
use crate::wire::esp::{
    ESP_HEADER_LEN, ESP_TRAILER_LEN, EspHeader, NEXT_HEADER_IPV4, NEXT_HEADER_IPV6,
};
use crate::wire::ip::{self, IPPROTO_UDP};
use crate::wire::udp::{UDP_HEADER_LEN, UdpHeader};

/// Largest packet ESP may produce: the IPv4/IPv6 16-bit length limit.
const MAX_PACKET: usize = 65535;

/// The sending half of an SA.
pub struct OutboundSa {
    core: SaCore,
    /// Sequence number of the last packet sent (0: none yet).
    last_seq: u64,
    lifetime: LifetimeCounter,
}

impl core::fmt::Debug for OutboundSa {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("OutboundSa")
            .field("spi", &format_args!("{:#010x}", self.core.spi))
            .field("encryption", &self.core.encryption)
            .field("last_seq", &self.last_seq)
            .finish_non_exhaustive()
    }
}

/// Where the IV comes from.
enum IvSource<'a> {
    /// Random for CBC; the sequence number for counter-based modes.
    Generated(&'a mut dyn RngCore),
    /// Given by the caller (reproducible test output only).
    Explicit(&'a [u8]),
}

/// Byte counts of one ESP packet.
struct Layout {
    /// Payload plus TFC padding.
    body: usize,
    /// The encrypted part: body, padding, pad length, next header.
    encrypted: usize,
    pad_len: u8,
    total: usize,
}

impl OutboundSa {
    /// Builds the SA with the RustCrypto backend.
    pub fn new(config: &SaConfig) -> Result<Self, ConfigError> {
        Self::with_backend(config, &RustCryptoBackend)
    }

    /// Builds the SA with the given crypto backend.
    pub fn with_backend(
        config: &SaConfig,
        backend: &dyn CryptoBackend,
    ) -> Result<Self, ConfigError> {
        Ok(Self {
            core: SaCore::new(config, backend)?,
            last_seq: 0,
            lifetime: LifetimeCounter::new(config.lifetimes),
        })
    }

    /// The SPI.
    pub fn spi(&self) -> u32 {
        self.core.spi
    }

    /// Tunnel or transport.
    pub fn mode(&self) -> Mode {
        self.core.mode
    }

    /// Makes `seq` the sequence number of the next packet (for resuming an
    /// SA, or reproducible output). It must be at least 1, and fit in 32
    /// bits without ESN.
    pub fn set_next_sequence(&mut self, seq: u64) -> Result<(), EncapError> {
        if seq == 0 || (!self.core.esn && seq > u64::from(u32::MAX)) {
            return Err(EncapError::SequenceExhausted);
        }
        self.last_seq = seq - 1;
        Ok(())
    }

    /// The sequence number the next packet will carry, or `None` when the
    /// space is exhausted and the SA must be rekeyed (RFC 4303 §3.3.3: the
    /// counter never cycles).
    pub fn next_sequence(&self) -> Option<u64> {
        let limit = if self.core.esn {
            u64::MAX
        } else {
            u64::from(u32::MAX)
        };
        (self.last_seq < limit).then(|| self.last_seq + 1)
    }

    /// Packets and payload bytes sent so far.
    pub fn counters(&self) -> (u64, u64) {
        (self.lifetime.packets(), self.lifetime.bytes())
    }

    /// The next lifetime signal, if any.
    pub fn poll_event(&mut self) -> Option<LifetimeEvent> {
        self.lifetime.poll_event()
    }

    fn layout(&self, payload_len: usize) -> Result<Layout, EncapError> {
        let c = &self.core;
        let body = c.tfc_pad_to.map_or(payload_len, |t| payload_len.max(t));
        let with_trailer = body
            .checked_add(ESP_TRAILER_LEN)
            .ok_or(EncapError::PayloadTooLarge)?;
        let encrypted = with_trailer
            .checked_next_multiple_of(c.alignment)
            .ok_or(EncapError::PayloadTooLarge)?;
        // alignment <= 256, so the pad is at most 255 bytes.
        let pad_len =
            u8::try_from(encrypted - with_trailer).map_err(|_| EncapError::PayloadTooLarge)?;
        let total = [ESP_HEADER_LEN, c.iv_len, c.icv_len]
            .into_iter()
            .try_fold(encrypted, usize::checked_add)
            .filter(|t| *t <= MAX_PACKET)
            .ok_or(EncapError::PayloadTooLarge)?;
        Ok(Layout {
            body,
            encrypted,
            pad_len,
            total,
        })
    }

    /// Length of the ESP packet [`seal`](Self::seal) makes of a payload of
    /// `payload_len` bytes.
    pub fn sealed_len(&self, payload_len: usize) -> Option<usize> {
        self.layout(payload_len).ok().map(|l| l.total)
    }

    /// Length of what [`encapsulate`](Self::encapsulate) makes of an IP
    /// packet of `packet_len` bytes: at most this (transport mode moves the
    /// IP header in front and adds the UDP header when encapsulating).
    pub fn encapsulated_len(&self, packet_len: usize) -> Option<usize> {
        let udp = if self.core.udp_encap.is_some() {
            UDP_HEADER_LEN
        } else {
            0
        };
        // In transport mode the IP header is not encrypted; the sealed part
        // is then shorter than for the whole packet, never longer.
        self.sealed_len(packet_len)?.checked_add(udp)
    }

    /// Protects `payload` with next header `next_header` and writes the ESP
    /// packet (SPI .. ICV) to the start of `out`. CBC IVs come from `rng`;
    /// counter-mode IVs are the sequence number.
    pub fn seal<'o, R: RngCore + CryptoRng>(
        &mut self,
        rng: &mut R,
        next_header: u8,
        payload: &[u8],
        out: &'o mut [u8],
    ) -> Result<&'o mut [u8], EncapError> {
        let n = self.seal_into(IvSource::Generated(rng), next_header, payload, out)?;
        out.get_mut(..n).ok_or(EncapError::PayloadTooLarge)
    }

    /// Like [`seal`](Self::seal) with a caller-chosen IV, for reproducible
    /// output. Never reuse an IV under one key in production: for CTR, GCM
    /// and ChaCha20-Poly1305 that reveals the plaintext.
    pub fn seal_with_iv<'o>(
        &mut self,
        iv: &[u8],
        next_header: u8,
        payload: &[u8],
        out: &'o mut [u8],
    ) -> Result<&'o mut [u8], EncapError> {
        let n = self.seal_into(IvSource::Explicit(iv), next_header, payload, out)?;
        out.get_mut(..n).ok_or(EncapError::PayloadTooLarge)
    }

    /// Protects an IP packet according to the SA's mode and writes the
    /// result to `out`: in tunnel mode the ESP packet (preceded by the UDP
    /// header with UDP encapsulation) that goes after a new outer IP header;
    /// in transport mode the packet itself with ESP inserted after its IP
    /// header, protocol, length and checksum fixed.
    pub fn encapsulate<'o, R: RngCore + CryptoRng>(
        &mut self,
        rng: &mut R,
        packet: &[u8],
        out: &'o mut [u8],
    ) -> Result<&'o mut [u8], EncapError> {
        let n = self.encapsulate_into(IvSource::Generated(rng), packet, out)?;
        out.get_mut(..n).ok_or(EncapError::PayloadTooLarge)
    }

    /// Like [`encapsulate`](Self::encapsulate) with a caller-chosen IV (see
    /// [`seal_with_iv`](Self::seal_with_iv)).
    pub fn encapsulate_with_iv<'o>(
        &mut self,
        iv: &[u8],
        packet: &[u8],
        out: &'o mut [u8],
    ) -> Result<&'o mut [u8], EncapError> {
        let n = self.encapsulate_into(IvSource::Explicit(iv), packet, out)?;
        out.get_mut(..n).ok_or(EncapError::PayloadTooLarge)
    }

    /// Tunnel-mode encapsulation of `inner` into a bare ESP packet (next
    /// header 4 or 41 from the IP version), whatever the SA's UDP
    /// encapsulation: for sending on a UDP socket, which adds the UDP header.
    pub fn encapsulate_esp<'o, R: RngCore + CryptoRng>(
        &mut self,
        rng: &mut R,
        inner: &[u8],
        out: &'o mut [u8],
    ) -> Result<&'o mut [u8], EncapError> {
        let next_header = tunnel_next_header(inner)?;
        self.seal(rng, next_header, inner, out)
    }

    fn encapsulate_into(
        &mut self,
        iv: IvSource<'_>,
        packet: &[u8],
        out: &mut [u8],
    ) -> Result<usize, EncapError> {
        let udp = self.core.udp_encap;
        let udp_len = if udp.is_some() { UDP_HEADER_LEN } else { 0 };
        match self.core.mode {
            Mode::Tunnel => {
                let next_header = tunnel_next_header(packet)?;
                let available = out.len();
                let esp_out = out.get_mut(udp_len..).ok_or(EncapError::BufferTooSmall {
                    needed: udp_len,
                    available,
                })?;
                let esp_len = self.seal_into(iv, next_header, packet, esp_out)?;
                let total = udp_len + esp_len;
                if let Some(ports) = udp {
                    let header = udp_header(ports, total)?;
                    if let Some(dst) = out.get_mut(..UDP_HEADER_LEN) {
                        dst.copy_from_slice(&header.to_bytes());
                    }
                }
                Ok(total)
            }
            Mode::Transport => {
                let layout =
                    ip::transport_insertion_point(packet).map_err(EncapError::MalformedIpPacket)?;
                let (headers, rest) = packet
                    .split_at_checked(layout.header_len)
                    .ok_or(EncapError::MalformedIpPacket("header"))?;
                let upper = rest
                    .get(..layout.packet_len - layout.header_len)
                    .ok_or(EncapError::MalformedIpPacket("length"))?;
                let prefix = layout.header_len + udp_len;
                let available = out.len();
                let (head, esp_out) =
                    out.split_at_mut_checked(prefix)
                        .ok_or(EncapError::BufferTooSmall {
                            needed: prefix,
                            available,
                        })?;
                let esp_len = self.seal_into(iv, layout.protocol, upper, esp_out)?;
                let total = prefix + esp_len;
                let (ip_head, udp_slot) = head.split_at_mut(layout.header_len);
                ip_head.copy_from_slice(headers);
                let protocol = match udp {
                    Some(ports) => {
                        let header = udp_header(ports, udp_len + esp_len)?;
                        udp_slot.copy_from_slice(&header.to_bytes());
                        IPPROTO_UDP
                    }
                    None => crate::wire::esp::IPPROTO_ESP,
                };
                let packet_out = out.get_mut(..total).ok_or(EncapError::PayloadTooLarge)?;
                ip::rewrite_header(packet_out, &layout, protocol, total)
                    .map_err(|_| EncapError::PayloadTooLarge)?;
                if udp.is_some() && layout.version == 6 {
                    // IPv6 forbids a zero UDP checksum (RFC 8200 §8.1).
                    fill_udp6_checksum(packet_out, layout.header_len)?;
                }
                Ok(total)
            }
        }
    }

    fn seal_into(
        &mut self,
        iv_source: IvSource<'_>,
        next_header: u8,
        payload: &[u8],
        out: &mut [u8],
    ) -> Result<usize, EncapError> {
        if self.lifetime.expired() {
            return Err(EncapError::LifetimeExpired);
        }
        let seq = self.next_sequence().ok_or(EncapError::SequenceExhausted)?;
        let layout = self.layout(payload.len())?;
        let available = out.len();
        let out = out
            .get_mut(..layout.total)
            .ok_or(EncapError::BufferTooSmall {
                needed: layout.total,
                available,
            })?;
        let c = &self.core;
        let header = EspHeader {
            spi: c.spi,
            sequence: seq as u32,
        }
        .to_bytes();
        let seq_high = ((seq >> 32) as u32).to_be_bytes();
        let aead_header = AeadHeader {
            spi: c.spi.to_be_bytes(),
            seq_high: c.esn.then_some(seq_high),
            seq_low: (seq as u32).to_be_bytes(),
        };
        {
            let (h, rest) = out.split_at_mut(ESP_HEADER_LEN);
            h.copy_from_slice(&header);
            let (iv, rest) = rest.split_at_mut(c.iv_len);
            match iv_source {
                IvSource::Explicit(given) => {
                    if given.len() != iv.len() {
                        return Err(EncapError::IvLength {
                            got: given.len(),
                            expected: iv.len(),
                        });
                    }
                    iv.copy_from_slice(given);
                }
                IvSource::Generated(_) if c.encryption.iv_from_sequence() => {
                    iv.copy_from_slice(&seq.to_be_bytes());
                }
                IvSource::Generated(rng) => rng.fill_bytes(iv),
            }
            let (body, icv) = rest.split_at_mut(layout.encrypted);
            let (data, trailer) = body.split_at_mut(layout.body);
            let (payload_slot, tfc) = data.split_at_mut(payload.len());
            payload_slot.copy_from_slice(payload);
            tfc.fill(0);
            // RFC 4303 §2.4: padding bytes 1, 2, 3, ...
            let (padding, tail) = trailer.split_at_mut(usize::from(layout.pad_len));
            for (b, v) in padding.iter_mut().zip(1u8..) {
                *b = v;
            }
            tail.copy_from_slice(&[layout.pad_len, next_header]);
            let aead_icv: &mut [u8] = if c.integrity.is_some() { &mut [] } else { icv };
            c.cipher
                .encrypt(&aead_header, iv, body, aead_icv)
                .map_err(|e| match e {
                    CryptoError::Length | CryptoError::Icv => EncapError::IvLength {
                        got: c.iv_len,
                        expected: c.encryption.iv_len(),
                    },
                })?;
        }
        if let Some(integrity) = &c.integrity {
            let (authenticated, icv) = out.split_at_mut(layout.total - c.icv_len);
            // RFC 4303 §2.2.1: with ESN the high-order bits are covered by
            // the ICV but not sent.
            let high: &[u8] = if c.esn { &seq_high } else { &[] };
            integrity.compute(&[authenticated, high], icv);
        }
        self.last_seq = seq;
        self.lifetime.record(payload.len());
        Ok(layout.total)
    }
}

/// The next header for an inner packet, which must be a whole IPv4 or IPv6
/// packet (the receiver finds TFC padding from its length).
fn tunnel_next_header(packet: &[u8]) -> Result<u8, EncapError> {
    let next_header = match packet.first().map(|b| b >> 4) {
        Some(4) => NEXT_HEADER_IPV4,
        Some(6) => NEXT_HEADER_IPV6,
        _ => return Err(EncapError::MalformedIpPacket("not IPv4 or IPv6")),
    };
    if ip::packet_len(packet).map_err(EncapError::MalformedIpPacket)? != packet.len() {
        return Err(EncapError::MalformedIpPacket("length field does not match"));
    }
    Ok(next_header)
}

fn udp_header(ports: crate::sa::UdpEncap, len: usize) -> Result<UdpHeader, EncapError> {
    Ok(UdpHeader {
        src_port: ports.src_port,
        dst_port: ports.dst_port,
        length: u16::try_from(len).map_err(|_| EncapError::PayloadTooLarge)?,
        // RFC 3948 §2.1: zero over IPv4.
        checksum: 0,
    })
}

/// Computes the UDP checksum of the datagram at `udp_at` in an IPv6 packet.
pub(crate) fn fill_udp6_checksum(packet: &mut [u8], udp_at: usize) -> Result<(), EncapError> {
    let udp_len = packet.len().saturating_sub(udp_at);
    let sum =
        ip::pseudo_header_sum(packet, IPPROTO_UDP, udp_len).ok_or(EncapError::PayloadTooLarge)?;
    let datagram = packet
        .get_mut(udp_at..)
        .ok_or(EncapError::PayloadTooLarge)?;
    if let Some(c) = datagram.get_mut(6..8) {
        c.fill(0);
    }
    let mut checksum = ip::internet_checksum(datagram, sum);
    if checksum == 0 {
        checksum = 0xffff;
    }
    if let Some(c) = datagram.get_mut(6..8) {
        c.copy_from_slice(&checksum.to_be_bytes());
    }
    Ok(())
}
