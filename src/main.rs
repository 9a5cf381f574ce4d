//! Thin entry point: everything happens in `daraa_ops::main_entry`.
fn main() -> std::process::ExitCode {
    daraa_ops::main_entry()
}
