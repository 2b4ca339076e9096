//! Diffie-Hellman: the MODP primes against RFC 2409/3526 as transcribed,
//! strongSwan's MODP vectors, RFC 5903's ECP vectors, RFC 7748's X25519
//! vector, peer-value validation and generation from a seeded source.

mod crypto_util;

use crypto_util::{field, hex, vectors};
use ike_core::crypto::{CryptoError, DhGroup};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

fn group(id: u64) -> DhGroup {
    DhGroup::from_id(u16::try_from(id).unwrap()).unwrap()
}

#[test]
fn modp_vectors_both_directions() {
    let doc = vectors("modp_dh_strongswan.json");
    let mut seen = Vec::new();
    for v in doc["vectors"].as_array().unwrap() {
        let g = group(v["ikeGroup"].as_u64().unwrap());
        let i = g.private_key_from_bytes(&field(v, "privI")).unwrap();
        let r = g.private_key_from_bytes(&field(v, "privR")).unwrap();
        assert_eq!(i.public_value(), field(v, "pubI"), "{g:?} pub_i");
        assert_eq!(r.public_value(), field(v, "pubR"), "{g:?} pub_r");
        let shared = field(v, "sharedSecret");
        assert_eq!(
            i.compute_shared(r.public_value()).unwrap().as_bytes(),
            shared
        );
        assert_eq!(
            r.compute_shared(i.public_value()).unwrap().as_bytes(),
            shared
        );
        seen.push(g.id());
    }
    assert_eq!(seen, [1, 2, 5, 14, 15, 16, 17, 18]);
}

#[test]
fn modp_primes_are_the_rfc_primes() {
    // p−1 is not a valid public value but p−2 is: probing the bound checks
    // the compiled-in prime against the RFC transcription byte for byte.
    let doc = vectors("modp_groups.json");
    for gdoc in doc["groups"].as_array().unwrap() {
        let g = group(gdoc["ikeGroup"].as_u64().unwrap());
        let p = hex(&gdoc["primeHex"].as_str().unwrap().to_lowercase());
        assert_eq!(g.public_value_len(), p.len());
        let key = g.private_key_from_bytes(&[3]).unwrap();
        let mut p_minus_1 = p.clone();
        *p_minus_1.last_mut().unwrap() -= 1;
        let mut p_minus_2 = p.clone();
        *p_minus_2.last_mut().unwrap() -= 2;
        assert_eq!(
            key.compute_shared(&p_minus_1).unwrap_err(),
            CryptoError::InvalidPublicValue(g.id())
        );
        // (p−2)^3 = −8 mod p = p − 8.
        let mut p_minus_8 = p.clone();
        *p_minus_8.last_mut().unwrap() -= 8;
        assert_eq!(
            key.compute_shared(&p_minus_2).unwrap().as_bytes(),
            p_minus_8
        );
    }
}

#[test]
fn modp_rejects_out_of_range_and_misplaced_values() {
    let g = DhGroup::Modp1024;
    let key = g.private_key_from_bytes(&[0x55; 32]).unwrap();
    let len = g.public_value_len();
    let mut one = vec![0; len];
    *one.last_mut().unwrap() = 1;
    for bad in [vec![0; len], one, vec![0xff; len]] {
        assert_eq!(
            key.compute_shared(&bad).unwrap_err(),
            CryptoError::InvalidPublicValue(2)
        );
    }
    assert!(matches!(
        key.compute_shared(&[2; 127]),
        Err(CryptoError::PublicValueLength {
            group: 2,
            len: 127,
            expected: 128
        })
    ));
    assert!(g.private_key_from_bytes(&[1]).is_err());
    assert!(g.private_key_from_bytes(&[0; 129]).is_err());
}

