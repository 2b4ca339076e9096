//! PF_KEYv2 (RFC 2367 plus the Linux/KAME extensions) for the Linux kernel.
//!
//! - [`wire`]: the codec, portable and panic-free on any input.
//! - [`client`]: Sans-IO request builder and reply matcher: it assigns
//!   `seq`, pairs replies by seq and pid (with Linux's quirks), and turns
//!   kernel-initiated ACQUIRE, EXPIRE and NAT-T mapping changes into events.
//! - [`socket`]: the thin `socket(PF_KEY, SOCK_RAW, PF_KEY_V2)` adapter.
//!
//! The crate has no `unsafe`: the socket goes through `socket2`.

#![forbid(unsafe_code)]

pub mod client;
#[doc(hidden)]
pub mod fuzzing;
pub mod request;
pub mod socket;
pub mod wire;

pub use client::{Client, Event};
pub use socket::{PfKeySocket, Session, SocketError};
