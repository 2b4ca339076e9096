//! NAT-D hashes (RFC 3947 §3.2), against hashlib.

mod crypto_util;

use ike_core::crypto::HashAlgorithm;
use ike_core::crypto::nat_d::nat_d;

#[test]
fn nat_d_matches_hashlib() {
    let ci = crypto_util::hex("59cedc5dcea558fe").try_into().unwrap();
    let cr = crypto_util::hex("9e16984236445257").try_into().unwrap();
    // hashlib.sha1(ci + cr + inet_pton(192.0.2.1) + (500).to_bytes(2)).
    let v4 = nat_d(
        HashAlgorithm::Sha1,
        &ci,
        &cr,
        "192.0.2.1".parse().unwrap(),
        500,
    );
    assert!(v4.verify(&crypto_util::hex(
        "2d04ae7d271e3c8c90d31de546d6187e18d13f90"
    )));
    let v6 = nat_d(
        HashAlgorithm::Md5,
        &ci,
        &cr,
        "2001:db8::1".parse().unwrap(),
        4500,
    );
    assert!(v6.verify(&crypto_util::hex("d6d206d7b26b310164bb4b53dcbc8755")));
}
