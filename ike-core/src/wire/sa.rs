//! Security Association payload (RFC 2408 §3.4) with its nested Proposal
//! (§3.5) and Transform (§3.6) payloads.
//!
//! ```text
//! SA body:        DOI (4) | Situation (4) | Proposal payloads
//! Proposal:       Next (1) = 2 or 0 | RESERVED (1) | Length (2)
//!                 Proposal # (1) | Protocol-Id (1) | SPI Size (1) | # of Transforms (1)
//!                 SPI (SPI Size) | Transform payloads
//! Transform:      Next (1) = 3 or 0 | RESERVED (1) | Length (2)
//!                 Transform # (1) | Transform-Id (1) | RESERVED2 (2) | SA Attributes
//! ```
//!
//! Only the IPsec DOI's 4-byte situation without labelled domains
//! (SIT_SECRECY / SIT_INTEGRITY, RFC 2407 §4.6.1) is supported; nobody sends
//! those.

use super::attributes::{
    DataAttribute, Phase1Attributes, Phase2Attributes, emit_attributes, read_attributes,
};
use super::error::{Error, ErrorKind};
use super::payload::{PayloadBody, PayloadType, read_generic_header};
use super::reader::{Reader, write};

wire_enum! {
    /// Domain of Interpretation (RFC 2408 §3.4, RFC 2407 §6).
    pub struct Doi(u32) {
        ISAKMP = 0 => "ISAKMP",
        IPSEC = 1 => "IPsec",
    }
}

/// The IPsec DOI Situation bitmap (RFC 2407 §4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Situation(pub u32);

impl Situation {
    /// SIT_IDENTITY_ONLY: the only situation in use.
    pub const IDENTITY_ONLY: Self = Self(1);
    /// SIT_SECRECY (labelled domain; not supported).
    pub const SECRECY: Self = Self(2);
    /// SIT_INTEGRITY (labelled domain; not supported).
    pub const INTEGRITY: Self = Self(4);
}

wire_enum! {
    /// Protocol-Id of a proposal, notify or delete (RFC 2407 §4.4.1).
    pub struct ProtocolId(u8) {
        RESERVED = 0 => "RESERVED",
        ISAKMP = 1 => "PROTO_ISAKMP",
        AH = 2 => "PROTO_IPSEC_AH",
        ESP = 3 => "PROTO_IPSEC_ESP",
        IPCOMP = 4 => "PROTO_IPCOMP",
    }
}

/// A Transform-Id, whose meaning depends on the proposal's protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TransformId(pub u8);

impl TransformId {
    /// KEY_IKE, the only ISAKMP transform (RFC 2407 §4.4.2).
    pub const KEY_IKE: Self = Self(1);

    /// The name of this id under `protocol`.
    #[must_use]
    pub const fn name(self, protocol: ProtocolId) -> Option<&'static str> {
        match protocol {
            ProtocolId::ISAKMP => IsakmpTransformId(self.0).name(),
            ProtocolId::AH => AhTransformId(self.0).name(),
            ProtocolId::ESP => EspTransformId(self.0).name(),
            ProtocolId::IPCOMP => IpcompTransformId(self.0).name(),
            _ => None,
        }
    }
}

wire_enum! {
    /// ISAKMP transform ids (RFC 2407 §4.4.2).
    pub struct IsakmpTransformId(u8) {
        KEY_IKE = 1 => "KEY_IKE",
    }
}

wire_enum! {
    /// AH transform ids (RFC 2407 §4.4.3, RFC 4868, RFC 3566, RFC 4543).
    pub struct AhTransformId(u8) {
        MD5 = 2 => "AH_MD5",
        SHA = 3 => "AH_SHA",
        DES = 4 => "AH_DES",
        SHA2_256 = 5 => "AH_SHA2-256",
        SHA2_384 = 6 => "AH_SHA2-384",
        SHA2_512 = 7 => "AH_SHA2-512",
        RIPEMD = 8 => "AH_RIPEMD",
        AES_XCBC_MAC = 9 => "AH_AES-XCBC-MAC",
        RSA = 10 => "AH_RSA",
        AES_128_GMAC = 11 => "AH_AES-128-GMAC",
        AES_192_GMAC = 12 => "AH_AES-192-GMAC",
        AES_256_GMAC = 13 => "AH_AES-256-GMAC",
    }
}

