//! Puts the TA linker script where the final link of a TA finds it: the
//! TA's `-Toxtee-ta.ld` is resolved through this link search path.

use std::path::PathBuf;

fn main() {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(out.join("oxtee-ta.ld"), include_str!("oxtee-ta.ld")).expect("write linker script");
    println!("cargo:rustc-link-search=native={}", out.display());
    println!("cargo:rerun-if-changed=oxtee-ta.ld");
}
