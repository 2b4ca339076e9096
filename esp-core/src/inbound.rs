//! Inbound processing in the order of RFC 4303 §3.4: SA by SPI, replay
//! check, ICV check (constant time), decryption, window update, then the
//! trailer and the mode-specific reassembly.
#![deny(clippy::indexing_slicing)]

use crate::crypto::{AeadHeader, CryptoBackend, CryptoError, RustCryptoBackend};
use crate::error::{ConfigError, DecapError};
use crate::lifetime::{LifetimeCounter, LifetimeEvent};
use crate::replay::ReplayWindow;
use crate::sa::{Mode, SaConfig, SaCore};
use crate::wire::esp::{
    ESP_HEADER_LEN, ESP_TRAILER_LEN, EspHeader, IPPROTO_ESP, NEXT_HEADER_IPV4, NEXT_HEADER_IPV6,
    NEXT_HEADER_NONE,
};
use crate::wire::ip::{self, IPPROTO_UDP};
use crate::wire::udp::{UDP_HEADER_LEN, UdpEncapPayload, UdpHeader, classify};

/// The receiving half of an SA.
pub struct InboundSa {
    core: SaCore,
    window: ReplayWindow,
    lifetime: LifetimeCounter,
}

impl core::fmt::Debug for InboundSa {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("InboundSa")
            .field("spi", &format_args!("{:#010x}", self.core.spi))
            .field("encryption", &self.core.encryption)
            .field("window", &self.window)
            .finish_non_exhaustive()
    }
}

/// An authenticated, decrypted packet, borrowed from the input buffer.
#[derive(Debug, PartialEq, Eq)]
pub struct Decapsulated<'a> {
    /// The ESP next-header value: 4 or 41 in tunnel mode, the upper-layer
    /// protocol in transport mode, 59 for a dummy packet (to be dropped).
    pub next_header: u8,
    /// The full (ESN-inferred) sequence number.
    pub sequence: u64,
    /// [`InboundSa::open`]: the ESP payload. [`InboundSa::decapsulate`]:
    /// the inner packet (tunnel) or the rebuilt IP packet (transport);
    /// empty for a dummy packet.
    pub data: &'a mut [u8],
}

impl Decapsulated<'_> {
    /// Whether this is a dummy packet (RFC 4303 §2.6) that must be dropped.
    pub fn is_dummy(&self) -> bool {
        self.next_header == NEXT_HEADER_NONE
    }
}

/// Offsets of the payload within the ESP packet.
struct Opened {
    next_header: u8,
    sequence: u64,
    start: usize,
    len: usize,
}

impl InboundSa {
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
            window: ReplayWindow::new(config.replay_window, config.esn),
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

    /// The replay window.
    pub fn replay_window(&self) -> &ReplayWindow {
        &self.window
    }

    /// Treats every sequence number up to `last` as already received: for
    /// resuming an SA, or for decrypting a packet taken from the middle of
    /// an ESN stream, whose high-order bits are inferred from `last`.
    pub fn resume_after(&mut self, last: u64) {
        self.window = ReplayWindow::starting_after(self.window.size(), self.core.esn, last);
    }

    /// Packets and payload bytes accepted so far.
    pub fn counters(&self) -> (u64, u64) {
        (self.lifetime.packets(), self.lifetime.bytes())
    }

    /// The next lifetime signal, if any.
    pub fn poll_event(&mut self) -> Option<LifetimeEvent> {
        self.lifetime.poll_event()
    }

