//! Byte layouts: the ESP header, the IP headers ESP is inserted into or
//! wrapped in, and the RFC 3948 UDP encapsulation.

pub mod esp;
pub mod ip;
pub mod udp;
