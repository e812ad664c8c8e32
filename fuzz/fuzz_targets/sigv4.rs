//! cargo +nightly fuzz run sigv4 (see fuzz/README.md)
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| expressway::fuzzing::sigv4(data));
