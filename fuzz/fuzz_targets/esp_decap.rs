#![no_main]
//! Decapsulation of arbitrary bytes under a handful of fixed SAs, and an
//! encapsulate/decapsulate round trip of arbitrary payloads. The body is
//! `esp_core::fuzzing::esp_decap`, which `esp-core/tests/fuzz_corpus_esp.rs`
//! also runs over the corpus.
libfuzzer_sys::fuzz_target!(|data: &[u8]| esp_core::fuzzing::esp_decap(data));
