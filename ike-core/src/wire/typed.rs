//! Decoding a [`Payload`] body into its typed form.

use super::config::ConfigAttributes;
use super::data::{Certificate, CertificateRequest, Hash, KeyExchange, NatD, Nonce, Signature};
use super::delete::Delete;
use super::error::Error;
use super::fragment::Fragment;
use super::identification::Identification;
use super::nat_oa::NatOa;
use super::notification::Notification;
use super::payload::{Payload, PayloadBody, PayloadType};
use super::sa::SecurityAssociation;
use super::vendor_id::VendorId;

/// A payload body in its typed form.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TypedPayload {
    /// SA (1).
    Sa(SecurityAssociation),
    /// KE (4).
    KeyExchange(KeyExchange),
    /// ID (5).
    Identification(Identification),
    /// CERT (6).
    Certificate(Certificate),
    /// CR (7).
    CertificateRequest(CertificateRequest),
    /// HASH (8).
    Hash(Hash),
    /// SIG (9).
    Signature(Signature),
    /// NONCE (10).
    Nonce(Nonce),
    /// N (11).
    Notification(Notification),
    /// D (12).
    Delete(Delete),
    /// VID (13).
    VendorId(VendorId),
    /// ATTR (14).
    Attributes(ConfigAttributes),
    /// NAT-D (20 or 130).
    NatD(NatD),
    /// NAT-OA (21 or 131).
    NatOa(NatOa),
    /// FRAG (132).
    Fragment(Fragment),
    /// Any other type: the body stays as bytes in the [`Payload`].
    Unknown,
}

impl Payload {
    /// The typed form of this payload's body.  Error offsets count from the
    /// first body byte (add the payload's position + 4 for a message offset).
    pub fn decode(&self) -> Result<TypedPayload, Error> {
        let b = self.body.as_slice();
        Ok(match self.ty {
            PayloadType::SA => TypedPayload::Sa(SecurityAssociation::parse_body(b)?),
            PayloadType::KEY_EXCHANGE => TypedPayload::KeyExchange(KeyExchange::parse_body(b)?),
            PayloadType::IDENTIFICATION => {
                TypedPayload::Identification(Identification::parse_body(b)?)
            }
            PayloadType::CERTIFICATE => TypedPayload::Certificate(Certificate::parse_body(b)?),
            PayloadType::CERTIFICATE_REQUEST => {
                TypedPayload::CertificateRequest(CertificateRequest::parse_body(b)?)
            }
            PayloadType::HASH => TypedPayload::Hash(Hash::parse_body(b)?),
            PayloadType::SIGNATURE => TypedPayload::Signature(Signature::parse_body(b)?),
            PayloadType::NONCE => TypedPayload::Nonce(Nonce::parse_body(b)?),
            PayloadType::NOTIFICATION => TypedPayload::Notification(Notification::parse_body(b)?),
            PayloadType::DELETE => TypedPayload::Delete(Delete::parse_body(b)?),
            PayloadType::VENDOR_ID => TypedPayload::VendorId(VendorId::parse_body(b)?),
            PayloadType::ATTRIBUTE => TypedPayload::Attributes(ConfigAttributes::parse_body(b)?),
            PayloadType::NAT_D | PayloadType::NAT_D_DRAFT => {
                TypedPayload::NatD(NatD::parse_body(b)?)
            }
            PayloadType::NAT_OA | PayloadType::NAT_OA_DRAFT => {
                TypedPayload::NatOa(NatOa::parse_body(b)?)
            }
            PayloadType::FRAGMENT => TypedPayload::Fragment(Fragment::parse_body(b)?),
            _ => TypedPayload::Unknown,
        })
    }
}

impl TypedPayload {
    /// The body bytes of this typed payload (`None` for [`Self::Unknown`],
    /// whose bytes live in the [`Payload`]).
    pub fn to_body(&self) -> Option<Result<Vec<u8>, Error>> {
        Some(match self {
            Self::Sa(x) => x.to_body(),
            Self::KeyExchange(x) => x.to_body(),
            Self::Identification(x) => x.to_body(),
            Self::Certificate(x) => x.to_body(),
            Self::CertificateRequest(x) => x.to_body(),
            Self::Hash(x) => x.to_body(),
            Self::Signature(x) => x.to_body(),
            Self::Nonce(x) => x.to_body(),
            Self::Notification(x) => x.to_body(),
            Self::Delete(x) => x.to_body(),
            Self::VendorId(x) => x.to_body(),
            Self::Attributes(x) => x.to_body(),
            Self::NatD(x) => x.to_body(),
            Self::NatOa(x) => x.to_body(),
            Self::Fragment(x) => x.to_body(),
            Self::Unknown => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_dispatches_on_the_payload_type() {
        let nat_d = Payload::new(PayloadType::NAT_D_DRAFT, vec![7; 20]);
        assert_eq!(
            nat_d.decode().unwrap(),
            TypedPayload::NatD(NatD::new([7; 20]))
        );
        let vid = Payload::new(PayloadType::VENDOR_ID, vec![0x09, 0x00, 0x26, 0x89]);
        assert_eq!(
            vid.decode().unwrap(),
            TypedPayload::VendorId(VendorId::new([0x09, 0x00, 0x26, 0x89]))
        );
        // The same bytes as a KE or as an unknown type.
        let ke = Payload::new(PayloadType::KEY_EXCHANGE, vec![1, 2, 3]);
        assert_eq!(ke.decode().unwrap().to_body().unwrap().unwrap(), [1, 2, 3]);
        let unknown = Payload::new(PayloadType(77), vec![1, 2, 3]);
        assert_eq!(unknown.decode().unwrap(), TypedPayload::Unknown);
        assert!(TypedPayload::Unknown.to_body().is_none());
        // A typed body that does not parse is an error with a body offset.
        let bad_sa = Payload::new(PayloadType::SA, vec![0, 0, 0, 1, 0, 0]);
        let err = bad_sa.decode().unwrap_err();
        assert_eq!(err.kind, crate::wire::ErrorKind::Truncated("SA payload"));
        assert_eq!(err.offset, 4);
        assert_eq!(err.shifted(32).offset, 36);
    }
}
