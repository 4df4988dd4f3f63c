//! See `tests::fuzz_checks::value_read`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tests::fuzz_checks::value_read(data));
