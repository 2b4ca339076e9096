//! The fixed 28-byte ISAKMP header (RFC 2408 §3.1).
//!
//! ```text
//!  0..8   Initiator Cookie
//!  8..16  Responder Cookie
//! 16      Next Payload
//! 17      MjVer (4 bits) | MnVer (4 bits)
//! 18      Exchange Type
//! 19      Flags (E = 1, C = 2, A = 4)
//! 20..24  Message ID
//! 24..28  Length (of the whole message, header included)
//! ```

use core::fmt;

use super::error::{Error, ErrorKind};
use super::payload::PayloadType;
use super::reader::Reader;

/// An ISAKMP cookie (RFC 2408 §2.5.3): 8 bytes chosen by each side; the
/// responder's is zero in the first message.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Cookie(pub [u8; 8]);

impl Cookie {
    /// The all-zero cookie that stands for "not chosen yet".
    pub const ZERO: Self = Self([0; 8]);

    /// Whether this is the all-zero cookie.
    #[must_use]
    pub fn is_zero(&self) -> bool {
        self.0 == [0; 8]
    }
}

impl fmt::Debug for Cookie {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Cookie {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// The Message ID (RFC 2408 §3.1): zero in Phase 1, random per Phase 2 or
/// Informational exchange.  Kept as the wire bytes read big-endian.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct MessageId(pub u32);

impl MessageId {
    /// The bytes as they appear on the wire (and in the Quick Mode hashes).
    #[must_use]
    pub const fn to_bytes(self) -> [u8; 4] {
        self.0.to_be_bytes()
    }
}

impl fmt::Debug for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:08x}", self.0)
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:08x}", self.0)
    }
}

wire_enum! {
    /// Exchange Type (RFC 2408 §3.1, RFC 2409 §9; Transaction from the
    /// Mode-Config draft).
    pub struct ExchangeType(u8) {
        NONE = 0 => "NONE",
        BASE = 1 => "Base",
        MAIN_MODE = 2 => "Identity Protection (Main Mode)",
        AUTHENTICATION_ONLY = 3 => "Authentication Only",
        AGGRESSIVE = 4 => "Aggressive",
        INFORMATIONAL = 5 => "Informational",
        TRANSACTION = 6 => "Transaction (Mode-Config)",
        QUICK_MODE = 32 => "Quick Mode",
        NEW_GROUP_MODE = 33 => "New Group Mode",
    }
}

/// The header flags (RFC 2408 §3.1).  Bits without a meaning are kept.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Flags(pub u8);

impl Flags {
    /// E: everything after the header is encrypted.
    pub const ENCRYPTION: Self = Self(0x01);
    /// C: commit bit (RFC 2408 §3.1, RFC 2409 §5.5 CONNECTED notify).
    pub const COMMIT: Self = Self(0x02);
    /// A: authentication only, payloads are not encrypted.
    pub const AUTHENTICATION_ONLY: Self = Self(0x04);
    /// No flags.
    pub const NONE: Self = Self(0);

    /// Whether every bit of `other` is set.
    #[must_use]
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// These flags with the bits of `other` added.
    #[must_use]
    pub const fn with(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// These flags with the bits of `other` cleared.
    #[must_use]
    pub const fn without(self, other: Self) -> Self {
        Self(self.0 & !other.0)
    }

    /// Whether the E (encryption) bit is set.
    #[must_use]
    pub const fn encrypted(self) -> bool {
        self.contains(Self::ENCRYPTION)
    }
}

impl fmt::Debug for Flags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names = Vec::new();
        for (flag, name) in [
            (Self::ENCRYPTION, "E"),
            (Self::COMMIT, "C"),
            (Self::AUTHENTICATION_ONLY, "A"),
        ] {
            if self.contains(flag) {
                names.push(name.to_owned());
            }
        }
        let other = self.0 & !0x07;
        if other != 0 {
            names.push(format!("{other:#04x}"));
        }
        if names.is_empty() {
            f.write_str("none")
        } else {
            f.write_str(&names.join("|"))
        }
    }
}

impl fmt::Display for Flags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// The fields of the ISAKMP header that describe the exchange.  The Next
/// Payload and Length fields are not here: [`Message`](super::Message)
/// derives them from its body when it is emitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Header {
    /// CKY-I.
    pub initiator_cookie: Cookie,
    /// CKY-R (zero in the first message of an exchange).
    pub responder_cookie: Cookie,
    /// The version byte: major in the high nibble, minor in the low one.
    /// Parsing accepts major version 1 only; IKEv1 is 0x10.
    pub version: u8,
    /// The exchange type.
    pub exchange_type: ExchangeType,
    /// E, C, A flags.
    pub flags: Flags,
    /// The Message ID.
    pub message_id: MessageId,
}

/// A header as read from the wire, with the two fields that [`Header`]
/// leaves to the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParsedHeader {
    /// The exchange fields.
    pub header: Header,
    /// Type of the first payload.
    pub next_payload: PayloadType,
    /// The Length field: the whole message, header included.
    pub length: u32,
}

impl Header {
    /// Size of the header on the wire.
    pub const LEN: usize = 28;
    /// The version byte of ISAKMP 1.0.
    pub const VERSION_1_0: u8 = 0x10;
    /// Offset of the 4-byte Length field.
    pub const LENGTH_OFFSET: usize = 24;

    /// A version-1.0 header with no flags.
    #[must_use]
    pub const fn new(
        initiator_cookie: Cookie,
        responder_cookie: Cookie,
        exchange_type: ExchangeType,
        message_id: MessageId,
    ) -> Self {
        Self {
            initiator_cookie,
            responder_cookie,
            version: Self::VERSION_1_0,
            exchange_type,
            flags: Flags::NONE,
            message_id,
        }
    }

