//! The archive reader on arbitrary bytes (as a .tar.gz, and as the tar inside one): it must
//! refuse damage with an error, never panic, hang or allocate without bound.
#![no_main]

use std::io::Write as _;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = daraa_ops::archive::walk::verify(data, None);
    // Most random bytes fail at the gzip header; wrap them so the tar and BSON layers are
    // reached too.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(data).unwrap();
    let wrapped = gz.finish().unwrap();
    let _ = daraa_ops::archive::walk::verify(&wrapped[..], None);
});
