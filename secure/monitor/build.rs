//! Links the monitor with its own script, but only for the bare-metal target,
//! so host tooling (`cargo metadata`, IDEs) is unaffected.
fn main() {
    let target = std::env::var("TARGET").unwrap_or_default();
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap();
    println!("cargo:rerun-if-changed=monitor.ld");
    if target.starts_with("aarch64-unknown-none") {
        println!("cargo:rustc-link-arg=-T{dir}/monitor.ld");
    }
}
