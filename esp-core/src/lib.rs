//! ESP (RFC 4303) as pure functions over caller buffers.
#![forbid(unsafe_code)]
