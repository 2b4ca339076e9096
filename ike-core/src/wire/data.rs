//! Payloads whose body is one opaque value (KE §3.7, HASH §3.11, SIG §3.12,
//! NONCE §3.13 of RFC 2408; NAT-D RFC 3947 §3.2) and the certificate
//! payloads CERT (§3.9) and CR (§3.10).

use super::error::Error;
use super::payload::{PayloadBody, PayloadType};
use super::reader::Reader;

macro_rules! opaque_payload {
    ($(#[$meta:meta])* $name:ident, $field:ident, $ty:expr) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Hash, Default)]
        pub struct $name {
            #[doc = concat!("The ", stringify!($field), " bytes.")]
            pub $field: Vec<u8>,
        }

        impl $name {
            #[doc = concat!("A ", stringify!($name), " payload body.")]
            #[must_use]
            pub fn new($field: impl Into<Vec<u8>>) -> Self {
                Self { $field: $field.into() }
            }
        }

        impl ::core::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                write!(f, concat!(stringify!($name), "({} bytes)"), self.$field.len())
            }
        }

        impl PayloadBody for $name {
            const TYPE: PayloadType = $ty;

            fn parse_body(body: &[u8]) -> Result<Self, Error> {
                Ok(Self { $field: body.to_vec() })
            }

            fn emit_body(&self, out: &mut Vec<u8>) -> Result<(), Error> {
                out.extend_from_slice(&self.$field);
                Ok(())
            }
        }
    };
}

opaque_payload!(
    /// Key Exchange payload: the sender's public Diffie-Hellman value.
    KeyExchange,
    data,
    PayloadType::KEY_EXCHANGE
);
opaque_payload!(
    /// Hash payload: HASH_I / HASH_R or a Quick Mode / Informational hash.
    Hash,
    data,
    PayloadType::HASH
);
opaque_payload!(
    /// Signature payload.
    Signature,
    data,
    PayloadType::SIGNATURE
);
opaque_payload!(
    /// Nonce payload (8 to 256 bytes per RFC 2409 §5, checked by the
    /// exchange, not here).
    Nonce,
    data,
    PayloadType::NONCE
);
opaque_payload!(
    /// NAT-Discovery payload: HASH(CKY-I | CKY-R | IP | port), RFC 3947 §3.2.
    /// Sent as type 20, or 130 by peers speaking the drafts.
    NatD,
    hash,
    PayloadType::NAT_D
);

wire_enum! {
    /// Certificate Encoding (RFC 2408 §3.9), also the CR's Certificate Type.
    pub struct CertEncoding(u8) {
        NONE = 0 => "NONE",
        PKCS7 = 1 => "PKCS #7 wrapped X.509 certificate",
        PGP = 2 => "PGP Certificate",
        DNS_SIGNED_KEY = 3 => "DNS Signed Key",
        X509_SIGNATURE = 4 => "X.509 Certificate - Signature",
        X509_KEY_EXCHANGE = 5 => "X.509 Certificate - Key Exchange",
        KERBEROS = 6 => "Kerberos Tokens",
        CRL = 7 => "Certificate Revocation List (CRL)",
        ARL = 8 => "Authority Revocation List (ARL)",
        SPKI = 9 => "SPKI Certificate",
        X509_ATTRIBUTE = 10 => "X.509 Certificate - Attribute",
    }
}

/// Certificate payload: an encoding and the certificate data.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Certificate {
    /// Certificate Encoding.
    pub encoding: CertEncoding,
    /// The certificate (DER for the X.509 encodings).
    pub data: Vec<u8>,
}

impl PayloadBody for Certificate {
    const TYPE: PayloadType = PayloadType::CERTIFICATE;

    fn parse_body(body: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new(body, 0);
        let encoding = CertEncoding(r.u8("CERT payload")?);
        Ok(Self {
            encoding,
            data: r.rest().to_vec(),
        })
    }

    fn emit_body(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        out.push(self.encoding.0);
        out.extend_from_slice(&self.data);
        Ok(())
    }
}

/// Certificate Request payload: a certificate type and an acceptable
/// authority (a DER distinguished name for X.509; may be empty).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CertificateRequest {
    /// Certificate Type.
    pub cert_type: CertEncoding,
    /// Certificate Authority.
    pub authority: Vec<u8>,
}

impl PayloadBody for CertificateRequest {
    const TYPE: PayloadType = PayloadType::CERTIFICATE_REQUEST;

    fn parse_body(body: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new(body, 0);
        let cert_type = CertEncoding(r.u8("CR payload")?);
        Ok(Self {
            cert_type,
            authority: r.rest().to_vec(),
        })
    }

    fn emit_body(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        out.push(self.cert_type.0);
        out.extend_from_slice(&self.authority);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{ErrorKind, Payload};

    #[test]
    fn opaque_payloads_known_answer_both_directions() {
        let body = [0x32, 0xae, 0x9d, 0xb3, 0x6e, 0x74, 0x18, 0xa7];
        let n = Nonce::parse_body(&body).unwrap();
        assert_eq!(n, Nonce::new(body));
        let p = n.to_payload().unwrap();
        assert_eq!(p, Payload::new(PayloadType::NONCE, body.to_vec()));
        let mut out = Vec::new();
        p.emit(PayloadType::NONE, &mut out).unwrap();
        assert_eq!(out, [&[0, 0, 0, 12][..], &body].concat());
        assert_eq!(KeyExchange::new([1, 2]).to_body().unwrap(), [1, 2]);
        assert_eq!(Hash::parse_body(&[9; 20]).unwrap().data, [9; 20]);
        assert_eq!(Signature::parse_body(&[7]).unwrap().to_body().unwrap(), [7]);
        let draft = Payload::from_body(PayloadType::NAT_D_DRAFT, &NatD::new([5; 20])).unwrap();
        assert_eq!(draft.ty.0, 130);
        assert_eq!(format!("{:?}", Nonce::new(body)), "Nonce(8 bytes)");
    }

    #[test]
    fn cert_and_cr_known_answer_both_directions() {
        let cert = [4, 0x30, 0x82, 0x01];
        let c = Certificate::parse_body(&cert).unwrap();
        assert_eq!(c.encoding, CertEncoding::X509_SIGNATURE);
        assert_eq!(c.data, [0x30, 0x82, 0x01]);
        assert_eq!(c.to_body().unwrap(), cert);
        let cr = CertificateRequest::parse_body(&[4]).unwrap();
        assert_eq!(cr.cert_type, CertEncoding::X509_SIGNATURE);
        assert!(cr.authority.is_empty());
        assert_eq!(cr.to_body().unwrap(), [4]);
        assert_eq!(
            Certificate::parse_body(&[]).unwrap_err().kind,
            ErrorKind::Truncated("CERT payload")
        );
    }
}
