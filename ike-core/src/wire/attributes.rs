//! Data attributes (RFC 2408 §3.3) and the typed views of the Phase 1
//! (RFC 2409 Appendix A) and Phase 2 (RFC 2407 §4.5) transform attributes.
//!
//! ```text
//! 0..2   AF (1 bit) | Attribute Type (15 bits)
//! 2..4   AF = 1 (TV):  Attribute Value
//!        AF = 0 (TLV): Attribute Length, followed by that many value bytes
//! ```

use super::error::Error;
use super::reader::{Reader, write};

/// An attribute value in its wire form, which is kept so that it re-emits
/// byte for byte.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AttributeValue {
    /// TV form (AF = 1): a 16-bit value in the attribute itself.
    Basic(u16),
    /// TLV form (AF = 0): a length and that many bytes.
    Variable(Vec<u8>),
}

/// One data attribute: its 15-bit type (whose meaning depends on where it
/// appears) and its value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DataAttribute {
    /// The Attribute Type without the AF bit.
    pub ty: u16,
    /// The value, in the form it was (or will be) sent.
    pub value: AttributeValue,
}

const AF_TV: u16 = 0x8000;

impl DataAttribute {
    /// A TV attribute.  `ty` must be below 0x8000 (the top bit is AF).
    #[must_use]
    pub const fn basic(ty: u16, value: u16) -> Self {
        Self {
            ty: ty & !AF_TV,
            value: AttributeValue::Basic(value),
        }
    }

    /// A TLV attribute.
    #[must_use]
    pub fn variable(ty: u16, value: impl Into<Vec<u8>>) -> Self {
        Self {
            ty: ty & !AF_TV,
            value: AttributeValue::Variable(value.into()),
        }
    }

    /// An integer attribute in the shortest usual form: TV when the value
    /// fits 16 bits, else TLV of 4 bytes (or 8 above `u32::MAX`).  This is
    /// how life durations are sent by strongSwan, racoon and Cisco.
    #[must_use]
    pub fn integer(ty: u16, value: u64) -> Self {
        if let Ok(v) = u16::try_from(value) {
            Self::basic(ty, v)
        } else if let Ok(v) = u32::try_from(value) {
            Self::variable(ty, v.to_be_bytes())
        } else {
            Self::variable(ty, value.to_be_bytes())
        }
    }

    /// The value as an integer: the TV value, or a TLV value of at most
    /// 8 bytes read big-endian.
    #[must_use]
    pub fn as_u64(&self) -> Option<u64> {
        match &self.value {
            AttributeValue::Basic(v) => Some(u64::from(*v)),
            AttributeValue::Variable(bytes) if bytes.len() <= 8 => {
                Some(bytes.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
            }
            AttributeValue::Variable(_) => None,
        }
    }

    /// The value as a 16-bit integer, if it is one.
    #[must_use]
    pub fn as_u16(&self) -> Option<u16> {
        self.as_u64().and_then(|v| u16::try_from(v).ok())
    }

    /// The value bytes (two big-endian bytes for a TV attribute).
    #[must_use]
    pub fn value_bytes(&self) -> Vec<u8> {
        match &self.value {
            AttributeValue::Basic(v) => v.to_be_bytes().to_vec(),
            AttributeValue::Variable(b) => b.clone(),
        }
    }

    /// Appends the attribute.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        let ty = self.ty & !AF_TV;
        match &self.value {
            AttributeValue::Basic(v) => {
                out.extend_from_slice(&(ty | AF_TV).to_be_bytes());
                out.extend_from_slice(&v.to_be_bytes());
            }
            AttributeValue::Variable(bytes) => {
                let len = write::u16_len(bytes.len(), "data attribute", out.len())?;
                out.extend_from_slice(&ty.to_be_bytes());
                out.extend_from_slice(&len.to_be_bytes());
                out.extend_from_slice(bytes);
            }
        }
        Ok(())
    }

    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Self, Error> {
        const WHAT: &str = "data attribute";
        let raw = r.u16(WHAT)?;
        let ty = raw & !AF_TV;
        let value = if raw & AF_TV != 0 {
            AttributeValue::Basic(r.u16(WHAT)?)
        } else {
            let len = r.u16(WHAT)?;
            AttributeValue::Variable(r.take(usize::from(len), WHAT)?.to_vec())
        };
        Ok(Self { ty, value })
    }
}

