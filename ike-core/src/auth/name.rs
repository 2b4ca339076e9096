//! Distinguished names: the display users know from OpenSSL and racoon
//! (`C=XX, O=Org, CN=host`, in certificate order) and racoon's `*`
//! wildcard patterns over it.

#![deny(clippy::indexing_slicing)]

use const_oid::ObjectIdentifier;
use const_oid::db::rfc4519;
use der::asn1::{Ia5StringRef, PrintableStringRef, TeletexStringRef, Utf8StringRef};
use der::{Tag, Tagged};
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::name::Name;

/// PKCS#9 emailAddress (RFC 2985 §5.2.1), still common in subjects.
const EMAIL_ADDRESS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.1");

const SHORT_NAMES: &[(ObjectIdentifier, &str)] = &[
    (rfc4519::C, "C"),
    (rfc4519::ST, "ST"),
    (rfc4519::L, "L"),
    (rfc4519::O, "O"),
    (rfc4519::OU, "OU"),
    (rfc4519::CN, "CN"),
    (rfc4519::SERIAL_NUMBER, "serialNumber"),
    (rfc4519::DC, "DC"),
    (rfc4519::UID, "UID"),
    (EMAIL_ADDRESS, "emailAddress"),
];

fn attribute_name(oid: &ObjectIdentifier) -> String {
    SHORT_NAMES
        .iter()
        .find(|(o, _)| o == oid)
        .map_or_else(|| oid.to_string(), |(_, n)| (*n).to_owned())
}

fn attribute_value(atv: &AttributeTypeAndValue) -> String {
    let v = &atv.value;
    let text = match v.tag() {
        Tag::PrintableString => PrintableStringRef::try_from(v)
            .ok()
            .map(|s| s.as_str().to_owned()),
        Tag::Utf8String => Utf8StringRef::try_from(v)
            .ok()
            .map(|s| s.as_str().to_owned()),
        Tag::Ia5String => Ia5StringRef::try_from(v)
            .ok()
            .map(|s| s.as_str().to_owned()),
        Tag::TeletexString => TeletexStringRef::try_from(v)
            .ok()
            .map(|s| s.as_str().to_owned()),
        _ => None,
    };
    text.unwrap_or_else(|| {
        let hex: String = v.value().iter().map(|b| format!("{b:02x}")).collect();
        format!("#{hex}")
    })
}

/// The attributes of `name` as (short name, value) in certificate order.
pub(super) fn name_components(name: &Name) -> Vec<(String, String)> {
    name.0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .map(|atv| (attribute_name(&atv.oid), attribute_value(atv)))
        .collect()
}

/// Whether two names are the same distinguished name (RFC 5280 §7.1): the
/// same attributes in the same order, values equal without regard to their
/// string type, ASCII case or runs of white space. Byte equality is not
/// enough: strongSwan encodes a DN from its configuration with string
/// types other than OpenSSL's in the certificate (seen with charon 5.9.8,
/// `id = "C=XX, O=…, CN=…"`), and racoon compares with OpenSSL's
/// `X509_NAME_cmp`, which canonicalises the same way.
pub(crate) fn same_name(a: &Name, b: &Name) -> bool {
    let fold = |v: &str| -> String {
        v.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_ascii_lowercase()
    };
    let (a, b) = (name_components(a), name_components(b));
    a.len() == b.len()
        && a.iter()
            .zip(&b)
            .all(|((ak, av), (bk, bv))| ak == bk && fold(av) == fold(bv))
}

/// [`same_name`] over DER: what an ID payload or a CR payload carries.
/// Bytes that are not a `Name` compare exactly (nothing to canonicalise).
pub(crate) fn same_der_name(a: &[u8], b: &[u8]) -> bool {
    use der::Decode;
    match (Name::from_der(a), Name::from_der(b)) {
        (Ok(a), Ok(b)) => same_name(&a, &b),
        _ => a == b,
    }
}

/// `C=XX, O=Org, CN=host`: certificate order, as OpenSSL's oneline form and
/// racoon's configuration write it.
pub(crate) fn display_name(name: &Name) -> String {
    let parts: Vec<String> = name_components(name)
        .into_iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    parts.join(", ")
}

/// A configured distinguished name (racoon's `peers_identifier asn1dn
/// "C=XX, O=Org, CN=*"`): attributes in certificate order, each value
/// either literal or `*` (any value). Attribute names compare without case,
/// values exactly. `/C=XX/O=Org/CN=*` (OpenSSL's slash form) is read too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnPattern {
    text: String,
    components: Vec<(String, String)>,
}

impl DnPattern {
    /// Parses `C=XX, O=Org, CN=*` or `/C=XX/O=Org/CN=*`. Returns `None` for
    /// an empty pattern or a component without `=`.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        let trimmed = text.trim();
        let parts: Vec<&str> = match trimmed.strip_prefix('/') {
            Some(slashed) => slashed.split('/').collect(),
            None => trimmed.split(',').collect(),
        };
        let mut components = Vec::new();
        for part in parts {
            let (k, v) = part.split_once('=')?;
            components.push((k.trim().to_owned(), v.trim().to_owned()));
        }
        if components.is_empty() {
            return None;
        }
        Some(Self {
            text: trimmed.to_owned(),
            components,
        })
    }

    /// The pattern as configured.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether `name` matches: the same attributes in the same order, each
    /// value equal or the pattern's `*`.
    #[must_use]
    pub fn matches(&self, name: &Name) -> bool {
        let actual = name_components(name);
        actual.len() == self.components.len()
            && actual
                .iter()
                .zip(&self.components)
                .all(|((ak, av), (pk, pv))| {
                    (ak.eq_ignore_ascii_case(pk)
                        || (pk.eq_ignore_ascii_case("E") && ak == "emailAddress"))
                        && (pv == "*" || av == pv)
                })
    }
}

impl core::fmt::Display for DnPattern {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod same_name_tests {
    use der::Decode;

    use super::*;

    /// SEQUENCE { SET { SEQUENCE { OID 2.5.4.3 (CN), STRING } } } with the
    /// string's tag and bytes.
    fn cn(tag: u8, value: &[u8]) -> Name {
        let len = u8::try_from(value.len()).unwrap();
        let mut der = vec![
            0x30,
            11 + len,
            0x31,
            9 + len,
            0x30,
            7 + len,
            0x06,
            0x03,
            0x55,
            0x04,
            0x03,
        ];
        der.extend([tag, len]);
        der.extend_from_slice(value);
        Name::from_der(&der).unwrap()
    }

    #[test]
    fn string_type_case_and_spaces_do_not_matter() {
        let printable = cn(0x13, b"gw example");
        let utf8 = cn(0x0c, b"GW  example");
        assert_ne!(printable, utf8, "different encodings");
        assert!(same_name(&printable, &utf8));
        assert!(!same_name(&printable, &cn(0x0c, b"gw-example")));
    }
}
