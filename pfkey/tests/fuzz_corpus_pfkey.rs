//! Replays the `pfkey_message` fuzz corpus through the fuzz body on stable,
//! plus truncations and single-byte corruptions of every seed, so the
//! round-trip property is checked on every `cargo test`.

use std::path::Path;

use pfkey::fuzzing::message_round_trip;
use pfkey::wire::Message;

fn corpus() -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/pfkey_message");
    let mut seeds: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).unwrap())
        })
        .filter(|(name, _)| !name.starts_with('.'))
        .collect();
    seeds.sort();
    seeds
}

#[test]
fn corpus_round_trips() {
    let seeds = corpus();
    assert!(seeds.len() >= 100, "corpus has {} seeds", seeds.len());
    for (name, bytes) in &seeds {
        // Every seed is a real kernel message: it must parse, not just not panic.
        let msg = Message::parse(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(&msg.to_bytes().unwrap()[..], &bytes[..], "{name}");
        message_round_trip(bytes);
    }
}

#[test]
fn mutated_corpus_never_panics() {
    for (_, bytes) in corpus().iter().take(40) {
        for cut in 0..bytes.len().min(200) {
            message_round_trip(&bytes[..cut]);
        }
        for at in 0..bytes.len().min(300) {
            for value in [0x00, 0x01, 0x07, 0x80, 0xff] {
                let mut mutated = bytes.clone();
                mutated[at] = value;
                message_round_trip(&mutated);
            }
        }
    }
}
