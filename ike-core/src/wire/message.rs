//! A whole ISAKMP message: the header and either a payload chain or, when
//! the E flag is set, the encrypted body (RFC 2408 §3.1, RFC 2409 §5.3).

use super::error::{Error, ErrorKind};
use super::header::{Flags, Header};
use super::payload::{AfterChain, ParsedChain, Payload, PayloadType, emit_chain, read_chain};
use super::reader::Reader;

/// What follows the header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageBody {
    /// The payloads of an unencrypted message.
    Plain(Vec<Payload>),
    /// The body of a message with the E flag: ciphertext of a payload chain
    /// plus padding.  Decrypt it, then call [`parse_plaintext`] with
    /// `first_payload`.
    Encrypted {
        /// The header's Next Payload field: the type of the first payload
        /// inside the ciphertext.
        first_payload: PayloadType,
        /// Everything after the header.
        ciphertext: Vec<u8>,
    },
}

/// An ISAKMP message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The header fields (Next Payload and Length come from `body`).
    pub header: Header,
    /// The payloads or the encrypted body.
    pub body: MessageBody,
}

/// A decrypted body: the payload chain and the padding after it.
pub type Plaintext<'a> = ParsedChain<'a>;

impl Message {
    /// An unencrypted message.  The E flag is cleared on emit.
    #[must_use]
    pub const fn new(header: Header, payloads: Vec<Payload>) -> Self {
        Self {
            header,
            body: MessageBody::Plain(payloads),
        }
    }

    /// Parses one message: the UDP payload on port 500, or on port 4500
    /// after the 4-byte non-ESP marker has been removed.
    ///
    /// The Length field must equal `bytes.len()`.  With the E flag set the
    /// body is returned as [`MessageBody::Encrypted`]; otherwise the payload
    /// chain must end exactly at the end of the message.
    pub fn parse(bytes: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new(bytes, 0);
        let parsed = Header::read(&mut r)?;
        check_length(parsed.length, bytes.len())?;
        let body = r.rest();
        let body = if parsed.header.flags.encrypted() {
            MessageBody::Encrypted {
                first_payload: parsed.next_payload,
                ciphertext: body.to_vec(),
            }
        } else {
            let chain = read_chain(parsed.next_payload, body, Header::LEN, AfterChain::Nothing)?;
            MessageBody::Plain(chain.payloads)
        };
        Ok(Self {
            header: parsed.header,
            body,
        })
    }

    /// Like [`parse`](Self::parse) for an unencrypted message, but also
    /// returns the chain with the positions of its payloads (for hashes over
    /// the payloads as received).  Fails on an encrypted message.
    pub fn parse_plain(bytes: &[u8]) -> Result<(Header, ParsedChain<'_>), Error> {
        let mut r = Reader::new(bytes, 0);
        let parsed = Header::read(&mut r)?;
        check_length(parsed.length, bytes.len())?;
        if parsed.header.flags.encrypted() {
            return Err(Error::new(
                ErrorKind::Invalid {
                    what: "ISAKMP header",
                    why: "the E flag is set: the body is encrypted",
                },
                19,
            ));
        }
        let chain = read_chain(
            parsed.next_payload,
            r.rest(),
            Header::LEN,
            AfterChain::Nothing,
        )?;
        Ok((parsed.header, chain))
    }

    /// The payloads of an unencrypted message (`None` when encrypted).
    #[must_use]
    pub fn payloads(&self) -> Option<&[Payload]> {
        match &self.body {
            MessageBody::Plain(p) => Some(p),
            MessageBody::Encrypted { .. } => None,
        }
    }

    /// The first payload of type `ty` of an unencrypted message.
    #[must_use]
    pub fn find(&self, ty: PayloadType) -> Option<&Payload> {
        self.payloads()?.iter().find(|p| p.ty == ty)
    }

    /// Whether the body is encrypted.
    #[must_use]
    pub const fn is_encrypted(&self) -> bool {
        matches!(self.body, MessageBody::Encrypted { .. })
    }

