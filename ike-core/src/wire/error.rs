//! The error type of the codec: small, `Copy`, and precise about where it happened.

use thiserror::Error;

/// A structure could not be parsed or emitted.
///
/// `offset` counts bytes from the start of the buffer handed to the parsing
/// function (the ISAKMP header for [`Message::parse`](super::Message::parse),
/// the first payload for [`parse_plaintext`](super::parse_plaintext), the
/// payload body for a typed view); for emission
/// it is the position in the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("{kind} at offset {offset}")]
pub struct Error {
    /// What went wrong, naming the structure.
    pub kind: ErrorKind,
    /// Where it went wrong.
    pub offset: usize,
}

/// What went wrong.  Every variant names the structure (`"Transform"`,
/// `"Proposal"`, ...) whose bytes were wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The input ended inside the named structure.
    #[error("{0} truncated")]
    Truncated(&'static str),
    /// A length field is smaller than the fixed part of its structure or
    /// larger than what encloses it.
    #[error("{what} length {length} is invalid")]
    BadLength {
        /// The structure whose length field is wrong.
        what: &'static str,
        /// The value of the length field.
        length: u32,
    },
    /// Bytes follow the end of a structure that must fill its container.
    #[error("{0} is followed by unexpected bytes")]
    TrailingBytes(&'static str),
    /// The header carries a major version other than 1 (RFC 2408 §3.1).
    #[error("unsupported ISAKMP version {major}.{minor}")]
    UnsupportedVersion {
        /// The major version nibble.
        major: u8,
        /// The minor version nibble.
        minor: u8,
    },
    /// A field has a value that makes the structure meaningless.
    #[error("{what}: {why}")]
    Invalid {
        /// The structure.
        what: &'static str,
        /// Why it is invalid.
        why: &'static str,
    },
    /// On emit: the structure does not fit its length field.
    #[error("{0} is too long to encode")]
    TooLong(&'static str),
}

impl Error {
    pub(crate) const fn new(kind: ErrorKind, offset: usize) -> Self {
        Self { kind, offset }
    }

    /// The same error with `base` added to its offset: for errors found in a
    /// sub-buffer that starts `base` bytes into the caller's buffer.
    #[must_use]
    pub const fn shifted(self, base: usize) -> Self {
        Self {
            kind: self.kind,
            offset: self.offset.saturating_add(base),
        }
    }
}
