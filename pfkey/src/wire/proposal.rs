//! `SADB_EXT_PROPOSAL`: `struct sadb_prop` followed by `struct sadb_comb`s
//! (RFC 2367 §2.3.8), as the kernel sends in ACQUIRE.

use super::codec::{Reader, Writer};
use super::{Body, Error};

/// `sizeof(struct sadb_comb)`.
const COMB_LEN: usize = 72;

/// The algorithm combinations the kernel would accept for an SA it asks for.
/// For policies installed through PF_KEY, Linux sends no combinations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proposal {
    /// `sadb_prop_replay`
    pub replay: u8,
    /// The combinations, most preferred first.
    pub combs: Vec<Comb>,
}

/// One `struct sadb_comb`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[allow(missing_docs)] // one field per C member, same names
pub struct Comb {
    pub auth: u8,
    pub encrypt: u8,
    pub flags: u16,
    pub auth_minbits: u16,
    pub auth_maxbits: u16,
    pub encrypt_minbits: u16,
    pub encrypt_maxbits: u16,
    pub soft_allocations: u32,
    pub hard_allocations: u32,
    pub soft_bytes: u64,
    pub hard_bytes: u64,
    pub soft_addtime: u64,
    pub hard_addtime: u64,
    pub soft_usetime: u64,
    pub hard_usetime: u64,
}

impl Comb {
    fn parse(r: &mut Reader<'_>) -> Result<Self, Error> {
        const W: &str = "sadb_comb";
        let auth = r.u8(W)?;
        let encrypt = r.u8(W)?;
        let flags = r.u16_ne(W)?;
        let auth_minbits = r.u16_ne(W)?;
        let auth_maxbits = r.u16_ne(W)?;
        let encrypt_minbits = r.u16_ne(W)?;
        let encrypt_maxbits = r.u16_ne(W)?;
        r.skip(4, W)?; // sadb_comb_reserved
        Ok(Self {
            auth,
            encrypt,
            flags,
            auth_minbits,
            auth_maxbits,
            encrypt_minbits,
            encrypt_maxbits,
            soft_allocations: r.u32_ne(W)?,
            hard_allocations: r.u32_ne(W)?,
            soft_bytes: r.u64_ne(W)?,
            hard_bytes: r.u64_ne(W)?,
            soft_addtime: r.u64_ne(W)?,
            hard_addtime: r.u64_ne(W)?,
            soft_usetime: r.u64_ne(W)?,
            hard_usetime: r.u64_ne(W)?,
        })
    }

    fn emit(&self, w: &mut Writer<'_>) {
        w.u8(self.auth);
        w.u8(self.encrypt);
        w.u16_ne(self.flags);
        w.u16_ne(self.auth_minbits);
        w.u16_ne(self.auth_maxbits);
        w.u16_ne(self.encrypt_minbits);
        w.u16_ne(self.encrypt_maxbits);
        w.u32_ne(0);
        w.u32_ne(self.soft_allocations);
        w.u32_ne(self.hard_allocations);
        w.u64_ne(self.soft_bytes);
        w.u64_ne(self.hard_bytes);
        w.u64_ne(self.soft_addtime);
        w.u64_ne(self.hard_addtime);
        w.u64_ne(self.soft_usetime);
        w.u64_ne(self.hard_usetime);
    }
}

impl Body for Proposal {
    const NAME: &'static str = "sadb_prop";

    fn parse(r: &mut Reader<'_>) -> Result<Self, Error> {
        let replay = r.u8(Self::NAME)?;
        r.skip(3, Self::NAME)?; // sadb_prop_reserved
        if !r.rest().len().is_multiple_of(COMB_LEN) {
            return Err(Error::BadLength {
                what: Self::NAME,
                len: r.rest().len(),
            });
        }
        let mut combs = Vec::with_capacity(r.rest().len() / COMB_LEN);
        while !r.is_empty() {
            combs.push(Comb::parse(r)?);
        }
        Ok(Self { replay, combs })
    }

    fn emit(&self, w: &mut Writer<'_>) {
        w.u8(self.replay);
        w.zeros(3);
        for comb in &self.combs {
            comb.emit(w);
        }
    }
}