/// Reads attributes until `r` is empty.  Each takes at least 4 bytes.
pub(crate) fn read_attributes(r: &mut Reader<'_>) -> Result<Vec<DataAttribute>, Error> {
    let mut attributes = Vec::new();
    while !r.is_empty() {
        attributes.push(DataAttribute::read(r)?);
    }
    Ok(attributes)
}

/// Parses a buffer that holds nothing but data attributes.
pub fn parse_attributes(bytes: &[u8]) -> Result<Vec<DataAttribute>, Error> {
    read_attributes(&mut Reader::new(bytes, 0))
}

/// Appends every attribute.
pub fn emit_attributes(attributes: &[DataAttribute], out: &mut Vec<u8>) -> Result<(), Error> {
    attributes.iter().try_for_each(|a| a.emit(out))
}

wire_enum! {
    /// Phase 1 (ISAKMP SA) attribute types, RFC 2409 Appendix A.
    pub struct Phase1AttributeType(u16) {
        ENCRYPTION_ALGORITHM = 1 => "Encryption Algorithm",
        HASH_ALGORITHM = 2 => "Hash Algorithm",
        AUTHENTICATION_METHOD = 3 => "Authentication Method",
        GROUP_DESCRIPTION = 4 => "Group Description",
        GROUP_TYPE = 5 => "Group Type",
        GROUP_PRIME = 6 => "Group Prime/Irreducible Polynomial",
        GROUP_GENERATOR_ONE = 7 => "Group Generator One",
        GROUP_GENERATOR_TWO = 8 => "Group Generator Two",
        GROUP_CURVE_A = 9 => "Group Curve A",
        GROUP_CURVE_B = 10 => "Group Curve B",
        LIFE_TYPE = 11 => "Life Type",
        LIFE_DURATION = 12 => "Life Duration",
        PRF = 13 => "PRF",
        KEY_LENGTH = 14 => "Key Length",
        FIELD_SIZE = 15 => "Field Size",
        GROUP_ORDER = 16 => "Group Order",
    }
}

wire_enum! {
    /// Phase 1 encryption algorithms (RFC 2409 App. A, RFC 3602, RFC 4312).
    pub struct EncryptionAlgorithm(u16) {
        DES_CBC = 1 => "DES-CBC",
        IDEA_CBC = 2 => "IDEA-CBC",
        BLOWFISH_CBC = 3 => "Blowfish-CBC",
        RC5_R16_B64_CBC = 4 => "RC5-R16-B64-CBC",
        TRIPLE_DES_CBC = 5 => "3DES-CBC",
        CAST_CBC = 6 => "CAST-CBC",
        AES_CBC = 7 => "AES-CBC",
        CAMELLIA_CBC = 8 => "Camellia-CBC",
    }
}

wire_enum! {
    /// Phase 1 hash algorithms (RFC 2409 App. A, RFC 4868 §3 for SHA-2).
    pub struct HashAlgorithm(u16) {
        MD5 = 1 => "MD5",
        SHA1 = 2 => "SHA",
        TIGER = 3 => "Tiger",
        SHA2_256 = 4 => "SHA2-256",
        SHA2_384 = 5 => "SHA2-384",
        SHA2_512 = 6 => "SHA2-512",
    }
}

