//! See `pubmine_ingest::fuzz::jats`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    std::hint::black_box(pubmine_ingest::fuzz::jats(data));
});
