//! Certificates, CRLs and RSA keys from PEM, DER and PKCS#7 bundles.

#![deny(clippy::indexing_slicing)]

use der::{Decode, Encode};
use rsa::pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
use rsa::{RsaPrivateKey, RsaPublicKey};
use rustls_pki_types::CertificateDer;
use x509_cert::Certificate;
use x509_cert::crl::CertificateList;

use super::name::display_name;
use crate::wire::CertEncoding;

/// Why a certificate, CRL or key could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot read {what}: {detail}")]
pub struct LoadError {
    /// What was being read.
    pub what: &'static str,
    /// The decoder's complaint.
    pub detail: String,
}

impl LoadError {
    pub(crate) fn new(what: &'static str, detail: impl core::fmt::Display) -> Self {
        Self {
            what,
            detail: detail.to_string(),
        }
    }
}

/// A parsed X.509 certificate with the DER it was read from.
#[derive(Clone, PartialEq, Eq)]
pub struct PeerCertificate {
    der: CertificateDer<'static>,
    parsed: Certificate,
}

impl core::fmt::Debug for PeerCertificate {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PeerCertificate")
            .field("subject", &self.subject())
            .finish()
    }
}

impl PeerCertificate {
    /// Parses one DER certificate.
    pub fn from_der(der: &[u8]) -> Result<Self, LoadError> {
        let parsed = Certificate::from_der(der).map_err(|e| LoadError::new("certificate", e))?;
        Ok(Self {
            der: CertificateDer::from(der.to_vec()),
            parsed,
        })
    }

    /// The DER bytes (what goes into a CERT payload).
    #[must_use]
    pub fn der(&self) -> &CertificateDer<'static> {
        &self.der
    }

    /// The parsed certificate.
    #[must_use]
    pub const fn parsed(&self) -> &Certificate {
        &self.parsed
    }

    /// The subject in OpenSSL/racoon order, e.g. `C=XX, O=Org, CN=host`.
    #[must_use]
    pub fn subject(&self) -> String {
        display_name(&self.parsed.tbs_certificate.subject)
    }

    /// The issuer, formatted like [`PeerCertificate::subject`].
    #[must_use]
    pub fn issuer(&self) -> String {
        display_name(&self.parsed.tbs_certificate.issuer)
    }

    /// The subject's DER encoding (what an ID_DER_ASN1_DN payload carries).
    pub fn subject_der(&self) -> Result<Vec<u8>, LoadError> {
        self.parsed
            .tbs_certificate
            .subject
            .to_der()
            .map_err(|e| LoadError::new("certificate subject", e))
    }

    /// A CERT payload body carrying this certificate (encoding 4, X.509
    /// Signature; RFC 2408 §3.9).
    #[must_use]
    pub fn to_cert_payload(&self) -> crate::wire::Certificate {
        crate::wire::Certificate {
            encoding: CertEncoding::X509_SIGNATURE,
            data: self.der.as_ref().to_vec(),
        }
    }

    /// The subject's RSA public key.
    pub fn rsa_public_key(&self) -> Result<RsaPublicKey, LoadError> {
        let spki = self
            .parsed
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .map_err(|e| LoadError::new("certificate public key", e))?;
        RsaPublicKey::from_public_key_der(&spki)
            .map_err(|e| LoadError::new("certificate RSA public key", e))
    }
}

/// Reads every certificate in `input`: PEM (any number of `CERTIFICATE`
/// blocks, or one `PKCS7` block), a DER certificate, or a DER PKCS#7
/// SignedData bundle (`openssl crl2pkcs7` output, CERT encoding 1).
pub fn load_certificates(input: &[u8]) -> Result<Vec<PeerCertificate>, LoadError> {
    if input.trim_ascii_start().starts_with(b"-----BEGIN") {
        let mut out = Vec::new();
        for block in pem_blocks(input)? {
            match block.0.as_str() {
                "CERTIFICATE" | "X509 CERTIFICATE" => {
                    out.push(PeerCertificate::from_der(&block.1)?)
                }
                "PKCS7" => out.extend(from_pkcs7(&block.1)?),
                _ => {}
            }
        }
        if out.is_empty() {
            return Err(LoadError::new(
                "certificates",
                "no CERTIFICATE block in PEM input",
            ));
        }
        return Ok(out);
    }
    PeerCertificate::from_der(input)
        .map(|c| vec![c])
        .or_else(|e| from_pkcs7(input).map_err(|_| e))
}

/// The certificates in one CERT payload: X.509 Signature (4) is one DER
/// certificate, PKCS #7 (1) a bundle. Other encodings are refused.
pub fn certificates_from_payload(
    encoding: CertEncoding,
    data: &[u8],
) -> Result<Vec<PeerCertificate>, LoadError> {
    match encoding {
        CertEncoding::X509_SIGNATURE => PeerCertificate::from_der(data).map(|c| vec![c]),
        CertEncoding::PKCS7 => from_pkcs7(data).map(leaf_first),
        other => Err(LoadError::new(
            "CERT payload",
            format!("unsupported encoding {other}"),
        )),
    }
}

