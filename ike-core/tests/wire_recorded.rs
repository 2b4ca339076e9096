//! The codec against messages recorded between an initiator and real
//! responders (RUB-NDS IPsec-StateMachineExtractor recordings, copied into
//! `tests/data/wire/`).

use ike_core::wire::{ExchangeType, Message, MessageBody, PayloadType, parse_plaintext};

fn hex(s: &str) -> Vec<u8> {
    assert!(s.len().is_multiple_of(2), "odd hex");
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

/// Rows of a tab-separated file, comment lines skipped.
fn rows(text: &str) -> impl Iterator<Item = Vec<&str>> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split('\t').collect())
}

const MESSAGES: &str = include_str!("data/wire/messages.tsv");
const DECRYPTED: &str = include_str!("data/wire/decrypted.tsv");

#[test]
fn every_recorded_message_parses_and_re_emits_byte_for_byte() {
    let mut plain = 0;
    let mut encrypted = 0;
    for row in rows(MESSAGES) {
        let (source, index, wire) = (row[0], row[1], row[3]);
        let bytes = hex(wire);
        let msg = Message::parse(&bytes).unwrap_or_else(|e| panic!("{source}#{index}: {e}"));
        assert_eq!(msg.header.version, 0x10);
        assert_eq!(&bytes[..8], &msg.header.initiator_cookie.0);
        match &msg.body {
            MessageBody::Plain(payloads) => {
                plain += 1;
                assert!(!payloads.is_empty(), "{source}#{index}");
                // The bodies add up to the message.
                let total: usize = payloads.iter().map(|p| p.wire_len()).sum();
                assert_eq!(total + 28, bytes.len());
            }
            MessageBody::Encrypted { ciphertext, .. } => {
                encrypted += 1;
                assert_eq!(ciphertext.as_slice(), &bytes[28..]);
            }
        }
        assert_eq!(msg.to_bytes().unwrap(), bytes, "{source}#{index}");
    }
    // 3 recordings: MM 4+4+4 plain... counted from the file itself.
    assert_eq!(plain + encrypted, 24);
    assert_eq!(
        plain,
        4 + 3 + 4,
        "MM1-4, AM1-3 and PKE MM1-4 are unencrypted"
    );
}

#[test]
fn main_mode_first_message_has_one_sa_payload() {
    let row = rows(MESSAGES).next().unwrap();
    let msg = Message::parse(&hex(row[3])).unwrap();
    assert_eq!(msg.header.exchange_type, ExchangeType::MAIN_MODE);
    assert!(msg.header.responder_cookie.is_zero());
    let payloads = msg.payloads().unwrap();
    assert_eq!(payloads.len(), 1);
    assert_eq!(payloads[0].ty, PayloadType::SA);
    // SAi_b as given by the recording's key schedule (saiBody).
    assert_eq!(
        payloads[0].body,
        hex(
            "00000001000000010000002c00010001000000240001000080010007800e0080800200028004000280030001800b0001800c7080"
        )
    );
}

#[test]
fn decrypted_bodies_parse_with_their_padding() {
    let mut n = 0;
    for row in rows(DECRYPTED) {
        let (name, index, first, pad_len, types, plaintext) =
            (row[0], row[1], row[2], row[3], row[4], row[5]);
        let first = PayloadType(first.parse().unwrap());
        let bytes = hex(plaintext);
        let pt = parse_plaintext(first, &bytes).unwrap_or_else(|e| panic!("{name}#{index}: {e}"));
        assert_eq!(
            pt.padding.len(),
            pad_len.parse::<usize>().unwrap(),
            "{name}#{index}"
        );
        let got: Vec<&str> = pt.payloads.iter().map(|p| p.ty.name().unwrap()).collect();
        let want: Vec<&str> = types
            .split(',')
            .map(|t| match t {
                "ID" => "ID",
                "HASH" => "HASH",
                "SA" => "SA",
                "NONCE" => "NONCE",
                "N" => "N",
                other => panic!("unexpected {other}"),
            })
            .collect();
        assert_eq!(got, want, "{name}#{index}");
        // Quick Mode HASH(1)/(2) input: everything after HASH, as received.
        if pt.payloads[0].ty == PayloadType::HASH {
            let after = pt.bytes_after(PayloadType::HASH).unwrap();
            assert_eq!(after, &bytes[24..bytes.len() - pt.padding.len()]);
        }
        n += 1;
    }
    assert_eq!(n, 13);
}

mod decoded {
    //! The typed contents of the recorded messages, checked against the
    //! values the recordings' key schedules were computed from.

    use super::{DECRYPTED, MESSAGES, hex, rows};
    use hmac::{Hmac, Mac};
    use ike_core::wire::*;
    use sha1::Sha1;
    use std::net::Ipv4Addr;

