//! `SADB_EXT_LIFETIME_{CURRENT,HARD,SOFT}`: `struct sadb_lifetime`
//! (RFC 2367 §2.3.2).

use super::codec::{Reader, Writer};
use super::{Body, Error};

/// Limits (hard, soft) or usage so far (current) of an SA or policy.
/// Times are seconds; in CURRENT they are absolute (Unix time).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Lifetime {
    /// `sadb_lifetime_allocations`
    pub allocations: u32,
    /// `sadb_lifetime_bytes`
    pub bytes: u64,
    /// `sadb_lifetime_addtime`: seconds after creation.
    pub addtime: u64,
    /// `sadb_lifetime_usetime`: seconds after first use.
    pub usetime: u64,
}

impl Lifetime {
    /// A lifetime limited by time since creation only.
    pub fn seconds(addtime: u64) -> Self {
        Self {
            addtime,
            ..Self::default()
        }
    }
}

impl Body for Lifetime {
    const NAME: &'static str = "sadb_lifetime";

    fn parse(r: &mut Reader<'_>) -> Result<Self, Error> {
        Ok(Self {
            allocations: r.u32_ne(Self::NAME)?,
            bytes: r.u64_ne(Self::NAME)?,
            addtime: r.u64_ne(Self::NAME)?,
            usetime: r.u64_ne(Self::NAME)?,
        })
    }

    fn emit(&self, w: &mut Writer<'_>) {
        w.u32_ne(self.allocations);
        w.u64_ne(self.bytes);
        w.u64_ne(self.addtime);
        w.u64_ne(self.usetime);
    }
}
