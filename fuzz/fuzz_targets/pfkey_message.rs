#![no_main]
// parse → emit → parse must agree; the body lives in `pfkey::fuzzing` so the
// corpus replay test (`pfkey/tests/fuzz_corpus_pfkey.rs`) runs it on stable.
libfuzzer_sys::fuzz_target!(|data: &[u8]| pfkey::fuzzing::message_round_trip(data));
