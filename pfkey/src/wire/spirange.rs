//! `SADB_EXT_SPIRANGE`: `struct sadb_spirange` (RFC 2367 §2.3.9).

use super::codec::{Reader, Writer};
use super::{Body, Error};

/// The range GETSPI may pick an SPI from. Unlike `sadb_sa_spi`, Linux reads
/// these in host order (a vector from the kernel shows `01c00000` for 0xc001).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpiRange {
    /// `sadb_spirange_min`
    pub min: u32,
    /// `sadb_spirange_max`
    pub max: u32,
}

impl Body for SpiRange {
    const NAME: &'static str = "sadb_spirange";

    fn parse(r: &mut Reader<'_>) -> Result<Self, Error> {
        let min = r.u32_ne(Self::NAME)?;
        let max = r.u32_ne(Self::NAME)?;
        r.skip(4, Self::NAME)?; // sadb_spirange_reserved
        Ok(Self { min, max })
    }

    fn emit(&self, w: &mut Writer<'_>) {
        w.u32_ne(self.min);
        w.u32_ne(self.max);
        w.u32_ne(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_order_unlike_the_spi() {
        // suite/013-send-GETSPI: min = max = 0xc001.
        let body = [0, 0, 0x01, 0xc0, 0, 0, 0x01, 0xc0, 0, 0, 0, 0, 0, 0];
        let range = SpiRange::parse(&mut Reader::new(&body[2..])).unwrap();
        assert_eq!(
            range,
            SpiRange {
                min: 0xc001,
                max: 0xc001
            }
        );
    }
}
