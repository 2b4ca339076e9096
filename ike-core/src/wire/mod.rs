//! ISAKMP / IKEv1 message codec: bytes ↔ typed messages and payloads
//! (RFC 2408 §3, RFC 2407 §4, RFC 2409, NAT-T RFC 3947, DPD RFC 3706).
//!
//! Layers:
//! - [`Message`]: the [`Header`] plus a chain of [`Payload`]s, or the
//!   encrypted body when the E flag is set ([`MessageBody::Encrypted`]);
//!   decrypt it and call [`parse_plaintext`].
//! - [`Payload`]: a payload type and its body bytes exactly as received (IKEv1
//!   hashes cover bodies as received).  Typed views parse the body on demand
//!   view; each typed body implements [`PayloadBody`] and
//!   turns back into a `Payload` with [`PayloadBody::to_payload`].
//!
//! Parsing never panics, never indexes untrusted slices and allocates at most
//! in proportion to its input: every length is checked against what remains,
//! and every loop consumes at least four bytes per iteration.  Unknown payload
//! types, notify types, attributes and vendor IDs are kept and re-emitted
//! byte for byte.
#![deny(clippy::indexing_slicing)]

#[macro_use]
mod macros;

mod error;
mod header;
mod message;
mod payload;
#[allow(dead_code, reason = "helpers for the typed payloads that land next")]
mod reader;

pub use error::{Error, ErrorKind};
pub use header::{Cookie, ExchangeType, Flags, Header, MessageId, ParsedHeader, patch_length};
pub use message::{Message, MessageBody, Plaintext, parse_plaintext};
pub use payload::{ParsedChain, Payload, PayloadBody, PayloadType, emit_chain};
