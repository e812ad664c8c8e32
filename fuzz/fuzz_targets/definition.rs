//! cargo +nightly fuzz run definition (see fuzz/README.md)
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| expressway::fuzzing::definition(data));
