//! `struct sadb_ext` and the dispatch from `sadb_ext_type` to the typed
//! extension bodies (RFC 2367 §2.2, §2.3).

use super::codec::{Reader, UNIT, Writer};
use super::constants::*;
use super::{
    Address, Body, EmitError, Error, Filter, Identity, Key, KmAddress, KmPrivate, Lifetime,
    NatTPort, NatTType, Policy, Proposal, Sa, Sa2, SecCtx, Sensitivity, SpiRange, Supported,
};

/// `sizeof(struct sadb_ext)`.
const EXT_HEADER_LEN: usize = 4;

/// One extension. Types that share a layout (the three lifetimes, the
/// addresses, the two keys, …) are told apart by the variant.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)] // each variant is the `SADB_EXT_*` / `SADB_X_EXT_*` of its name
pub enum Extension {
    Sa(Sa),
    LifetimeCurrent(Lifetime),
    LifetimeHard(Lifetime),
    LifetimeSoft(Lifetime),
    AddressSrc(Address),
    AddressDst(Address),
    AddressProxy(Address),
    KeyAuth(Key),
    KeyEncrypt(Key),
    IdentitySrc(Identity),
    IdentityDst(Identity),
    Sensitivity(Sensitivity),
    Proposal(Proposal),
    SupportedAuth(Supported),
    SupportedEncrypt(Supported),
    SpiRange(SpiRange),
    KmPrivate(KmPrivate),
    Policy(Policy),
    Sa2(Sa2),
    NatTType(NatTType),
    NatTSport(NatTPort),
    NatTDport(NatTPort),
    NatTOa(Address),
    SecCtx(SecCtx),
    KmAddress(KmAddress),
    Filter(Filter),
    /// An extension type this crate does not know, kept as its body bytes.
    Unknown {
        /// `sadb_ext_type`
        ext_type: u16,
        /// The bytes after the 4-byte `sadb_ext` header.
        body: Vec<u8>,
    },
}

impl Extension {
    /// `sadb_ext_type` of this extension.
    pub fn ext_type(&self) -> u16 {
        match self {
            Self::Sa(_) => SADB_EXT_SA,
            Self::LifetimeCurrent(_) => SADB_EXT_LIFETIME_CURRENT,
            Self::LifetimeHard(_) => SADB_EXT_LIFETIME_HARD,
            Self::LifetimeSoft(_) => SADB_EXT_LIFETIME_SOFT,
            Self::AddressSrc(_) => SADB_EXT_ADDRESS_SRC,
            Self::AddressDst(_) => SADB_EXT_ADDRESS_DST,
            Self::AddressProxy(_) => SADB_EXT_ADDRESS_PROXY,
            Self::KeyAuth(_) => SADB_EXT_KEY_AUTH,
            Self::KeyEncrypt(_) => SADB_EXT_KEY_ENCRYPT,
            Self::IdentitySrc(_) => SADB_EXT_IDENTITY_SRC,
            Self::IdentityDst(_) => SADB_EXT_IDENTITY_DST,
            Self::Sensitivity(_) => SADB_EXT_SENSITIVITY,
            Self::Proposal(_) => SADB_EXT_PROPOSAL,
            Self::SupportedAuth(_) => SADB_EXT_SUPPORTED_AUTH,
            Self::SupportedEncrypt(_) => SADB_EXT_SUPPORTED_ENCRYPT,
            Self::SpiRange(_) => SADB_EXT_SPIRANGE,
            Self::KmPrivate(_) => SADB_X_EXT_KMPRIVATE,
            Self::Policy(_) => SADB_X_EXT_POLICY,
            Self::Sa2(_) => SADB_X_EXT_SA2,
            Self::NatTType(_) => SADB_X_EXT_NAT_T_TYPE,
            Self::NatTSport(_) => SADB_X_EXT_NAT_T_SPORT,
            Self::NatTDport(_) => SADB_X_EXT_NAT_T_DPORT,
            Self::NatTOa(_) => SADB_X_EXT_NAT_T_OA,
            Self::SecCtx(_) => SADB_X_EXT_SEC_CTX,
            Self::KmAddress(_) => SADB_X_EXT_KMADDRESS,
            Self::Filter(_) => SADB_X_EXT_FILTER,
            Self::Unknown { ext_type, .. } => *ext_type,
        }
    }

    /// Reads the next extension from `r`: its header, then exactly
    /// `sadb_ext_len` units, which its body must fit in.
    pub(crate) fn parse_next(r: &mut Reader<'_>) -> Result<Self, Error> {
        let units = r.u16_ne("sadb_ext")?;
        let ext_type = r.u16_ne("sadb_ext")?;
        let len = usize::from(units).saturating_mul(UNIT);
        // A zero length would never advance (RFC 2367 §2.2: the length
        // includes the header, so it is at least one unit).
        let body_len = len
            .checked_sub(EXT_HEADER_LEN)
            .filter(|_| units > 0)
            .ok_or(Error::BadLength {
                what: "sadb_ext",
                len,
            })?;
        let body = r.take(body_len, "sadb_ext body")?;
        Self::parse_body(ext_type, body)
    }

