//! `SADB_EXT_SA`: `struct sadb_sa` (RFC 2367 §2.3.1).

use super::codec::{Reader, Writer};
use super::enums::SaState;
use super::{Body, Error};

/// The SA extension: which SA (its SPI) and its algorithms and state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sa {
    /// `sadb_sa_spi`, in network order on the wire; the value here is the SPI.
    pub spi: u32,
    /// `sadb_sa_replay`: replay window size in packets (0 = none).
    pub replay: u8,
    /// `sadb_sa_state`
    pub state: SaState,
    /// `sadb_sa_auth`: an `SADB_AALG_*` value.
    pub auth: u8,
    /// `sadb_sa_encrypt`: an `SADB_EALG_*` value (an `SADB_X_CALG_*` one for IPCOMP).
    pub encrypt: u8,
    /// `sadb_sa_flags`: `SADB_SAFLAGS_*` bits.
    pub flags: u32,
}

impl Sa {
    /// An SA extension that names `spi` only, as GET and DELETE send it.
    pub fn spi_only(spi: u32) -> Self {
        Self {
            spi,
            replay: 0,
            state: SaState::Larval,
            auth: 0,
            encrypt: 0,
            flags: 0,
        }
    }
}

impl Body for Sa {
    const NAME: &'static str = "sadb_sa";

    fn parse(r: &mut Reader<'_>) -> Result<Self, Error> {
        Ok(Self {
            spi: r.u32_be(Self::NAME)?,
            replay: r.u8(Self::NAME)?,
            state: r.u8(Self::NAME)?.into(),
            auth: r.u8(Self::NAME)?,
            encrypt: r.u8(Self::NAME)?,
            flags: r.u32_ne(Self::NAME)?,
        })
    }

    fn emit(&self, w: &mut Writer<'_>) {
        w.u32_be(self.spi);
        w.u8(self.replay);
        w.u8(self.state.into());
        w.u8(self.auth);
        w.u8(self.encrypt);
        w.u32_ne(self.flags);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{Extension, Message};

    // suite/017-send-ADD: the SA extension of SPI 0xc002, AES-CBC + HMAC-SHA256.
    const SA_EXT: [u8; 16] = [
        0x02, 0x00, 0x01, 0x00, 0x00, 0x00, 0xc0, 0x02, 0x20, 0x01, 0x05, 0x0c, 0, 0, 0, 0,
    ];

    #[test]
    fn spi_is_network_order_the_rest_host_order() {
        let mut r = Reader::new(&SA_EXT[4..]);
        let sa = Sa::parse(&mut r).unwrap();
        assert_eq!(sa.spi, 0xc002);
        assert_eq!((sa.replay, sa.state), (32, SaState::Mature));
        assert_eq!((sa.auth, sa.encrypt, sa.flags), (5, 12, 0));
        let msg = Message::new(crate::wire::MessageType::Add, crate::wire::SaType::Esp)
            .with(Extension::Sa(sa));
        assert_eq!(&msg.to_bytes().unwrap()[16..], &SA_EXT);
    }
}
