//! RSA signatures over HASH_I/HASH_R without DigestInfo, checked byte for
//! byte against an independent computation (Python pow() over the
//! PKCS#1 v1.5 type 1 block), plus verification failures.

mod crypto_util;

use crypto_util::{field, vectors};
use ike_core::crypto::CryptoError;
use ike_core::crypto::rsa_sig::{BigUint, RsaPrivateKey, sign, verify};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

fn number(v: &serde_json::Value, key: &str) -> BigUint {
    BigUint::parse_bytes(v[key].as_str().unwrap().as_bytes(), 16).unwrap()
}

#[test]
fn unprefixed_pkcs1_signatures_match_and_verify() {
    let doc = vectors("rsa_unprefixed_pkcs1v15.json");
    let key = RsaPrivateKey::from_components(
        number(&doc, "n"),
        number(&doc, "e"),
        number(&doc, "d"),
        vec![number(&doc, "p"), number(&doc, "q")],
    )
    .unwrap();
    let public = key.to_public_key();
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    for s in doc["signatures"].as_array().unwrap() {
        let hash = field(s, "hash");
        let expected = field(s, "signature");
        assert_eq!(sign(&mut rng, &key, &hash).unwrap(), expected);
        verify(&public, &hash, &expected).unwrap();
        let mut other = hash.clone();
        other[0] ^= 1;
        assert_eq!(
            verify(&public, &other, &expected),
            Err(CryptoError::BadSignature)
        );
        let mut bad = expected.clone();
        *bad.last_mut().unwrap() ^= 1;
        assert_eq!(verify(&public, &hash, &bad), Err(CryptoError::BadSignature));
        assert_eq!(
            verify(&public, &hash, &expected[1..]),
            Err(CryptoError::BadSignature)
        );
    }
}
