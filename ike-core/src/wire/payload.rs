//! The generic payload chain (RFC 2408 §3.2): every payload starts with
//!
//! ```text
//! 0      Next Payload
//! 1      RESERVED
//! 2..4   Payload Length (this header included)
//! ```
//!
//! A [`Payload`] keeps its type and its body (the bytes after these four)
//! exactly as received: IKEv1 hashes are computed over bodies as received
//! (`SAi_b`, `IDii_b`, RFC 2409 §5), and typed views are decoded from the
//! body on demand.

use super::error::{Error, ErrorKind};
use super::reader::{Reader, write};

wire_enum! {
    /// Next Payload / payload type (RFC 2408 §3.1; NAT-T RFC 3947 §3 and its
    /// drafts; GDOI RFC 3547; Cisco/strongSwan IKE fragmentation).
    pub struct PayloadType(u8) {
        NONE = 0 => "NONE",
        SA = 1 => "SA",
        PROPOSAL = 2 => "P",
        TRANSFORM = 3 => "T",
        KEY_EXCHANGE = 4 => "KE",
        IDENTIFICATION = 5 => "ID",
        CERTIFICATE = 6 => "CERT",
        CERTIFICATE_REQUEST = 7 => "CR",
        HASH = 8 => "HASH",
        SIGNATURE = 9 => "SIG",
        NONCE = 10 => "NONCE",
        NOTIFICATION = 11 => "N",
        DELETE = 12 => "D",
        VENDOR_ID = 13 => "VID",
        ATTRIBUTE = 14 => "ATTR",
        GDOI_SA_KEK = 15 => "SAK",
        GDOI_SA_TEK = 16 => "SAT",
        GDOI_KEY_DOWNLOAD = 17 => "KD",
        GDOI_SEQUENCE = 18 => "SEQ",
        GDOI_PROOF_OF_POSSESSION = 19 => "POP",
        NAT_D = 20 => "NAT-D",
        NAT_OA = 21 => "NAT-OA",
        NAT_D_DRAFT = 130 => "NAT-D (draft)",
        NAT_OA_DRAFT = 131 => "NAT-OA (draft)",
        FRAGMENT = 132 => "FRAG",
    }
}

impl PayloadType {
    /// The structure name used in errors about a payload of this type.
    #[must_use]
    pub const fn what(self) -> &'static str {
        match self {
            Self::SA => "SA payload",
            Self::PROPOSAL => "Proposal payload",
            Self::TRANSFORM => "Transform payload",
            Self::KEY_EXCHANGE => "KE payload",
            Self::IDENTIFICATION => "ID payload",
            Self::CERTIFICATE => "CERT payload",
            Self::CERTIFICATE_REQUEST => "CR payload",
            Self::HASH => "HASH payload",
            Self::SIGNATURE => "SIG payload",
            Self::NONCE => "NONCE payload",
            Self::NOTIFICATION => "Notification payload",
            Self::DELETE => "Delete payload",
            Self::VENDOR_ID => "Vendor ID payload",
            Self::ATTRIBUTE => "Attribute payload",
            Self::NAT_D | Self::NAT_D_DRAFT => "NAT-D payload",
            Self::NAT_OA | Self::NAT_OA_DRAFT => "NAT-OA payload",
            Self::FRAGMENT => "Fragment payload",
            _ => "payload",
        }
    }
}

/// One payload of a chain: its type and its body as received.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Payload {
    /// The payload type (given by the previous payload's Next Payload field,
    /// or by the header for the first one).
    pub ty: PayloadType,
    /// Everything after the 4-byte generic header.
    pub body: Vec<u8>,
}

impl core::fmt::Debug for Payload {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Payload")
            .field("ty", &self.ty)
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// A payload body with a typed form: how to read it from, and write it to,
/// the bytes after the generic payload header.
pub trait PayloadBody: Sized {
    /// The payload type this body is normally sent as.
    const TYPE: PayloadType;

    /// Parses a body.  Error offsets count from the first body byte.
    fn parse_body(body: &[u8]) -> Result<Self, Error>;

    /// Appends the body bytes.
    fn emit_body(&self, out: &mut Vec<u8>) -> Result<(), Error>;

    /// The body bytes.
    fn to_body(&self) -> Result<Vec<u8>, Error> {
        let mut out = Vec::new();
        self.emit_body(&mut out)?;
        Ok(out)
    }

    /// A [`Payload`] of type [`Self::TYPE`] carrying this body.
    fn to_payload(&self) -> Result<Payload, Error> {
        Payload::from_body(Self::TYPE, self)
    }
}

impl Payload {
    /// Size of the generic payload header.
    pub const HEADER_LEN: usize = 4;
    /// Largest body that fits the 16-bit Payload Length.
    pub const MAX_BODY_LEN: usize = u16::MAX as usize - Self::HEADER_LEN;

