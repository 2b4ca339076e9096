//! Delete payload (RFC 2408 §3.15):
//!
//! ```text
//! DOI (4) | Protocol-Id (1) | SPI Size (1) | # of SPIs (2) | SPIs
//! ```

use super::error::{Error, ErrorKind};
use super::payload::{PayloadBody, PayloadType};
use super::reader::{Reader, write};
use super::sa::{Doi, ProtocolId};

/// The body of a Delete payload.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Delete {
    /// DOI (IPsec).
    pub doi: Doi,
    /// The protocol of the SAs being deleted.
    pub protocol: ProtocolId,
    /// Size of each SPI (16 for ISAKMP: the cookie pair; 4 for AH/ESP).
    pub spi_size: u8,
    /// The SPIs, each `spi_size` bytes.
    pub spis: Vec<Vec<u8>>,
}

impl Delete {
    /// A Delete for `spis` of `protocol`, all of length `spi_size`.
    #[must_use]
    pub const fn new(protocol: ProtocolId, spi_size: u8, spis: Vec<Vec<u8>>) -> Self {
        Self {
            doi: Doi::IPSEC,
            protocol,
            spi_size,
            spis,
        }
    }
}

impl PayloadBody for Delete {
    const TYPE: PayloadType = PayloadType::DELETE;

    fn parse_body(body: &[u8]) -> Result<Self, Error> {
        const WHAT: &str = "Delete payload";
        let mut r = Reader::new(body, 0);
        let doi = Doi(r.u32(WHAT)?);
        let protocol = ProtocolId(r.u8(WHAT)?);
        let spi_size = r.u8(WHAT)?;
        let count = r.u16(WHAT)?;
        // An SPI of no bytes names nothing; without this a 12-byte body could
        // ask for 65535 empty entries.
        if spi_size == 0 && count != 0 {
            return Err(Error::new(
                ErrorKind::Invalid {
                    what: WHAT,
                    why: "SPIs are announced with an SPI Size of 0",
                },
                5,
            ));
        }
        // Checked before reading so a large count cannot make us allocate.
        if r.remaining() != usize::from(spi_size).saturating_mul(usize::from(count)) {
            return Err(Error::new(
                ErrorKind::Invalid {
                    what: WHAT,
                    why: "# of SPIs times SPI Size does not match the SPI bytes present",
                },
                6,
            ));
        }
        let mut spis = Vec::with_capacity(usize::from(count));
        for _ in 0..count {
            spis.push(r.take(usize::from(spi_size), "Delete SPI")?.to_vec());
        }
        Ok(Self {
            doi,
            protocol,
            spi_size,
            spis,
        })
    }

    fn emit_body(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        const WHAT: &str = "Delete payload";
        if self.spi_size == 0 && !self.spis.is_empty() {
            return Err(Error::new(
                ErrorKind::Invalid {
                    what: WHAT,
                    why: "SPIs are announced with an SPI Size of 0",
                },
                out.len(),
            ));
        }
        out.extend_from_slice(&self.doi.0.to_be_bytes());
        out.push(self.protocol.0);
        out.push(self.spi_size);
        out.extend_from_slice(&write::u16_len(self.spis.len(), WHAT, out.len())?.to_be_bytes());
        for spi in &self.spis {
            if spi.len() != usize::from(self.spi_size) {
                return Err(Error::new(
                    ErrorKind::Invalid {
                        what: WHAT,
                        why: "an SPI differs in length from SPI Size",
                    },
                    out.len(),
                ));
            }
            out.extend_from_slice(spi);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_esp_spis_known_answer_both_directions() {
        let body = [
            0, 0, 0, 1, 3, 4, 0, 2, 0xb7, 0x5a, 0xd1, 0x6c, 0xc6, 0xbf, 0x8b, 0x4d,
        ];
        let d = Delete::parse_body(&body).unwrap();
        assert_eq!(
            d,
            Delete::new(
                ProtocolId::ESP,
                4,
                vec![vec![0xb7, 0x5a, 0xd1, 0x6c], vec![0xc6, 0xbf, 0x8b, 0x4d]]
            )
        );
        assert_eq!(d.to_body().unwrap(), body);
    }

    #[test]
    fn isakmp_delete_known_answer() {
        let mut body = vec![0, 0, 0, 1, 1, 16, 0, 1];
        body.extend_from_slice(&[0xab; 16]);
        let d = Delete::parse_body(&body).unwrap();
        assert_eq!(d.protocol, ProtocolId::ISAKMP);
        assert_eq!(d.spis, vec![vec![0xab; 16]]);
        assert_eq!(d.to_body().unwrap(), body);
    }

    #[test]
    fn count_must_match_the_bytes() {
        // 65535 SPIs announced, none present: refused without allocating.
        let err = Delete::parse_body(&[0, 0, 0, 1, 3, 4, 0xff, 0xff]).unwrap_err();
        assert!(matches!(err.kind, ErrorKind::Invalid { .. }));
        let bad = Delete::new(ProtocolId::ESP, 4, vec![vec![1, 2, 3]]);
        assert!(bad.to_body().is_err());
    }

    #[test]
    fn zero_sized_spis_are_refused() {
        let err = Delete::parse_body(&[0, 0, 0, 1, 3, 0, 0xff, 0xff]).unwrap_err();
        assert!(matches!(err.kind, ErrorKind::Invalid { .. }));
        // A Delete naming no SPI at all stays acceptable.
        let none = Delete::parse_body(&[0, 0, 0, 1, 3, 0, 0, 0]).unwrap();
        assert!(none.spis.is_empty());
        let bad = Delete::new(ProtocolId::ESP, 0, vec![vec![]]);
        assert!(bad.to_body().is_err());
    }
}
