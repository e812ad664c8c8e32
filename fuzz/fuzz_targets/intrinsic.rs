//! cargo +nightly fuzz run intrinsic (see fuzz/README.md)
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| expressway::fuzzing::intrinsic(data));
