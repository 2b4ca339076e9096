//! UDP encapsulation of ESP for NAT traversal (RFC 3948): the header, the
//! non-ESP marker that IKE packets carry on port 4500, NAT-keepalives, and
//! a classifier for what arrives on that port.
#![deny(clippy::indexing_slicing)]

use crate::error::DecapError;

/// The NAT-T port (RFC 3948 §1).
pub const NAT_T_PORT: u16 = 4500;
/// Length of the UDP header.
pub const UDP_HEADER_LEN: usize = 8;
/// Four zero bytes where ESP has its SPI: the packet is IKE (RFC 3948 §2.2).
pub const NON_ESP_MARKER: [u8; 4] = [0; 4];
/// The one-byte NAT-keepalive payload (RFC 3948 §2.3).
pub const NAT_KEEPALIVE: [u8; 1] = [0xff];

/// What a UDP payload on the NAT-T port is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UdpEncapPayload<'a> {
    /// An IKE message; the non-ESP marker is already removed.
    Ike(&'a [u8]),
    /// An ESP packet, starting at the SPI.
    Esp(&'a [u8]),
    /// A NAT-keepalive: drop it.
    Keepalive,
    /// Too short to be any of these.
    Invalid,
}

/// Classifies the payload of a UDP datagram received on the NAT-T port
/// (after the UDP header), RFC 3948 §2.2 and §2.3.
pub fn classify(payload: &[u8]) -> UdpEncapPayload<'_> {
    if payload == NAT_KEEPALIVE {
        return UdpEncapPayload::Keepalive;
    }
    match payload.split_first_chunk::<4>() {
        // IKE header is 28 bytes; anything shorter after the marker is junk.
        Some((marker, ike)) if *marker == NON_ESP_MARKER => {
            if ike.len() >= 28 {
                UdpEncapPayload::Ike(ike)
            } else {
                UdpEncapPayload::Invalid
            }
        }
        // ESP needs at least SPI and sequence number.
        Some(_) if payload.len() >= 8 => UdpEncapPayload::Esp(payload),
        _ => UdpEncapPayload::Invalid,
    }
}

/// A UDP header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UdpHeader {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Length of header plus payload.
    pub length: u16,
    /// Checksum (0: none, allowed for UDP-encapsulated ESP over IPv4,
    /// RFC 3948 §2.1).
    pub checksum: u16,
}

impl UdpHeader {
    /// Parses the header at the start of `datagram` and returns the payload
    /// the length field covers.
    pub fn parse(datagram: &[u8]) -> Result<(Self, &[u8]), DecapError> {
        let (h, _) = datagram
            .split_first_chunk::<UDP_HEADER_LEN>()
            .ok_or(DecapError::Truncated("UDP header"))?;
        let [s0, s1, d0, d1, l0, l1, c0, c1] = *h;
        let header = Self {
            src_port: u16::from_be_bytes([s0, s1]),
            dst_port: u16::from_be_bytes([d0, d1]),
            length: u16::from_be_bytes([l0, l1]),
            checksum: u16::from_be_bytes([c0, c1]),
        };
        let payload = datagram
            .get(UDP_HEADER_LEN..usize::from(header.length))
            .ok_or(DecapError::MalformedOuter("UDP length"))?;
        Ok((header, payload))
    }

    /// The header as it goes on the wire.
    pub fn to_bytes(self) -> [u8; UDP_HEADER_LEN] {
        let mut out = [0u8; UDP_HEADER_LEN];
        for (dst, v) in
            out.chunks_exact_mut(2)
                .zip([self.src_port, self.dst_port, self.length, self.checksum])
        {
            dst.copy_from_slice(&v.to_be_bytes());
        }
        out
    }
}

/// Writes `ike` prefixed with the non-ESP marker into `out` (for sending an
/// IKE message on port 4500) and returns the bytes written.
pub fn emit_ike_with_marker<'o>(ike: &[u8], out: &'o mut [u8]) -> Option<&'o mut [u8]> {
    let len = ike.len().checked_add(NON_ESP_MARKER.len())?;
    let dst = out.get_mut(..len)?;
    let (marker, body) = dst.split_at_mut(NON_ESP_MARKER.len());
    marker.copy_from_slice(&NON_ESP_MARKER);
    body.copy_from_slice(ike);
    Some(dst)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifier_tells_ike_esp_and_keepalive_apart() {
        assert_eq!(classify(&[0xff]), UdpEncapPayload::Keepalive);
        let mut ike = vec![0u8; 4 + 28];
        ike[4] = 0x11;
        assert_eq!(classify(&ike), UdpEncapPayload::Ike(&ike[4..]));
        assert_eq!(classify(&ike[..20]), UdpEncapPayload::Invalid);
        let esp = [0, 0, 0x43, 0x21, 0, 0, 0, 1, 9, 9];
        assert_eq!(classify(&esp), UdpEncapPayload::Esp(&esp));
        assert_eq!(classify(&esp[..7]), UdpEncapPayload::Invalid);
        assert_eq!(classify(&[]), UdpEncapPayload::Invalid);
        assert_eq!(classify(&[0xfe]), UdpEncapPayload::Invalid);
    }

    #[test]
    fn udp_header_round_trips_and_length_is_checked() {
        let h = UdpHeader {
            src_port: 4500,
            dst_port: 4500,
            length: 10,
            checksum: 0,
        };
        let mut d = h.to_bytes().to_vec();
        d.extend_from_slice(&[0xff, 0xee, 0xdd]);
        let (got, payload) = UdpHeader::parse(&d).unwrap();
        assert_eq!(got, h);
        assert_eq!(payload, &[0xff, 0xee]);
        d[5] = 20;
        assert_eq!(
            UdpHeader::parse(&d),
            Err(DecapError::MalformedOuter("UDP length"))
        );
        d[5] = 3;
        assert!(UdpHeader::parse(&d).is_err(), "length below the header");
    }

    #[test]
    fn ike_gets_the_marker() {
        let mut out = [0u8; 8];
        let got = emit_ike_with_marker(&[1, 2, 3], &mut out).unwrap();
        assert_eq!(got, &[0, 0, 0, 0, 1, 2, 3]);
        assert!(emit_ike_with_marker(&[0; 5], &mut out).is_none());
    }
}