wire_enum! {
    /// ESP transform ids (RFC 2407 §4.4.4, RFC 3602, RFC 3686, RFC 4309,
    /// RFC 4106, RFC 4543, RFC 4312).
    pub struct EspTransformId(u8) {
        DES_IV64 = 1 => "ESP_DES_IV64",
        DES = 2 => "ESP_DES",
        TRIPLE_DES = 3 => "ESP_3DES",
        RC5 = 4 => "ESP_RC5",
        IDEA = 5 => "ESP_IDEA",
        CAST = 6 => "ESP_CAST",
        BLOWFISH = 7 => "ESP_BLOWFISH",
        TRIPLE_IDEA = 8 => "ESP_3IDEA",
        DES_IV32 = 9 => "ESP_DES_IV32",
        RC4 = 10 => "ESP_RC4",
        NULL = 11 => "ESP_NULL",
        AES_CBC = 12 => "ESP_AES-CBC",
        AES_CTR = 13 => "ESP_AES-CTR",
        AES_CCM_8 = 14 => "ESP_AES-CCM-8",
        AES_CCM_12 = 15 => "ESP_AES-CCM-12",
        AES_CCM_16 = 16 => "ESP_AES-CCM-16",
        AES_GCM_8 = 18 => "ESP_AES-GCM-8",
        AES_GCM_12 = 19 => "ESP_AES-GCM-12",
        AES_GCM_16 = 20 => "ESP_AES-GCM-16",
        SEED_CBC = 21 => "ESP_SEED-CBC",
        CAMELLIA_CBC = 22 => "ESP_CAMELLIA-CBC",
        NULL_AUTH_AES_GMAC = 23 => "ESP_NULL_AUTH_AES-GMAC",
    }
}

wire_enum! {
    /// IPCOMP transform ids (RFC 2407 §4.4.5).
    pub struct IpcompTransformId(u8) {
        OUI = 1 => "IPCOMP_OUI",
        DEFLATE = 2 => "IPCOMP_DEFLATE",
        LZS = 3 => "IPCOMP_LZS",
        LZJH = 4 => "IPCOMP_LZJH",
    }
}

/// One transform of a proposal.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Transform {
    /// Transform #.
    pub number: u8,
    /// Transform-Id (meaning depends on the proposal's protocol).
    pub id: TransformId,
    /// SA attributes, in wire order and form.
    pub attributes: Vec<DataAttribute>,
}

impl Transform {
    /// A transform with the given attributes.
    #[must_use]
    pub const fn new(number: u8, id: TransformId, attributes: Vec<DataAttribute>) -> Self {
        Self {
            number,
            id,
            attributes,
        }
    }

    /// A KEY_IKE transform carrying `attributes` (Phase 1).
    #[must_use]
    pub fn ike(number: u8, attributes: &Phase1Attributes) -> Self {
        Self::new(number, TransformId::KEY_IKE, attributes.to_attributes())
    }

    /// An AH / ESP / IPCOMP transform carrying `attributes` (Phase 2).
    #[must_use]
    pub fn ipsec(number: u8, id: TransformId, attributes: &Phase2Attributes) -> Self {
        Self::new(number, id, attributes.to_attributes())
    }

    /// The attributes read as Phase 1 (ISAKMP) attributes.
    #[must_use]
    pub fn phase1_attributes(&self) -> Phase1Attributes {
        Phase1Attributes::from_attributes(&self.attributes)
    }

    /// The attributes read as Phase 2 (AH / ESP / IPCOMP) attributes.
    #[must_use]
    pub fn phase2_attributes(&self) -> Phase2Attributes {
        Phase2Attributes::from_attributes(&self.attributes)
    }
}

