//! Phase 1 CBC ciphers: RFC 3602 AES-CBC vectors and, for every cipher and
//! several key lengths, known answers from pyca/cryptography (OpenSSL).

mod crypto_util;

use crypto_util::{field, vectors};
use ike_core::crypto::{CipherAlgorithm, CryptoError, EncryptionKey, Phase1Cipher};

#[test]
fn every_cipher_matches_openssl() {
    let doc = vectors("cbc_ciphers_pyca.json");
    let mut algorithms = std::collections::HashSet::new();
    for c in doc["cases"].as_array().unwrap() {
        let alg = CipherAlgorithm::from_ike_id(c["ikeId"].as_u64().unwrap() as u16).unwrap();
        let bits = c["keyBits"].as_u64().unwrap() as u16;
        let cipher = Phase1Cipher::new(alg, Some(bits)).unwrap();
        let key = EncryptionKey::new(field(c, "key"));
        let (iv, pt, ct) = (
            field(c, "iv"),
            field(c, "plaintext"),
            field(c, "ciphertext"),
        );
        let id = format!("{} {bits}", c["cipher"]);
        assert_eq!(cipher.encrypt(&key, &iv, &pt).unwrap(), ct, "{id}");
        assert_eq!(*cipher.decrypt(&key, &iv, &ct).unwrap(), pt, "{id}");
        algorithms.insert(alg);
    }
    assert_eq!(algorithms.len(), 6);
}

#[test]
fn rfc3602_aes_cbc() {
    let doc = vectors("rfc3602_aes_cbc.json");
    let aes = Phase1Cipher::new(CipherAlgorithm::Aes, Some(128)).unwrap();
    let mut n = 0;
    for c in doc["cases"].as_array().unwrap() {
        let Some(pt) = c.get("plaintext").and_then(|v| v.as_str()) else {
            continue;
        };
        if c.get("espPacket").is_some() {
            continue;
        }
        let key = EncryptionKey::new(field(c, "key"));
        let (iv, ct) = (field(c, "iv"), field(c, "ciphertext"));
        assert_eq!(aes.encrypt(&key, &iv, &crypto_util::hex(pt)).unwrap(), ct);
        n += 1;
    }
    assert!(n >= 4, "only {n} RFC 3602 cases ran");
}

#[test]
fn padding_and_length_rules() {
    let des3 = Phase1Cipher::new(CipherAlgorithm::TripleDes, None).unwrap();
    assert_eq!(des3.key_len(), 24);
    let key = EncryptionKey::new(vec![0x42; 24]);
    let iv = [7u8; 8];
    // 13 bytes pad with zeros to 16; decryption keeps the padding.
    let ct = des3.encrypt(&key, &iv, &[1; 13]).unwrap();
    assert_eq!(ct.len(), 16);
    let pt = des3.decrypt(&key, &iv, &ct).unwrap();
    assert_eq!(&pt[..13], &[1; 13]);
    assert_eq!(&pt[13..], &[0; 3]);
    // Aligned input gets no extra block.
    assert_eq!(des3.encrypt(&key, &iv, &[1; 16]).unwrap().len(), 16);
    assert!(matches!(
        des3.decrypt(&key, &iv, &ct[..15]),
        Err(CryptoError::CiphertextLength { len: 15, block: 8 })
    ));
    assert!(des3.decrypt(&key, &iv, &[]).is_err());
    assert!(matches!(
        des3.decrypt(&key, &[0; 16], &ct),
        Err(CryptoError::IvLength { .. })
    ));
    let short = EncryptionKey::new(vec![0; 16]);
    assert!(matches!(
        des3.decrypt(&short, &iv, &ct),
        Err(CryptoError::KeyLength { .. })
    ));
    assert!(Phase1Cipher::new(CipherAlgorithm::Aes, Some(100)).is_err());
    assert!(Phase1Cipher::new(CipherAlgorithm::Cast128, Some(136)).is_err());
    assert_eq!(
        Phase1Cipher::new(CipherAlgorithm::Blowfish, None)
            .unwrap()
            .key_len(),
        16
    );
    assert_eq!(CipherAlgorithm::from_ike_id(2), None); // IDEA: not supported
}

mod properties {
    use ike_core::crypto::key_schedule::expand_appendix_b;
    use ike_core::crypto::{CipherAlgorithm, EncryptionKey, Phase1Cipher, Prf, SkeyidE};
    use proptest::prelude::*;

    fn cipher() -> impl Strategy<Value = Phase1Cipher> {
        prop_oneof![
            Just(Phase1Cipher::new(CipherAlgorithm::Des, None).unwrap()),
            Just(Phase1Cipher::new(CipherAlgorithm::TripleDes, None).unwrap()),
            prop_oneof![Just(128u16), Just(192), Just(256)].prop_map(|b| Phase1Cipher::new(
                CipherAlgorithm::Aes,
                Some(b)
            )
            .unwrap()),
            prop_oneof![Just(128u16), Just(192), Just(256)].prop_map(|b| Phase1Cipher::new(
                CipherAlgorithm::Camellia,
                Some(b)
            )
            .unwrap()),
            (5u16..=56)
                .prop_map(|n| Phase1Cipher::new(CipherAlgorithm::Blowfish, Some(n * 8)).unwrap()),
            (5u16..=16)
                .prop_map(|n| Phase1Cipher::new(CipherAlgorithm::Cast128, Some(n * 8)).unwrap()),
        ]
    }

    proptest! {
        #[test]
        fn decrypt_inverts_encrypt(c in cipher(), seed in any::<u8>(), pt in proptest::collection::vec(any::<u8>(), 0..200)) {
            let key = EncryptionKey::new((0..c.key_len()).map(|i| seed ^ i as u8).collect());
            let iv: Vec<u8> = (0..c.block_len()).map(|i| seed.wrapping_add(i as u8)).collect();
            let ct = c.encrypt(&key, &iv, &pt).unwrap();
            prop_assert_eq!(ct.len() % c.block_len(), 0);
            prop_assert!(ct.len() >= pt.len() && ct.len() < pt.len() + c.block_len() + 1);
            let back = c.decrypt(&key, &iv, &ct).unwrap();
            prop_assert_eq!(&back[..pt.len()], &pt[..]);
            prop_assert!(back[pt.len()..].iter().all(|&b| b == 0));
        }

        #[test]
        fn decrypt_never_panics_on_any_input(c in cipher(), ct in proptest::collection::vec(any::<u8>(), 0..100), iv_len in 0usize..20) {
            let key = EncryptionKey::new(vec![7; c.key_len()]);
            let _ = c.decrypt(&key, &vec![1; iv_len], &ct);
        }

        #[test]
        fn appendix_b_outputs_are_prefixes(short in 1usize..80, extra in 0usize..80, e in proptest::collection::vec(any::<u8>(), 16..64)) {
            // Appendix B truncates SKEYID_e when it is long enough and expands
            // it otherwise, so the prefix property holds on each side of that line.
            prop_assume!((short <= e.len()) == (short + extra <= e.len()));
            let e = SkeyidE::new(e);
            let a = expand_appendix_b(Prf::HmacSha1, &e, short).unwrap();
            let b = expand_appendix_b(Prf::HmacSha1, &e, short + extra).unwrap();
            prop_assert_eq!(a.as_bytes(), &b.as_bytes()[..short]);
        }
    }
}