wire_enum! {
    /// Phase 1 authentication methods (RFC 2409 App. A, RFC 4754 ECDSA, and
    /// the XAUTH / hybrid values of draft-ietf-ipsec-isakmp-xauth and
    /// draft-ietf-ipsec-isakmp-hybrid-auth from the private range).
    pub struct AuthMethod(u16) {
        PRE_SHARED_KEY = 1 => "pre-shared key",
        DSS_SIGNATURE = 2 => "DSS signatures",
        RSA_SIGNATURE = 3 => "RSA signatures",
        RSA_ENCRYPTION = 4 => "Encryption with RSA",
        RSA_REVISED_ENCRYPTION = 5 => "Revised encryption with RSA",
        ELGAMAL_ENCRYPTION = 6 => "Encryption with El-Gamal",
        ELGAMAL_REVISED_ENCRYPTION = 7 => "Revised encryption with El-Gamal",
        ECDSA_SIGNATURE = 8 => "ECDSA signatures",
        ECDSA_SHA256_P256 = 9 => "ECDSA with SHA-256 on P-256",
        ECDSA_SHA384_P384 = 10 => "ECDSA with SHA-384 on P-384",
        ECDSA_SHA512_P521 = 11 => "ECDSA with SHA-512 on P-521",
        HYBRID_INIT_RSA = 64221 => "HybridInitRSA",
        HYBRID_RESP_RSA = 64222 => "HybridRespRSA",
        HYBRID_INIT_DSS = 64223 => "HybridInitDSS",
        HYBRID_RESP_DSS = 64224 => "HybridRespDSS",
        XAUTH_INIT_PRE_SHARED = 65001 => "XAUTHInitPreShared",
        XAUTH_RESP_PRE_SHARED = 65002 => "XAUTHRespPreShared",
        XAUTH_INIT_DSS = 65003 => "XAUTHInitDSS",
        XAUTH_RESP_DSS = 65004 => "XAUTHRespDSS",
        XAUTH_INIT_RSA = 65005 => "XAUTHInitRSA",
        XAUTH_RESP_RSA = 65006 => "XAUTHRespRSA",
        XAUTH_INIT_RSA_ENCRYPTION = 65007 => "XAUTHInitRSAEncryption",
        XAUTH_RESP_RSA_ENCRYPTION = 65008 => "XAUTHRespRSAEncryption",
        XAUTH_INIT_RSA_REVISED_ENCRYPTION = 65009 => "XAUTHInitRSARevisedEncryption",
        XAUTH_RESP_RSA_REVISED_ENCRYPTION = 65010 => "XAUTHRespRSARevisedEncryption",
    }
}

wire_enum! {
    /// Group Description, shared by Phase 1 and Phase 2 (RFC 2409 §6,
    /// RFC 3526, RFC 5114, RFC 5903, RFC 8031).
    pub struct GroupDescription(u16) {
        MODP_768 = 1 => "MODP-768",
        MODP_1024 = 2 => "MODP-1024",
        EC2N_155 = 3 => "EC2N-155",
        EC2N_185 = 4 => "EC2N-185",
        MODP_1536 = 5 => "MODP-1536",
        MODP_2048 = 14 => "MODP-2048",
        MODP_3072 = 15 => "MODP-3072",
        MODP_4096 = 16 => "MODP-4096",
        MODP_6144 = 17 => "MODP-6144",
        MODP_8192 = 18 => "MODP-8192",
        ECP_256 = 19 => "ECP-256",
        ECP_384 = 20 => "ECP-384",
        ECP_521 = 21 => "ECP-521",
        MODP_1024_S160 = 22 => "MODP-1024 with 160-bit subgroup",
        MODP_2048_S224 = 23 => "MODP-2048 with 224-bit subgroup",
        MODP_2048_S256 = 24 => "MODP-2048 with 256-bit subgroup",
        ECP_192 = 25 => "ECP-192",
        ECP_224 = 26 => "ECP-224",
        CURVE25519 = 31 => "Curve25519",
    }
}

wire_enum! {
    /// Group Type (RFC 2409 App. A).
    pub struct GroupType(u16) {
        MODP = 1 => "MODP",
        ECP = 2 => "ECP",
        EC2N = 3 => "EC2N",
    }
}

wire_enum! {
    /// Life Type, Phase 1 (RFC 2409 App. A) and Phase 2 (RFC 2407 §4.5).
    pub struct LifeType(u16) {
        SECONDS = 1 => "seconds",
        KILOBYTES = 2 => "kilobytes",
    }
}

/// One Life Type / Life Duration pair.  RFC 2409 App. A and RFC 2407 §4.5
/// require the duration to follow its type immediately.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Lifetime {
    /// Seconds or kilobytes.
    pub ty: LifeType,
    /// The duration in those units.
    pub duration: u64,
}

/// Splits life type/duration pairs out of `attributes` at index `i`: returns
/// the pair and how many attributes it used, or `None` when attribute `i`
/// does not start a well-formed pair.
fn life_pair(
    attributes: &[DataAttribute],
    i: usize,
    type_code: u16,
    duration_code: u16,
) -> Option<Lifetime> {
    let first = attributes.get(i)?;
    let second = attributes.get(i.checked_add(1)?)?;
    if first.ty != type_code || second.ty != duration_code {
        return None;
    }
    Some(Lifetime {
        ty: LifeType(first.as_u16()?),
        duration: second.as_u64()?,
    })
}