    /// A payload with the given raw body.
    #[must_use]
    pub const fn new(ty: PayloadType, body: Vec<u8>) -> Self {
        Self { ty, body }
    }

    /// A payload of type `ty` whose body is `body` encoded.  Use this for the
    /// types that have two numbers (NAT-D 20 or 130, NAT-OA 21 or 131).
    pub fn from_body<T: PayloadBody>(ty: PayloadType, body: &T) -> Result<Self, Error> {
        let body = body.to_body()?;
        if body.len() > Self::MAX_BODY_LEN {
            return Err(Error::new(ErrorKind::TooLong(ty.what()), 0));
        }
        Ok(Self { ty, body })
    }

    /// Parses the body as `T`, with error offsets relative to the body.
    pub fn parse_as<T: PayloadBody>(&self) -> Result<T, Error> {
        T::parse_body(&self.body)
    }

    /// Length of this payload on the wire, generic header included.
    #[must_use]
    pub const fn wire_len(&self) -> usize {
        self.body.len().saturating_add(Self::HEADER_LEN)
    }

    /// Appends this payload with `next` in its Next Payload field.
    pub fn emit(&self, next: PayloadType, out: &mut Vec<u8>) -> Result<(), Error> {
        let len = write::u16_len(self.wire_len(), self.ty.what(), out.len())?;
        out.push(next.0);
        out.push(0);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&self.body);
        Ok(())
    }
}

/// Appends `payloads` as a chain (each Next Payload naming the following
/// payload's type, the last one NONE) and returns the type of the first,
/// which goes into the ISAKMP header (NONE for an empty chain).  This is the
/// plaintext to pad and encrypt for an encrypted message.
pub fn emit_chain(payloads: &[Payload], out: &mut Vec<u8>) -> Result<PayloadType, Error> {
    let mut iter = payloads.iter().peekable();
    while let Some(p) = iter.next() {
        let next = iter.peek().map_or(PayloadType::NONE, |n| n.ty);
        p.emit(next, out)?;
    }
    Ok(payloads.first().map_or(PayloadType::NONE, |p| p.ty))
}

/// A payload chain parsed from a buffer, with the positions of its payloads
/// so that hashes over "the rest of the message" can use the bytes exactly as
/// received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedChain<'a> {
    /// The payloads in order.
    pub payloads: Vec<Payload>,
    /// Where each payload (its generic header) starts in `chain`.
    pub starts: Vec<usize>,
    /// The bytes of the chain itself, padding excluded.
    pub chain: &'a [u8],
    /// The bytes after the last payload: encryption padding for a decrypted
    /// body, empty for an unencrypted message.
    pub padding: &'a [u8],
}

impl<'a> ParsedChain<'a> {
    /// The received bytes of every payload after the first payload of type
    /// `ty`, generic headers included, padding excluded: what the Quick Mode
    /// HASH(1)/HASH(2) and the Informational HASH(1) are computed over
    /// (RFC 2409 §5.5, §5.7).  `None` if there is no payload of type `ty`.
    #[must_use]
    pub fn bytes_after(&self, ty: PayloadType) -> Option<&'a [u8]> {
        let index = self.payloads.iter().position(|p| p.ty == ty)?;
        let start = self
            .starts
            .get(index.saturating_add(1))
            .copied()
            .unwrap_or(self.chain.len());
        self.chain.get(start..)
    }

    /// The received bytes of payload `index`, generic header included.
    #[must_use]
    pub fn payload_bytes(&self, index: usize) -> Option<&'a [u8]> {
        let start = *self.starts.get(index)?;
        let end = self
            .starts
            .get(index.saturating_add(1))
            .copied()
            .unwrap_or(self.chain.len());
        self.chain.get(start..end)
    }
}

/// What may follow the payload whose Next Payload is NONE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AfterChain {
    /// Nothing: the chain must fill its buffer (an unencrypted message).
    Nothing,
    /// Encryption padding (a decrypted message body).
    Padding,
}

/// Reads the 4-byte generic header shared by payloads and the nested
/// Proposal / Transform structures, and checks its length against both the
/// structure's fixed part (`min_len`, header included) and what remains.
/// Returns Next Payload, the structure's offset and a reader over the rest
/// of the structure.
pub(crate) fn read_generic_header<'a>(
    r: &mut Reader<'a>,
    what: &'static str,
    min_len: usize,
) -> Result<(u8, usize, Reader<'a>), Error> {
    let start = r.offset();
    let next = r.u8(what)?;
    let _reserved = r.u8(what)?;
    let length_at = r.offset();
    let length = r.u16(what)?;
    let rest = usize::from(length)
        .checked_sub(Payload::HEADER_LEN)
        .filter(|&n| usize::from(length) >= min_len && n <= r.remaining())
        .ok_or(Error::new(
            ErrorKind::BadLength {
                what,
                length: u32::from(length),
            },
            length_at,
        ))?;
    let body = r.sub(rest, what)?;
    Ok((next, start, body))
}

