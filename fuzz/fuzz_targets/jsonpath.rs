//! cargo +nightly fuzz run jsonpath (see fuzz/README.md)
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| expressway::fuzzing::jsonpath(data));