    fn parse_body(ext_type: u16, body: &[u8]) -> Result<Self, Error> {
        fn p<B: Body>(body: &[u8]) -> Result<B, Error> {
            B::parse(&mut Reader::new(body))
        }
        Ok(match ext_type {
            SADB_EXT_SA => Self::Sa(p(body)?),
            SADB_EXT_LIFETIME_CURRENT => Self::LifetimeCurrent(p(body)?),
            SADB_EXT_LIFETIME_HARD => Self::LifetimeHard(p(body)?),
            SADB_EXT_LIFETIME_SOFT => Self::LifetimeSoft(p(body)?),
            SADB_EXT_ADDRESS_SRC => Self::AddressSrc(p(body)?),
            SADB_EXT_ADDRESS_DST => Self::AddressDst(p(body)?),
            SADB_EXT_ADDRESS_PROXY => Self::AddressProxy(p(body)?),
            SADB_EXT_KEY_AUTH => Self::KeyAuth(p(body)?),
            SADB_EXT_KEY_ENCRYPT => Self::KeyEncrypt(p(body)?),
            SADB_EXT_IDENTITY_SRC => Self::IdentitySrc(p(body)?),
            SADB_EXT_IDENTITY_DST => Self::IdentityDst(p(body)?),
            SADB_EXT_SENSITIVITY => Self::Sensitivity(p(body)?),
            SADB_EXT_PROPOSAL => Self::Proposal(p(body)?),
            SADB_EXT_SUPPORTED_AUTH => Self::SupportedAuth(p(body)?),
            SADB_EXT_SUPPORTED_ENCRYPT => Self::SupportedEncrypt(p(body)?),
            SADB_EXT_SPIRANGE => Self::SpiRange(p(body)?),
            SADB_X_EXT_KMPRIVATE => Self::KmPrivate(p(body)?),
            SADB_X_EXT_POLICY => Self::Policy(p(body)?),
            SADB_X_EXT_SA2 => Self::Sa2(p(body)?),
            SADB_X_EXT_NAT_T_TYPE => Self::NatTType(p(body)?),
            SADB_X_EXT_NAT_T_SPORT => Self::NatTSport(p(body)?),
            SADB_X_EXT_NAT_T_DPORT => Self::NatTDport(p(body)?),
            SADB_X_EXT_NAT_T_OA => Self::NatTOa(p(body)?),
            SADB_X_EXT_SEC_CTX => Self::SecCtx(p(body)?),
            SADB_X_EXT_KMADDRESS => Self::KmAddress(p(body)?),
            SADB_X_EXT_FILTER => Self::Filter(p(body)?),
            _ => Self::Unknown {
                ext_type,
                body: body.to_vec(),
            },
        })
    }

    /// Appends this extension, padded to 8 bytes, with its length filled in.
    pub(crate) fn emit(&self, w: &mut Writer<'_>) -> Result<(), EmitError> {
        fn e<B: Body>(ext_type: u16, b: &B, w: &mut Writer<'_>) -> Result<(), EmitError> {
            w.extension(ext_type, B::NAME, |w| b.emit(w))
        }
        let t = self.ext_type();
        // Counts that have narrower fields than the data they count.
        let too_long = match self {
            Self::Sensitivity(b) => b.sens_bitmap.len() > 255 || b.integ_bitmap.len() > 255,
            Self::SecCtx(b) => b.context.len() > usize::from(u16::MAX),
            _ => false,
        };
        if too_long {
            return Err(EmitError::TooLong(match self {
                Self::Sensitivity(_) => "sadb_sens bitmap",
                _ => "sadb_x_sec_ctx context",
            }));
        }
        match self {
            Self::Sa(b) => e(t, b, w),
            Self::LifetimeCurrent(b) | Self::LifetimeHard(b) | Self::LifetimeSoft(b) => e(t, b, w),
            Self::AddressSrc(b) | Self::AddressDst(b) | Self::AddressProxy(b) | Self::NatTOa(b) => {
                e(t, b, w)
            }
            Self::KeyAuth(b) | Self::KeyEncrypt(b) => e(t, b, w),
            Self::IdentitySrc(b) | Self::IdentityDst(b) => e(t, b, w),
            Self::Sensitivity(b) => e(t, b, w),
            Self::Proposal(b) => e(t, b, w),
            Self::SupportedAuth(b) | Self::SupportedEncrypt(b) => e(t, b, w),
            Self::SpiRange(b) => e(t, b, w),
            Self::KmPrivate(b) => e(t, b, w),
            Self::Policy(b) => e(t, b, w),
            Self::Sa2(b) => e(t, b, w),
            Self::NatTType(b) => e(t, b, w),
            Self::NatTSport(b) | Self::NatTDport(b) => e(t, b, w),
            Self::SecCtx(b) => e(t, b, w),
            Self::KmAddress(b) => e(t, b, w),
            Self::Filter(b) => e(t, b, w),
            Self::Unknown { body, .. } => w.extension(t, "sadb_ext", |w| w.bytes(body)),
        }
    }
}