    const SESSIONS: &str = include_str!("data/wire/sessions.tsv");

    struct Session {
        name: String,
        skeyid_a: Vec<u8>,
        qm_ni: Vec<u8>,
        sai_b: Vec<u8>,
        idii_b: Vec<u8>,
        gxi: Vec<u8>,
        gxr: Vec<u8>,
        ni: Vec<u8>,
        nr: Vec<u8>,
    }

    fn sessions() -> Vec<Session> {
        rows(SESSIONS)
            .map(|r| Session {
                name: r[0].to_owned(),
                skeyid_a: hex(r[1]),
                qm_ni: hex(r[2]),
                sai_b: hex(r[3]),
                idii_b: hex(r[4]),
                gxi: hex(r[5]),
                gxr: hex(r[6]),
                ni: hex(r[7]),
                nr: hex(r[8]),
            })
            .collect()
    }

    /// The recorded messages of one exchange ("rubnds-mm-psk", ...), in order.
    fn exchange(source: &str) -> Vec<Message> {
        rows(MESSAGES)
            .filter(|r| r[0] == format!("rubnds/{source}"))
            .map(|r| Message::parse(&hex(r[3])).unwrap())
            .collect()
    }

    fn typed(msg: &Message) -> Vec<TypedPayload> {
        msg.payloads()
            .unwrap()
            .iter()
            .map(|p| p.decode().unwrap())
            .collect()
    }

    fn expected_ike_transform() -> Phase1Attributes {
        Phase1Attributes {
            encryption: Some(EncryptionAlgorithm::AES_CBC),
            key_length: Some(128),
            hash: Some(HashAlgorithm::SHA1),
            auth_method: Some(AuthMethod::PRE_SHARED_KEY),
            group: Some(GroupDescription::MODP_1024),
            lifetimes: vec![Lifetime {
                ty: LifeType::SECONDS,
                duration: 28800,
            }],
            ..Default::default()
        }
    }

