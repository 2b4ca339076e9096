//! Numeric constants of PF_KEYv2, in the order and with the names of the
//! Linux UAPI headers `linux/pfkeyv2.h` and `linux/ipsec.h` (which follow
//! RFC 2367 §3 and the KAME extensions), so they can be checked line by line.
//!
//! The typed enums in the sibling modules are built from these values.

#![allow(missing_docs)] // The names are the documentation: see the C header.

// linux/pfkeyv2.h

pub const PF_KEY_V2: u8 = 2;
pub const PFKEYV2_REVISION: u32 = 199_806;

/// `AF_KEY` / `PF_KEY` from `linux/socket.h`.
pub const AF_KEY: i32 = 15;

// Message types (RFC 2367 §2.3 plus the KAME `SADB_X_*` ones).
pub const SADB_RESERVED: u8 = 0;
pub const SADB_GETSPI: u8 = 1;
pub const SADB_UPDATE: u8 = 2;
pub const SADB_ADD: u8 = 3;
pub const SADB_DELETE: u8 = 4;
pub const SADB_GET: u8 = 5;
pub const SADB_ACQUIRE: u8 = 6;
pub const SADB_REGISTER: u8 = 7;
pub const SADB_EXPIRE: u8 = 8;
pub const SADB_FLUSH: u8 = 9;
pub const SADB_DUMP: u8 = 10;
pub const SADB_X_PROMISC: u8 = 11;
pub const SADB_X_PCHANGE: u8 = 12;
pub const SADB_X_SPDUPDATE: u8 = 13;
pub const SADB_X_SPDADD: u8 = 14;
pub const SADB_X_SPDDELETE: u8 = 15;
pub const SADB_X_SPDGET: u8 = 16;
pub const SADB_X_SPDACQUIRE: u8 = 17;
pub const SADB_X_SPDDUMP: u8 = 18;
pub const SADB_X_SPDFLUSH: u8 = 19;
pub const SADB_X_SPDSETIDX: u8 = 20;
pub const SADB_X_SPDEXPIRE: u8 = 21;
pub const SADB_X_SPDDELETE2: u8 = 22;
pub const SADB_X_NAT_T_NEW_MAPPING: u8 = 23;
pub const SADB_X_MIGRATE: u8 = 24;
pub const SADB_MAX: u8 = 24;

// Security Association flags.
pub const SADB_SAFLAGS_PFS: u32 = 1;
pub const SADB_SAFLAGS_NOPMTUDISC: u32 = 0x2000_0000;
pub const SADB_SAFLAGS_DECAP_DSCP: u32 = 0x4000_0000;
pub const SADB_SAFLAGS_NOECN: u32 = 0x8000_0000;

// Security Association states.
pub const SADB_SASTATE_LARVAL: u8 = 0;
pub const SADB_SASTATE_MATURE: u8 = 1;
pub const SADB_SASTATE_DYING: u8 = 2;
pub const SADB_SASTATE_DEAD: u8 = 3;
pub const SADB_SASTATE_MAX: u8 = 3;

// Security Association types.
pub const SADB_SATYPE_UNSPEC: u8 = 0;
pub const SADB_SATYPE_AH: u8 = 2;
pub const SADB_SATYPE_ESP: u8 = 3;
pub const SADB_SATYPE_RSVP: u8 = 5;
pub const SADB_SATYPE_OSPFV2: u8 = 6;
pub const SADB_SATYPE_RIPV2: u8 = 7;
pub const SADB_SATYPE_MIP: u8 = 8;
pub const SADB_X_SATYPE_IPCOMP: u8 = 9;
pub const SADB_SATYPE_MAX: u8 = 9;

// Authentication algorithms.
pub const SADB_AALG_NONE: u8 = 0;
pub const SADB_AALG_MD5HMAC: u8 = 2;
pub const SADB_AALG_SHA1HMAC: u8 = 3;
pub const SADB_X_AALG_SHA2_256HMAC: u8 = 5;
pub const SADB_X_AALG_SHA2_384HMAC: u8 = 6;
pub const SADB_X_AALG_SHA2_512HMAC: u8 = 7;
pub const SADB_X_AALG_RIPEMD160HMAC: u8 = 8;
pub const SADB_X_AALG_AES_XCBC_MAC: u8 = 9;
pub const SADB_X_AALG_SM3_256HMAC: u8 = 10;
pub const SADB_X_AALG_NULL: u8 = 251;
pub const SADB_AALG_MAX: u8 = 251;

// Encryption algorithms.
pub const SADB_EALG_NONE: u8 = 0;
pub const SADB_EALG_DESCBC: u8 = 2;
pub const SADB_EALG_3DESCBC: u8 = 3;
pub const SADB_X_EALG_CASTCBC: u8 = 6;
pub const SADB_X_EALG_BLOWFISHCBC: u8 = 7;
pub const SADB_EALG_NULL: u8 = 11;
pub const SADB_X_EALG_AESCBC: u8 = 12;
pub const SADB_X_EALG_AESCTR: u8 = 13;
pub const SADB_X_EALG_AES_CCM_ICV8: u8 = 14;
pub const SADB_X_EALG_AES_CCM_ICV12: u8 = 15;
pub const SADB_X_EALG_AES_CCM_ICV16: u8 = 16;
pub const SADB_X_EALG_AES_GCM_ICV8: u8 = 18;
pub const SADB_X_EALG_AES_GCM_ICV12: u8 = 19;
pub const SADB_X_EALG_AES_GCM_ICV16: u8 = 20;
pub const SADB_X_EALG_CAMELLIACBC: u8 = 22;
pub const SADB_X_EALG_NULL_AES_GMAC: u8 = 23;
pub const SADB_X_EALG_SM4CBC: u8 = 24;
pub const SADB_EALG_MAX: u8 = 253;
pub const SADB_X_EALG_SERPENTCBC: u8 = 252;
pub const SADB_X_EALG_TWOFISHCBC: u8 = 253;

