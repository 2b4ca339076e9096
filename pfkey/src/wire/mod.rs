//! The PF_KEYv2 codec: `sadb_msg` and every extension of RFC 2367 plus the
//! Linux/KAME ones, as owned structs with `parse` and `to_bytes`.
//!
//! Layout: [`SadbMsg`] is a checked view of the fixed 16-byte header;
//! [`Message`] is the owned form (a [`Header`] and its [`Extension`]s in
//! wire order). Each extension has its own file, named after the C struct.
//! [`constants`] mirrors `linux/pfkeyv2.h` and `linux/ipsec.h`.
//!
//! Byte order: integers are host order (PF_KEY is a local interface), while
//! SPIs, ports and addresses are network order, as RFC 2367 §2 specifies.
//! All lengths are checked before use; no input makes a parser panic.

// Tests may index and unwrap; the parsers may not.
#![cfg_attr(
    not(test),
    deny(
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects,
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic
    )
)]

mod address;
mod codec;
pub mod constants;
mod enums;
mod extension;
mod filter;
mod header;
mod identity;
mod key;
mod kmaddress;
mod kmprivate;
mod lifetime;
mod message;
mod nat_t;
mod policy;
mod proposal;
mod sa;
mod sa2;
mod sec_ctx;
mod sensitivity;
mod sockaddr;
mod spirange;
mod supported;

pub use address::Address;
pub use enums::{
    IpsecLevel, IpsecMode, IpsecProto, MessageType, PolicyDir, PolicyType, SaState, SaType,
};
pub use extension::Extension;
pub use filter::Filter;
pub use header::{HEADER_LEN, Header, SadbMsg};
pub use identity::Identity;
pub use key::Key;
pub use kmaddress::KmAddress;
pub use kmprivate::KmPrivate;
pub use lifetime::Lifetime;
pub use message::Message;
pub use nat_t::{NatTPort, NatTType};
pub use policy::{IpsecRequest, Policy};
pub use proposal::{Comb, Proposal};
pub use sa::Sa;
pub use sa2::Sa2;
pub use sec_ctx::SecCtx;
pub use sensitivity::Sensitivity;
pub use spirange::SpiRange;
pub use supported::{Alg, Supported};

use codec::{Reader, Writer};

/// Why bytes are not a valid PF_KEY message. Small and copyable; it names
/// the structure that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The bytes end inside the named structure.
    #[error("truncated {0}")]
    Truncated(&'static str),
    /// `sadb_msg_len` disagrees with the number of bytes received.
    #[error("sadb_msg_len says {declared} bytes but the message has {actual}")]
    LengthMismatch {
        /// `sadb_msg_len * 8`
        declared: usize,
        /// Bytes received.
        actual: usize,
    },
    /// `sadb_msg_version` is not `PF_KEY_V2`.
    #[error("PF_KEY version {0}, expected 2")]
    Version(u8),
    /// A length field is impossible for the named structure.
    #[error("{what}: invalid length {len}")]
    BadLength {
        /// The structure.
        what: &'static str,
        /// The length found, in bytes.
        len: usize,
    },
    /// A sockaddr of a family af_key does not use (only `AF_INET`/`AF_INET6`).
    #[error("unsupported address family {0}")]
    AddressFamily(u16),
}

/// Why a message cannot be emitted (a caller error, not an input error).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EmitError {
    /// The named part is longer than its PF_KEY length field can say.
    #[error("{0} is too long for its PF_KEY length field")]
    TooLong(&'static str),
}

/// The body of one extension: the bytes after its 4-byte `sadb_ext` header.
pub(crate) trait Body: Sized {
    /// The C struct's name, for errors.
    const NAME: &'static str;
    fn parse(r: &mut Reader<'_>) -> Result<Self, Error>;
    fn emit(&self, w: &mut Writer<'_>);
}
