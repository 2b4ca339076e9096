//! ISAKMP message parsing: parse → emit → parse must agree, for the message
//! and for every typed payload body (`ike_core::wire::fuzzing::roundtrip`).
//! The seed corpus is `fuzz/corpus/isakmp_message/`; the same check replays
//! it on stable in `ike-core/tests/fuzz_corpus_isakmp.rs`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    ike_core::wire::fuzzing::roundtrip(data);
});
