//! `SADB_X_EXT_FILTER`: `struct sadb_x_filter`, which narrows a DUMP to the
//! SAs between two prefixes (Linux).

use super::codec::{Reader, Writer};
use super::{Body, Error};

/// A DUMP filter. Addresses are in network order as the kernel stores them
/// (an IPv4 address uses the first 4 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Filter {
    /// `sadb_x_filter_saddr`
    pub saddr: [u8; 16],
    /// `sadb_x_filter_daddr`
    pub daddr: [u8; 16],
    /// `sadb_x_filter_family`: `AF_INET` or `AF_INET6`.
    pub family: u16,
    /// `sadb_x_filter_splen`
    pub splen: u8,
    /// `sadb_x_filter_dplen`
    pub dplen: u8,
}

impl Body for Filter {
    const NAME: &'static str = "sadb_x_filter";

    fn parse(r: &mut Reader<'_>) -> Result<Self, Error> {
        Ok(Self {
            saddr: r.array(Self::NAME)?,
            daddr: r.array(Self::NAME)?,
            family: r.u16_ne(Self::NAME)?,
            splen: r.u8(Self::NAME)?,
            dplen: r.u8(Self::NAME)?,
        })
    }

    fn emit(&self, w: &mut Writer<'_>) {
        w.bytes(&self.saddr);
        w.bytes(&self.daddr);
        w.u16_ne(self.family);
        w.u8(self.splen);
        w.u8(self.dplen);
    }
}
