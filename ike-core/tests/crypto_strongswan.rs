//! The key schedule against strongSwan: for every recording in
//! `tests/data/strongswan/` (two charons, values as each logged them),
//! SKEYID*, the Appendix B cipher key (3DES with MD5 needs the expansion),
//! the Phase 1 IV, HASH_I/HASH_R rebuilt from their parts, NAT-D, and every
//! ESP SA's KEYMAT with and without PFS.

mod crypto_util;

use std::path::PathBuf;

use crypto_util::{field, hex};
use ike_core::crypto::key_schedule::Phase1Inputs;
use ike_core::crypto::phase1_hash::Phase1HashInputs;
use ike_core::crypto::quick_mode::{KeymatInputs, keymat};
use ike_core::crypto::{
    CipherAlgorithm, Gxy, HashAlgorithm, KeySchedule, Phase1Auth, Phase1Cipher, Prf,
};
use serde_json::Value;

/// The cipher and hash from charon's "selected proposal" string, e.g.
/// `AES_CBC_256/HMAC_SHA2_384_192/PRF_HMAC_SHA2_384/ECP_256`.
fn suite(negotiated: &str) -> (Phase1Cipher, HashAlgorithm) {
    let mut parts = negotiated.split('/');
    let cipher = match parts.next().unwrap() {
        "AES_CBC_128" => Phase1Cipher::new(CipherAlgorithm::Aes, Some(128)),
        "AES_CBC_256" => Phase1Cipher::new(CipherAlgorithm::Aes, Some(256)),
        "3DES_CBC" => Phase1Cipher::new(CipherAlgorithm::TripleDes, None),
        other => panic!("cipher {other}"),
    }
    .unwrap();
    let hash = match parts.nth(1).unwrap() {
        "PRF_HMAC_MD5" => HashAlgorithm::Md5,
        "PRF_HMAC_SHA1" => HashAlgorithm::Sha1,
        "PRF_HMAC_SHA2_256" => HashAlgorithm::Sha256,
        "PRF_HMAC_SHA2_384" => HashAlgorithm::Sha384,
        other => panic!("prf {other}"),
    };
    (cipher, hash)
}

