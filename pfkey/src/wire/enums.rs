//! Typed views of the numeric fields whose values the headers name. Each
//! keeps values it does not know in an `Unknown` variant, so parsing never
//! fails on a new kernel's numbers and emitting gives the same byte back.

use super::constants::*;

/// Declares a field enum over `$ty` with `From` conversions both ways.
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident: $ty:ty {
            $( $(#[$vmeta:meta])* $variant:ident = $value:expr, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
            /// A value without a name here; kept so it round-trips.
            Unknown($ty),
        }

        impl From<$ty> for $name {
            fn from(value: $ty) -> Self {
                match value {
                    $( v if v == $value => Self::$variant, )*
                    other => Self::Unknown(other),
                }
            }
        }

        impl From<$name> for $ty {
            fn from(value: $name) -> Self {
                match value {
                    $( $name::$variant => $value, )*
                    $name::Unknown(other) => other,
                }
            }
        }
    };
}

wire_enum! {
    /// `sadb_msg_type` (RFC 2367 §2.3, KAME `SADB_X_*`).
    pub enum MessageType: u8 {
        /// `SADB_RESERVED`
        Reserved = SADB_RESERVED,
        /// `SADB_GETSPI`
        GetSpi = SADB_GETSPI,
        /// `SADB_UPDATE`
        Update = SADB_UPDATE,
        /// `SADB_ADD`
        Add = SADB_ADD,
        /// `SADB_DELETE`
        Delete = SADB_DELETE,
        /// `SADB_GET`
        Get = SADB_GET,
        /// `SADB_ACQUIRE`
        Acquire = SADB_ACQUIRE,
        /// `SADB_REGISTER`
        Register = SADB_REGISTER,
        /// `SADB_EXPIRE`
        Expire = SADB_EXPIRE,
        /// `SADB_FLUSH`
        Flush = SADB_FLUSH,
        /// `SADB_DUMP`
        Dump = SADB_DUMP,
        /// `SADB_X_PROMISC`
        Promisc = SADB_X_PROMISC,
        /// `SADB_X_PCHANGE`
        PChange = SADB_X_PCHANGE,
        /// `SADB_X_SPDUPDATE`
        SpdUpdate = SADB_X_SPDUPDATE,
        /// `SADB_X_SPDADD`
        SpdAdd = SADB_X_SPDADD,
        /// `SADB_X_SPDDELETE`
        SpdDelete = SADB_X_SPDDELETE,
        /// `SADB_X_SPDGET`
        SpdGet = SADB_X_SPDGET,
        /// `SADB_X_SPDACQUIRE`
        SpdAcquire = SADB_X_SPDACQUIRE,
        /// `SADB_X_SPDDUMP`
        SpdDump = SADB_X_SPDDUMP,
        /// `SADB_X_SPDFLUSH`
        SpdFlush = SADB_X_SPDFLUSH,
        /// `SADB_X_SPDSETIDX`
        SpdSetIdx = SADB_X_SPDSETIDX,
        /// `SADB_X_SPDEXPIRE`
        SpdExpire = SADB_X_SPDEXPIRE,
        /// `SADB_X_SPDDELETE2`
        SpdDelete2 = SADB_X_SPDDELETE2,
        /// `SADB_X_NAT_T_NEW_MAPPING`
        NatTNewMapping = SADB_X_NAT_T_NEW_MAPPING,
        /// `SADB_X_MIGRATE`
        Migrate = SADB_X_MIGRATE,
    }
}

wire_enum! {
    /// `sadb_msg_satype` (RFC 2367 §2.3.1).
    pub enum SaType: u8 {
        /// `SADB_SATYPE_UNSPEC`: all types (FLUSH, DUMP) or none (SPD messages).
        Unspec = SADB_SATYPE_UNSPEC,
        /// `SADB_SATYPE_AH`
        Ah = SADB_SATYPE_AH,
        /// `SADB_SATYPE_ESP`
        Esp = SADB_SATYPE_ESP,
        /// `SADB_SATYPE_RSVP`
        Rsvp = SADB_SATYPE_RSVP,
        /// `SADB_SATYPE_OSPFV2`
        OspfV2 = SADB_SATYPE_OSPFV2,
        /// `SADB_SATYPE_RIPV2`
        RipV2 = SADB_SATYPE_RIPV2,
        /// `SADB_SATYPE_MIP`
        Mip = SADB_SATYPE_MIP,
        /// `SADB_X_SATYPE_IPCOMP`
        IpComp = SADB_X_SATYPE_IPCOMP,
    }
}

