//! Replays the `ike_endpoint` fuzz corpus through the fuzz target's body, so
//! CI covers it on stable without cargo-fuzz.

use ike_core::endpoint::fuzzing::{InsecureFuzzRng, endpoint_pair};
use rand_core::RngCore;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../fuzz/corpus/ike_endpoint");

#[test]
fn corpus_replays_without_panic() {
    let mut n = 0;
    for entry in std::fs::read_dir(CORPUS).expect("fuzz corpus directory") {
        let path = entry.unwrap().path();
        let _ = endpoint_pair(&std::fs::read(&path).unwrap());
        n += 1;
    }
    assert!(n >= 5, "corpus has {n} files");
}

#[test]
fn harness_reaches_quick_mode() {
    // With no interference both sides get their IPsec SA pair, so mutations
    // of recorded messages hit the Quick Mode and Informational code.
    assert_eq!(endpoint_pair(&[]), 2);
}

#[test]
fn pseudo_random_inputs_do_not_panic() {
    // A cheap stand-in for a fuzz run on stable: 200 inputs of 0..200 bytes.
    let mut rng = InsecureFuzzRng::new(42);
    for _ in 0..200 {
        let mut input = vec![0u8; (rng.next_u32() % 200) as usize];
        rng.fill_bytes(&mut input);
        let _ = endpoint_pair(&input);
    }
}

#[test]
fn insecure_rng_is_deterministic() {
    let (mut a, mut b) = (InsecureFuzzRng::new(7), InsecureFuzzRng::new(7));
    let (mut x, mut y) = ([0u8; 13], [0u8; 13]);
    a.fill_bytes(&mut x);
    b.fill_bytes(&mut y);
    assert_eq!(x, y);
    assert_ne!(x, [0u8; 13]);
}