fn recordings() -> Vec<(String, Value)> {
    let dir: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests", "data", "strongswan"]
        .iter()
        .collect();
    let mut out: Vec<(String, Value)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| {
            let v = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
            (p.file_stem().unwrap().to_string_lossy().into_owned(), v)
        })
        .filter(|(_, v): &(String, Value)| v.get("phase1").is_some())
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn every_strongswan_recording() {
    let mut count = 0;
    for (name, rec) in recordings() {
        let p1 = &rec["phase1"];
        let (cipher, hash) = suite(rec["negotiated"]["ike"].as_str().unwrap());
        let prf = Prf::hmac(hash);
        let psk = rec["config"]["psk"].as_str().unwrap().as_bytes().to_vec();
        let gxy = Gxy::new(field(p1, "dh_shared_secret"));
        let cky_i: [u8; 8] = field(&rec["cookies"], "cky_i").try_into().unwrap();
        let cky_r: [u8; 8] = field(&rec["cookies"], "cky_r").try_into().unwrap();
        let (gxi, gxr) = (field(p1, "ke_i"), field(p1, "ke_r"));
        let inputs = Phase1Inputs {
            prf,
            auth: Phase1Auth::PreSharedKey(&psk),
            gxy: &gxy,
            ni: &field(p1, "nonce_i"),
            nr: &field(p1, "nonce_r"),
            cky_i: &cky_i,
            cky_r: &cky_r,
        };
        let ks = KeySchedule::derive(&inputs, hash, cipher).unwrap();
        let k = ks.keys();
        assert_eq!(k.skeyid.as_bytes(), field(p1, "skeyid"), "{name}");
        assert_eq!(k.skeyid_d.as_bytes(), field(p1, "skeyid_d"), "{name}");
        assert_eq!(k.skeyid_a.as_bytes(), field(p1, "skeyid_a"), "{name}");
        assert_eq!(k.skeyid_e.as_bytes(), field(p1, "skeyid_e"), "{name}");
        assert_eq!(
            ks.encryption_key().as_bytes(),
            field(p1, "encryption_key"),
            "{name}"
        );
        assert_eq!(
            ks.phase1_iv(&gxi, &gxr).as_bytes(),
            field(p1, "initial_iv"),
            "{name}"
        );

        // HASH_I input = g^xi | g^xr | CKY-I | CKY-R | SAi_b | IDii_b: the
        // ID body is what follows the parts the recording gives separately.
        let sai_b = field(p1, "sa_i_body");
        let prefix_i = [&gxi[..], &gxr, &cky_i, &cky_r, &sai_b].concat();
        let prefix_r = [&gxr[..], &gxi, &cky_r, &cky_i, &sai_b].concat();
        let input_i = field(p1, "hash_i_input");
        let input_r = field(p1, "hash_r_input");
        assert!(input_i.starts_with(&prefix_i) && input_r.starts_with(&prefix_r));
        let hash_inputs = Phase1HashInputs {
            gxi: &gxi,
            gxr: &gxr,
            cky_i: &cky_i,
            cky_r: &cky_r,
            sai_b: &sai_b,
            idii_b: &input_i[prefix_i.len()..],
            idir_b: &input_r[prefix_r.len()..],
        };
        assert!(
            ks.hash_i(&hash_inputs).verify(&field(p1, "hash_i")),
            "{name} HASH_I"
        );
        assert!(
            ks.hash_r(&hash_inputs).verify(&field(p1, "hash_r")),
            "{name} HASH_R"
        );

        // NAT-D: charon logs each hashed chunk (CKY-I | CKY-R | IP | port)
        // followed by its hash.
        let log = rec["natd"]["initiator"].as_array().unwrap();
        let mut natd_checked = 0;
        for pair in log.windows(2) {
            if pair[0]["label"] != "natd_chunk" || pair[1]["label"] != "natd_hash" {
                continue;
            }
            let chunk = field(&pair[0], "value");
            assert_eq!(chunk.len(), 22, "{name}: IPv4 NAT-D chunk");
            assert_eq!(chunk[..16], [&cky_i[..], &cky_r].concat()[..]);
            let ip: [u8; 4] = chunk[16..20].try_into().unwrap();
            let port = u16::from_be_bytes([chunk[20], chunk[21]]);
            let got = ike_core::crypto::nat_d::nat_d(hash, &cky_i, &cky_r, ip.into(), port);
            assert!(got.verify(&field(&pair[1], "value")), "{name} NAT-D");
            natd_checked += 1;
        }
        assert!(natd_checked >= 2, "{name}: {natd_checked} NAT-D hashes");

        for qm in rec["quick_modes"].as_array().unwrap() {
            let pfs = qm
                .get("dh_shared_secret")
                .map(|g| Gxy::new(hex(g.as_str().unwrap())));
            for sa in qm["sas"].as_array().unwrap() {
                // keymat_seed = [g(qm)^xy |] protocol | SPI | Ni_b | Nr_b
                let seed = field(sa, "keymat_seed");
                let skip = pfs.as_ref().map_or(0, Gxy::len);
                assert_eq!(seed[skip], 3);
                let spi = field(sa, "spi");
                assert_eq!(seed[skip + 1..skip + 5], spi[..]);
                let nonces = &seed[skip + 5..];
                let expected = [
                    field(sa, "encryption_key"),
                    sa.get("integrity_key")
                        .map_or(Vec::new(), |v| hex(v.as_str().unwrap())),
                ]
                .concat();
                let km = keymat(
                    prf,
                    &k.skeyid_d,
                    &KeymatInputs {
                        pfs_gxy: pfs.as_ref(),
                        protocol: 3,
                        spi: &spi,
                        // Ni_b | Nr_b enter the PRF as one string.
                        ni_b: nonces,
                        nr_b: &[],
                    },
                    expected.len(),
                )
                .unwrap();
                assert_eq!(
                    km.as_bytes(),
                    expected,
                    "{name} SPI {}",
                    crypto_util::to_hex(&spi)
                );
            }
        }
        count += 1;
    }
    assert!(count >= 10, "only {count} recordings");
}
