//! Replays the `ike_fragments` fuzz corpus through the fuzz target's own
//! check, so CI covers it on stable without cargo-fuzz.

use std::path::Path;
use std::time::Instant;

use ike_core::fragment::fuzzing;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../fuzz/corpus/ike_fragments");

#[test]
fn every_corpus_file_passes_the_reassembly_check() {
    #[allow(clippy::disallowed_methods)] // a test epoch
    let epoch = Instant::now();
    let mut files: Vec<_> = std::fs::read_dir(Path::new(CORPUS))
        .expect("fuzz corpus directory")
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(
        files.len() >= 9,
        "seed corpus went missing: {}",
        files.len()
    );
    for path in &files {
        let data = std::fs::read(path).unwrap();
        let result = std::panic::catch_unwind(|| fuzzing::run(epoch, &data));
        assert!(result.is_ok(), "{}", path.display());
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

    /// Random scripts through the fuzz target's check, on stable.
    #[test]
    fn random_scripts_pass_the_reassembly_check(
        data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600),
    ) {
        #[allow(clippy::disallowed_methods)] // a test epoch
        let epoch = Instant::now();
        fuzzing::run(epoch, &data);
    }
}
