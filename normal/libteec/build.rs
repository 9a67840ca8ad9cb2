//! Link settings of the shared object:
//! - the SONAME OP-TEE's libteec has for the selected ABI, so binaries
//!   linked against either library load this one;
//! - the unwinder linked in statically (like gcc's -static-libgcc), so that,
//!   like OP-TEE's libteec, it needs nothing but libc: guests need not ship
//!   libgcc_s.so.1. cdylib exports stay limited to the `no_mangle` functions.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let var = |k: &str| std::env::var(k).unwrap_or_default();
    if var("CARGO_CFG_TARGET_OS") != "linux" {
        return;
    }
    let major = if std::env::var_os("CARGO_FEATURE_ABI2").is_some() { 2 } else { 1 };
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libteec.so.{major}");
    if var("CARGO_CFG_TARGET_ENV") == "gnu" {
        println!("cargo:rustc-link-lib=static:+whole-archive,-bundle=gcc_eh");
    }
}
