//! See `tests::fuzz_checks::frame_reader`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tests::fuzz_checks::frame_reader(data));
