//! Links the OS with its script for the bare-metal target only, and embeds
//! the build id that GET_OS_REVISION reports.
fn main() {
    let target = std::env::var("TARGET").unwrap_or_default();
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap();
    println!("cargo:rerun-if-changed=os.ld");
    println!("cargo:rerun-if-env-changed=OXTEE_BUILD_ID");
    if target.starts_with("aarch64-unknown-none") {
        println!("cargo:rustc-link-arg=-T{dir}/os.ld");
    }
}
