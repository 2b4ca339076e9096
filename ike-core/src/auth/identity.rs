//! ID payload ↔ certificate, and ID payload ↔ configured identity.

#![deny(clippy::indexing_slicing)]

use std::net::IpAddr;

use der::Decode;
use x509_cert::ext::pkix::SubjectAltName;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::name::Name;

use super::error::AuthError;
use super::load::PeerCertificate;
use super::name::{DnPattern, display_name, same_name};
use crate::wire::Identity;

/// The identity a peer must claim (racoon's `peers_identifier`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExpectedIdentity {
    /// `address`: ID_IPV4_ADDR / ID_IPV6_ADDR.
    Address(IpAddr),
    /// `fqdn`: ID_FQDN, compared without case.
    Fqdn(String),
    /// `user_fqdn`: ID_USER_FQDN, compared without case.
    UserFqdn(String),
    /// `asn1dn`: ID_DER_ASN1_DN, with `*` wildcards.
    Asn1Dn(DnPattern),
    /// `asn1dn` with no name: the peer must claim, as ID_DER_ASN1_DN,
    /// exactly the subject of the certificate it authenticates with.
    Asn1DnOfCertificate,
}

impl core::fmt::Display for ExpectedIdentity {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Address(a) => write!(f, "{a} (address)"),
            Self::Fqdn(n) => write!(f, "{n} (fqdn)"),
            Self::UserFqdn(n) => write!(f, "{n} (user_fqdn)"),
            Self::Asn1Dn(p) => write!(f, "{p} (asn1dn)"),
            Self::Asn1DnOfCertificate => f.write_str("its certificate's subject (asn1dn)"),
        }
    }
}

/// The identity as the user would write it, and its ID type name.
pub(super) fn describe(id: &Identity) -> (String, String) {
    let text = match id {
        Identity::Ipv4(a) => a.to_string(),
        Identity::Ipv6(a) => a.to_string(),
        Identity::Fqdn(d) | Identity::UserFqdn(d) | Identity::KeyId(d) => {
            String::from_utf8_lossy(d).into_owned()
        }
        Identity::DerAsn1Dn(d) => {
            Name::from_der(d).map_or_else(|_| "an undecodable DN".to_owned(), |n| display_name(&n))
        }
        other => format!("{other:?}"),
    };
    (text, id.id_type().to_string())
}

impl ExpectedIdentity {
    /// Whether the peer's claimed `id` is this identity.
    #[must_use]
    /// `certificate` is the one the peer authenticates with, if any (needed
    /// by [`ExpectedIdentity::Asn1DnOfCertificate`]).
    pub fn matches(&self, id: &Identity, certificate: Option<&PeerCertificate>) -> bool {
        match (self, id) {
            (Self::Address(IpAddr::V4(want)), Identity::Ipv4(got)) => want == got,
            (Self::Address(IpAddr::V6(want)), Identity::Ipv6(got)) => want == got,
            (Self::Fqdn(want), Identity::Fqdn(got))
            | (Self::UserFqdn(want), Identity::UserFqdn(got)) => {
                want.as_bytes().eq_ignore_ascii_case(got)
            }
            (Self::Asn1Dn(pattern), Identity::DerAsn1Dn(der)) => {
                Name::from_der(der).is_ok_and(|n| pattern.matches(&n))
            }
            (Self::Asn1DnOfCertificate, Identity::DerAsn1Dn(der)) => certificate.is_some_and(|c| {
                Name::from_der(der)
                    .is_ok_and(|n| same_name(&n, &c.parsed().tbs_certificate.subject))
            }),
            _ => false,
        }
    }

