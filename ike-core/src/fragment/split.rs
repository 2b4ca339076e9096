//! Cutting a message into fragment datagrams.

use super::FragmentError;
use crate::wire::{Flags, Fragment, Header, Payload, PayloadBody, PayloadType};

/// Size of the fragment payload's own header: generic payload header (4)
/// plus fragment ID (2), number (1) and flags (1).
const FRAGMENT_PAYLOAD_OVERHEAD: usize = Payload::HEADER_LEN + 4;
/// UDP header.
const UDP_HEADER: usize = 8;
/// The four zero bytes before ISAKMP on port 4500 (RFC 3948 §2.2).
const NON_ESP_MARKER: usize = 4;

/// How large each fragment datagram may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FragmentSizing {
    /// The path MTU: the whole IP packet, IP header included (strongSwan's
    /// `fragment_size` counts the same way). 1280 and 576 are the usual
    /// floors for IPv6 and IPv4.
    pub path_mtu: usize,
    /// Whether the packet is IPv6 (40-byte header instead of 20).
    pub ipv6: bool,
    /// Whether the datagram goes to port 4500 with the non-ESP marker.
    pub nat_t: bool,
}

impl FragmentSizing {
    /// An IPv4 path on port 500.
    #[must_use]
    pub const fn ipv4(path_mtu: usize) -> Self {
        Self {
            path_mtu,
            ipv6: false,
            nat_t: false,
        }
    }

    /// An IPv4 path on which a datagram may carry `max_udp_payload` bytes
    /// of UDP payload, the non-ESP marker included when `nat_t` (this is
    /// what [`crate::config::EndpointConfig::fragment_size`] counts).
    #[must_use]
    pub const fn udp_payload(max_udp_payload: usize, nat_t: bool) -> Self {
        Self {
            path_mtu: max_udp_payload.saturating_add(20 + UDP_HEADER),
            ipv6: false,
            nat_t,
        }
    }

    /// Largest ISAKMP datagram (header onwards) that fits the path.
    #[must_use]
    pub const fn max_datagram(&self) -> usize {
        let ip = if self.ipv6 { 40 } else { 20 };
        let marker = if self.nat_t { NON_ESP_MARKER } else { 0 };
        self.path_mtu.saturating_sub(ip + UDP_HEADER + marker)
    }

    /// Message bytes each fragment carries.
    #[must_use]
    pub const fn data_per_fragment(&self) -> usize {
        self.max_datagram()
            .saturating_sub(Header::LEN + FRAGMENT_PAYLOAD_OVERHEAD)
    }
}

/// Cuts `message` (a whole ISAKMP message as it would be sent, header
/// first) into fragment datagrams of at most
/// [`FragmentSizing::max_datagram`] bytes, numbered from 1, tagged with
/// `fragment_id`. The datagrams copy the message's header with the E flag
/// cleared: the fragment payload itself is sent in the clear, the data
/// inside it is the (possibly encrypted) message.
///
/// A message that already fits is still cut into one fragment; whether to
/// fragment at all is the caller's decision (the peer must have sent the
/// FRAGMENTATION vendor ID).
pub fn fragment_message(
    message: &[u8],
    fragment_id: u16,
    sizing: FragmentSizing,
) -> Result<Vec<Vec<u8>>, FragmentError> {
    let parsed = Header::parse(message)?;
    let mut header = parsed.header;
    header.flags = header.flags.without(Flags::ENCRYPTION);
    let per_fragment = sizing.data_per_fragment();
    if per_fragment == 0 {
        return Err(FragmentError::MtuTooSmall {
            mtu: sizing.path_mtu,
        });
    }
    let too_long = FragmentError::MessageTooLong {
        len: message.len(),
        per_fragment,
    };
    let count = message.len().div_ceil(per_fragment);
    if count > usize::from(u8::MAX) {
        return Err(too_long);
    }
    let mut out = Vec::with_capacity(count);
    for (index, piece) in message.chunks(per_fragment).enumerate() {
        let number = u8::try_from(index + 1).map_err(|_| too_long.clone())?;
        let fragment = Fragment {
            id: fragment_id,
            number,
            flags: if index + 1 == count {
                Fragment::LAST
            } else {
                0
            },
            data: piece.to_vec(),
        };
        let payload = fragment.to_payload()?;
        let total = Header::LEN + Payload::HEADER_LEN + payload.body.len();
        let length = u32::try_from(total).map_err(|_| too_long.clone())?;
        let mut datagram = Vec::with_capacity(total);
        header.emit(PayloadType::FRAGMENT, length, &mut datagram);
        payload.emit(PayloadType::NONE, &mut datagram)?;
        out.push(datagram);
    }
    Ok(out)
}
