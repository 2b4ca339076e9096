//! `struct sadb_msg`, the 16-byte base header of every message
//! (RFC 2367 §2.1).

use super::Error;
use super::codec::UNIT;
use super::constants::PF_KEY_V2;
use super::enums::{MessageType, SaType};

/// `sizeof(struct sadb_msg)`.
pub const HEADER_LEN: usize = 16;

mod field {
    use core::ops::Range;
    pub(super) const VERSION: usize = 0;
    pub(super) const TYPE: usize = 1;
    pub(super) const ERRNO: usize = 2;
    pub(super) const SATYPE: usize = 3;
    pub(super) const LEN: Range<usize> = 4..6;
    pub(super) const RESERVED: Range<usize> = 6..8;
    pub(super) const SEQ: Range<usize> = 8..12;
    pub(super) const PID: Range<usize> = 12..16;
}

/// A read-only view of a `sadb_msg` at the start of `buffer`.
///
/// After [`SadbMsg::new_checked`] succeeds, no accessor can panic: the
/// buffer holds at least the header and the whole declared message.
#[derive(Debug, Clone, Copy)]
pub struct SadbMsg<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> SadbMsg<T> {
    /// Wraps `buffer` without checking it; accessors then return 0 for
    /// fields past its end.
    pub fn new_unchecked(buffer: T) -> Self {
        Self { buffer }
    }

    /// Wraps `buffer` after [`SadbMsg::check_len`].
    pub fn new_checked(buffer: T) -> Result<Self, Error> {
        let view = Self::new_unchecked(buffer);
        view.check_len()?;
        Ok(view)
    }

    /// Checks that the header is complete, its declared length covers at
    /// least the header, and the buffer holds exactly that many bytes.
    pub fn check_len(&self) -> Result<(), Error> {
        let actual = self.buffer.as_ref().len();
        if actual < HEADER_LEN {
            return Err(Error::Truncated("sadb_msg"));
        }
        let declared = self.total_len();
        if declared < HEADER_LEN {
            return Err(Error::BadLength {
                what: "sadb_msg",
                len: declared,
            });
        }
        if declared != actual {
            return Err(Error::LengthMismatch { declared, actual });
        }
        Ok(())
    }

    fn byte(&self, at: usize) -> u8 {
        self.buffer.as_ref().get(at).copied().unwrap_or(0)
    }

    fn bytes<const N: usize>(&self, range: core::ops::Range<usize>) -> [u8; N] {
        self.buffer
            .as_ref()
            .get(range)
            .and_then(|b| b.try_into().ok())
            .unwrap_or([0; N])
    }

    /// `sadb_msg_version`
    pub fn version(&self) -> u8 {
        self.byte(field::VERSION)
    }

    /// `sadb_msg_type`
    pub fn msg_type(&self) -> MessageType {
        self.byte(field::TYPE).into()
    }

    /// `sadb_msg_errno`: non-zero in a kernel reply that reports a failure.
    pub fn errno(&self) -> u8 {
        self.byte(field::ERRNO)
    }

    /// `sadb_msg_satype`
    pub fn satype(&self) -> SaType {
        self.byte(field::SATYPE).into()
    }

    /// `sadb_msg_len` in 8-byte units.
    pub fn len_units(&self) -> u16 {
        u16::from_ne_bytes(self.bytes(field::LEN))
    }

    /// `sadb_msg_len` in bytes.
    pub fn total_len(&self) -> usize {
        usize::from(self.len_units()).saturating_mul(UNIT)
    }

    /// `sadb_msg_reserved`
    pub fn reserved(&self) -> u16 {
        u16::from_ne_bytes(self.bytes(field::RESERVED))
    }

    /// `sadb_msg_seq`
    pub fn seq(&self) -> u32 {
        u32::from_ne_bytes(self.bytes(field::SEQ))
    }

    /// `sadb_msg_pid`
    pub fn pid(&self) -> u32 {
        u32::from_ne_bytes(self.bytes(field::PID))
    }

    /// The extensions: the bytes after the header up to `sadb_msg_len`.
    pub fn extensions(&self) -> &[u8] {
        self.buffer
            .as_ref()
            .get(HEADER_LEN..self.total_len())
            .unwrap_or_default()
    }
}

/// The owned form of `sadb_msg`. The version is always `PF_KEY_V2` and the
/// length is computed on emit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// `sadb_msg_type`
    pub msg_type: MessageType,
    /// `sadb_msg_errno`
    pub errno: u8,
    /// `sadb_msg_satype`
    pub satype: SaType,
    /// `sadb_msg_reserved`: zero in requests. Linux's SPD replies carry the
    /// policy's reference count here, so it is kept for exact re-emission.
    pub reserved: u16,
    /// `sadb_msg_seq`: chosen by the sender; the kernel's replies echo it
    /// (except DUMP replies, numbered 1, 2, …, 0).
    pub seq: u32,
    /// `sadb_msg_pid`: the sender's id; 0 in kernel-initiated messages.
    pub pid: u32,
}

impl Header {
    /// Parses the fields of a checked view, rejecting versions other than 2.
    pub fn parse<T: AsRef<[u8]>>(view: &SadbMsg<T>) -> Result<Self, Error> {
        if view.version() != PF_KEY_V2 {
            return Err(Error::Version(view.version()));
        }
        Ok(Self {
            msg_type: view.msg_type(),
            errno: view.errno(),
            satype: view.satype(),
            reserved: view.reserved(),
            seq: view.seq(),
            pid: view.pid(),
        })
    }

    /// Writes the 16 bytes of the header with `len_units` as `sadb_msg_len`.
    pub(crate) fn emit(&self, out: &mut Vec<u8>, len_units: u16) {
        out.push(PF_KEY_V2);
        out.push(self.msg_type.into());
        out.push(self.errno);
        out.push(self.satype.into());
        out.extend_from_slice(&len_units.to_ne_bytes());
        out.extend_from_slice(&self.reserved.to_ne_bytes());
        out.extend_from_slice(&self.seq.to_ne_bytes());
        out.extend_from_slice(&self.pid.to_ne_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // 001-send-FLUSH.hex from a Linux 6.1 guest.
    const FLUSH: [u8; 16] = [
        0x02, 0x09, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x65, 0x00, 0x00, 0x00, 0xe9, 0x00, 0x00,
        0x00,
    ];

    #[test]
    fn view_reads_every_field() {
        let view = SadbMsg::new_checked(&FLUSH[..]).unwrap();
        assert_eq!(view.version(), 2);
        assert_eq!(view.msg_type(), MessageType::Flush);
        assert_eq!(view.errno(), 0);
        assert_eq!(view.satype(), SaType::Unspec);
        assert_eq!(view.len_units(), 2);
        assert_eq!(view.seq(), 101);
        assert_eq!(view.pid(), 233);
        assert!(view.extensions().is_empty());
    }

    #[test]
    fn check_len_rejects_bad_lengths() {
        assert_eq!(
            SadbMsg::new_checked(&FLUSH[..15]).unwrap_err(),
            Error::Truncated("sadb_msg")
        );
        let mut zero_len = FLUSH;
        zero_len[4] = 0; // the kernel answers this with EMSGSIZE
        assert!(matches!(
            SadbMsg::new_checked(&zero_len[..]),
            Err(Error::BadLength { .. })
        ));
        let mut long = FLUSH;
        long[4] = 3;
        assert_eq!(
            SadbMsg::new_checked(&long[..]).unwrap_err(),
            Error::LengthMismatch {
                declared: 24,
                actual: 16
            }
        );
    }
}
