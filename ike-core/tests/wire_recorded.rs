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
