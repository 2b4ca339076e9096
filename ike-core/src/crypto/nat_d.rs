//! NAT-D payload hashes (RFC 3947 §3.2):
//! `HASH = hash(CKY-I | CKY-R | IP | Port)` with the negotiated hash
//! algorithm, IP as 4 or 16 bytes and the port in network order.

use std::net::IpAddr;

use super::{HashAlgorithm, HashValue};

/// The NAT-D hash of one address and port.
pub fn nat_d(
    hash: HashAlgorithm,
    cky_i: &[u8; 8],
    cky_r: &[u8; 8],
    addr: IpAddr,
    port: u16,
) -> HashValue {
    let port = port.to_be_bytes();
    let out = match addr {
        IpAddr::V4(a) => hash.hash(&[cky_i, cky_r, &a.octets(), &port]),
        IpAddr::V6(a) => hash.hash(&[cky_i, cky_r, &a.octets(), &port]),
    };
    HashValue::new(out)
}
