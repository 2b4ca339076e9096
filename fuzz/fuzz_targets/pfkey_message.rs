#![no_main]
// Placeholder: the target body lands with its parser.
libfuzzer_sys::fuzz_target!(|_data: &[u8]| {});
