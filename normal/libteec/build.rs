//! Gives the shared object the SONAME OP-TEE's libteec has for the selected
//! ABI, so binaries linked against either library load this one.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=CARGO_FEATURE_ABI2");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("linux") {
        return;
    }
    let major = if std::env::var_os("CARGO_FEATURE_ABI2").is_some() { 2 } else { 1 };
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libteec.so.{major}");
}
