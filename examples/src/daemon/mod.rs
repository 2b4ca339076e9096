//! Library side of `tanuki`, the racoon-like daemon: its configuration file
//! and the glue between ike-core's negotiated SAs and esp-core.

pub mod auth_config;
pub mod config;
pub mod esp;
pub mod kernel;
#[doc(hidden)]
pub mod kernel_testing;
pub mod kernel_udp;
