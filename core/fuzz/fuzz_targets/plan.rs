//! Fuzzes fixture parsing plus reconcile and rendering: whatever bytes come in, the core
//! answers with an error or a plan, never a panic.
#![no_main]

use image_registry_core::render::{self, Format};
use image_registry_core::{fixture, reconcile};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(parsed) = fixture::parse("fuzz.yaml", text) else { return };
    let plan = reconcile(&parsed.observed);
    for format in [Format::Text, Format::Yaml, Format::Json] {
        let _ = render::render(&plan, format);
    }
    let _ = image_registry_core::safety::check(&parsed.observed, &plan);
});
