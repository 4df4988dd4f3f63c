//! See `tests::fuzz_checks::reply_decode`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tests::fuzz_checks::reply_decode(data));
