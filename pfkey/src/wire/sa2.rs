//! `SADB_X_EXT_SA2`: `struct sadb_x_sa2`, the KAME extension carrying an SA's
//! mode and reqid.

use super::codec::{Reader, Writer};
use super::enums::IpsecMode;
use super::{Body, Error};

/// Mode and reqid of an SA. Without it Linux installs a transport-mode SA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sa2 {
    /// `sadb_x_sa2_mode`
    pub mode: IpsecMode,
    /// `sadb_x_sa2_sequence`
    pub sequence: u32,
    /// `sadb_x_sa2_reqid`: ties the SA to `unique` policies with the same reqid.
    pub reqid: u32,
}

impl Body for Sa2 {
    const NAME: &'static str = "sadb_x_sa2";

    fn parse(r: &mut Reader<'_>) -> Result<Self, Error> {
        let mode = r.u8(Self::NAME)?.into();
        r.skip(3, Self::NAME)?; // sadb_x_sa2_reserved1, reserved2
        Ok(Self {
            mode,
            sequence: r.u32_ne(Self::NAME)?,
            reqid: r.u32_ne(Self::NAME)?,
        })
    }

    fn emit(&self, w: &mut Writer<'_>) {
        w.u8(self.mode.into());
        w.zeros(3);
        w.u32_ne(self.sequence);
        w.u32_ne(self.reqid);
    }
}
