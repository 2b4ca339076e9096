//! The checked [`Reader`] every parser walks its bytes with, and the
//! [`Writer`] that emits extensions and back-patches their lengths.
//!
//! PF_KEY integers are in host byte order (RFC 2367 §2: "all fields are in
//! host byte order" unless noted); SPIs, ports and addresses are in network
//! order. Both helpers therefore offer `*_ne` (native) and `*_be` accessors.

use super::{EmitError, Error};

/// PF_KEY counts every length in 8-byte units (RFC 2367 §2.2).
pub(crate) const UNIT: usize = 8;

/// A cursor over untrusted bytes: every read is bounds-checked and reports
/// which structure was cut short.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes }
    }

    pub(crate) fn take(&mut self, len: usize, what: &'static str) -> Result<&'a [u8], Error> {
        let (head, tail) = self
            .rest
            .split_at_checked(len)
            .ok_or(Error::Truncated(what))?;
        self.rest = tail;
        Ok(head)
    }

    pub(crate) fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], Error> {
        let bytes = self.take(N, what)?;
        bytes.try_into().map_err(|_| Error::Truncated(what))
    }

    pub(crate) fn skip(&mut self, len: usize, what: &'static str) -> Result<(), Error> {
        self.take(len, what).map(|_| ())
    }

    pub(crate) fn u8(&mut self, what: &'static str) -> Result<u8, Error> {
        Ok(u8::from_ne_bytes(self.array(what)?))
    }

    pub(crate) fn u16_ne(&mut self, what: &'static str) -> Result<u16, Error> {
        Ok(u16::from_ne_bytes(self.array(what)?))
    }

    pub(crate) fn u32_ne(&mut self, what: &'static str) -> Result<u32, Error> {
        Ok(u32::from_ne_bytes(self.array(what)?))
    }

    pub(crate) fn u64_ne(&mut self, what: &'static str) -> Result<u64, Error> {
        Ok(u64::from_ne_bytes(self.array(what)?))
    }

    pub(crate) fn u16_be(&mut self, what: &'static str) -> Result<u16, Error> {
        Ok(u16::from_be_bytes(self.array(what)?))
    }

    pub(crate) fn u32_be(&mut self, what: &'static str) -> Result<u32, Error> {
        Ok(u32::from_be_bytes(self.array(what)?))
    }

    /// Everything not read yet.
    pub(crate) fn rest(&self) -> &'a [u8] {
        self.rest
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }
}

/// Appends to a message buffer. Lengths are written by [`Writer::extension`]
/// after the body is known, so a caller cannot get them wrong.
#[derive(Debug)]
pub(crate) struct Writer<'a> {
    out: &'a mut Vec<u8>,
}

impl<'a> Writer<'a> {
    pub(crate) fn new(out: &'a mut Vec<u8>) -> Self {
        Self { out }
    }

    pub(crate) fn len(&self) -> usize {
        self.out.len()
    }

    pub(crate) fn u8(&mut self, v: u8) {
        self.out.push(v);
    }

    pub(crate) fn u16_ne(&mut self, v: u16) {
        self.out.extend_from_slice(&v.to_ne_bytes());
    }

    pub(crate) fn u32_ne(&mut self, v: u32) {
        self.out.extend_from_slice(&v.to_ne_bytes());
    }

    pub(crate) fn u64_ne(&mut self, v: u64) {
        self.out.extend_from_slice(&v.to_ne_bytes());
    }

    pub(crate) fn u16_be(&mut self, v: u16) {
        self.out.extend_from_slice(&v.to_be_bytes());
    }

    pub(crate) fn u32_be(&mut self, v: u32) {
        self.out.extend_from_slice(&v.to_be_bytes());
    }

    pub(crate) fn bytes(&mut self, v: &[u8]) {
        self.out.extend_from_slice(v);
    }

    pub(crate) fn zeros(&mut self, n: usize) {
        self.out.resize(self.out.len().saturating_add(n), 0);
    }

    /// Pads with zeros so that the bytes written since `start` are a whole
    /// number of 8-byte units.
    pub(crate) fn pad_from(&mut self, start: usize) {
        let written = self.out.len().saturating_sub(start);
        self.zeros(written.next_multiple_of(UNIT).saturating_sub(written));
    }

    /// Overwrites a `u16` (host order) at `at`, which must already be written.
    pub(crate) fn patch_u16_ne(&mut self, at: usize, v: u16) {
        if let Some(slot) = self.out.get_mut(at..at.saturating_add(2)) {
            slot.copy_from_slice(&v.to_ne_bytes());
        }
    }

    /// Writes one `sadb_ext`: its 4-byte header, the body `f` writes, zero
    /// padding to 8 bytes, and then the length in units into the header.
    pub(crate) fn extension(
        &mut self,
        ext_type: u16,
        what: &'static str,
        f: impl FnOnce(&mut Writer<'_>),
    ) -> Result<(), EmitError> {
        let start = self.len();
        self.u16_ne(0);
        self.u16_ne(ext_type);
        f(self);
        self.pad_from(start);
        let units = units(self.len().saturating_sub(start), what)?;
        self.patch_u16_ne(start, units);
        Ok(())
    }
}

/// `len` bytes as a count of 8-byte units, if it fits PF_KEY's `u16` field.
pub(crate) fn units(len: usize, what: &'static str) -> Result<u16, EmitError> {
    u16::try_from(len / UNIT).map_err(|_| EmitError::TooLong(what))
}