    /// `Ok` if `id` matches, else the error naming both.
    pub fn check(
        &self,
        id: &Identity,
        certificate: Option<&PeerCertificate>,
    ) -> Result<(), AuthError> {
        if self.matches(id, certificate) {
            return Ok(());
        }
        let (id, id_type) = describe(id);
        let expected = match (self, certificate) {
            (Self::Asn1DnOfCertificate, Some(c)) => {
                format!("{} (asn1dn, its certificate's subject)", c.subject())
            }
            _ => self.to_string(),
        };
        Err(AuthError::UnexpectedIdentity {
            id,
            id_type,
            expected,
        })
    }
}

/// Checks the peer's ID payload against its certificate (racoon's
/// `verify_cert` ID check, RFC 4945 §3.1 in spirit): addresses against
/// subjectAltName iPAddress, FQDN against dNSName, USER_FQDN against
/// rfc822Name, DER_ASN1_DN against the subject.
pub fn match_identity(id: &Identity, cert: &PeerCertificate) -> Result<(), AuthError> {
    let subject = cert.subject();
    let (id_text, _) = describe(id);
    let sans: Vec<GeneralName> = match cert.parsed().tbs_certificate.get::<SubjectAltName>() {
        Ok(Some((_, SubjectAltName(names)))) => names,
        _ => Vec::new(),
    };
    let (id_type, kind, found): (&'static str, &'static str, Vec<String>) = match id {
        Identity::Ipv4(want) => {
            let found = san_ips(&sans);
            if found.contains(&IpAddr::V4(*want)) {
                return Ok(());
            }
            (
                "ID_IPV4_ADDR",
                "IP",
                found.iter().map(ToString::to_string).collect(),
            )
        }
        Identity::Ipv6(want) => {
            let found = san_ips(&sans);
            if found.contains(&IpAddr::V6(*want)) {
                return Ok(());
            }
            (
                "ID_IPV6_ADDR",
                "IP",
                found.iter().map(ToString::to_string).collect(),
            )
        }
        Identity::Fqdn(want) => {
            let found = san_strings(&sans, |g| match g {
                GeneralName::DnsName(n) => Some(n.as_str()),
                _ => None,
            });
            if found
                .iter()
                .any(|n| n.as_bytes().eq_ignore_ascii_case(want))
            {
                return Ok(());
            }
            ("ID_FQDN", "DNS", found)
        }
        Identity::UserFqdn(want) => {
            let found = san_strings(&sans, |g| match g {
                GeneralName::Rfc822Name(n) => Some(n.as_str()),
                _ => None,
            });
            if found
                .iter()
                .any(|n| n.as_bytes().eq_ignore_ascii_case(want))
            {
                return Ok(());
            }
            ("ID_USER_FQDN", "email", found)
        }
        Identity::DerAsn1Dn(der) => {
            let same = Name::from_der(der)
                .is_ok_and(|n| same_name(&n, &cert.parsed().tbs_certificate.subject));
            if same {
                return Ok(());
            }
            return Err(AuthError::SubjectMismatch {
                id: id_text,
                subject,
            });
        }
        other => {
            return Err(AuthError::UncheckableIdType {
                id_type: other.id_type().to_string(),
                subject,
            });
        }
    };
    if found.is_empty() {
        Err(AuthError::NoSubjectAltName {
            id: id_text,
            id_type,
            kind,
            subject,
        })
    } else {
        Err(AuthError::SubjectAltNameMismatch {
            id: id_text,
            id_type,
            kind,
            found: found.join(", "),
            subject,
        })
    }
}

fn san_ips(sans: &[GeneralName]) -> Vec<IpAddr> {
    sans.iter()
        .filter_map(|g| match g {
            GeneralName::IpAddress(octets) => {
                let bytes = octets.as_bytes();
                <[u8; 4]>::try_from(bytes)
                    .map(IpAddr::from)
                    .or_else(|_| <[u8; 16]>::try_from(bytes).map(IpAddr::from))
                    .ok()
            }
            _ => None,
        })
        .collect()
}

fn san_strings(sans: &[GeneralName], pick: impl Fn(&GeneralName) -> Option<&str>) -> Vec<String> {
    sans.iter().filter_map(pick).map(str::to_owned).collect()
}
