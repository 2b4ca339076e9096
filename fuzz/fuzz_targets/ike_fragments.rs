//! IKEv1 fragment reassembly under scripted duplicates, reordering, clock
//! jumps, forged fragments and other peers' garbage
//! (`ike_core::fragment::fuzzing::run` documents the script). The seed
//! corpus is `fuzz/corpus/ike_fragments/`; `ike-core/tests/fragment_fuzz_corpus.rs`
//! replays it on stable.
#![no_main]

use std::sync::OnceLock;
use std::time::Instant;

static EPOCH: OnceLock<Instant> = OnceLock::new();

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    ike_core::fragment::fuzzing::run(*EPOCH.get_or_init(Instant::now), data);
});
