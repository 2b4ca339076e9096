//! `SADB_EXT_SUPPORTED_{AUTH,ENCRYPT}`: `struct sadb_supported` followed by
//! `struct sadb_alg`s (RFC 2367 §2.3.7), the REGISTER reply.

use super::codec::{Reader, Writer};
use super::{Body, Error};

/// `sizeof(struct sadb_alg)`.
const ALG_LEN: usize = 8;

/// The algorithms of one kind that the kernel supports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Supported {
    /// One entry per algorithm.
    pub algs: Vec<Alg>,
}

/// One `struct sadb_alg`. Linux reports `ivlen` 8 for every block cipher,
/// AES included: do not rely on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Alg {
    /// `sadb_alg_id`: an `SADB_AALG_*` or `SADB_EALG_*` value.
    pub id: u8,
    /// `sadb_alg_ivlen`
    pub ivlen: u8,
    /// `sadb_alg_minbits`
    pub minbits: u16,
    /// `sadb_alg_maxbits`
    pub maxbits: u16,
}

impl Body for Supported {
    const NAME: &'static str = "sadb_supported";

    fn parse(r: &mut Reader<'_>) -> Result<Self, Error> {
        r.skip(4, Self::NAME)?; // sadb_supported_reserved
        let mut algs = Vec::with_capacity(r.rest().len() / ALG_LEN);
        while !r.is_empty() {
            let id = r.u8("sadb_alg")?;
            let ivlen = r.u8("sadb_alg")?;
            let minbits = r.u16_ne("sadb_alg")?;
            let maxbits = r.u16_ne("sadb_alg")?;
            r.skip(2, "sadb_alg")?; // sadb_alg_reserved
            algs.push(Alg {
                id,
                ivlen,
                minbits,
                maxbits,
            });
        }
        Ok(Self { algs })
    }

    fn emit(&self, w: &mut Writer<'_>) {
        w.u32_ne(0);
        for alg in &self.algs {
            w.u8(alg.id);
            w.u8(alg.ivlen);
            w.u16_ne(alg.minbits);
            w.u16_ne(alg.maxbits);
            w.u16_ne(0);
        }
    }
}