// Compression algorithms (carried in `sadb_sa_encrypt` for IPCOMP SAs).
pub const SADB_X_CALG_NONE: u8 = 0;
pub const SADB_X_CALG_OUI: u8 = 1;
pub const SADB_X_CALG_DEFLATE: u8 = 2;
pub const SADB_X_CALG_LZS: u8 = 3;
pub const SADB_X_CALG_LZJH: u8 = 4;
pub const SADB_X_CALG_MAX: u8 = 4;

// Extension header values.
pub const SADB_EXT_RESERVED: u16 = 0;
pub const SADB_EXT_SA: u16 = 1;
pub const SADB_EXT_LIFETIME_CURRENT: u16 = 2;
pub const SADB_EXT_LIFETIME_HARD: u16 = 3;
pub const SADB_EXT_LIFETIME_SOFT: u16 = 4;
pub const SADB_EXT_ADDRESS_SRC: u16 = 5;
pub const SADB_EXT_ADDRESS_DST: u16 = 6;
pub const SADB_EXT_ADDRESS_PROXY: u16 = 7;
pub const SADB_EXT_KEY_AUTH: u16 = 8;
pub const SADB_EXT_KEY_ENCRYPT: u16 = 9;
pub const SADB_EXT_IDENTITY_SRC: u16 = 10;
pub const SADB_EXT_IDENTITY_DST: u16 = 11;
pub const SADB_EXT_SENSITIVITY: u16 = 12;
pub const SADB_EXT_PROPOSAL: u16 = 13;
pub const SADB_EXT_SUPPORTED_AUTH: u16 = 14;
pub const SADB_EXT_SUPPORTED_ENCRYPT: u16 = 15;
pub const SADB_EXT_SPIRANGE: u16 = 16;
pub const SADB_X_EXT_KMPRIVATE: u16 = 17;
pub const SADB_X_EXT_POLICY: u16 = 18;
pub const SADB_X_EXT_SA2: u16 = 19;
pub const SADB_X_EXT_NAT_T_TYPE: u16 = 20;
pub const SADB_X_EXT_NAT_T_SPORT: u16 = 21;
pub const SADB_X_EXT_NAT_T_DPORT: u16 = 22;
pub const SADB_X_EXT_NAT_T_OA: u16 = 23;
pub const SADB_X_EXT_SEC_CTX: u16 = 24;
pub const SADB_X_EXT_KMADDRESS: u16 = 25;
pub const SADB_X_EXT_FILTER: u16 = 26;
pub const SADB_EXT_MAX: u16 = 26;

// Identity extension values.
pub const SADB_IDENTTYPE_RESERVED: u16 = 0;
pub const SADB_IDENTTYPE_PREFIX: u16 = 1;
pub const SADB_IDENTTYPE_FQDN: u16 = 2;
pub const SADB_IDENTTYPE_USERFQDN: u16 = 3;
pub const SADB_IDENTTYPE_MAX: u16 = 3;

// linux/ipsec.h

pub const IPSEC_PORT_ANY: u16 = 0;
pub const IPSEC_ULPROTO_ANY: u8 = 255;
pub const IPSEC_PROTO_ANY: u16 = 255;

pub const IPSEC_MODE_ANY: u8 = 0;
pub const IPSEC_MODE_TRANSPORT: u8 = 1;
pub const IPSEC_MODE_TUNNEL: u8 = 2;
pub const IPSEC_MODE_BEET: u8 = 3;

pub const IPSEC_DIR_ANY: u8 = 0;
pub const IPSEC_DIR_INBOUND: u8 = 1;
pub const IPSEC_DIR_OUTBOUND: u8 = 2;
pub const IPSEC_DIR_FWD: u8 = 3;
pub const IPSEC_DIR_MAX: u8 = 4;
pub const IPSEC_DIR_INVALID: u8 = 5;

pub const IPSEC_POLICY_DISCARD: u16 = 0;
pub const IPSEC_POLICY_NONE: u16 = 1;
pub const IPSEC_POLICY_IPSEC: u16 = 2;
pub const IPSEC_POLICY_ENTRUST: u16 = 3;
pub const IPSEC_POLICY_BYPASS: u16 = 4;

pub const IPSEC_LEVEL_DEFAULT: u8 = 0;
pub const IPSEC_LEVEL_USE: u8 = 1;
pub const IPSEC_LEVEL_REQUIRE: u8 = 2;
pub const IPSEC_LEVEL_UNIQUE: u8 = 3;

pub const IPSEC_MANUAL_REQID_MAX: u32 = 0x3fff;
pub const IPSEC_REPLAYWSIZE: u8 = 32;

// Values used inside extensions, from other headers.

/// `IPPROTO_ESP`, `IPPROTO_AH`, `IPPROTO_COMP` (`sadb_x_ipsecrequest_proto`).
pub const IPPROTO_ESP: u16 = 50;
pub const IPPROTO_AH: u16 = 51;
pub const IPPROTO_COMP: u16 = 108;

/// `AF_INET` / `AF_INET6` as they appear in `sa_family` (host order).
pub const AF_INET: u16 = 2;
pub const AF_INET6: u16 = 10;

/// `UDP_ENCAP_ESPINUDP_NON_IKE` / `UDP_ENCAP_ESPINUDP` (`linux/udp.h`),
/// the values of `sadb_x_nat_t_type_type`.
pub const UDP_ENCAP_ESPINUDP_NON_IKE: u8 = 1;
pub const UDP_ENCAP_ESPINUDP: u8 = 2;