/// Moves well-formed life type/duration pairs into `lifetimes` and returns
/// the other attributes in order.
fn split_lifetimes<'a>(
    attributes: &'a [DataAttribute],
    (type_code, duration_code): (u16, u16),
    lifetimes: &mut Vec<Lifetime>,
) -> Vec<&'a DataAttribute> {
    let mut rest = Vec::new();
    let mut i = 0;
    while let Some(a) = attributes.get(i) {
        if let Some(pair) = life_pair(attributes, i, type_code, duration_code) {
            lifetimes.push(pair);
            i = i.saturating_add(2);
        } else {
            rest.push(a);
            i = i.saturating_add(1);
        }
    }
    rest
}

/// Appends each lifetime as a type/duration pair.
fn push_lifetimes(
    v: &mut Vec<DataAttribute>,
    lifetimes: &[Lifetime],
    (type_code, duration_code): (u16, u16),
) {
    for life in lifetimes {
        v.push(DataAttribute::basic(type_code, life.ty.0));
        v.push(DataAttribute::integer(duration_code, life.duration));
    }
}

fn push_basic(v: &mut Vec<DataAttribute>, ty: u16, value: Option<u16>) {
    if let Some(x) = value {
        v.push(DataAttribute::basic(ty, x));
    }
}

fn push_variable(v: &mut Vec<DataAttribute>, ty: u16, value: Option<&Vec<u8>>) {
    if let Some(x) = value {
        v.push(DataAttribute::variable(ty, x.clone()));
    }
}

fn set_once<T>(
    slot: &mut Option<T>,
    value: Option<T>,
    attr: &DataAttribute,
    other: &mut Vec<DataAttribute>,
) {
    match (slot.is_none(), value) {
        (true, Some(v)) => *slot = Some(v),
        _ => other.push(attr.clone()),
    }
}

fn variable(attr: &DataAttribute) -> Option<Vec<u8>> {
    match &attr.value {
        AttributeValue::Variable(b) => Some(b.clone()),
        AttributeValue::Basic(_) => None,
    }
}

/// The Phase 1 attributes of an ISAKMP transform, typed.  Attributes that
/// are unknown, repeated, or whose value does not fit the type are kept in
/// `other`, so nothing is lost; a negotiator should refuse a transform with
/// attributes it does not understand (RFC 2409 §5).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Phase1Attributes {
    /// Encryption Algorithm (1).
    pub encryption: Option<EncryptionAlgorithm>,
    /// Key Length in bits (14), for variable-key ciphers.
    pub key_length: Option<u16>,
    /// Hash Algorithm (2).
    pub hash: Option<HashAlgorithm>,
    /// Authentication Method (3).
    pub auth_method: Option<AuthMethod>,
    /// Group Description (4).
    pub group: Option<GroupDescription>,
    /// Group Type (5).
    pub group_type: Option<GroupType>,
    /// Group Prime / Irreducible Polynomial (6).
    pub group_prime: Option<Vec<u8>>,
    /// Group Generator One (7).
    pub group_generator_one: Option<Vec<u8>>,
    /// Group Generator Two (8).
    pub group_generator_two: Option<Vec<u8>>,
    /// Group Curve A (9).
    pub group_curve_a: Option<Vec<u8>>,
    /// Group Curve B (10).
    pub group_curve_b: Option<Vec<u8>>,
    /// Life Type (11) / Life Duration (12) pairs, in order.
    pub lifetimes: Vec<Lifetime>,
    /// PRF (13).
    pub prf: Option<u16>,
    /// Field Size (15).
    pub field_size: Option<u16>,
    /// Group Order (16).
    pub group_order: Option<Vec<u8>>,
    /// Everything else, in order.
    pub other: Vec<DataAttribute>,
}

