//! ISAKMP / IKEv1 message codec: bytes ↔ typed messages and payloads
//! (RFC 2408 §3, RFC 2407 §4, RFC 2409, NAT-T RFC 3947, DPD RFC 3706).
//!
//! Layers:
//! - [`Message`]: the [`Header`] plus a chain of [`Payload`]s, or the
//!   encrypted body when the E flag is set ([`MessageBody::Encrypted`]);
//!   decrypt it and call [`parse_plaintext`].
//! - [`Payload`]: a payload type and its body bytes exactly as received (IKEv1
//!   hashes cover bodies as received).  [`Payload::decode`] gives the typed
//!   view ([`TypedPayload`]); each typed body implements [`PayloadBody`] and
//!   turns back into a `Payload` with [`PayloadBody::to_payload`].
//! - Typed bodies: [`SecurityAssociation`] → [`Proposal`] → [`Transform`] →
//!   [`DataAttribute`]s (typed through [`Phase1Attributes`] /
//!   [`Phase2Attributes`]), [`KeyExchange`], [`Identification`],
//!   [`Certificate`], [`CertificateRequest`], [`Hash`](struct@Hash), [`Signature`],
//!   [`Nonce`], [`Notification`], [`Delete`], [`VendorId`] (recognised with
//!   [`VendorId::recognise`]), [`NatD`], [`NatOa`], [`ConfigAttributes`]
//!   (Mode-Config / XAUTH), [`Fragment`].
//!
//! Building a message:
//!
//! ```
//! use ike_core::wire::*;
//!
//! let header = Header::new(Cookie([1; 8]), Cookie::ZERO, ExchangeType::MAIN_MODE, MessageId(0));
//! let ike = Phase1Attributes {
//!     encryption: Some(EncryptionAlgorithm::AES_CBC),
//!     key_length: Some(128),
//!     hash: Some(HashAlgorithm::SHA1),
//!     auth_method: Some(AuthMethod::PRE_SHARED_KEY),
//!     group: Some(GroupDescription::MODP_2048),
//!     lifetimes: vec![Lifetime { ty: LifeType::SECONDS, duration: 28800 }],
//!     ..Default::default()
//! };
//! let sa = SecurityAssociation::ipsec(vec![Proposal::new(
//!     1,
//!     ProtocolId::ISAKMP,
//!     vec![],
//!     vec![Transform::ike(1, &ike)],
//! )]);
//! let msg = Message::new(
//!     header,
//!     vec![
//!         sa.to_payload()?,
//!         VendorId::known(KnownVendorId::NatTRfc3947).to_payload()?,
//!     ],
//! );
//! let bytes = msg.to_bytes()?;
//! let back = Message::parse(&bytes)?;
//! assert_eq!(back, msg);
//! let TypedPayload::Sa(parsed) = back.payloads().unwrap()[0].decode()? else { panic!() };
//! assert_eq!(parsed.proposals[0].transforms[0].phase1_attributes(), ike);
//! # Ok::<(), ike_core::wire::Error>(())
//! ```
//!
//! Parsing never panics, never indexes untrusted slices and allocates at most
//! in proportion to its input: every length is checked against what remains,
//! and every loop consumes at least four bytes per iteration.  Unknown payload
//! types, notify types, attributes and vendor IDs are kept and re-emitted
//! byte for byte.
#![deny(clippy::indexing_slicing)]

#[macro_use]
mod macros;

mod attributes;
mod config;
mod data;
mod delete;
mod error;
mod fragment;
mod header;
mod identification;
mod message;
mod nat_oa;
mod notification;
mod payload;
mod reader;
mod sa;
mod typed;
mod vendor_id;

#[doc(hidden)]
pub mod fuzzing;

pub use error::{Error, ErrorKind};
pub use header::{Cookie, ExchangeType, Flags, Header, MessageId, ParsedHeader, patch_length};
pub use message::{Message, MessageBody, Plaintext, parse_plaintext};
pub use payload::{ParsedChain, Payload, PayloadBody, PayloadType, emit_chain};

pub use attributes::{
    AttributeValue, AuthAlgorithm, AuthMethod, DataAttribute, EcnTunnel, EncapsulationMode,
    EncryptionAlgorithm, GroupDescription, GroupType, HashAlgorithm, LifeType, Lifetime,
    Phase1AttributeType, Phase1Attributes, Phase2AttributeType, Phase2Attributes, emit_attributes,
    parse_attributes,
};
pub use config::{ConfigAttributeType, ConfigAttributes, ConfigType};
pub use data::{
    CertEncoding, Certificate, CertificateRequest, Hash, KeyExchange, NatD, Nonce, Signature,
};
pub use delete::Delete;
pub use fragment::Fragment;
pub use identification::{IdType, Identification, Identity};
pub use nat_oa::NatOa;
pub use notification::{Notification, NotifyType};
pub use sa::{
    AhTransformId, Doi, EspTransformId, IpcompTransformId, IsakmpTransformId, Proposal, ProtocolId,
    SecurityAssociation, Situation, Transform, TransformId,
};
pub use typed::TypedPayload;
pub use vendor_id::{KnownVendorId, VendorId};
