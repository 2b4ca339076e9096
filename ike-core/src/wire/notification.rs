//! Notification payload (RFC 2408 §3.14):
//!
//! ```text
//! DOI (4) | Protocol-ID (1) | SPI Size (1) | Notify Message Type (2)
//! SPI (SPI Size) | Notification Data
//! ```

use super::attributes::{DataAttribute, parse_attributes};
use super::error::Error;
use super::header::Cookie;
use super::payload::{PayloadBody, PayloadType};
use super::reader::{Reader, write};
use super::sa::{Doi, ProtocolId};

wire_enum! {
    /// Notify Message Type: the errors of RFC 2408 §3.14.1, the status
    /// values of RFC 2408 and RFC 2407 §4.6.3, and RFC 3706 DPD.
    pub struct NotifyType(u16) {
        INVALID_PAYLOAD_TYPE = 1 => "INVALID-PAYLOAD-TYPE",
        DOI_NOT_SUPPORTED = 2 => "DOI-NOT-SUPPORTED",
        SITUATION_NOT_SUPPORTED = 3 => "SITUATION-NOT-SUPPORTED",
        INVALID_COOKIE = 4 => "INVALID-COOKIE",
        INVALID_MAJOR_VERSION = 5 => "INVALID-MAJOR-VERSION",
        INVALID_MINOR_VERSION = 6 => "INVALID-MINOR-VERSION",
        INVALID_EXCHANGE_TYPE = 7 => "INVALID-EXCHANGE-TYPE",
        INVALID_FLAGS = 8 => "INVALID-FLAGS",
        INVALID_MESSAGE_ID = 9 => "INVALID-MESSAGE-ID",
        INVALID_PROTOCOL_ID = 10 => "INVALID-PROTOCOL-ID",
        INVALID_SPI = 11 => "INVALID-SPI",
        INVALID_TRANSFORM_ID = 12 => "INVALID-TRANSFORM-ID",
        ATTRIBUTES_NOT_SUPPORTED = 13 => "ATTRIBUTES-NOT-SUPPORTED",
        NO_PROPOSAL_CHOSEN = 14 => "NO-PROPOSAL-CHOSEN",
        BAD_PROPOSAL_SYNTAX = 15 => "BAD-PROPOSAL-SYNTAX",
        PAYLOAD_MALFORMED = 16 => "PAYLOAD-MALFORMED",
        INVALID_KEY_INFORMATION = 17 => "INVALID-KEY-INFORMATION",
        INVALID_ID_INFORMATION = 18 => "INVALID-ID-INFORMATION",
        INVALID_CERT_ENCODING = 19 => "INVALID-CERT-ENCODING",
        INVALID_CERTIFICATE = 20 => "INVALID-CERTIFICATE",
        CERT_TYPE_UNSUPPORTED = 21 => "CERT-TYPE-UNSUPPORTED",
        INVALID_CERT_AUTHORITY = 22 => "INVALID-CERT-AUTHORITY",
        INVALID_HASH_INFORMATION = 23 => "INVALID-HASH-INFORMATION",
        AUTHENTICATION_FAILED = 24 => "AUTHENTICATION-FAILED",
        INVALID_SIGNATURE = 25 => "INVALID-SIGNATURE",
        ADDRESS_NOTIFICATION = 26 => "ADDRESS-NOTIFICATION",
        NOTIFY_SA_LIFETIME = 27 => "NOTIFY-SA-LIFETIME",
        CERTIFICATE_UNAVAILABLE = 28 => "CERTIFICATE-UNAVAILABLE",
        UNSUPPORTED_EXCHANGE_TYPE = 29 => "UNSUPPORTED-EXCHANGE-TYPE",
        UNEQUAL_PAYLOAD_LENGTHS = 30 => "UNEQUAL-PAYLOAD-LENGTHS",
        CONNECTED = 16384 => "CONNECTED",
        RESPONDER_LIFETIME = 24576 => "RESPONDER-LIFETIME",
        REPLAY_STATUS = 24577 => "REPLAY-STATUS",
        INITIAL_CONTACT = 24578 => "INITIAL-CONTACT",
        R_U_THERE = 36136 => "R-U-THERE",
        R_U_THERE_ACK = 36137 => "R-U-THERE-ACK",
    }
}