    /// Verifies and decrypts one ESP packet (SPI .. ICV) in place.
    pub fn open<'a>(&mut self, esp: &'a mut [u8]) -> Result<Decapsulated<'a>, DecapError> {
        let o = self.open_in_place(esp)?;
        let data = esp
            .get_mut(o.start..o.start + o.len)
            .ok_or(DecapError::Truncated("ESP payload"))?;
        Ok(Decapsulated {
            next_header: o.next_header,
            sequence: o.sequence,
            data,
        })
    }

    /// Decapsulates according to the SA's mode, in place. Tunnel mode takes
    /// what follows the outer IP header (the UDP header first with UDP
    /// encapsulation) and yields the inner packet, with TFC padding removed.
    /// Transport mode takes the whole IP packet and yields it with ESP (and
    /// the UDP header) taken out and protocol, length and checksum restored.
    pub fn decapsulate<'a>(&mut self, buf: &'a mut [u8]) -> Result<Decapsulated<'a>, DecapError> {
        match self.core.mode {
            Mode::Tunnel => self.decapsulate_tunnel(buf),
            Mode::Transport => self.decapsulate_transport(buf),
        }
    }

    /// Tunnel-mode decapsulation of a bare ESP packet, whatever the SA's
    /// UDP encapsulation: for ESP read from a UDP socket on port 4500, whose
    /// UDP header the kernel has already removed (check the payload with
    /// [`classify`](crate::wire::udp::classify) first).
    pub fn decapsulate_esp<'a>(
        &mut self,
        esp: &'a mut [u8],
    ) -> Result<Decapsulated<'a>, DecapError> {
        let end = esp.len();
        self.tunnel_range(esp, 0, end)
    }

    fn decapsulate_tunnel<'a>(
        &mut self,
        buf: &'a mut [u8],
    ) -> Result<Decapsulated<'a>, DecapError> {
        let (start, end) = if self.core.udp_encap.is_some() {
            udp_esp_range(buf, 0)?
        } else {
            (0, buf.len())
        };
        self.tunnel_range(buf, start, end)
    }

    fn tunnel_range<'a>(
        &mut self,
        buf: &'a mut [u8],
        start: usize,
        end: usize,
    ) -> Result<Decapsulated<'a>, DecapError> {
        let esp = buf
            .get_mut(start..end)
            .ok_or(DecapError::Truncated("ESP packet"))?;
        let o = self.open_in_place(esp)?;
        let payload = esp
            .get_mut(o.start..o.start + o.len)
            .ok_or(DecapError::Truncated("ESP payload"))?;
        let data = match o.next_header {
            NEXT_HEADER_NONE => &mut [],
            NEXT_HEADER_IPV4 | NEXT_HEADER_IPV6 => {
                let version = if o.next_header == NEXT_HEADER_IPV4 {
                    4
                } else {
                    6
                };
                if payload.first().map(|b| b >> 4) != Some(version) {
                    return Err(DecapError::MalformedInner(
                        "IP version does not match next header",
                    ));
                }
                let inner_len = ip::packet_len(payload).map_err(DecapError::MalformedInner)?;
                // Anything after the inner packet is TFC padding (§2.7).
                payload
                    .get_mut(..inner_len)
                    .ok_or(DecapError::MalformedInner(
                        "inner packet longer than payload",
                    ))?
            }
            other => return Err(DecapError::UnexpectedNextHeader(other)),
        };
        Ok(Decapsulated {
            next_header: o.next_header,
            sequence: o.sequence,
            data,
        })
    }

    fn decapsulate_transport<'a>(
        &mut self,
        buf: &'a mut [u8],
    ) -> Result<Decapsulated<'a>, DecapError> {
        let udp = self.core.udp_encap.is_some();
        let layout = ip::find_protocol(buf, if udp { IPPROTO_UDP } else { IPPROTO_ESP })
            .map_err(DecapError::MalformedOuter)?;
        let packet = buf
            .get_mut(..layout.packet_len)
            .ok_or(DecapError::MalformedOuter("packet length"))?;
        let (start, end) = if udp {
            udp_esp_range(packet, layout.header_len)?
        } else {
            (layout.header_len, packet.len())
        };
        let esp = packet
            .get_mut(start..end)
            .ok_or(DecapError::Truncated("ESP packet"))?;
        let o = self.open_in_place(esp)?;
        if o.next_header == NEXT_HEADER_NONE {
            return Ok(Decapsulated {
                next_header: o.next_header,
                sequence: o.sequence,
                data: &mut [],
            });
        }
        // Slide the IP header (and extension headers) up against the
        // payload; nothing is copied but the header.
        let header_len = layout.header_len;
        let payload_at = start + o.start;
        let new_start = payload_at - header_len;
        packet.copy_within(..header_len, new_start);
        let new_len = header_len + o.len;
        let rebuilt = packet
            .get_mut(new_start..new_start + new_len)
            .ok_or(DecapError::Truncated("ESP payload"))?;
        ip::rewrite_header(rebuilt, &layout, o.next_header, new_len)
            .map_err(DecapError::MalformedOuter)?;
        Ok(Decapsulated {
            next_header: o.next_header,
            sequence: o.sequence,
            data: rebuilt,
        })
    }

    fn open_in_place(&mut self, esp: &mut [u8]) -> Result<Opened, DecapError> {
        let c = &self.core;
        if self.lifetime.expired() {
            return Err(DecapError::LifetimeExpired);
        }
        let header = EspHeader::parse(esp)?;
        if header.spi != c.spi {
            return Err(DecapError::WrongSpi {
                expected: c.spi,
                got: header.spi,
            });
        }
        // §3.4.3: the replay check comes before the (costly) ICV check.
        let sequence = self.window.infer(header.sequence)?;
        self.window.check(sequence)?;
        let body_len = esp
            .len()
            .checked_sub(ESP_HEADER_LEN + c.iv_len + c.icv_len)
            .ok_or(DecapError::Truncated("ESP payload"))?;
        if body_len < ESP_TRAILER_LEN {
            return Err(DecapError::Truncated("ESP trailer"));
        }
        let block = c.encryption.block_len();
        if body_len % block != 0 {
            return Err(DecapError::CiphertextLength(body_len));
        }
        let seq_high = ((sequence >> 32) as u32).to_be_bytes();
        let (authenticated, icv) = esp.split_at_mut(esp.len() - c.icv_len);
        if let Some(integrity) = &c.integrity {
            let high: &[u8] = if c.esn { &seq_high } else { &[] };
            integrity
                .verify(&[authenticated, high], icv)
                .map_err(|_| DecapError::IcvMismatch)?;
        }
        let (_, rest) = authenticated.split_at_mut(ESP_HEADER_LEN);
        let (iv, body) = rest.split_at_mut(c.iv_len);
        let aead_header = AeadHeader {
            spi: header.spi.to_be_bytes(),
            seq_high: c.esn.then_some(seq_high),
            seq_low: header.sequence.to_be_bytes(),
        };
        let aead_icv: &[u8] = if c.integrity.is_some() { &[] } else { icv };
        c.cipher
            .decrypt(&aead_header, iv, body, aead_icv)
            .map_err(|e| match e {
                CryptoError::Icv => DecapError::IcvMismatch,
                CryptoError::Length => DecapError::CiphertextLength(body_len),
            })?;
        // Authenticated: only now may the window move.
        self.window.mark(sequence);
        let (rest, trailer) = body
            .split_last_chunk::<ESP_TRAILER_LEN>()
            .ok_or(DecapError::Truncated("ESP trailer"))?;
        let [pad_len, next_header] = *trailer;
        let payload_len = rest
            .len()
            .checked_sub(usize::from(pad_len))
            .ok_or(DecapError::PadLength(pad_len))?;
        let padding = rest.get(payload_len..).unwrap_or_default();
        if !padding.iter().zip(1u8..).all(|(b, want)| *b == want) {
            return Err(DecapError::BadPadding);
        }
        self.lifetime.record(payload_len);
        Ok(Opened {
            next_header,
            sequence,
            start: ESP_HEADER_LEN + c.iv_len,
            len: payload_len,
        })
    }
}

/// Range of the ESP packet inside the UDP datagram at `udp_at`; IKE and
/// keepalives on the NAT-T port are not ESP.
fn udp_esp_range(packet: &[u8], udp_at: usize) -> Result<(usize, usize), DecapError> {
    let datagram = packet
        .get(udp_at..)
        .ok_or(DecapError::Truncated("UDP header"))?;
    let (header, payload) = UdpHeader::parse(datagram)?;
    match classify(payload) {
        UdpEncapPayload::Esp(_) => {}
        UdpEncapPayload::Invalid => return Err(DecapError::Truncated("ESP header")),
        UdpEncapPayload::Ike(_) | UdpEncapPayload::Keepalive => return Err(DecapError::NotEsp),
    }
    let start = udp_at + UDP_HEADER_LEN;
    Ok((start, udp_at + usize::from(header.length)))
}