impl Phase1Attributes {
    /// The typed view of `attributes`.
    #[must_use]
    pub fn from_attributes(attributes: &[DataAttribute]) -> Self {
        use Phase1AttributeType as T;
        let mut s = Self::default();
        let codes = (T::LIFE_TYPE.0, T::LIFE_DURATION.0);
        for a in split_lifetimes(attributes, codes, &mut s.lifetimes) {
            let o = &mut s.other;
            match T(a.ty) {
                T::ENCRYPTION_ALGORITHM => {
                    set_once(&mut s.encryption, a.as_u16().map(EncryptionAlgorithm), a, o)
                }
                T::KEY_LENGTH => set_once(&mut s.key_length, a.as_u16(), a, o),
                T::HASH_ALGORITHM => set_once(&mut s.hash, a.as_u16().map(HashAlgorithm), a, o),
                T::AUTHENTICATION_METHOD => {
                    set_once(&mut s.auth_method, a.as_u16().map(AuthMethod), a, o)
                }
                T::GROUP_DESCRIPTION => {
                    set_once(&mut s.group, a.as_u16().map(GroupDescription), a, o)
                }
                T::GROUP_TYPE => set_once(&mut s.group_type, a.as_u16().map(GroupType), a, o),
                T::GROUP_PRIME => set_once(&mut s.group_prime, variable(a), a, o),
                T::GROUP_GENERATOR_ONE => set_once(&mut s.group_generator_one, variable(a), a, o),
                T::GROUP_GENERATOR_TWO => set_once(&mut s.group_generator_two, variable(a), a, o),
                T::GROUP_CURVE_A => set_once(&mut s.group_curve_a, variable(a), a, o),
                T::GROUP_CURVE_B => set_once(&mut s.group_curve_b, variable(a), a, o),
                T::PRF => set_once(&mut s.prf, a.as_u16(), a, o),
                T::FIELD_SIZE => set_once(&mut s.field_size, a.as_u16(), a, o),
                T::GROUP_ORDER => set_once(&mut s.group_order, variable(a), a, o),
                _ => o.push(a.clone()),
            }
        }
        s
    }

    /// The attributes to send, in the usual order (encryption, key length,
    /// hash, authentication, group, lifetimes, the rest).
    #[must_use]
    pub fn to_attributes(&self) -> Vec<DataAttribute> {
        use Phase1AttributeType as T;
        let mut v = Vec::new();
        push_basic(
            &mut v,
            T::ENCRYPTION_ALGORITHM.0,
            self.encryption.map(|x| x.0),
        );
        push_basic(&mut v, T::KEY_LENGTH.0, self.key_length);
        push_basic(&mut v, T::HASH_ALGORITHM.0, self.hash.map(|x| x.0));
        push_basic(
            &mut v,
            T::AUTHENTICATION_METHOD.0,
            self.auth_method.map(|x| x.0),
        );
        push_basic(&mut v, T::GROUP_DESCRIPTION.0, self.group.map(|x| x.0));
        push_basic(&mut v, T::GROUP_TYPE.0, self.group_type.map(|x| x.0));
        push_variable(&mut v, T::GROUP_PRIME.0, self.group_prime.as_ref());
        push_variable(
            &mut v,
            T::GROUP_GENERATOR_ONE.0,
            self.group_generator_one.as_ref(),
        );
        push_variable(
            &mut v,
            T::GROUP_GENERATOR_TWO.0,
            self.group_generator_two.as_ref(),
        );
        push_variable(&mut v, T::GROUP_CURVE_A.0, self.group_curve_a.as_ref());
        push_variable(&mut v, T::GROUP_CURVE_B.0, self.group_curve_b.as_ref());
        push_lifetimes(
            &mut v,
            &self.lifetimes,
            (T::LIFE_TYPE.0, T::LIFE_DURATION.0),
        );
        push_basic(&mut v, T::PRF.0, self.prf);
        push_basic(&mut v, T::FIELD_SIZE.0, self.field_size);
        push_variable(&mut v, T::GROUP_ORDER.0, self.group_order.as_ref());
        v.extend(self.other.iter().cloned());
        v
    }

    /// The duration of the first lifetime of type `ty`.
    #[must_use]
    pub fn lifetime(&self, ty: LifeType) -> Option<u64> {
        self.lifetimes
            .iter()
            .find(|l| l.ty == ty)
            .map(|l| l.duration)
    }
}

