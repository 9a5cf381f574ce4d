//! How the binary is built, where a wrong switch costs speed and nothing else would notice:
//! read from `cargo tree`, which resolves features as a build of the package does (normal
//! dependencies only, for this machine).

use crate::support::repo_path;

/// The features cargo enables on the package `name` in a build of daraa-ops for this machine.
fn enabled_features(name: &str) -> Vec<String> {
    // The cargo running the tests, else the one that built them.
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| env!("CARGO").into());
    let out = std::process::Command::new(cargo)
        .args(["tree", "--offline", "--edges", "normal,features", "--prefix", "none"])
        .args(["--depth", "1", "--invert", name, "--manifest-path"])
        .arg(repo_path("Cargo.toml"))
        .output()
        .expect("cargo tree runs");
    assert!(out.status.success(), "cargo tree: {}", String::from_utf8_lossy(&out.stderr));
    let prefix = format!("{name} feature \"");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_prefix(&prefix)?.strip_suffix('"'))
        .map(str::to_owned)
        .collect()
}

/// zlib-rs picks its AVX2 match search, window slide and PCLMULQDQ CRC-32 at run time only
/// when built with `std` (flate2's `runtime_detection`). Without it every backup, verify and
/// restore ran the portable code (docs/benchmarks.md, "SIMD found at run time, chunks in flight
/// shared").
#[test]
fn zlib_rs_is_built_to_find_the_cpus_simd_at_run_time() {
    let features = enabled_features("zlib-rs");
    // The reading itself: zlib-rs is always built with flate2's allocator feature.
    assert!(features.iter().any(|f| f == "rust-allocator"), "no features read: {features:?}");
    assert!(
        features.iter().any(|f| f == "std"),
        "zlib-rs without `std` (flate2's `runtime_detection`): {features:?}"
    );
}