    #[test]
    fn main_mode_psk_phase1_payloads() {
        let s = &sessions()[0];
        assert_eq!(s.name, "mainModePSK");
        let mm = exchange("rubnds-mm-psk");
        // MM1: SAi_b is the SA body exactly as sent.
        let m1 = mm[0].payloads().unwrap();
        assert_eq!(m1[0].body, s.sai_b);
        // MM2: the chosen transform and the responder's vendor IDs.
        let t2 = typed(&mm[1]);
        let TypedPayload::Sa(sa) = &t2[0] else {
            panic!("{t2:?}")
        };
        assert_eq!(sa.doi, Doi::IPSEC);
        let transform = &sa.proposals[0].transforms[0];
        assert_eq!(transform.phase1_attributes(), expected_ike_transform());
        let vids: Vec<_> = t2[1..]
            .iter()
            .map(|p| match p {
                TypedPayload::VendorId(v) => v.recognise(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(vids, [Some(KnownVendorId::Xauth), Some(KnownVendorId::Dpd)]);
        // MM3 / MM4: KE and NONCE carry g^xi, Ni / g^xr, Nr.
        for (msg, gx, nonce) in [(&mm[2], &s.gxi, &s.ni), (&mm[3], &s.gxr, &s.nr)] {
            let t = typed(msg);
            assert_eq!(
                t[0],
                TypedPayload::KeyExchange(KeyExchange::new(gx.clone()))
            );
            assert_eq!(t[1], TypedPayload::Nonce(Nonce::new(nonce.clone())));
        }
    }

    #[test]
    fn aggressive_mode_first_message() {
        let s = &sessions()[1];
        assert_eq!(s.name, "aggressiveModePSK");
        let am = exchange("rubnds-am-psk");
        let t = typed(&am[0]);
        assert_eq!(am[0].header.exchange_type, ExchangeType::AGGRESSIVE);
        assert_eq!(am[0].payloads().unwrap()[0].body, s.sai_b);
        assert_eq!(
            t[1],
            TypedPayload::KeyExchange(KeyExchange::new(s.gxi.clone()))
        );
        assert_eq!(t[2], TypedPayload::Nonce(Nonce::new(s.ni.clone())));
        assert_eq!(am[0].payloads().unwrap()[3].body, s.idii_b);
        assert_eq!(
            t[3],
            TypedPayload::Identification(Identification::new(Identity::Ipv4(Ipv4Addr::new(
                10, 0, 3, 1
            ))))
        );
    }

    #[test]
    fn main_mode_pke_sends_encrypted_nonce_and_id() {
        // RFC 2409 §5.2: with public-key encryption the NONCE and ID bodies
        // are RSA ciphertext, so only their raw bytes mean anything.
        let mm = exchange("rubnds-mm-pke");
        let p = mm[2].payloads().unwrap();
        let types: Vec<_> = p.iter().map(|p| p.ty).collect();
        assert_eq!(
            types,
            [
                PayloadType::KEY_EXCHANGE,
                PayloadType::NONCE,
                PayloadType::IDENTIFICATION
            ]
        );
        assert_eq!(p[1].body.len(), 256);
        assert_eq!(p[2].body.len(), 256);
        let TypedPayload::Sa(sa) = mm[0].payloads().unwrap()[0].decode().unwrap() else {
            panic!()
        };
        assert_eq!(
            sa.proposals[0].transforms[0]
                .phase1_attributes()
                .auth_method,
            Some(AuthMethod::RSA_ENCRYPTION)
        );
    }

    /// RFC 2409 §5.5: HASH(1) = prf(SKEYID_a, M-ID | everything after HASH),
    /// HASH(2) = prf(SKEYID_a, M-ID | Ni_b | everything after HASH).  The
    /// HASH payloads the responders sent verify over `bytes_after`.
    #[test]
    fn quick_mode_hashes_cover_bytes_after_hash_as_received() {
        let sessions = sessions();
        // (recording, message index from 1, responder's HASH(2)?)
        let cases = [
            ("mainModePSK", "rubnds-mm-psk", 7, false),
            ("mainModePSK", "rubnds-mm-psk", 8, true),
            ("aggressiveModePSK", "rubnds-am-psk", 4, false),
            ("aggressiveModePSK", "rubnds-am-psk", 5, true),
            ("mainModePKE", "rubnds-mm-pke", 7, false),
            ("mainModePKE", "rubnds-mm-pke", 8, true),
        ];
        for (name, source, index, responder) in cases {
            let s = sessions.iter().find(|s| s.name == name).unwrap();
            let row = rows(DECRYPTED)
                .find(|r| r[0] == name && r[1] == index.to_string())
                .unwrap();
            let plaintext = hex(row[5]);
            let pt = parse_plaintext(PayloadType::HASH, &plaintext).unwrap();
            let TypedPayload::Hash(hash) = pt.payloads[0].decode().unwrap() else {
                panic!()
            };
            let msg = &exchange(source)[index - 1];
            assert_eq!(msg.header.exchange_type, ExchangeType::QUICK_MODE);
            let mut mac = Hmac::<Sha1>::new_from_slice(&s.skeyid_a).unwrap();
            mac.update(&msg.header.message_id.to_bytes());
            if responder {
                mac.update(&s.qm_ni);
            }
            mac.update(pt.bytes_after(PayloadType::HASH).unwrap());
            assert_eq!(
                mac.finalize().into_bytes().as_slice(),
                hash.data.as_slice(),
                "{name} #{index}"
            );
            // The Quick Mode SA offers ESP with a 4-byte SPI.
            let TypedPayload::Sa(sa) = pt.payloads[1].decode().unwrap() else {
                panic!()
            };
            assert_eq!(sa.proposals[0].protocol, ProtocolId::ESP);
            assert_eq!(sa.proposals[0].spi.len(), 4);
            let p2 = sa.proposals[0].transforms[0].phase2_attributes();
            assert_eq!(p2.encapsulation, Some(EncapsulationMode::TUNNEL));
            assert_eq!(p2.auth_algorithm, Some(AuthAlgorithm::HMAC_SHA1));
        }
    }

    #[test]
    fn quick_mode_proxy_ids_and_responder_lifetime() {
        let row = rows(DECRYPTED)
            .find(|r| r[0] == "mainModePKE" && r[1] == "8")
            .unwrap();
        let plaintext = hex(row[5]);
        let pt = parse_plaintext(PayloadType::HASH, &plaintext).unwrap();
        let typed: Vec<_> = pt.payloads.iter().map(|p| p.decode().unwrap()).collect();
        let ids: Vec<_> = typed
            .iter()
            .filter_map(|t| match t {
                TypedPayload::Identification(id) => Some(id.identity.clone()),
                _ => None,
            })
            .collect();
        let mask = Ipv4Addr::new(255, 255, 255, 0);
        assert_eq!(
            ids,
            [
                Identity::Ipv4Subnet(Ipv4Addr::new(10, 0, 1, 0), mask),
                Identity::Ipv4Subnet(Ipv4Addr::new(10, 0, 2, 0), mask),
            ]
        );
        let TypedPayload::Notification(n) = typed.last().unwrap() else {
            panic!()
        };
        assert_eq!(n.notify_type, NotifyType::RESPONDER_LIFETIME);
        let life = Phase2Attributes::from_attributes(&n.responder_lifetime().unwrap().unwrap());
        assert_eq!(life.lifetime(LifeType::KILOBYTES), Some(4_608_000));
    }
}