    /// Appends the message.  The header's Next Payload and Length are
    /// computed from the body, and the E flag is set for an encrypted body
    /// and cleared for a plain one.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        let start = out.len();
        let mut header = self.header;
        match &self.body {
            MessageBody::Plain(payloads) => {
                header.flags = header.flags.without(Flags::ENCRYPTION);
                let first = payloads.first().map_or(PayloadType::NONE, |p| p.ty);
                header.emit(first, 0, out);
                emit_chain(payloads, out)?;
            }
            MessageBody::Encrypted {
                first_payload,
                ciphertext,
            } => {
                header.flags = header.flags.with(Flags::ENCRYPTION);
                header.emit(*first_payload, 0, out);
                out.extend_from_slice(ciphertext);
            }
        }
        super::header::patch_length(out.get_mut(start..).unwrap_or_default())
    }

    /// The message as bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>, Error> {
        let mut out = Vec::new();
        self.emit(&mut out)?;
        Ok(out)
    }
}

fn check_length(length: u32, actual: usize) -> Result<(), Error> {
    if usize::try_from(length).ok() != Some(actual) || (length as usize) < Header::LEN {
        return Err(Error::new(
            ErrorKind::BadLength {
                what: "ISAKMP message",
                length,
            },
            Header::LENGTH_OFFSET,
        ));
    }
    Ok(())
}

/// Parses a decrypted message body: a payload chain starting with a payload
/// of type `first_payload` (the header's Next Payload), followed by padding.
///
/// Peers pad with zeros or random bytes, some with a whole extra block, and
/// some end with a pad-length byte (RFC 2409 §5.3 leaves it open), so the
/// padding is returned as it is and not checked.  Error offsets count from
/// the first plaintext byte; add [`Header::LEN`] for the message offset.
pub fn parse_plaintext(
    first_payload: PayloadType,
    plaintext: &[u8],
) -> Result<Plaintext<'_>, Error> {
    read_chain(first_payload, plaintext, 0, AfterChain::Padding)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::header::{Cookie, ExchangeType, MessageId};

    fn header() -> Header {
        Header::new(
            Cookie([1, 2, 3, 4, 5, 6, 7, 8]),
            Cookie::ZERO,
            ExchangeType::INFORMATIONAL,
            MessageId(0x0a0b0c0d),
        )
    }

    #[rustfmt::skip]
    const PLAIN: [u8; 36] = [
        1, 2, 3, 4, 5, 6, 7, 8,  0, 0, 0, 0, 0, 0, 0, 0,
        0x0d, 0x10, 0x05, 0x00,  0x0a, 0x0b, 0x0c, 0x0d,  0, 0, 0, 36,
        0, 0, 0, 8, 0xde, 0xad, 0xbe, 0xef,
    ];

    #[test]
    fn plain_message_known_answer_both_directions() {
        let msg = Message::parse(&PLAIN).unwrap();
        let expected = Message::new(
            header(),
            vec![Payload::new(
                PayloadType::VENDOR_ID,
                vec![0xde, 0xad, 0xbe, 0xef],
            )],
        );
        assert_eq!(msg, expected);
        assert_eq!(expected.to_bytes().unwrap(), PLAIN);
        assert_eq!(msg.find(PayloadType::VENDOR_ID).unwrap().body.len(), 4);
    }

    #[test]
    fn encrypted_message_keeps_the_body() {
        let mut bytes = PLAIN.to_vec();
        bytes[19] = 1;
        let msg = Message::parse(&bytes).unwrap();
        assert_eq!(
            msg.body,
            MessageBody::Encrypted {
                first_payload: PayloadType::VENDOR_ID,
                ciphertext: PLAIN[28..].to_vec()
            }
        );
        assert!(msg.payloads().is_none());
        assert_eq!(msg.to_bytes().unwrap(), bytes);
        assert!(Message::parse_plain(&bytes).is_err());
    }

    #[test]
    fn length_field_must_match_the_datagram() {
        for len in [35u8, 37, 20] {
            let mut bytes = PLAIN.to_vec();
            bytes[27] = len;
            let err = Message::parse(&bytes).unwrap_err();
            assert_eq!(err.offset, 24);
            assert!(
                matches!(err.kind, ErrorKind::BadLength { length, .. } if length == u32::from(len))
            );
        }
    }

    #[test]
    fn plaintext_with_a_whole_block_of_padding() {
        let mut body = PLAIN[28..].to_vec();
        body.extend_from_slice(&[0x5a; 16]);
        let pt = parse_plaintext(PayloadType::VENDOR_ID, &body).unwrap();
        assert_eq!(pt.payloads.len(), 1);
        assert_eq!(pt.padding, &[0x5a; 16]);
    }
}