wire_enum! {
    /// Phase 2 (IPsec SA) attribute types, RFC 2407 §4.5 (ECN RFC 3168 §9.2,
    /// ESN RFC 4304).
    pub struct Phase2AttributeType(u16) {
        SA_LIFE_TYPE = 1 => "SA Life Type",
        SA_LIFE_DURATION = 2 => "SA Life Duration",
        GROUP_DESCRIPTION = 3 => "Group Description",
        ENCAPSULATION_MODE = 4 => "Encapsulation Mode",
        AUTHENTICATION_ALGORITHM = 5 => "Authentication Algorithm",
        KEY_LENGTH = 6 => "Key Length",
        KEY_ROUNDS = 7 => "Key Rounds",
        COMPRESS_DICTIONARY_SIZE = 8 => "Compress Dictionary Size",
        COMPRESS_PRIVATE_ALGORITHM = 9 => "Compress Private Algorithm",
        ECN_TUNNEL = 10 => "ECN Tunnel",
        EXTENDED_SEQUENCE_NUMBER = 11 => "Extended (64-bit) Sequence Number",
    }
}

wire_enum! {
    /// Encapsulation Mode (RFC 2407 §4.5; UDP modes RFC 3947 §5.1 and the
    /// values of draft-ietf-ipsec-nat-t-ike-02/03 that older peers send).
    pub struct EncapsulationMode(u16) {
        TUNNEL = 1 => "Tunnel",
        TRANSPORT = 2 => "Transport",
        UDP_TUNNEL = 3 => "UDP-Encapsulated-Tunnel",
        UDP_TRANSPORT = 4 => "UDP-Encapsulated-Transport",
        UDP_TUNNEL_DRAFT = 61443 => "UDP-Encapsulated-Tunnel (draft)",
        UDP_TRANSPORT_DRAFT = 61444 => "UDP-Encapsulated-Transport (draft)",
    }
}

wire_enum! {
    /// Phase 2 Authentication Algorithm (RFC 2407 §4.5, RFC 4868 §2.4 for
    /// HMAC-SHA-2, RFC 3566 AES-XCBC, RFC 4543 GMAC).
    pub struct AuthAlgorithm(u16) {
        HMAC_MD5 = 1 => "HMAC-MD5",
        HMAC_SHA1 = 2 => "HMAC-SHA",
        DES_MAC = 3 => "DES-MAC",
        KPDK = 4 => "KPDK",
        HMAC_SHA2_256 = 5 => "HMAC-SHA2-256",
        HMAC_SHA2_384 = 6 => "HMAC-SHA2-384",
        HMAC_SHA2_512 = 7 => "HMAC-SHA2-512",
        HMAC_RIPEMD = 8 => "HMAC-RIPEMD",
        AES_XCBC_MAC = 9 => "AES-XCBC-MAC",
        SIG_RSA = 10 => "SIG-RSA",
        AES_128_GMAC = 11 => "AES-128-GMAC",
        AES_192_GMAC = 12 => "AES-192-GMAC",
        AES_256_GMAC = 13 => "AES-256-GMAC",
    }
}

wire_enum! {
    /// ECN Tunnel (RFC 3168 §9.2.1).
    pub struct EcnTunnel(u16) {
        ALLOWED = 1 => "Allowed",
        FORBIDDEN = 2 => "Forbidden",
    }
}

/// The Phase 2 attributes of an AH / ESP / IPCOMP transform, typed, with the
/// same rules as [`Phase1Attributes`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Phase2Attributes {
    /// SA Life Type (1) / SA Life Duration (2) pairs, in order.
    pub lifetimes: Vec<Lifetime>,
    /// Group Description (3): the PFS group.
    pub group: Option<GroupDescription>,
    /// Encapsulation Mode (4).
    pub encapsulation: Option<EncapsulationMode>,
    /// Authentication Algorithm (5).
    pub auth_algorithm: Option<AuthAlgorithm>,
    /// Key Length in bits (6).
    pub key_length: Option<u16>,
    /// Key Rounds (7).
    pub key_rounds: Option<u16>,
    /// Compress Dictionary Size (8).
    pub compress_dictionary_size: Option<u16>,
    /// Compress Private Algorithm (9).
    pub compress_private_algorithm: Option<Vec<u8>>,
    /// ECN Tunnel (10).
    pub ecn_tunnel: Option<EcnTunnel>,
    /// Extended Sequence Number (11): 1 = 64-bit sequence numbers.
    pub extended_sequence_number: Option<u16>,
    /// Everything else, in order.
    pub other: Vec<DataAttribute>,
}

