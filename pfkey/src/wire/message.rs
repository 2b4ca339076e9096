//! A whole PF_KEY message: the `sadb_msg` header and its extensions in the
//! order they appear on the wire (RFC 2367 §2).

use zeroize::Zeroizing;

use super::codec::{self, Reader, Writer};
use super::{
    Address, EmitError, Error, Extension, HEADER_LEN, Header, Key, Lifetime, MessageType, NatTPort,
    NatTType, Policy, Proposal, Sa, Sa2, SaType, SadbMsg, SpiRange, Supported,
};

/// A parsed or to-be-sent PF_KEY message.
///
/// Extensions keep their order, so a parsed kernel message re-emits byte
/// for byte. The accessors return the first extension of each type (the
/// kernel rejects duplicates).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The `sadb_msg` fields.
    pub header: Header,
    /// The extensions, in wire order.
    pub extensions: Vec<Extension>,
}

/// Generates `pub fn name(&self) -> Option<&T>` for one extension variant.
macro_rules! accessor {
    ($($(#[$m:meta])* $name:ident => $variant:ident($ty:ty);)*) => {
        $(
            $(#[$m])*
            pub fn $name(&self) -> Option<&$ty> {
                self.extensions.iter().find_map(|ext| match ext {
                    Extension::$variant(inner) => Some(inner),
                    _ => None,
                })
            }
        )*
    };
}

impl Message {
    /// A message with no extensions, seq and pid 0 (a client stamps them).
    pub fn new(msg_type: MessageType, satype: SaType) -> Self {
        Self {
            header: Header {
                msg_type,
                errno: 0,
                satype,
                reserved: 0,
                seq: 0,
                pid: 0,
            },
            extensions: Vec::new(),
        }
    }

    /// Appends `ext` (builder style).
    #[must_use]
    pub fn with(mut self, ext: Extension) -> Self {
        self.extensions.push(ext);
        self
    }

    /// Appends `ext` if it is `Some`.
    #[must_use]
    pub fn with_opt(self, ext: Option<Extension>) -> Self {
        match ext {
            Some(ext) => self.with(ext),
            None => self,
        }
    }

    /// Parses exactly one message; `bytes` must be as long as `sadb_msg_len` says.
    pub fn parse(bytes: &[u8]) -> Result<Self, Error> {
        let view = SadbMsg::new_checked(bytes)?;
        let header = Header::parse(&view)?;
        let mut r = Reader::new(view.extensions());
        // Each extension is at least 8 bytes, so this is bounded by the length.
        let mut extensions = Vec::new();
        while !r.is_empty() {
            extensions.push(Extension::parse_next(&mut r)?);
        }
        Ok(Self { header, extensions })
    }

    /// The wire bytes, in a buffer that is wiped on drop (it may hold keys).
    pub fn to_bytes(&self) -> Result<Zeroizing<Vec<u8>>, EmitError> {
        let mut out = Zeroizing::new(Vec::with_capacity(HEADER_LEN));
        self.header.emit(&mut out, 0);
        let mut w = Writer::new(&mut out);
        for ext in &self.extensions {
            ext.emit(&mut w)?;
        }
        let units = codec::units(w.len(), "sadb_msg")?;
        w.patch_u16_ne(4, units);
        Ok(out)
    }

    /// The kernel's error number in a reply, if it reports one.
    pub fn errno(&self) -> Option<u8> {
        (self.header.errno != 0).then_some(self.header.errno)
    }

    /// The first extension with `sadb_ext_type` `ext_type`.
    pub fn extension(&self, ext_type: u16) -> Option<&Extension> {
        self.extensions.iter().find(|e| e.ext_type() == ext_type)
    }

    accessor! {
        /// `SADB_EXT_SA`
        sa => Sa(Sa);
        /// `SADB_EXT_LIFETIME_CURRENT`
        lifetime_current => LifetimeCurrent(Lifetime);
        /// `SADB_EXT_LIFETIME_HARD`
        lifetime_hard => LifetimeHard(Lifetime);
        /// `SADB_EXT_LIFETIME_SOFT`
        lifetime_soft => LifetimeSoft(Lifetime);
        /// `SADB_EXT_ADDRESS_SRC`
        address_src => AddressSrc(Address);
        /// `SADB_EXT_ADDRESS_DST`
        address_dst => AddressDst(Address);
        /// `SADB_EXT_ADDRESS_PROXY`
        address_proxy => AddressProxy(Address);
        /// `SADB_EXT_KEY_AUTH`
        key_auth => KeyAuth(Key);
        /// `SADB_EXT_KEY_ENCRYPT`
        key_encrypt => KeyEncrypt(Key);
        /// `SADB_EXT_PROPOSAL`
        proposal => Proposal(Proposal);
        /// `SADB_EXT_SUPPORTED_AUTH`
        supported_auth => SupportedAuth(Supported);
        /// `SADB_EXT_SUPPORTED_ENCRYPT`
        supported_encrypt => SupportedEncrypt(Supported);
        /// `SADB_EXT_SPIRANGE`
        spirange => SpiRange(SpiRange);
        /// `SADB_X_EXT_POLICY`
        policy => Policy(Policy);
        /// `SADB_X_EXT_SA2`
        sa2 => Sa2(Sa2);
        /// `SADB_X_EXT_NAT_T_TYPE`
        nat_t_type => NatTType(NatTType);
        /// `SADB_X_EXT_NAT_T_SPORT`
        nat_t_sport => NatTSport(NatTPort);
        /// `SADB_X_EXT_NAT_T_DPORT`
        nat_t_dport => NatTDport(NatTPort);
        /// `SADB_X_EXT_NAT_T_OA`
        nat_t_oa => NatTOa(Address);
    }
}
