//! The config loader on arbitrary text: it may refuse, never panic or hang.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = daraa_ops::config::parse_and_validate(text, std::path::Path::new("fuzz.yaml"));
    }
});