/// One proposal of an SA payload.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Proposal {
    /// Proposal #.  Proposals sharing a number form one AND-ed bundle
    /// (e.g. AH + ESP), RFC 2408 §4.2.
    pub number: u8,
    /// The protocol being negotiated.
    pub protocol: ProtocolId,
    /// The sender's SPI (empty for ISAKMP, 4 bytes for AH/ESP, 2 or 4 CPI
    /// bytes for IPCOMP).
    pub spi: Vec<u8>,
    /// The transforms, one of which the responder picks.
    pub transforms: Vec<Transform>,
}

impl Proposal {
    /// A proposal.
    #[must_use]
    pub const fn new(
        number: u8,
        protocol: ProtocolId,
        spi: Vec<u8>,
        transforms: Vec<Transform>,
    ) -> Self {
        Self {
            number,
            protocol,
            spi,
            transforms,
        }
    }
}

/// The body of an SA payload.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SecurityAssociation {
    /// The DOI (IPsec in practice).
    pub doi: Doi,
    /// The situation (SIT_IDENTITY_ONLY in practice).
    pub situation: Situation,
    /// The proposals, in order of preference.
    pub proposals: Vec<Proposal>,
}

impl SecurityAssociation {
    /// An IPsec-DOI, identity-only SA with these proposals.
    #[must_use]
    pub const fn ipsec(proposals: Vec<Proposal>) -> Self {
        Self {
            doi: Doi::IPSEC,
            situation: Situation::IDENTITY_ONLY,
            proposals,
        }
    }
}

/// Checks a nested Next Payload field: `expected` when more follow, NONE for
/// the last one.
fn check_nested_next(
    next: u8,
    expected: PayloadType,
    more: bool,
    what: &'static str,
    at: usize,
) -> Result<(), Error> {
    match (next, more) {
        (0, false) => Ok(()),
        (n, true) if n == expected.0 => Ok(()),
        (0, true) => Err(Error::new(ErrorKind::TrailingBytes(what), at)),
        (n, false) if n == expected.0 => Err(Error::new(ErrorKind::Truncated(what), at)),
        _ => Err(Error::new(
            ErrorKind::Invalid {
                what,
                why: "nested Next Payload is neither the next structure nor NONE",
            },
            at,
        )),
    }
}

impl Transform {
    fn read(r: &mut Reader<'_>) -> Result<(u8, usize, Self), Error> {
        const WHAT: &str = "Transform";
        let (next, start, mut t) = read_generic_header(r, WHAT, 8)?;
        let number = t.u8(WHAT)?;
        let id = TransformId(t.u8(WHAT)?);
        let _reserved2 = t.u16(WHAT)?;
        let attributes = read_attributes(&mut t)?;
        Ok((
            next,
            start,
            Self {
                number,
                id,
                attributes,
            },
        ))
    }

    fn emit(&self, last: bool, out: &mut Vec<u8>) -> Result<(), Error> {
        let start = out.len();
        out.push(if last { 0 } else { PayloadType::TRANSFORM.0 });
        out.push(0);
        let len_at = write::placeholder_u16(out);
        out.push(self.number);
        out.push(self.id.0);
        out.extend_from_slice(&[0, 0]);
        emit_attributes(&self.attributes, out)?;
        write::patch_u16(out, len_at, start, "Transform")
    }
}

