//! Every published vector in `tests/data/esp` and `tests/data/hmac`, run
//! through the transforms and, where the vector is a whole ESP packet,
//! through both directions of an SA byte for byte.

mod common;

use common::{h, hex, load, s};
use esp_core::crypto::{
    AeadHeader, CryptoBackend, EncryptionAlgorithm as E, IntegrityAlgorithm as I, RustCryptoBackend,
};
use esp_core::{InboundSa, Mode, OutboundSa, SaConfig};

const NO_AAD: AeadHeader = AeadHeader {
    spi: [0; 4],
    seq_high: None,
    seq_low: [0; 4],
};

fn integrity_alg(hash: &str, icv_len: usize) -> I {
    match (hash, icv_len) {
        ("MD5", 12) => I::HmacMd5_96,
        ("SHA-1", 12) => I::HmacSha1_96,
        ("SHA-256", 12) => I::HmacSha256_96,
        ("SHA-256", 16) => I::HmacSha256_128,
        ("SHA-384", 24) => I::HmacSha384_192,
        ("SHA-512", 32) => I::HmacSha512_256,
        other => panic!("no algorithm for {other:?}"),
    }
}

#[test]
fn rfc2202_hmac_md5_and_sha1_96() {
    let v = load("hmac/rfc2202_hmac_md5_sha1.json");
    let cases = v["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 14);
    for c in cases {
        let alg = integrity_alg(s(c, "hash"), 12);
        let mac = RustCryptoBackend.integrity(alg, &h(c, "key")).unwrap();
        let mut icv = [0u8; 12];
        mac.compute(&[&h(c, "data")], &mut icv);
        assert_eq!(icv.to_vec(), h(c, "hmac96"), "{c}");
        assert_eq!(&h(c, "hmac")[..12], &icv[..]);
        // Split input gives the same MAC, and verify agrees.
        let data = h(c, "data");
        let (a, b) = data.split_at(data.len() / 2);
        mac.verify(&[a, b], &icv).unwrap();
        icv[11] ^= 1;
        assert!(mac.verify(&[&data], &icv).is_err());
    }
}

#[test]
fn rfc4868_hmac_sha2_auth_and_prf_prefixes() {
    let v = load("hmac/rfc4868_hmac_sha2.json");
    let auth = v["auth"].as_array().unwrap();
    assert_eq!(auth.len(), 9);
    for c in auth {
        let alg = match s(c, "alg") {
            "AUTH_HMAC_SHA2_256_128" => I::HmacSha256_128,
            "AUTH_HMAC_SHA2_384_192" => I::HmacSha384_192,
            "AUTH_HMAC_SHA2_512_256" => I::HmacSha512_256,
            other => panic!("{other}"),
        };
        let key = h(c, "key");
        assert_eq!(key.len(), alg.key_len(), "RFC 4868 keys are hash-sized");
        // Through the SA-level key check too.
        let mac = RustCryptoBackend.integrity(alg, &key).unwrap();
        let mut icv = vec![0u8; alg.icv_len()];
        mac.compute(&[&h(c, "data")], &mut icv);
        assert_eq!(icv, h(c, "icv"));
        assert_eq!(&h(c, "fullHmac")[..icv.len()], &icv[..]);
    }
    // PRF vectors (RFC 4231): the truncated ICVs are prefixes of them,
    // including the legacy 96-bit SHA-256 truncation.
    let prf = v["prf"].as_array().unwrap();
    assert_eq!(prf.len(), 18);
    for c in prf {
        let full = h(c, "hmac");
        let hash = s(c, "hash");
        let mut algs = vec![integrity_alg(hash, full.len() / 2)];
        if hash == "SHA-256" {
            algs.push(I::HmacSha256_96);
        }
        for alg in algs {
            let mac = RustCryptoBackend.integrity(alg, &h(c, "key")).unwrap();
            let mut icv = vec![0u8; alg.icv_len()];
            mac.compute(&[&h(c, "data")], &mut icv);
            // RFC 4231 case 5 is a truncation test; the file gives the
            // full output for every case.
            assert_eq!(&full[..icv.len()], &icv[..], "{c}");
        }
    }
}

#[test]
fn rfc3602_aes_cbc_blocks() {
    let v = load("esp/rfc3602_aes_cbc.json");
    for c in v["cases"].as_array().unwrap().iter().take(4) {
        let cipher = RustCryptoBackend.cipher(E::AesCbc, &h(c, "key")).unwrap();
        let mut data = h(c, "plaintext");
        cipher
            .encrypt(&NO_AAD, &h(c, "iv"), &mut data, &mut [])
            .unwrap();
        assert_eq!(data, h(c, "ciphertext"), "case {}", c["case"]);
        cipher
            .decrypt(&NO_AAD, &h(c, "iv"), &mut data, &[])
            .unwrap();
        assert_eq!(data, h(c, "plaintext"));
    }
}

#[test]
fn rfc3602_esp_packets_both_directions() {
    let v = load("esp/rfc3602_aes_cbc.json");
    let cases: Vec<_> = v["cases"].as_array().unwrap()[4..].to_vec();
    assert_eq!(cases.len(), 4);
    for c in &cases {
        let spi = u32::from_str_radix(s(c, "spi"), 16).unwrap();
        let seq = c["seq"].as_u64().unwrap();
        let next_header = c["nextHeader"].as_u64().unwrap() as u8;
        let mode = if next_header == 4 {
            Mode::Tunnel
        } else {
            Mode::Transport
        };
        let config = SaConfig::new(spi, mode, E::AesCbc, &h(c, "key"));
        let packet = h(c, "espPacket");

        let mut rx = InboundSa::new(&config).unwrap();
        let mut buf = packet.clone();
        let got = rx.open(&mut buf).unwrap();
        assert_eq!(got.next_header, next_header);
        assert_eq!(got.sequence, seq);
        assert_eq!(got.data.to_vec(), h(c, "payload"), "case {}", c["case"]);

        let mut tx = OutboundSa::new(&config).unwrap();
        tx.set_next_sequence(seq).unwrap();
        let mut out = [0u8; 256];
        let sealed = tx
            .seal_with_iv(&h(c, "iv"), next_header, &h(c, "payload"), &mut out)
            .unwrap();
        assert_eq!(sealed.to_vec(), packet, "case {}", c["case"]);
    }
}

#[test]
fn rfc3602_case5_transport_mode_with_its_ip_headers() {
    let v = load("esp/rfc3602_aes_cbc.json");
    let c = &v["cases"][4];
    let config = SaConfig::new(0x4321, Mode::Transport, E::AesCbc, &h(c, "key"));
    let mut original = h(c, "originalIpHeader");
    original.extend(h(c, "payload"));
    let mut expected = h(c, "postEncryptionIpHeader");
    expected.extend(h(c, "espPacket"));

    let mut tx = OutboundSa::new(&config).unwrap();
    let mut out = [0u8; 256];
    let got = tx
        .encapsulate_with_iv(&h(c, "iv"), &original, &mut out)
        .unwrap();
    assert_eq!(
        got.to_vec(),
        expected,
        "protocol 50, length and checksum rewritten"
    );

    let mut rx = InboundSa::new(&config).unwrap();
    let mut buf = expected.clone();
    let back = rx.decapsulate(&mut buf).unwrap();
    assert_eq!(back.next_header, 1);
    assert_eq!(back.data.to_vec(), original, "original header restored");
}

#[test]
fn rfc3686_aes_ctr() {
    let v = load("esp/rfc3686_aes_ctr.json");
    let cases = v["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 9);
    for c in cases {
        let mut keymat = h(c, "key");
        keymat.extend(h(c, "nonce"));
        let cipher = RustCryptoBackend.cipher(E::AesCtr, &keymat).unwrap();
        let mut data = h(c, "plaintext");
        cipher
            .encrypt(&NO_AAD, &h(c, "iv"), &mut data, &mut [])
            .unwrap();
        assert_eq!(data, h(c, "ciphertext"), "case {}", c["case"]);
        cipher
            .decrypt(&NO_AAD, &h(c, "iv"), &mut data, &[])
            .unwrap();
        assert_eq!(data, h(c, "plaintext"));
    }
}

/// An SA for a draft-mcgrew-gcm-test-01 case, positioned so that the case's
/// sequence number is the next one.
fn gcm_case_sas(c: &serde_json::Value) -> (SaConfig, u64) {
    let alg = if s(c, "kind") == "gmac" {
        E::AesGmac
    } else {
        E::AesGcm16
    };
    let mut keymat = h(c, "key");
    keymat.extend(h(c, "salt"));
    let spi = u32::from_str_radix(s(c, "spi"), 16).unwrap();
    let (esn, seq) = match c.get("esnHigh").and_then(|v| v.as_str()) {
        Some(high) => {
            let high = u64::from_str_radix(high, 16).unwrap();
            let low = u64::from_str_radix(s(c, "seqLow"), 16).unwrap();
            (true, high << 32 | low)
        }
        None => (false, u64::from_str_radix(s(c, "seq"), 16).unwrap()),
    };
    let config = SaConfig::new(spi, Mode::Transport, alg, &keymat).with_esn(esn);
    (config, seq)
}

#[test]
fn draft_mcgrew_gcm_and_gmac_packets_both_directions() {
    let v = load("esp/draft_mcgrew_gcm_test_01_aes_gcm_esp.json");
    let cases = v["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 17);
    for c in cases {
        let (config, seq) = gcm_case_sas(c);
        let packet = h(c, "espPacket");
        let plaintext = if s(c, "kind") == "gmac" {
            // GMAC: the payload travels in clear, covered by the tag.
            packet[16..packet.len() - 16].to_vec()
        } else {
            h(c, "plaintext")
        };
        let (&next_header, rest) = plaintext.split_last().unwrap();
        let (&pad_len, rest) = rest.split_last().unwrap();
        let payload = &rest[..rest.len() - pad_len as usize];

        let mut rx = InboundSa::new(&config).unwrap();
        rx.resume_after(seq - 1);
        let mut buf = packet.clone();
        let got = rx
            .open(&mut buf)
            .unwrap_or_else(|e| panic!("case {}: {e}", c["case"]));
        assert_eq!(got.sequence, seq);
        assert_eq!(got.next_header, next_header);
        assert_eq!(got.data.to_vec(), payload, "case {}", c["case"]);

        let mut tx = OutboundSa::new(&config).unwrap();
        tx.set_next_sequence(seq).unwrap();
        let mut out = [0u8; 512];
        let sealed = tx
            .seal_with_iv(&h(c, "iv"), next_header, payload, &mut out)
            .unwrap();
        assert_eq!(sealed.to_vec(), packet, "case {}", c["case"]);

        // A flipped ICV bit is refused and does not move the window.
        let mut forged = packet.clone();
        *forged.last_mut().unwrap() ^= 0x80;
        let mut rx = InboundSa::new(&config).unwrap();
        rx.resume_after(seq - 1);
        assert_eq!(rx.open(&mut forged), Err(esp_core::DecapError::IcvMismatch));
        assert_eq!(rx.replay_window().highest(), seq - 1);
        assert_eq!(
            forged[..packet.len() - 1],
            packet[..packet.len() - 1],
            "left untouched"
        );
    }
}

#[test]
fn gcm_short_icvs_are_prefixes_of_the_full_tag() {
    let v = load("esp/draft_mcgrew_gcm_test_01_aes_gcm_esp.json");
    for c in v["cases"].as_array().unwrap() {
        if s(c, "kind") != "gcm" || c.get("esnHigh").is_some() {
            continue;
        }
        let (config16, seq) = gcm_case_sas(c);
        let plaintext = h(c, "plaintext");
        let payload = &plaintext[..plaintext.len() - 2 - plaintext[plaintext.len() - 2] as usize];
        let nh = *plaintext.last().unwrap();
        let full = h(c, "espPacket");
        for (alg, icv_len) in [(E::AesGcm8, 8), (E::AesGcm12, 12)] {
            let mut config = config16.clone();
            config.encryption = alg;
            let mut tx = OutboundSa::new(&config).unwrap();
            tx.set_next_sequence(seq).unwrap();
            let mut out = [0u8; 512];
            let sealed = tx
                .seal_with_iv(&h(c, "iv"), nh, payload, &mut out)
                .unwrap()
                .to_vec();
            // RFC 4106 §6: the short ICV is the leading bytes of the tag.
            assert_eq!(sealed[..], full[..full.len() - 16 + icv_len], "{alg:?}");
            let mut rx = InboundSa::new(&config).unwrap();
            let mut buf = sealed.clone();
            assert_eq!(rx.open(&mut buf).unwrap().data.to_vec(), payload);
            let mut bad = sealed.clone();
            *bad.last_mut().unwrap() ^= 1;
            let mut rx = InboundSa::new(&config).unwrap();
            assert_eq!(rx.open(&mut bad), Err(esp_core::DecapError::IcvMismatch));
        }
    }
}

#[test]
fn rfc7634_chacha20_poly1305_esp_example() {
    let v = load("esp/rfc7634_chacha20poly1305.json");
    let c = &v["cases"][0];
    let mut keymat = h(c, "key");
    keymat.extend(h(c, "salt"));
    let config = SaConfig::new(0x0102_0304, Mode::Tunnel, E::ChaCha20Poly1305, &keymat);
    let packet = h(c, "espPacket");
    let plaintext = h(c, "plaintext");
    let payload = &plaintext[..plaintext.len() - 2 - c["padLength"].as_u64().unwrap() as usize];

    let mut rx = InboundSa::new(&config).unwrap();
    let mut buf = packet.clone();
    let got = rx.decapsulate(&mut buf).unwrap();
    assert_eq!((got.next_header, got.sequence), (4, 5));
    assert_eq!(got.data.to_vec(), payload);

    let mut tx = OutboundSa::new(&config).unwrap();
    tx.set_next_sequence(5).unwrap();
    let mut out = [0u8; 256];
    let sealed = tx
        .encapsulate_with_iv(&h(c, "iv"), payload, &mut out)
        .unwrap();
    assert_eq!(sealed.to_vec(), packet);
}

#[test]
fn rubnds_aes128_cbc_hmac_sha1_96_packet() {
    let c = load("esp/esp_aes128cbc_hmacsha1_96_rubnds.json");
    let config = SaConfig::new(0xc649_4f61, Mode::Tunnel, E::AesCbc, &h(&c, "encKey"))
        .with_integrity(I::HmacSha1_96, &h(&c, "authKey"));
    let packet = h(&c, "espPacket");
    let mut rx = InboundSa::new(&config).unwrap();
    let mut buf = packet.clone();
    let got = rx.decapsulate(&mut buf).unwrap();
    assert_eq!(got.data.to_vec(), h(&c, "payload"));

    let mut tx = OutboundSa::new(&config).unwrap();
    let mut out = [0u8; 256];
    let sealed = tx
        .encapsulate_with_iv(&h(&c, "iv"), &h(&c, "payload"), &mut out)
        .unwrap();
    assert_eq!(sealed.to_vec(), packet);
    assert_eq!(sealed[sealed.len() - 12..], hex(s(&c, "icv"))[..]);
}
