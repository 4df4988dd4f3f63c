//! See `tests::fuzz_checks::handshake`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tests::fuzz_checks::handshake(data));