impl Phase2Attributes {
    /// The typed view of `attributes`.
    #[must_use]
    pub fn from_attributes(attributes: &[DataAttribute]) -> Self {
        use Phase2AttributeType as T;
        let mut s = Self::default();
        let codes = (T::SA_LIFE_TYPE.0, T::SA_LIFE_DURATION.0);
        for a in split_lifetimes(attributes, codes, &mut s.lifetimes) {
            let o = &mut s.other;
            match T(a.ty) {
                T::GROUP_DESCRIPTION => {
                    set_once(&mut s.group, a.as_u16().map(GroupDescription), a, o)
                }
                T::ENCAPSULATION_MODE => set_once(
                    &mut s.encapsulation,
                    a.as_u16().map(EncapsulationMode),
                    a,
                    o,
                ),
                T::AUTHENTICATION_ALGORITHM => {
                    set_once(&mut s.auth_algorithm, a.as_u16().map(AuthAlgorithm), a, o)
                }
                T::KEY_LENGTH => set_once(&mut s.key_length, a.as_u16(), a, o),
                T::KEY_ROUNDS => set_once(&mut s.key_rounds, a.as_u16(), a, o),
                T::COMPRESS_DICTIONARY_SIZE => {
                    set_once(&mut s.compress_dictionary_size, a.as_u16(), a, o)
                }
                T::COMPRESS_PRIVATE_ALGORITHM => {
                    set_once(&mut s.compress_private_algorithm, variable(a), a, o)
                }
                T::ECN_TUNNEL => set_once(&mut s.ecn_tunnel, a.as_u16().map(EcnTunnel), a, o),
                T::EXTENDED_SEQUENCE_NUMBER => {
                    set_once(&mut s.extended_sequence_number, a.as_u16(), a, o)
                }
                _ => o.push(a.clone()),
            }
        }
        s
    }

    /// The attributes to send: lifetimes, encapsulation, authentication, key
    /// length, group, then the rest.
    #[must_use]
    pub fn to_attributes(&self) -> Vec<DataAttribute> {
        use Phase2AttributeType as T;
        let mut v = Vec::new();
        push_lifetimes(
            &mut v,
            &self.lifetimes,
            (T::SA_LIFE_TYPE.0, T::SA_LIFE_DURATION.0),
        );
        push_basic(
            &mut v,
            T::ENCAPSULATION_MODE.0,
            self.encapsulation.map(|x| x.0),
        );
        push_basic(
            &mut v,
            T::AUTHENTICATION_ALGORITHM.0,
            self.auth_algorithm.map(|x| x.0),
        );
        push_basic(&mut v, T::KEY_LENGTH.0, self.key_length);
        push_basic(&mut v, T::KEY_ROUNDS.0, self.key_rounds);
        push_basic(&mut v, T::GROUP_DESCRIPTION.0, self.group.map(|x| x.0));
        push_basic(
            &mut v,
            T::COMPRESS_DICTIONARY_SIZE.0,
            self.compress_dictionary_size,
        );
        push_variable(
            &mut v,
            T::COMPRESS_PRIVATE_ALGORITHM.0,
            self.compress_private_algorithm.as_ref(),
        );
        push_basic(&mut v, T::ECN_TUNNEL.0, self.ecn_tunnel.map(|x| x.0));
        push_basic(
            &mut v,
            T::EXTENDED_SEQUENCE_NUMBER.0,
            self.extended_sequence_number,
        );
        v.extend(self.other.iter().cloned());
        v
    }