/// Walks the chain in `bytes` starting with a payload of type `first`.
/// Every payload length is checked against what remains before it is used;
/// each iteration consumes at least 4 bytes, so the walk is linear and ends.
/// Error offsets are `base` plus the position in `bytes`.
pub(crate) fn read_chain(
    first: PayloadType,
    bytes: &[u8],
    base: usize,
    after: AfterChain,
) -> Result<ParsedChain<'_>, Error> {
    let mut r = Reader::new(bytes, base);
    let mut payloads = Vec::new();
    let mut starts = Vec::new();
    let mut ty = first;
    while ty != PayloadType::NONE {
        let what = ty.what();
        let (next, start, mut body) = read_generic_header(&mut r, what, Payload::HEADER_LEN)?;
        let body = body.rest();
        payloads.push(Payload::new(ty, body.to_vec()));
        starts.push(start.saturating_sub(base));
        ty = PayloadType(next);
    }
    let chain_len = r.offset().saturating_sub(base);
    let (chain, padding) = bytes.split_at_checked(chain_len).unwrap_or((bytes, &[]));
    if after == AfterChain::Nothing && !padding.is_empty() {
        return Err(Error::new(
            ErrorKind::TrailingBytes("last payload (Next Payload NONE)"),
            r.offset(),
        ));
    }
    Ok(ParsedChain {
        payloads,
        starts,
        chain,
        padding,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain_bytes() -> Vec<u8> {
        // NONCE "abcd" then VID 09002689dfd6b712 (XAUTH), as in RUB-NDS MM2.
        let mut v = vec![0x0d, 0, 0, 8, b'a', b'b', b'c', b'd'];
        v.extend_from_slice(&[0, 0, 0, 12, 0x09, 0x00, 0x26, 0x89, 0xdf, 0xd6, 0xb7, 0x12]);
        v
    }

    #[test]
    fn chain_known_answer_both_directions() {
        let bytes = chain_bytes();
        let parsed = read_chain(PayloadType::NONCE, &bytes, 0, AfterChain::Nothing).unwrap();
        let expected = vec![
            Payload::new(PayloadType::NONCE, b"abcd".to_vec()),
            Payload::new(
                PayloadType::VENDOR_ID,
                vec![0x09, 0x00, 0x26, 0x89, 0xdf, 0xd6, 0xb7, 0x12],
            ),
        ];
        assert_eq!(parsed.payloads, expected);
        assert_eq!(parsed.starts, vec![0, 8]);
        assert_eq!(parsed.bytes_after(PayloadType::NONCE), Some(&bytes[8..]));
        assert_eq!(parsed.bytes_after(PayloadType::VENDOR_ID), Some(&[][..]));
        assert_eq!(parsed.bytes_after(PayloadType::HASH), None);
        assert_eq!(parsed.payload_bytes(0), Some(&bytes[..8]));
        let mut out = Vec::new();
        assert_eq!(emit_chain(&expected, &mut out).unwrap(), PayloadType::NONCE);
        assert_eq!(out, bytes);
    }

    #[test]
    fn padding_is_split_off_only_when_allowed() {
        let mut bytes = chain_bytes();
        bytes.extend_from_slice(&[0; 5]);
        let err = read_chain(PayloadType::NONCE, &bytes, 28, AfterChain::Nothing).unwrap_err();
        assert_eq!(err.offset, 28 + 20);
        assert!(matches!(err.kind, ErrorKind::TrailingBytes(_)));
        let ok = read_chain(PayloadType::NONCE, &bytes, 0, AfterChain::Padding).unwrap();
        assert_eq!(ok.padding, &[0; 5]);
        assert_eq!(ok.chain.len(), 20);
    }

    #[test]
    fn lengths_below_four_or_beyond_the_end_are_refused() {
        for bad_len in [0u8, 3, 9] {
            let mut bytes = chain_bytes();
            bytes[3] = bad_len;
            bytes.truncate(8);
            let err = read_chain(PayloadType::NONCE, &bytes, 0, AfterChain::Nothing).unwrap_err();
            assert_eq!(
                err,
                Error::new(
                    ErrorKind::BadLength {
                        what: "NONCE payload",
                        length: u32::from(bad_len)
                    },
                    2
                )
            );
        }
    }

    #[test]
    fn chain_that_promises_more_is_truncated() {
        let bytes = &chain_bytes()[..8];
        let err = read_chain(PayloadType::NONCE, bytes, 0, AfterChain::Nothing).unwrap_err();
        assert_eq!(
            err,
            Error::new(ErrorKind::Truncated("Vendor ID payload"), 8)
        );
    }
}
