//! The `ike_endpoint` script between two RSA-signature peers with
//! certificates and IKE fragmentation on
//! (`ike_core::endpoint::fuzzing::endpoint_pair_rsa_fragmented`). Seeds are
//! in `fuzz/corpus/ike_endpoint_rsa/`; `ike-core/tests/engine_fuzz_corpus.rs`
//! replays them on stable.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = ike_core::endpoint::fuzzing::endpoint_pair_rsa_fragmented(data);
});