impl NotifyType {
    /// Error types are 1..=16383 (RFC 2408 §3.14.1).
    #[must_use]
    pub const fn is_error(self) -> bool {
        self.0 >= 1 && self.0 < 16384
    }
}

/// The body of a Notification payload.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Notification {
    /// DOI (IPsec).
    pub doi: Doi,
    /// The protocol the SPI belongs to.
    pub protocol: ProtocolId,
    /// The notify type.
    pub notify_type: NotifyType,
    /// The SPI (for ISAKMP: empty, or the two cookies, 16 bytes).
    pub spi: Vec<u8>,
    /// The notification data.
    pub data: Vec<u8>,
}

impl Notification {
    /// An IPsec-DOI notification.
    #[must_use]
    pub const fn new(
        notify_type: NotifyType,
        protocol: ProtocolId,
        spi: Vec<u8>,
        data: Vec<u8>,
    ) -> Self {
        Self {
            doi: Doi::IPSEC,
            protocol,
            notify_type,
            spi,
            data,
        }
    }

    /// R-U-THERE or R-U-THERE-ACK (RFC 3706 §5): protocol ISAKMP, the two
    /// cookies as SPI, the 32-bit sequence number as data.
    #[must_use]
    pub fn dpd(ack: bool, initiator: Cookie, responder: Cookie, sequence: u32) -> Self {
        let ty = if ack {
            NotifyType::R_U_THERE_ACK
        } else {
            NotifyType::R_U_THERE
        };
        Self::new(
            ty,
            ProtocolId::ISAKMP,
            [initiator.0, responder.0].concat(),
            sequence.to_be_bytes().to_vec(),
        )
    }

    /// INITIAL-CONTACT (RFC 2407 §4.6.3.3) for the ISAKMP SA of these cookies.
    #[must_use]
    pub fn initial_contact(initiator: Cookie, responder: Cookie) -> Self {
        Self::new(
            NotifyType::INITIAL_CONTACT,
            ProtocolId::ISAKMP,
            [initiator.0, responder.0].concat(),
            Vec::new(),
        )
    }

    /// The DPD sequence number of an R-U-THERE / R-U-THERE-ACK.
    #[must_use]
    pub fn dpd_sequence(&self) -> Option<u32> {
        match self.notify_type {
            NotifyType::R_U_THERE | NotifyType::R_U_THERE_ACK => {
                <[u8; 4]>::try_from(self.data.as_slice())
                    .ok()
                    .map(u32::from_be_bytes)
            }
            _ => None,
        }
    }

    /// The REPLAY-STATUS value (RFC 2407 §4.6.3.2): nonzero = replay
    /// detection enabled.
    #[must_use]
    pub fn replay_status(&self) -> Option<u32> {
        (self.notify_type == NotifyType::REPLAY_STATUS)
            .then(|| {
                <[u8; 4]>::try_from(self.data.as_slice())
                    .ok()
                    .map(u32::from_be_bytes)
            })
            .flatten()
    }

    /// The attributes of a RESPONDER-LIFETIME notification (RFC 2407
    /// §4.6.3.1): SA life type/duration pairs in Phase 2 encoding.
    #[must_use]
    pub fn responder_lifetime(&self) -> Option<Result<Vec<DataAttribute>, Error>> {
        (self.notify_type == NotifyType::RESPONDER_LIFETIME).then(|| parse_attributes(&self.data))
    }
}

impl PayloadBody for Notification {
    const TYPE: PayloadType = PayloadType::NOTIFICATION;

