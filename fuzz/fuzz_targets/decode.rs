//! See `pubmine_stream::fuzz::decode`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    std::hint::black_box(pubmine_stream::fuzz::decode(data));
});
