//! See `tests::fuzz_checks::request_decode`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tests::fuzz_checks::request_decode(data));