/// Orders a set of certificates leaf first: a certificate that issued none
/// of the others goes to the front, each issuer after what it issued. PKCS#7
/// bundles need this, since a DER SET OF sorts its members by encoding.
/// Certificates that do not form one path keep their relative order.
#[must_use]
pub fn leaf_first(mut certs: Vec<PeerCertificate>) -> Vec<PeerCertificate> {
    let issued_other = |c: &PeerCertificate, all: &[PeerCertificate]| {
        all.iter()
            .any(|o| o != c && o.parsed.tbs_certificate.issuer == c.parsed.tbs_certificate.subject)
    };
    let Some(leaf) = certs.iter().position(|c| !issued_other(c, &certs)) else {
        return certs;
    };
    let mut ordered = vec![certs.remove(leaf)];
    while let Some(last) = ordered.last() {
        let issuer = &last.parsed.tbs_certificate.issuer;
        let Some(next) = certs
            .iter()
            .position(|c| &c.parsed.tbs_certificate.subject == issuer)
        else {
            break;
        };
        ordered.push(certs.remove(next));
    }
    ordered.extend(certs);
    ordered
}

fn from_pkcs7(der: &[u8]) -> Result<Vec<PeerCertificate>, LoadError> {
    use cms::cert::CertificateChoices;
    use cms::content_info::ContentInfo;
    use cms::signed_data::SignedData;
    let info = ContentInfo::from_der(der).map_err(|e| LoadError::new("PKCS#7 bundle", e))?;
    if info.content_type != const_oid::db::rfc5911::ID_SIGNED_DATA {
        return Err(LoadError::new("PKCS#7 bundle", "not SignedData"));
    }
    let signed: SignedData = info
        .content
        .decode_as()
        .map_err(|e| LoadError::new("PKCS#7 SignedData", e))?;
    let mut out = Vec::new();
    for choice in signed.certificates.iter().flat_map(|set| set.0.iter()) {
        if let CertificateChoices::Certificate(cert) = choice {
            let der = cert
                .to_der()
                .map_err(|e| LoadError::new("PKCS#7 certificate", e))?;
            out.push(PeerCertificate::from_der(&der)?);
        }
    }
    if out.is_empty() {
        return Err(LoadError::new("PKCS#7 bundle", "no certificates"));
    }
    Ok(out)
}

type PemBlock = (String, Vec<u8>);

fn pem_blocks(input: &[u8]) -> Result<Vec<PemBlock>, LoadError> {
    let text = core::str::from_utf8(input).map_err(|e| LoadError::new("PEM file", e))?;
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let tail = rest.get(start..).unwrap_or_default();
        let Some(end_label) = tail.find("-----END ") else {
            return Err(LoadError::new("PEM file", "BEGIN without END"));
        };
        let after_end = tail.get(end_label..).unwrap_or_default();
        let block_end = after_end
            .get(9..)
            .and_then(|s| s.find("-----"))
            .map_or(after_end.len(), |i| i + 14);
        let block = tail.get(..end_label + block_end).unwrap_or_default();
        let (label, der) =
            der::pem::decode_vec(block.as_bytes()).map_err(|e| LoadError::new("PEM block", e))?;
        out.push((label.to_owned(), der));
        rest = tail.get(end_label + block_end..).unwrap_or_default();
    }
    Ok(out)
}

/// An RSA private key from PKCS#8 or PKCS#1, PEM or DER.
pub fn load_private_key(input: &[u8]) -> Result<RsaPrivateKey, LoadError> {
    const WHAT: &str = "RSA private key";
    if let Ok(text) = core::str::from_utf8(input) {
        if text.contains("-----BEGIN PRIVATE KEY-----") {
            return RsaPrivateKey::from_pkcs8_pem(text).map_err(|e| LoadError::new(WHAT, e));
        }
        if text.contains("-----BEGIN RSA PRIVATE KEY-----") {
            return RsaPrivateKey::from_pkcs1_pem(text).map_err(|e| LoadError::new(WHAT, e));
        }
    }
    RsaPrivateKey::from_pkcs8_der(input)
        .or_else(|_| RsaPrivateKey::from_pkcs1_der(input))
        .map_err(|e| LoadError::new(WHAT, e))
}

/// A raw RSA public key (racoon's `plain_rsa`, no certificate):
/// SubjectPublicKeyInfo or PKCS#1 `RSAPublicKey`, PEM or DER.
pub fn load_public_key(input: &[u8]) -> Result<RsaPublicKey, LoadError> {
    const WHAT: &str = "RSA public key";
    if let Ok(text) = core::str::from_utf8(input) {
        if text.contains("-----BEGIN PUBLIC KEY-----") {
            return RsaPublicKey::from_public_key_pem(text).map_err(|e| LoadError::new(WHAT, e));
        }
        if text.contains("-----BEGIN RSA PUBLIC KEY-----") {
            return RsaPublicKey::from_pkcs1_pem(text).map_err(|e| LoadError::new(WHAT, e));
        }
    }
    RsaPublicKey::from_public_key_der(input)
        .or_else(|_| RsaPublicKey::from_pkcs1_der(input))
        .map_err(|e| LoadError::new(WHAT, e))
}

/// A certificate revocation list (RFC 5280 §5), read from a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crl {
    pub(super) parsed: CertificateList,
}

impl Crl {
    /// Reads a CRL from PEM (`X509 CRL`) or DER.
    pub fn load(input: &[u8]) -> Result<Self, LoadError> {
        let der = if input.trim_ascii_start().starts_with(b"-----BEGIN") {
            let blocks = pem_blocks(input)?;
            blocks
                .into_iter()
                .find(|b| b.0 == "X509 CRL")
                .ok_or_else(|| LoadError::new("CRL", "no X509 CRL block in PEM input"))?
                .1
        } else {
            input.to_vec()
        };
        let parsed = CertificateList::from_der(&der).map_err(|e| LoadError::new("CRL", e))?;
        Ok(Self { parsed })
    }

    /// The issuer, formatted like [`PeerCertificate::subject`].
    #[must_use]
    pub fn issuer(&self) -> String {
        display_name(&self.parsed.tbs_cert_list.issuer)
    }
}