    fn parse_body(body: &[u8]) -> Result<Self, Error> {
        const WHAT: &str = "Notification payload";
        let mut r = Reader::new(body, 0);
        let doi = Doi(r.u32(WHAT)?);
        let protocol = ProtocolId(r.u8(WHAT)?);
        let spi_size = r.u8(WHAT)?;
        let notify_type = NotifyType(r.u16(WHAT)?);
        let spi = r.take(usize::from(spi_size), "Notification SPI")?.to_vec();
        Ok(Self {
            doi,
            protocol,
            notify_type,
            spi,
            data: r.rest().to_vec(),
        })
    }

    fn emit_body(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        out.extend_from_slice(&self.doi.0.to_be_bytes());
        out.push(self.protocol.0);
        out.push(write::u8_len(
            self.spi.len(),
            "Notification SPI",
            out.len(),
        )?);
        out.extend_from_slice(&self.notify_type.0.to_be_bytes());
        out.extend_from_slice(&self.spi);
        out.extend_from_slice(&self.data);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::ErrorKind;

    #[test]
    fn r_u_there_known_answer_both_directions() {
        let i = Cookie([1; 8]);
        let r = Cookie([2; 8]);
        let n = Notification::dpd(false, i, r, 0x0102_0304);
        let mut expected = vec![0, 0, 0, 1, 1, 16, 0x8d, 0x28];
        expected.extend_from_slice(&[1; 8]);
        expected.extend_from_slice(&[2; 8]);
        expected.extend_from_slice(&[1, 2, 3, 4]);
        assert_eq!(n.to_body().unwrap(), expected);
        let parsed = Notification::parse_body(&expected).unwrap();
        assert_eq!(parsed, n);
        assert_eq!(parsed.dpd_sequence(), Some(0x0102_0304));
        assert_eq!(parsed.notify_type.name(), Some("R-U-THERE"));
    }

    #[test]
    fn responder_lifetime_known_answer() {
        // From RUB-NDS Main Mode PKE Quick Mode message 2 (decrypted): ESP
        // SPI 4589f1f1, RESPONDER-LIFETIME of 4608000 kilobytes (TLV).
        let body = [
            0, 0, 0, 1, 3, 4, 0x60, 0x00, 0x45, 0x89, 0xf1, 0xf1, 0x80, 0x01, 0x00, 0x02, 0x00,
            0x02, 0x00, 0x04, 0x00, 0x46, 0x50, 0x00,
        ];
        let n = Notification::parse_body(&body).unwrap();
        assert_eq!(n.notify_type, NotifyType::RESPONDER_LIFETIME);
        assert_eq!(n.protocol, ProtocolId::ESP);
        assert_eq!(n.spi, [0x45, 0x89, 0xf1, 0xf1]);
        let attrs = n.responder_lifetime().unwrap().unwrap();
        assert_eq!(
            attrs,
            vec![
                DataAttribute::basic(1, 2),
                DataAttribute::variable(2, [0x00, 0x46, 0x50, 0x00])
            ]
        );
        assert_eq!(attrs[1].as_u64(), Some(4_608_000));
        assert_eq!(n.to_body().unwrap(), body);
        assert!(!n.notify_type.is_error());
        assert!(NotifyType::NO_PROPOSAL_CHOSEN.is_error());
    }

    #[test]
    fn unknown_type_round_trips_and_short_spi_fails() {
        let body = [0, 0, 0, 1, 1, 0, 0xa0, 0x01, 0xee];
        let n = Notification::parse_body(&body).unwrap();
        assert_eq!(n.notify_type, NotifyType(0xa001));
        assert_eq!(format!("{}", n.notify_type), "40961");
        assert_eq!(n.to_body().unwrap(), body);
        let err = Notification::parse_body(&[0, 0, 0, 1, 1, 16, 0, 14, 0]).unwrap_err();
        assert_eq!(err, Error::new(ErrorKind::Truncated("Notification SPI"), 8));
    }
}