impl Proposal {
    fn read(r: &mut Reader<'_>) -> Result<(u8, usize, Self), Error> {
        const WHAT: &str = "Proposal";
        let (next, start, mut p) = read_generic_header(r, WHAT, 8)?;
        let number = p.u8(WHAT)?;
        let protocol = ProtocolId(p.u8(WHAT)?);
        let spi_size = p.u8(WHAT)?;
        let count_at = p.offset();
        let count = p.u8(WHAT)?;
        let spi = p.take(usize::from(spi_size), "Proposal SPI")?.to_vec();
        let mut transforms = Vec::new();
        while !p.is_empty() {
            let (t_next, t_start, t) = Transform::read(&mut p)?;
            check_nested_next(
                t_next,
                PayloadType::TRANSFORM,
                !p.is_empty(),
                "Transform",
                t_start,
            )?;
            transforms.push(t);
        }
        if transforms.len() != usize::from(count) {
            return Err(Error::new(
                ErrorKind::Invalid {
                    what: WHAT,
                    why: "# of Transforms does not match the transforms present",
                },
                count_at,
            ));
        }
        Ok((
            next,
            start,
            Self {
                number,
                protocol,
                spi,
                transforms,
            },
        ))
    }

    fn emit(&self, last: bool, out: &mut Vec<u8>) -> Result<(), Error> {
        const WHAT: &str = "Proposal";
        let start = out.len();
        out.push(if last { 0 } else { PayloadType::PROPOSAL.0 });
        out.push(0);
        let len_at = write::placeholder_u16(out);
        out.push(self.number);
        out.push(self.protocol.0);
        out.push(write::u8_len(self.spi.len(), "Proposal SPI", start)?);
        out.push(write::u8_len(self.transforms.len(), WHAT, start)?);
        out.extend_from_slice(&self.spi);
        let n = self.transforms.len();
        for (i, t) in self.transforms.iter().enumerate() {
            t.emit(i.saturating_add(1) == n, out)?;
        }
        write::patch_u16(out, len_at, start, WHAT)
    }
}

impl PayloadBody for SecurityAssociation {
    const TYPE: PayloadType = PayloadType::SA;

    fn parse_body(body: &[u8]) -> Result<Self, Error> {
        const WHAT: &str = "SA payload";
        let mut r = Reader::new(body, 0);
        let doi = Doi(r.u32(WHAT)?);
        let situation_at = r.offset();
        let situation = Situation(r.u32(WHAT)?);
        if situation.0 & (Situation::SECRECY.0 | Situation::INTEGRITY.0) != 0 {
            return Err(Error::new(
                ErrorKind::Invalid {
                    what: WHAT,
                    why: "labelled-domain situations (secrecy/integrity) are not supported",
                },
                situation_at,
            ));
        }
        let mut proposals = Vec::new();
        while !r.is_empty() {
            let (next, start, p) = Proposal::read(&mut r)?;
            check_nested_next(
                next,
                PayloadType::PROPOSAL,
                !r.is_empty(),
                "Proposal",
                start,
            )?;
            proposals.push(p);
        }
        Ok(Self {
            doi,
            situation,
            proposals,
        })
    }

    fn emit_body(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        out.extend_from_slice(&self.doi.0.to_be_bytes());
        out.extend_from_slice(&self.situation.0.to_be_bytes());
        let n = self.proposals.len();
        for (i, p) in self.proposals.iter().enumerate() {
            p.emit(i.saturating_add(1) == n, out)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::attributes::{
        AuthAlgorithm, EncapsulationMode, EncryptionAlgorithm, LifeType, Lifetime,
    };

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len() / 2)
            .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
            .collect()
    }

    // SAi_b of the RUB-NDS Main Mode PSK exchange.
    const SAI_B: &str = "00000001000000010000002c00010001000000240001000080010007800e0080800200028004000280030001800b0001800c7080";

    #[test]
    fn phase1_sa_known_answer_both_directions() {
        let sa = SecurityAssociation::parse_body(&hex(SAI_B)).unwrap();
        assert_eq!(sa.doi, Doi::IPSEC);
        assert_eq!(sa.situation, Situation::IDENTITY_ONLY);
        assert_eq!(sa.proposals.len(), 1);
        let p = &sa.proposals[0];
        // This initiator numbers proposals and transforms from 0.
        assert_eq!(
            (p.number, p.protocol, p.spi.len()),
            (0, ProtocolId::ISAKMP, 0)
        );
        let t = &p.transforms[0];
        assert_eq!((t.number, t.id), (0, TransformId::KEY_IKE));
        let a = t.phase1_attributes();
        assert_eq!(a.encryption, Some(EncryptionAlgorithm::AES_CBC));
        assert_eq!(a.key_length, Some(128));
        assert_eq!(a.lifetime(LifeType::SECONDS), Some(28800));
        assert!(a.other.is_empty());
        assert_eq!(sa.to_body().unwrap(), hex(SAI_B));
    }