    /// The duration of the first lifetime of type `ty`.
    #[must_use]
    pub fn lifetime(&self, ty: LifeType) -> Option<u64> {
        self.lifetimes
            .iter()
            .find(|l| l.ty == ty)
            .map(|l| l.duration)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The attributes of the RUB-NDS Main Mode transform: AES-CBC, key
    // length 128, SHA, group 2, PSK, life 28800 s (all TV).
    const IKE_ATTRS: [u8; 28] = [
        0x80, 0x01, 0x00, 0x07, 0x80, 0x0e, 0x00, 0x80, 0x80, 0x02, 0x00, 0x02, 0x80, 0x04, 0x00,
        0x02, 0x80, 0x03, 0x00, 0x01, 0x80, 0x0b, 0x00, 0x01, 0x80, 0x0c, 0x70, 0x80,
    ];

    fn ike_typed() -> Phase1Attributes {
        Phase1Attributes {
            encryption: Some(EncryptionAlgorithm::AES_CBC),
            key_length: Some(128),
            hash: Some(HashAlgorithm::SHA1),
            auth_method: Some(AuthMethod::PRE_SHARED_KEY),
            group: Some(GroupDescription::MODP_1024),
            lifetimes: vec![Lifetime {
                ty: LifeType::SECONDS,
                duration: 28800,
            }],
            ..Default::default()
        }
    }

    #[test]
    fn phase1_attributes_known_answer() {
        let attrs = parse_attributes(&IKE_ATTRS).unwrap();
        assert_eq!(attrs.len(), 7);
        assert_eq!(attrs[0], DataAttribute::basic(1, 7));
        assert_eq!(Phase1Attributes::from_attributes(&attrs), ike_typed());
        let mut out = Vec::new();
        emit_attributes(&attrs, &mut out).unwrap();
        assert_eq!(out, IKE_ATTRS);
    }

    #[test]
    fn phase1_typed_view_emits_in_its_own_order() {
        let mut out = Vec::new();
        emit_attributes(&ike_typed().to_attributes(), &mut out).unwrap();
        // Encryption, key length, hash, auth, group, life: auth and group
        // swap places relative to the RUB-NDS initiator's order.
        let expected: Vec<u8> = [
            &IKE_ATTRS[0..12],
            &IKE_ATTRS[16..20],
            &IKE_ATTRS[12..16],
            &IKE_ATTRS[20..28],
        ]
        .concat();
        assert_eq!(out, expected);
    }

    #[test]
    fn tlv_life_duration_and_unknown_attributes() {
        // SA Life Type seconds, SA Life Duration as 4-byte TLV 86400,
        // encapsulation UDP-Tunnel (draft), unknown TLV type 0x1234.
        let bytes = [
            0x80, 0x01, 0x00, 0x01, 0x00, 0x02, 0x00, 0x04, 0x00, 0x01, 0x51, 0x80, 0x80, 0x04,
            0xf0, 0x03, 0x12, 0x34, 0x00, 0x01, 0xff,
        ];
        let attrs = parse_attributes(&bytes).unwrap();
        let typed = Phase2Attributes::from_attributes(&attrs);
        assert_eq!(typed.lifetime(LifeType::SECONDS), Some(86400));
        assert_eq!(
            typed.encapsulation,
            Some(EncapsulationMode::UDP_TUNNEL_DRAFT)
        );
        assert_eq!(typed.other, vec![DataAttribute::variable(0x1234, [0xff])]);
        let mut out = Vec::new();
        emit_attributes(&typed.to_attributes(), &mut out).unwrap();
        assert_eq!(out, bytes);
        assert_eq!(
            Phase2Attributes::from_attributes(&typed.to_attributes()),
            typed
        );
    }

    #[test]
    fn repeated_and_oversized_values_go_to_other() {
        let attrs = vec![
            DataAttribute::basic(1, 5),
            DataAttribute::basic(1, 7),
            DataAttribute::variable(14, [1, 0, 0]),
            DataAttribute::basic(12, 100),
        ];
        let typed = Phase1Attributes::from_attributes(&attrs);
        assert_eq!(typed.encryption, Some(EncryptionAlgorithm::TRIPLE_DES_CBC));
        assert_eq!(typed.key_length, None);
        assert_eq!(typed.other, attrs[1..].to_vec());
    }

    #[test]
    fn truncated_tlv_is_an_error() {
        let err = parse_attributes(&[0x00, 0x02, 0x00, 0x04, 0x00]).unwrap_err();
        assert_eq!(err.offset, 4);
        assert_eq!(
            err.kind,
            super::super::ErrorKind::Truncated("data attribute")
        );
    }

    #[test]
    fn integer_chooses_tv_or_tlv() {
        assert_eq!(
            DataAttribute::integer(2, 3600).value,
            AttributeValue::Basic(3600)
        );
        assert_eq!(
            DataAttribute::integer(2, 86400).value,
            AttributeValue::Variable(vec![0, 1, 0x51, 0x80])
        );
        assert_eq!(DataAttribute::integer(2, 1 << 40).as_u64(), Some(1 << 40));
    }
}