    /// Major version (high nibble).
    #[must_use]
    pub const fn major_version(&self) -> u8 {
        self.version >> 4
    }

    /// Minor version (low nibble).
    #[must_use]
    pub const fn minor_version(&self) -> u8 {
        self.version & 0x0f
    }

    /// Parses the first 28 bytes of `bytes`.  The length field is returned as
    /// read; checking it against the datagram is the caller's business
    /// ([`Message::parse`](super::Message::parse) does).
    pub fn parse(bytes: &[u8]) -> Result<ParsedHeader, Error> {
        let mut r = Reader::new(bytes, 0);
        Self::read(&mut r)
    }

    pub(crate) fn read(r: &mut Reader<'_>) -> Result<ParsedHeader, Error> {
        const WHAT: &str = "ISAKMP header";
        let initiator_cookie = Cookie(r.array(WHAT)?);
        let responder_cookie = Cookie(r.array(WHAT)?);
        let next_payload = PayloadType(r.u8(WHAT)?);
        let version_at = r.offset();
        let version = r.u8(WHAT)?;
        if version >> 4 != 1 {
            return Err(Error::new(
                ErrorKind::UnsupportedVersion {
                    major: version >> 4,
                    minor: version & 0x0f,
                },
                version_at,
            ));
        }
        let exchange_type = ExchangeType(r.u8(WHAT)?);
        let flags = Flags(r.u8(WHAT)?);
        let message_id = MessageId(r.u32(WHAT)?);
        let length = r.u32(WHAT)?;
        Ok(ParsedHeader {
            header: Self {
                initiator_cookie,
                responder_cookie,
                version,
                exchange_type,
                flags,
                message_id,
            },
            next_payload,
            length,
        })
    }

    /// Appends the 28 header bytes with the given Next Payload and Length.
    pub fn emit(&self, next_payload: PayloadType, length: u32, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.initiator_cookie.0);
        out.extend_from_slice(&self.responder_cookie.0);
        out.push(next_payload.0);
        out.push(self.version);
        out.push(self.exchange_type.0);
        out.push(self.flags.0);
        out.extend_from_slice(&self.message_id.to_bytes());
        out.extend_from_slice(&length.to_be_bytes());
    }
}

/// Sets the header's Length field to the length of `message` (header at the
/// start).  For callers that assemble a message themselves, e.g. header +
/// ciphertext.
pub fn patch_length(message: &mut [u8]) -> Result<(), Error> {
    let len = u32::try_from(message.len())
        .map_err(|_| Error::new(ErrorKind::TooLong("ISAKMP message"), 0))?;
    let field = message
        .get_mut(Header::LENGTH_OFFSET..Header::LEN)
        .ok_or(Error::new(ErrorKind::Truncated("ISAKMP header"), 0))?;
    field.copy_from_slice(&len.to_be_bytes());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    // RUB-NDS Main Mode PSK message 2 (responder's first reply), header only.
    const MM2_HEADER: &str = "59cedc5dcea558fe9e16984236445257011002000000000000000074";

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len() / 2)
            .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
            .collect()
    }

    fn expected() -> Header {
        Header {
            initiator_cookie: Cookie([0x59, 0xce, 0xdc, 0x5d, 0xce, 0xa5, 0x58, 0xfe]),
            responder_cookie: Cookie([0x9e, 0x16, 0x98, 0x42, 0x36, 0x44, 0x52, 0x57]),
            version: 0x10,
            exchange_type: ExchangeType::MAIN_MODE,
            flags: Flags::NONE,
            message_id: MessageId(0),
        }
    }

    #[test]
    fn header_known_answer_both_directions() {
        let bytes = hex(&MM2_HEADER[..56]);
        let parsed = Header::parse(&bytes).unwrap();
        assert_eq!(parsed.header, expected());
        assert_eq!(parsed.next_payload, PayloadType::SA);
        assert_eq!(parsed.length, 0x74);
        let mut out = Vec::new();
        expected().emit(PayloadType::SA, 0x74, &mut out);
        assert_eq!(out, bytes);
    }

    #[test]
    fn major_version_2_is_refused() {
        let mut bytes = hex(&MM2_HEADER[..56]);
        bytes[17] = 0x20;
        let err = Header::parse(&bytes).unwrap_err();
        assert_eq!(
            err,
            Error::new(ErrorKind::UnsupportedVersion { major: 2, minor: 0 }, 17)
        );
    }

    #[test]
    fn short_header_is_truncated() {
        let bytes = hex(&MM2_HEADER[..54]);
        let err = Header::parse(&bytes).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Truncated("ISAKMP header"));
        assert_eq!(err.offset, 24);
    }

    #[test]
    fn flags_keep_unknown_bits() {
        let f = Flags(0x83);
        assert!(f.encrypted());
        assert!(f.contains(Flags::COMMIT));
        assert_eq!(format!("{f}"), "E|C|0x80");
        assert_eq!(f.without(Flags::ENCRYPTION), Flags(0x82));
    }

    #[test]
    fn length_patch_sets_the_total() {
        let mut msg = hex(&MM2_HEADER[..56]);
        msg.extend_from_slice(&[0; 12]);
        patch_length(&mut msg).unwrap();
        assert_eq!(&msg[24..28], &[0, 0, 0, 40]);
        assert!(patch_length(&mut [0u8; 27]).is_err());
    }
}
