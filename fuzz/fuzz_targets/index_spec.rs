//! The index spec parser on arbitrary text.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(spec) = daraa_ops::indexes::spec::parse(text, std::path::Path::new("fuzz.yaml")) {
            // Whatever parses must also export and compare without panicking.
            for indexes in spec.collections.values() {
                let _ = daraa_ops::indexes::diff::compare_collection(indexes, &[]);
                for i in indexes {
                    let _ = i.to_create_doc();
                }
            }
        }
    }
});
