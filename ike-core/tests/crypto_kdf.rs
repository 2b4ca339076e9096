//! The RFC 2409 key schedule against published vectors: all NIST CAVS
//! IKEv1 KDF cases (pre-shared key and signature), a worked SHA-1 example,
//! NSS's Appendix B / KEYMAT expansion vectors and the RUB-NDS sessions.

mod crypto_util;

use crypto_util::{cookie, field, vectors};
use ike_core::crypto::key_schedule::{Phase1Inputs, expand_appendix_b};
use ike_core::crypto::quick_mode::{KeymatInputs, keymat};
use ike_core::crypto::{Gxy, HashAlgorithm, Phase1Auth, Phase1Keys, Prf, SkeyidD, SkeyidE};

fn prf_named(name: &str) -> Prf {
    let hash = match name {
        "SHA-1" | "HMAC-SHA-1" | "HMAC-SHA1" => HashAlgorithm::Sha1,
        "SHA-256" | "HMAC-SHA-256" => HashAlgorithm::Sha256,
        "SHA-384" | "HMAC-SHA-384" => HashAlgorithm::Sha384,
        "SHA-512" | "HMAC-SHA-512" => HashAlgorithm::Sha512,
        other => panic!("unknown hash {other}"),
    };
    Prf::hmac(hash)
}

/// Runs every case of one CAVS file; returns how many ran.
fn run_cavs(file: &str, psk: bool) -> usize {
    let doc = vectors(file);
    let mut count = 0;
    for group in doc["testGroups"].as_array().unwrap() {
        let prf = prf_named(group["hashAlg"].as_str().unwrap());
        for t in group["tests"].as_array().unwrap() {
            let gxy = Gxy::new(field(t, "gxy"));
            let psk_bytes = if psk { field(t, "psk") } else { Vec::new() };
            let inputs = Phase1Inputs {
                prf,
                auth: if psk {
                    Phase1Auth::PreSharedKey(&psk_bytes)
                } else {
                    Phase1Auth::Signature
                },
                gxy: &gxy,
                ni: &field(t, "ni"),
                nr: &field(t, "nr"),
                cky_i: &cookie(t, "ckyI"),
                cky_r: &cookie(t, "ckyR"),
            };
            let keys = Phase1Keys::derive(&inputs);
            let id = format!("{file} {} count {}", group["hashAlg"], t["count"]);
            assert_eq!(keys.skeyid.as_bytes(), field(t, "skeyid"), "SKEYID {id}");
            assert_eq!(
                keys.skeyid_d.as_bytes(),
                field(t, "skeyidD"),
                "SKEYID_d {id}"
            );
            assert_eq!(
                keys.skeyid_a.as_bytes(),
                field(t, "skeyidA"),
                "SKEYID_a {id}"
            );
            assert_eq!(
                keys.skeyid_e.as_bytes(),
                field(t, "skeyidE"),
                "SKEYID_e {id}"
            );
            count += 1;
        }
    }
    count
}

#[test]
fn nist_cavs_pre_shared_key_all_1700() {
    assert_eq!(run_cavs("ikev1_kdf_cavs_psk_full.json", true), 1700);
}

#[test]
fn nist_cavs_signature_all_1700() {
    assert_eq!(run_cavs("ikev1_kdf_cavs_dsa_full.json", false), 1700);
}

#[test]
fn worked_sha1_signature_example() {
    let t = vectors("ikev1_kdf_example_sha1_dsa.json");
    let gxy = Gxy::new(field(&t, "gxy"));
    let keys = Phase1Keys::derive(&Phase1Inputs {
        prf: Prf::HmacSha1,
        auth: Phase1Auth::Signature,
        gxy: &gxy,
        ni: &field(&t, "ni"),
        nr: &field(&t, "nr"),
        cky_i: &cookie(&t, "ckyI"),
        cky_r: &cookie(&t, "ckyR"),
    });
    assert_eq!(keys.skeyid.as_bytes(), field(&t, "skeyid"));
    assert_eq!(keys.skeyid_d.as_bytes(), field(&t, "skeyidD"));
    assert_eq!(keys.skeyid_a.as_bytes(), field(&t, "skeyidA"));
    assert_eq!(keys.skeyid_e.as_bytes(), field(&t, "skeyidE"));
}

#[test]
fn nss_appendix_b_and_keymat_expansion() {
    let doc = vectors("ikev1_appendixB_keymat_nss.json");
    let mut kinds = (0, 0);
    for v in doc["vectors"].as_array().unwrap() {
        let prf = prf_named(v["prf"].as_str().unwrap());
        let size = v["size"].as_u64().unwrap() as usize;
        let expected = field(v, "output");
        match v["kind"].as_str().unwrap() {
            "appendixB" => {
                let key = expand_appendix_b(prf, &SkeyidE::new(field(v, "key")), size).unwrap();
                assert_eq!(key.as_bytes(), expected, "nss id {}", v["nssId"]);
                kinds.0 += 1;
            }
            "quickModeKeymat" => {
                // NSS feeds the whole seed as one string ("00"); KEYMAT's seed is
                // protocol | SPI | Ni_b | Nr_b, so pass it as the protocol byte.
                let seed = field(v, "seed");
                assert_eq!(seed.len(), 1);
                let inputs = KeymatInputs {
                    pfs_gxy: None,
                    protocol: seed[0],
                    spi: &[],
                    ni_b: &[],
                    nr_b: &[],
                };
                let out = keymat(prf, &SkeyidD::new(field(v, "key")), &inputs, size).unwrap();
                assert_eq!(out.as_bytes(), expected, "nss id {}", v["nssId"]);
                kinds.1 += 1;
            }
            other => panic!("unknown kind {other}"),
        }
    }
    assert_eq!(kinds, (12, 12));
}

