//! ESP (RFC 4303) as pure functions over caller buffers.
//!
//! An [`OutboundSa`] turns packets into ESP, an [`InboundSa`] turns ESP back
//! into packets; both work in buffers the caller owns and allocate nothing
//! per packet. Keys come from IKE (or a static configuration) through
//! [`SaConfig`]; crypto sits behind [`crypto::CryptoBackend`]; randomness
//! (CBC IVs) is passed in by the caller; there is no clock.
//!
//! ```
//! use esp_core::{InboundSa, Mode, OutboundSa, SaConfig};
//! use esp_core::crypto::EncryptionAlgorithm;
//!
//! let key = [7u8; 20]; // AES-128 key | 4-byte salt
//! let config = SaConfig::new(0x1000, Mode::Tunnel, EncryptionAlgorithm::AesGcm16, &key);
//! let mut tx = OutboundSa::new(&config)?;
//! let mut rx = InboundSa::new(&config)?;
//!
//! // A minimal IPv4 header with no payload, as the inner packet.
//! let mut inner = [0u8; 20];
//! inner[0] = 0x45;
//! inner[3] = 20;
//! let mut buf = [0u8; 128];
//! # struct Rng; impl rand_core::RngCore for Rng { fn next_u32(&mut self) -> u32 { 0 } fn next_u64(&mut self) -> u64 { 0 } fn fill_bytes(&mut self, d: &mut [u8]) { d.fill(0) } fn try_fill_bytes(&mut self, d: &mut [u8]) -> Result<(), rand_core::Error> { d.fill(0); Ok(()) } } impl rand_core::CryptoRng for Rng {}
//! let esp_len = tx.encapsulate(&mut Rng, &inner, &mut buf)?.len();
//! let packet = rx.decapsulate(&mut buf[..esp_len])?;
//! assert_eq!(packet.next_header, 4);
//! assert_eq!(packet.data, &inner[..]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]

pub mod crypto;
pub mod error;
pub mod fuzzing;
mod inbound;
pub mod lifetime;
mod outbound;
pub mod outer;
pub mod replay;
mod sa;
pub mod selector;
pub mod wire;

pub use error::{ConfigError, DecapError, EncapError};
pub use inbound::{Decapsulated, InboundSa};
pub use outbound::OutboundSa;
/// The random-source traits [`OutboundSa`] takes (CBC IVs).
pub use rand_core;
pub use sa::{Mode, SaConfig, UdpEncap};
