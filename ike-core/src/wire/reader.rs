//! A checked cursor over untrusted bytes (in the style of rustls' `Reader`):
//! every read says which structure it belongs to, so a short buffer becomes
//! `Truncated("Transform")` with the offset where it happened.

use super::error::{Error, ErrorKind};

/// Reads big-endian fields from a byte slice without ever indexing it.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    rest: &'a [u8],
    /// Offset of `rest` from the start of the caller's outermost buffer.
    offset: usize,
}

impl<'a> Reader<'a> {
    /// A reader over `buf`, whose first byte is at `offset` in the caller's
    /// buffer (used only for error positions).
    pub(crate) const fn new(buf: &'a [u8], offset: usize) -> Self {
        Self { rest: buf, offset }
    }

    /// Offset of the next unread byte.
    pub(crate) const fn offset(&self) -> usize {
        self.offset
    }

    pub(crate) const fn remaining(&self) -> usize {
        self.rest.len()
    }

    pub(crate) const fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// The unread bytes, consuming them.
    pub(crate) fn rest(&mut self) -> &'a [u8] {
        let rest = self.rest;
        self.offset = self.offset.saturating_add(rest.len());
        self.rest = &[];
        rest
    }

    /// The next `n` bytes of structure `what`.
    pub(crate) fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], Error> {
        let (head, tail) = self
            .rest
            .split_at_checked(n)
            .ok_or(Error::new(ErrorKind::Truncated(what), self.offset))?;
        self.rest = tail;
        self.offset = self.offset.saturating_add(n);
        Ok(head)
    }

    pub(crate) fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], Error> {
        let at = self.offset;
        let bytes = self.take(N, what)?;
        bytes
            .try_into()
            .map_err(|_| Error::new(ErrorKind::Truncated(what), at))
    }

    pub(crate) fn u8(&mut self, what: &'static str) -> Result<u8, Error> {
        Ok(u8::from_be_bytes(self.array(what)?))
    }

    pub(crate) fn u16(&mut self, what: &'static str) -> Result<u16, Error> {
        Ok(u16::from_be_bytes(self.array(what)?))
    }

    pub(crate) fn u32(&mut self, what: &'static str) -> Result<u32, Error> {
        Ok(u32::from_be_bytes(self.array(what)?))
    }

    /// A reader over the next `n` bytes, consuming them here.
    pub(crate) fn sub(&mut self, n: usize, what: &'static str) -> Result<Self, Error> {
        let offset = self.offset;
        let bytes = self.take(n, what)?;
        Ok(Self::new(bytes, offset))
    }

    /// Fails with `TrailingBytes(what)` unless everything was read.
    pub(crate) fn expect_end(&self, what: &'static str) -> Result<(), Error> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(Error::new(ErrorKind::TrailingBytes(what), self.offset))
        }
    }
}

/// Emission helpers: big-endian fields and back-patched length fields.
pub(crate) mod write {
    use super::{Error, ErrorKind};

    /// Reserves a 2-byte length field; returns its position for [`patch_u16`].
    pub(crate) fn placeholder_u16(out: &mut Vec<u8>) -> usize {
        let at = out.len();
        out.extend_from_slice(&[0, 0]);
        at
    }

    /// Writes `out.len() - start` into the 2-byte field at `at`.
    pub(crate) fn patch_u16(
        out: &mut [u8],
        at: usize,
        start: usize,
        what: &'static str,
    ) -> Result<(), Error> {
        let len = out.len().saturating_sub(start);
        let value = u16::try_from(len).map_err(|_| Error::new(ErrorKind::TooLong(what), start))?;
        if let Some(slot) = out.get_mut(at..at.saturating_add(2)) {
            slot.copy_from_slice(&value.to_be_bytes());
        }
        Ok(())
    }

    /// A count or size that must fit in a `u8` field.
    pub(crate) fn u8_len(n: usize, what: &'static str, at: usize) -> Result<u8, Error> {
        u8::try_from(n).map_err(|_| Error::new(ErrorKind::TooLong(what), at))
    }

    /// A count or size that must fit in a `u16` field.
    pub(crate) fn u16_len(n: usize, what: &'static str, at: usize) -> Result<u16, Error> {
        u16::try_from(n).map_err(|_| Error::new(ErrorKind::TooLong(what), at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_bounded_and_report_position() {
        let mut r = Reader::new(&[1, 2, 3, 4, 5], 10);
        assert_eq!(r.u16("A").unwrap(), 0x0102);
        assert_eq!(r.offset(), 12);
        let err = r.u32("B").unwrap_err();
        assert_eq!(err, Error::new(ErrorKind::Truncated("B"), 12));
        let mut sub = r.sub(2, "C").unwrap();
        assert_eq!(sub.offset(), 12);
        assert_eq!(sub.u8("C").unwrap(), 3);
        assert_eq!(sub.expect_end("C").unwrap_err().offset, 13);
        assert_eq!(r.rest(), &[5]);
        assert!(r.is_empty());
    }

    #[test]
    fn length_patch_writes_the_span() {
        let mut out = vec![0xaa];
        let at = write::placeholder_u16(&mut out);
        out.extend_from_slice(&[1, 2, 3]);
        write::patch_u16(&mut out, at, 0, "X").unwrap();
        assert_eq!(out, [0xaa, 0, 6, 1, 2, 3]);
    }
}
