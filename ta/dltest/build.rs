//! Links the TA against its shared library, built by `cargo xtask tas`
//! (the path comes in `OXTEE_DLTEST_LIB`): the linker then records the
//! library's soname (its UUID) as `DT_NEEDED` and leaves the references to
//! it as symbol relocations for the OS's loader.

fn main() {
    println!("cargo:rerun-if-env-changed=OXTEE_DLTEST_LIB");
    match std::env::var("OXTEE_DLTEST_LIB") {
        Ok(lib) => {
            println!("cargo:rerun-if-changed={lib}");
            println!("cargo:rustc-link-arg={lib}");
        }
        Err(_) => {
            eprintln!("error: build this TA with `cargo xtask tas` (it sets OXTEE_DLTEST_LIB to its shared library)");
            std::process::exit(1);
        }
    }
}
