//! Two IKEv1 endpoints negotiating Main Mode + Quick Mode while the input
//! injects datagrams, replays, bit flips and clock jumps
//! (`ike_core::endpoint::fuzzing::endpoint_pair`). Seeds are in
//! `fuzz/corpus/ike_endpoint/`; `ike-core/tests/engine_fuzz_corpus.rs`
//! replays them on stable.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = ike_core::endpoint::fuzzing::endpoint_pair(data);
});
