//! `SADB_X_EXT_SEC_CTX`: `struct sadb_x_sec_ctx` followed by an LSM context
//! string (Linux).

use super::codec::{Reader, Writer};
use super::{Body, Error};

/// A security-module label (e.g. SELinux, `alg` 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecCtx {
    /// `sadb_x_ctx_alg`
    pub alg: u8,
    /// `sadb_x_ctx_doi`
    pub doi: u8,
    /// The context, `sadb_x_ctx_len` bytes.
    pub context: Vec<u8>,
}

impl Body for SecCtx {
    const NAME: &'static str = "sadb_x_sec_ctx";

    fn parse(r: &mut Reader<'_>) -> Result<Self, Error> {
        let alg = r.u8(Self::NAME)?;
        let doi = r.u8(Self::NAME)?;
        let len = r.u16_ne(Self::NAME)?;
        let context = r.take(usize::from(len), "sadb_x_sec_ctx context")?.to_vec();
        Ok(Self { alg, doi, context })
    }

    fn emit(&self, w: &mut Writer<'_>) {
        // Extension::emit refuses longer contexts; this cut is a fallback.
        let len = u16::try_from(self.context.len()).unwrap_or(u16::MAX);
        w.u8(self.alg);
        w.u8(self.doi);
        w.u16_ne(len);
        w.bytes(self.context.get(..usize::from(len)).unwrap_or_default());
    }
}