#[test]
fn rubnds_sessions_keys_ivs_hash_r_and_keymat() {
    use ike_core::crypto::phase1_hash::Phase1HashInputs;
    use ike_core::crypto::{CipherAlgorithm, Iv, IvChain, KeySchedule, Phase1Cipher};

    let doc = vectors("ikev1_phase1_phase2_rubnds_secrets.json");
    for c in doc["cases"].as_array().unwrap() {
        let name = c["test"].as_str().unwrap();
        let psk = field(c, "psk");
        let gxy = Gxy::new(field(c, "gxy"));
        let (ni, nr) = (field(c, "ni"), field(c, "nr"));
        let (cky_i, cky_r) = (cookie(c, "ckyI"), cookie(c, "ckyR"));
        let inputs = Phase1Inputs {
            prf: Prf::HmacSha1,
            auth: Phase1Auth::PreSharedKey(&psk),
            gxy: &gxy,
            ni: &ni,
            nr: &nr,
            cky_i: &cky_i,
            cky_r: &cky_r,
        };
        let aes128 = Phase1Cipher::new(CipherAlgorithm::Aes, Some(128)).unwrap();
        let ks = KeySchedule::derive(&inputs, HashAlgorithm::Sha1, aes128).unwrap();
        assert_eq!(ks.encryption_key().as_bytes(), field(c, "encKey"), "{name}");
        assert_eq!(ks.keys().skeyid_d.as_bytes(), field(c, "skeyidD"), "{name}");
        if c.get("skeyid").is_some() {
            assert_eq!(ks.keys().skeyid.as_bytes(), field(c, "skeyid"), "{name}");
            assert_eq!(ks.keys().skeyid_a.as_bytes(), field(c, "skeyidA"), "{name}");
            assert_eq!(ks.keys().skeyid_e.as_bytes(), field(c, "skeyidE"), "{name}");
        }
        let (gxi, gxr) = (field(c, "gxi"), field(c, "gxr"));
        let phase1_iv = ks.phase1_iv(&gxi, &gxr);
        let mut chain = IvChain::new(HashAlgorithm::Sha1, 16, phase1_iv.clone());
        for iv in c["ivs"].as_array().unwrap() {
            let mid = u32::from_str_radix(iv["messageId"].as_str().unwrap(), 16).unwrap();
            let got: Iv = if mid == 0 {
                phase1_iv.clone()
            } else {
                chain.next_iv(mid)
            };
            assert_eq!(
                got.as_bytes(),
                field(iv, "iv"),
                "{name} IV for M-ID {mid:08x}"
            );
        }
        if c.get("hashR").is_some() {
            let hash = ks.hash_r(&Phase1HashInputs {
                gxi: &gxi,
                gxr: &gxr,
                cky_i: &cky_i,
                cky_r: &cky_r,
                sai_b: &field(c, "saiBody"),
                idii_b: &[],
                idir_b: &field(c, "idirBody"),
            });
            assert!(hash.verify(&field(c, "hashR")), "{name} HASH_R");
        }
        if let Some(qm) = c.get("qm") {
            let (ni_b, nr_b) = (field(qm, "niQM"), field(qm, "nrQM"));
            for (spi, expected) in [
                ("outboundSpi", "keymatOutbound36"),
                ("inboundSpi", "keymatInbound36"),
            ] {
                let inputs = KeymatInputs {
                    pfs_gxy: None,
                    protocol: 3,
                    spi: &field(qm, spi),
                    ni_b: &ni_b,
                    nr_b: &nr_b,
                };
                let km = keymat(Prf::HmacSha1, &ks.keys().skeyid_d, &inputs, 36).unwrap();
                assert_eq!(km.as_bytes(), field(qm, expected), "{name} KEYMAT {spi}");
            }
        }
    }
}

#[test]
fn keymat_with_pfs_prepends_the_quick_mode_secret() {
    // K1 = prf(SKEYID_d, g(qm)^xy | protocol | SPI | Ni_b | Nr_b), checked
    // against the PRF computed directly.
    let d = SkeyidD::new(vec![7; 20]);
    let g = Gxy::new(vec![9; 128]);
    let inputs = KeymatInputs {
        pfs_gxy: Some(&g),
        protocol: 3,
        spi: &[1, 2, 3, 4],
        ni_b: &[5; 16],
        nr_b: &[6; 16],
    };
    let km = keymat(Prf::HmacSha1, &d, &inputs, 40).unwrap();
    let seed: [&[u8]; 5] = [&[9; 128], &[3], &[1, 2, 3, 4], &[5; 16], &[6; 16]];
    let k1 = Prf::HmacSha1.compute(&[7; 20], &seed);
    let mut k2_in: Vec<&[u8]> = vec![&k1];
    k2_in.extend_from_slice(&seed);
    let k2 = Prf::HmacSha1.compute(&[7; 20], &k2_in);
    assert_eq!(km.as_bytes(), [&k1[..], &k2[..]].concat()[..40].to_vec());
    assert!(keymat(Prf::HmacSha1, &d, &inputs, 100_000).is_err());
}
