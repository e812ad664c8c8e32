//! cargo +nightly fuzz run execution (see fuzz/README.md)
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| expressway::fuzzing::execution(data));
