//! Sans-IO IKEv1: the ISAKMP message codec (RFC 2407, 2408, 2409, NAT-T RFC 3947,
//! DPD RFC 3706), the IKEv1 cryptography and key schedule, and the exchange state
//! machines.
//!
//! Nothing in this crate opens a socket, reads a clock or draws ambient randomness:
//! every entry point takes `now` from its caller, and randomness comes from an
//! injected source.
//!
//! - [`wire`]: bytes ↔ typed ISAKMP messages and payloads. Parsing never panics;
//!   unknown values are kept and re-emitted byte for byte.
//! - [`crypto`]: DH groups, PRFs, SKEYID and friends, IVs, HASH_I/HASH_R, Quick
//!   Mode hashes, KEYMAT, Phase 1 ciphers.
#![forbid(unsafe_code)]

pub mod auth;
pub mod config;
pub mod crypto;
pub mod endpoint;
pub(crate) mod exchange;
pub mod fragment;
pub mod policy;
pub mod timer;
pub mod wire;