    // The SA of RUB-NDS Quick Mode message 1 (decrypted): ESP AES-CBC-128,
    // HMAC-SHA1, tunnel, 3600 s, SPI b75ad16c.
    const QM_SA: &str = "00000001000000010000002800030401b75ad16c0000001c000c0000800400018001000180020e108005000280060080";

    #[test]
    fn phase2_sa_known_answer_both_directions() {
        let body = hex(QM_SA);
        let sa = SecurityAssociation::parse_body(&body).unwrap();
        let p = &sa.proposals[0];
        assert_eq!(p.protocol, ProtocolId::ESP);
        assert_eq!(p.spi, [0xb7, 0x5a, 0xd1, 0x6c]);
        let t = &p.transforms[0];
        assert_eq!(t.id, TransformId(EspTransformId::AES_CBC.0));
        assert_eq!(t.id.name(ProtocolId::ESP), Some("ESP_AES-CBC"));
        let a = t.phase2_attributes();
        assert_eq!(a.encapsulation, Some(EncapsulationMode::TUNNEL));
        assert_eq!(a.auth_algorithm, Some(AuthAlgorithm::HMAC_SHA1));
        assert_eq!(a.key_length, Some(128));
        assert_eq!(
            a.lifetimes,
            vec![Lifetime {
                ty: LifeType::SECONDS,
                duration: 3600
            }]
        );
        assert_eq!(sa.to_body().unwrap(), body);
    }

    #[test]
    fn builders_produce_the_same_bytes() {
        let sa = SecurityAssociation::ipsec(vec![Proposal::new(
            0,
            ProtocolId::ISAKMP,
            vec![],
            vec![Transform::new(
                0,
                TransformId::KEY_IKE,
                SecurityAssociation::parse_body(&hex(SAI_B))
                    .unwrap()
                    .proposals[0]
                    .transforms[0]
                    .attributes
                    .clone(),
            )],
        )]);
        assert_eq!(sa.to_body().unwrap(), hex(SAI_B));
    }

    #[test]
    fn transform_count_and_nested_lengths_are_checked() {
        let good = hex(SAI_B);
        // # of Transforms = 2 with one transform present.
        let mut b = good.clone();
        b[15] = 2;
        let err = SecurityAssociation::parse_body(&b).unwrap_err();
        assert_eq!(err.offset, 15);
        // Transform length beyond its proposal.
        let mut b = good.clone();
        b[19] = 0x40;
        let err = SecurityAssociation::parse_body(&b).unwrap_err();
        assert_eq!(
            err,
            Error::new(
                ErrorKind::BadLength {
                    what: "Transform",
                    length: 0x40
                },
                18
            )
        );
        // Proposal says more follow but none does.
        let mut b = good.clone();
        b[8] = 2;
        let err = SecurityAssociation::parse_body(&b).unwrap_err();
        assert_eq!(err, Error::new(ErrorKind::Truncated("Proposal"), 8));
        // Proposal length below its fixed part.
        let mut b = good;
        b[11] = 7;
        assert!(matches!(
            SecurityAssociation::parse_body(&b).unwrap_err().kind,
            ErrorKind::BadLength {
                what: "Proposal",
                length: 7
            }
        ));
    }

    #[test]
    fn labelled_situation_is_refused() {
        let mut b = hex(SAI_B);
        b[7] = 3;
        assert!(matches!(
            SecurityAssociation::parse_body(&b).unwrap_err().kind,
            ErrorKind::Invalid { .. }
        ));
    }
}
