//! Replays the `isakmp_message` fuzz corpus through the fuzz target's own
//! check, so CI covers it on stable without cargo-fuzz.

use std::path::Path;

use ike_core::wire::{Message, MessageBody, TypedPayload, fuzzing};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../fuzz/corpus/isakmp_message");

fn corpus() -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<_> = std::fs::read_dir(Path::new(CORPUS))
        .expect("fuzz corpus directory")
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect();
    files.sort();
    files
}

#[test]
fn every_corpus_file_passes_the_round_trip_check() {
    let files = corpus();
    assert!(
        files.len() >= 40,
        "seed corpus went missing: {}",
        files.len()
    );
    for (name, data) in &files {
        fuzzing::roundtrip(data);
        // The hand-picked seeds (not inputs the fuzzer adds) are all valid
        // messages whose payloads all decode.
        if ["rubnds-", "strongswan-", "synthetic-"]
            .iter()
            .any(|p| name.starts_with(p))
        {
            let bytes = data.strip_prefix(&[0u8; 4][..]).unwrap_or(data);
            let msg = Message::parse(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
            if let MessageBody::Plain(payloads) = &msg.body {
                for p in payloads {
                    p.decode()
                        .unwrap_or_else(|e| panic!("{name}: {:?}: {e}", p.ty));
                }
            }
        }
    }
}

#[test]
fn synthetic_seed_covers_every_payload_kind() {
    let data = std::fs::read(format!("{CORPUS}/synthetic-all-payloads.bin")).unwrap();
    let msg = Message::parse(&data).unwrap();
    let kinds: Vec<_> = msg
        .payloads()
        .unwrap()
        .iter()
        .map(|p| match p.decode().unwrap() {
            TypedPayload::KeyExchange(_) => "KE",
            TypedPayload::Nonce(_) => "NONCE",
            TypedPayload::NatD(_) => "NAT-D",
            TypedPayload::Identification(_) => "ID",
            TypedPayload::Certificate(_) => "CERT",
            TypedPayload::CertificateRequest(_) => "CR",
            TypedPayload::Signature(_) => "SIG",
            TypedPayload::NatOa(_) => "NAT-OA",
            TypedPayload::Fragment(_) => "FRAG",
            TypedPayload::VendorId(_) => "VID",
            TypedPayload::Unknown => "unknown",
            _ => "other",
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "KE", "NONCE", "NAT-D", "NAT-D", "ID", "ID", "ID", "CERT", "CR", "SIG", "NAT-OA",
            "NAT-OA", "FRAG", "unknown", "VID"
        ]
    );
}
