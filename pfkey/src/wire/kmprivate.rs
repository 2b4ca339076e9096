//! `SADB_X_EXT_KMPRIVATE`: `struct sadb_x_kmprivate` followed by data
//! private to a key manager.

use super::codec::{Reader, Writer};
use super::{Body, Error};

/// Opaque key-manager data; the kernel ignores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KmPrivate {
    /// Everything after the 8-byte header, padding included.
    pub data: Vec<u8>,
}

impl Body for KmPrivate {
    const NAME: &'static str = "sadb_x_kmprivate";

    fn parse(r: &mut Reader<'_>) -> Result<Self, Error> {
        r.skip(4, Self::NAME)?; // sadb_x_kmprivate_reserved
        Ok(Self {
            data: r.take(r.rest().len(), Self::NAME)?.to_vec(),
        })
    }

    fn emit(&self, w: &mut Writer<'_>) {
        w.u32_ne(0);
        w.bytes(&self.data);
    }
}
