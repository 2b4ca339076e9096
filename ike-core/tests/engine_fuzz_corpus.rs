//! Replays the `ike_endpoint` and `ike_endpoint_rsa` fuzz corpora through
//! the fuzz targets' bodies, so CI covers them on stable without cargo-fuzz.

use ike_core::endpoint::fuzzing::{
    InsecureFuzzRng, endpoint_pair, endpoint_pair_rsa_fragmented, rsa_fragmented_outcome,
};
use rand_core::RngCore;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../fuzz/corpus/ike_endpoint");
const RSA_CORPUS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../fuzz/corpus/ike_endpoint_rsa"
);

fn replay(dir: &str, run: fn(&[u8]) -> usize) -> usize {
    let mut n = 0;
    for entry in std::fs::read_dir(dir).expect("fuzz corpus directory") {
        let path = entry.unwrap().path();
        let _ = run(&std::fs::read(&path).unwrap());
        n += 1;
    }
    n
}

#[test]
fn corpus_replays_without_panic() {
    let n = replay(CORPUS, endpoint_pair);
    assert!(n >= 5, "corpus has {n} files");
}

#[test]
fn rsa_corpus_replays_without_panic() {
    let n = replay(RSA_CORPUS, endpoint_pair_rsa_fragmented);
    assert!(n >= 1, "corpus has {n} files");
}

#[test]
fn rsa_fragmented_harness_reaches_quick_mode() {
    // Certificates verify at the harness's wall clock and the fragmented
    // MM5/MM6 reassemble, so mutations reach the code behind them.
    let (children, stats) = rsa_fragmented_outcome(&[]).expect("test PKI loads");
    assert_eq!(children, 2);
    for s in stats {
        assert!(s.messages_fragmented >= 1, "{s:?}");
        assert!(s.messages_reassembled >= 1, "{s:?}");
    }
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