#[test]
fn ecp_rfc5903_vectors() {
    let doc = vectors("rfc5903_ecp.json");
    for v in doc["vectors"].as_array().unwrap() {
        let g = group(v["ikeGroup"].as_u64().unwrap());
        let i = g.private_key_from_bytes(&field(v, "i")).unwrap();
        let r = g.private_key_from_bytes(&field(v, "r")).unwrap();
        let gi = [field(v, "gix"), field(v, "giy")].concat();
        let gr = [field(v, "grx"), field(v, "gry")].concat();
        assert_eq!(i.public_value(), gi, "{g:?}");
        assert_eq!(r.public_value(), gr, "{g:?}");
        assert_eq!(i.compute_shared(&gr).unwrap().as_bytes(), field(v, "girx"));
        assert_eq!(r.compute_shared(&gi).unwrap().as_bytes(), field(v, "girx"));
        // A point off the curve: flip a bit of y.
        let mut off = gr.clone();
        *off.last_mut().unwrap() ^= 1;
        assert_eq!(
            i.compute_shared(&off).unwrap_err(),
            CryptoError::InvalidPublicValue(g.id())
        );
        assert_eq!(
            i.compute_shared(&vec![0; gr.len()]).unwrap_err(),
            CryptoError::InvalidPublicValue(g.id())
        );
    }
}

#[test]
fn x25519_rfc7748_vector_and_low_order_point() {
    // RFC 7748 §6.1.
    let a = DhGroup::Curve25519
        .private_key_from_bytes(&hex(
            "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
        ))
        .unwrap();
    let b = DhGroup::Curve25519
        .private_key_from_bytes(&hex(
            "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
        ))
        .unwrap();
    assert_eq!(
        a.public_value(),
        hex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
    );
    assert_eq!(
        b.public_value(),
        hex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")
    );
    let k = hex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
    assert_eq!(a.compute_shared(b.public_value()).unwrap().as_bytes(), k);
    assert_eq!(b.compute_shared(a.public_value()).unwrap().as_bytes(), k);
    assert_eq!(
        a.compute_shared(&[0; 32]).unwrap_err(),
        CryptoError::DegenerateSharedSecret(31)
    );
}

#[test]
fn generated_keys_agree_in_every_group() {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    for g in DhGroup::ALL {
        // Keep the big MODP groups cheap in debug builds.
        let a = g.generate(&mut rng, None).unwrap();
        let b = g.generate(&mut rng, None).unwrap();
        assert_eq!(a.public_value().len(), g.public_value_len());
        let s1 = a.compute_shared(b.public_value()).unwrap();
        let s2 = b.compute_shared(a.public_value()).unwrap();
        assert_eq!(s1, s2, "{g:?}");
        assert_eq!(s1.len(), g.shared_secret_len());
    }
}

#[test]
fn same_seed_same_key_and_exponent_length_rules() {
    let k1 = DhGroup::Modp2048
        .generate(&mut ChaCha20Rng::seed_from_u64(9), None)
        .unwrap();
    let k2 = DhGroup::Modp2048
        .generate(&mut ChaCha20Rng::seed_from_u64(9), None)
        .unwrap();
    assert_eq!(k1.public_value(), k2.public_value());
    assert_eq!(DhGroup::Modp2048.default_exponent_bits(), Some(256));
    assert_eq!(DhGroup::Modp8192.default_exponent_bits(), Some(400));
    assert_eq!(DhGroup::Ecp256.default_exponent_bits(), None);
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    // Full-length exponent is allowed; p's length and tiny ones are not.
    assert!(DhGroup::Modp768.generate(&mut rng, Some(767)).is_ok());
    assert!(DhGroup::Modp768.generate(&mut rng, Some(768)).is_err());
    assert!(DhGroup::Modp768.generate(&mut rng, Some(64)).is_err());
    assert!(DhGroup::Ecp256.generate(&mut rng, Some(256)).is_err());
    // An exponent of `bits` bits computes the same g^x as the same value
    // given as bytes: generation does not change the arithmetic.
    let key = DhGroup::Modp1024
        .generate(&mut ChaCha20Rng::seed_from_u64(3), Some(161))
        .unwrap();
    assert_eq!(key.public_value().len(), 128);
    assert!(format!("{key:?}").starts_with("DhPrivateKey { group: Modp1024"));
}
