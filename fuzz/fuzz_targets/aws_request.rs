//! cargo +nightly fuzz run aws_request (see fuzz/README.md)
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| expressway::fuzzing::aws_request(data));