wire_enum! {
    /// `sadb_sa_state` (RFC 2367 §2.3.1).
    pub enum SaState: u8 {
        /// `SADB_SASTATE_LARVAL`: reserved by GETSPI, not usable yet.
        Larval = SADB_SASTATE_LARVAL,
        /// `SADB_SASTATE_MATURE`
        Mature = SADB_SASTATE_MATURE,
        /// `SADB_SASTATE_DYING`: its soft lifetime ran out.
        Dying = SADB_SASTATE_DYING,
        /// `SADB_SASTATE_DEAD`: its hard lifetime ran out.
        Dead = SADB_SASTATE_DEAD,
    }
}

wire_enum! {
    /// `IPSEC_MODE_*` (`sadb_x_sa2_mode`, `sadb_x_ipsecrequest_mode`).
    pub enum IpsecMode: u8 {
        /// `IPSEC_MODE_ANY`
        Any = IPSEC_MODE_ANY,
        /// `IPSEC_MODE_TRANSPORT`
        Transport = IPSEC_MODE_TRANSPORT,
        /// `IPSEC_MODE_TUNNEL`
        Tunnel = IPSEC_MODE_TUNNEL,
        /// `IPSEC_MODE_BEET`
        Beet = IPSEC_MODE_BEET,
    }
}

wire_enum! {
    /// `IPSEC_DIR_*` (`sadb_x_policy_dir`).
    pub enum PolicyDir: u8 {
        /// `IPSEC_DIR_ANY`
        Any = IPSEC_DIR_ANY,
        /// `IPSEC_DIR_INBOUND`
        Inbound = IPSEC_DIR_INBOUND,
        /// `IPSEC_DIR_OUTBOUND`
        Outbound = IPSEC_DIR_OUTBOUND,
        /// `IPSEC_DIR_FWD`
        Forward = IPSEC_DIR_FWD,
        /// `IPSEC_DIR_MAX`
        Max = IPSEC_DIR_MAX,
        /// `IPSEC_DIR_INVALID`
        Invalid = IPSEC_DIR_INVALID,
    }
}

wire_enum! {
    /// `IPSEC_POLICY_*` (`sadb_x_policy_type`).
    pub enum PolicyType: u16 {
        /// `IPSEC_POLICY_DISCARD`
        Discard = IPSEC_POLICY_DISCARD,
        /// `IPSEC_POLICY_NONE`: bypass IPsec.
        None = IPSEC_POLICY_NONE,
        /// `IPSEC_POLICY_IPSEC`
        Ipsec = IPSEC_POLICY_IPSEC,
        /// `IPSEC_POLICY_ENTRUST`
        Entrust = IPSEC_POLICY_ENTRUST,
        /// `IPSEC_POLICY_BYPASS`
        Bypass = IPSEC_POLICY_BYPASS,
    }
}

wire_enum! {
    /// `IPSEC_LEVEL_*` (`sadb_x_ipsecrequest_level`).
    pub enum IpsecLevel: u8 {
        /// `IPSEC_LEVEL_DEFAULT`
        Default = IPSEC_LEVEL_DEFAULT,
        /// `IPSEC_LEVEL_USE`: use an SA if there is one.
        Use = IPSEC_LEVEL_USE,
        /// `IPSEC_LEVEL_REQUIRE`: drop (and ACQUIRE) without an SA.
        Require = IPSEC_LEVEL_REQUIRE,
        /// `IPSEC_LEVEL_UNIQUE`: require an SA bound to this policy's reqid.
        Unique = IPSEC_LEVEL_UNIQUE,
    }
}

wire_enum! {
    /// The IP protocol of an `ipsecrequest` (`sadb_x_ipsecrequest_proto`).
    pub enum IpsecProto: u16 {
        /// `IPPROTO_ESP`
        Esp = IPPROTO_ESP,
        /// `IPPROTO_AH`
        Ah = IPPROTO_AH,
        /// `IPPROTO_COMP`
        IpComp = IPPROTO_COMP,
    }
}
