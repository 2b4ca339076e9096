//! `SADB_EXT_IDENTITY_{SRC,DST}`: `struct sadb_ident` followed by a
//! NUL-terminated string (RFC 2367 §2.3.5).

use super::codec::{Reader, Writer};
use super::{Body, Error};

/// An identity: its `SADB_IDENTTYPE_*`, a numeric id and the string form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// `sadb_ident_type`
    pub ident_type: u16,
    /// `sadb_ident_id`
    pub id: u64,
    /// The identity string, without its NUL terminator and padding.
    pub data: Vec<u8>,
}

impl Body for Identity {
    const NAME: &'static str = "sadb_ident";

    fn parse(r: &mut Reader<'_>) -> Result<Self, Error> {
        let ident_type = r.u16_ne(Self::NAME)?;
        r.skip(2, Self::NAME)?; // sadb_ident_reserved
        let id = r.u64_ne(Self::NAME)?;
        // The string runs to its NUL; what follows is padding.
        let rest = r.rest();
        let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
        let data = r.take(end, Self::NAME)?.to_vec();
        Ok(Self {
            ident_type,
            id,
            data,
        })
    }

    fn emit(&self, w: &mut Writer<'_>) {
        w.u16_ne(self.ident_type);
        w.u16_ne(0);
        w.u64_ne(self.id);
        w.bytes(&self.data);
        w.u8(0); // NUL terminator; the extension padding follows
    }
}
