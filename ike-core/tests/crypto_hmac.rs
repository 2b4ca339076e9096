//! The IKEv1 PRFs against RFC 2202 (HMAC-MD5, HMAC-SHA1) and RFC 4868 /
//! RFC 4231 (HMAC-SHA2-256/384/512), including the truncated ICVs.

mod crypto_util;

use crypto_util::{field, vectors};
use ike_core::crypto::{HashAlgorithm, Prf};

fn prf(name: &str) -> Prf {
    Prf::hmac(match name {
        "MD5" => HashAlgorithm::Md5,
        "SHA-1" | "SHA1" => HashAlgorithm::Sha1,
        "SHA-256" => HashAlgorithm::Sha256,
        "SHA-384" => HashAlgorithm::Sha384,
        "SHA-512" => HashAlgorithm::Sha512,
        other => panic!("unknown hash {other}"),
    })
}

#[test]
fn rfc2202_md5_and_sha1() {
    let doc = vectors("rfc2202_hmac_md5_sha1.json");
    let cases = doc["cases"].as_array().unwrap();
    for c in cases {
        let p = prf(c["hash"].as_str().unwrap());
        let out = p.compute(&field(c, "key"), &[&field(c, "data")]);
        assert_eq!(*out, field(c, "hmac"), "{} case {}", c["hash"], c["case"]);
        assert_eq!(out[..12], field(c, "hmac96")[..], "96-bit truncation");
    }
    assert_eq!(cases.len(), 14);
}

#[test]
fn rfc4868_sha2_prf_and_auth() {
    let doc = vectors("rfc4868_hmac_sha2.json");
    for c in doc["prf"].as_array().unwrap() {
        let p = prf(c["hash"].as_str().unwrap());
        // Split the data in two to exercise the multi-part input.
        let data = field(c, "data");
        let (a, b) = data.split_at(data.len() / 2);
        assert_eq!(*p.compute(&field(c, "key"), &[a, b]), field(c, "hmac"));
    }
    for c in doc["auth"].as_array().unwrap() {
        let hash = match c["alg"].as_str().unwrap() {
            "AUTH_HMAC_SHA2_256_128" => "SHA-256",
            "AUTH_HMAC_SHA2_384_192" => "SHA-384",
            _ => "SHA-512",
        };
        let out = prf(hash).compute(&field(c, "key"), &[&field(c, "data")]);
        assert_eq!(*out, field(c, "fullHmac"));
        assert!(out.starts_with(&field(c, "icv")));
    }
}

#[test]
fn hash_ids_and_lengths() {
    for id in [1, 2, 4, 5, 6] {
        let h = HashAlgorithm::from_ike_id(id).unwrap();
        assert_eq!(h.ike_id(), id);
        assert_eq!(h.hash(&[b"abc"]).len(), h.output_len());
        assert_eq!(HashAlgorithm::from_name(h.name()), Some(h));
    }
    assert_eq!(HashAlgorithm::from_ike_id(3), None); // Tiger: not supported
    // FIPS 180 "abc" digests.
    assert_eq!(
        crypto_util::to_hex(&HashAlgorithm::Sha1.hash(&[b"a", b"bc"])),
        "a9993e364706816aba3e25717850c26c9cd0d89d"
    );
    assert_eq!(
        crypto_util::to_hex(&HashAlgorithm::Md5.hash(&[b"abc"])),
        "900150983cd24fb0d6963f7d28e17f72"
    );
}
