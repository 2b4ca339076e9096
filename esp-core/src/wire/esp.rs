//! The ESP header (RFC 4303 §2): SPI and sequence number; IV, payload,
//! trailer and ICV follow and depend on the SA.
#![deny(clippy::indexing_slicing)]

use crate::error::DecapError;

/// IP protocol number of ESP.
pub const IPPROTO_ESP: u8 = 50;
/// Next-header value of an IPv4 packet in tunnel mode (IP-in-IP).
pub const NEXT_HEADER_IPV4: u8 = 4;
/// Next-header value of an IPv6 packet in tunnel mode.
pub const NEXT_HEADER_IPV6: u8 = 41;
/// Next-header value of a dummy packet (RFC 4303 §2.6).
pub const NEXT_HEADER_NONE: u8 = 59;
/// Length of SPI plus sequence number.
pub const ESP_HEADER_LEN: usize = 8;
/// Length of pad-length plus next-header.
pub const ESP_TRAILER_LEN: usize = 2;

/// The fixed ESP header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EspHeader {
    /// Security Parameters Index.
    pub spi: u32,
    /// Low 32 bits of the sequence number.
    pub sequence: u32,
}

impl EspHeader {
    /// Reads the header from the start of `packet`.
    pub fn parse(packet: &[u8]) -> Result<Self, DecapError> {
        let (spi, rest) = packet
            .split_first_chunk::<4>()
            .ok_or(DecapError::Truncated("ESP header"))?;
        let (seq, _) = rest
            .split_first_chunk::<4>()
            .ok_or(DecapError::Truncated("ESP header"))?;
        Ok(Self {
            spi: u32::from_be_bytes(*spi),
            sequence: u32::from_be_bytes(*seq),
        })
    }

    /// The header as it goes on the wire.
    pub fn to_bytes(self) -> [u8; ESP_HEADER_LEN] {
        let mut out = [0u8; ESP_HEADER_LEN];
        let (spi, seq) = out.split_at_mut(4);
        spi.copy_from_slice(&self.spi.to_be_bytes());
        seq.copy_from_slice(&self.sequence.to_be_bytes());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trips_and_short_input_is_truncated() {
        let h = EspHeader {
            spi: 0x0000_4321,
            sequence: 1,
        };
        assert_eq!(h.to_bytes(), [0, 0, 0x43, 0x21, 0, 0, 0, 1]);
        assert_eq!(EspHeader::parse(&h.to_bytes()), Ok(h));
        assert_eq!(
            EspHeader::parse(&[0, 0, 0x43, 0x21, 0, 0, 0]),
            Err(DecapError::Truncated("ESP header"))
        );
    }
}
