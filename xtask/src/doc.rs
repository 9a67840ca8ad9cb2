//! `cargo xtask doc`: the SDK reference. rustdoc for the TA SDK
//! (`oxtee-utee` and its macros, built for the TA target as TAs use it),
//! the client library (`oxtee-teec`) and the numbers both share
//! (`oxtee-abi`), into `target/doc-sdk/`, with any rustdoc warning (a
//! broken intra-doc link, a bad code block) an error, so the reference
//! can't rot: `cargo xtask test` runs it.

use crate::tas::{TA_TARGET, run, ta_cargo};
use crate::{Result, cargo, root};
use std::path::PathBuf;
use std::process::Command;

/// Where everything goes.
pub fn out_dir() -> PathBuf {
    root().join("target/doc-sdk")
}

/// rustdoc with every warning an error, whatever the caller's environment
/// says.
fn strict(mut c: Command) -> Command {
    c.env("RUSTDOCFLAGS", "-D warnings").env_remove("RUSTFLAGS").env_remove("CARGO_ENCODED_RUSTFLAGS");
    c
}

/// The packages documented: the SDK's in the TA workspace, the rest in
/// the host workspace.
const TA_CRATES: &[&str] = &["oxtee-utee", "oxtee-utee-macros"];
const HOST_CRATES: &[&str] = &["oxtee-teec", "oxtee-abi"];

/// The index page of `package` once documented.
fn index(package: &str) -> PathBuf {
    let name = package.replace('-', "_");
    if package == "oxtee-utee-macros" {
        // A proc-macro crate is built, and documented, for the host (its
        // items also appear in oxtee-utee, which re-exports them).
        out_dir().join("ta/doc").join(name).join("index.html")
    } else if TA_CRATES.contains(&package) {
        out_dir().join("ta").join(TA_TARGET).join("doc").join(name).join("index.html")
    } else {
        out_dir().join("host/doc").join(name).join("index.html")
    }
}

/// Builds the reference; returns the index pages (the SDK first).
pub fn build(quiet: bool) -> Result<Vec<PathBuf>> {
    let q: &[&str] = if quiet { &["--quiet"] } else { &[] };
    // The TA workspace: its .cargo/config.toml selects the TA target,
    // under which the SDK's target checks pass and its cfgs are the TAs'.
    let mut c = strict(ta_cargo());
    c.args(["doc", "--no-deps"]).args(q).arg("--target-dir").arg(out_dir().join("ta"));
    for p in TA_CRATES {
        c.args(["-p", p]);
    }
    run(&mut c)?;
    let mut c = strict(cargo());
    c.current_dir(root()).args(["doc", "--no-deps"]).args(q).arg("--target-dir").arg(out_dir().join("host"));
    for p in HOST_CRATES {
        c.args(["-p", p]);
    }
    run(&mut c)?;
    let pages: Vec<PathBuf> = TA_CRATES.iter().chain(HOST_CRATES).map(|p| index(p)).collect();
    if let Some(missing) = pages.iter().find(|p| !p.is_file()) {
        return Err(format!("rustdoc wrote no {}", missing.display()));
    }
    write_front_page(&pages)?;
    Ok(pages)
}

/// `target/doc-sdk/index.html`: one page linking the crates' indexes.
fn write_front_page(pages: &[PathBuf]) -> Result {
    let base = out_dir();
    let mut html = String::from(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>oxtee SDK reference</title></head>\n<body>\n\
         <h1>oxtee SDK reference</h1>\n<ul>\n",
    );
    let what = |p: &str| match p {
        "oxtee-utee" => "the TA SDK: entry points, parameters, GP Internal Core API (crypto, storage, time, ...)",
        "oxtee-utee-macros" => "the TA SDK's attribute macros and ta_config!",
        "oxtee-teec" => "the client library (GP TEE Client API for Rust, Linux)",
        _ => "numbers both worlds share: TEE_Result codes, origins, UUIDs, test TA commands",
    };
    for (p, page) in TA_CRATES.iter().chain(HOST_CRATES).zip(pages) {
        let rel = page.strip_prefix(&base).map_err(|_| format!("{} outside {}", page.display(), base.display()))?;
        html += &format!("<li><a href=\"{}\"><code>{p}</code></a>: {}</li>\n", rel.display(), what(p));
    }
    html += "</ul>\n</body></html>\n";
    let front = base.join("index.html");
    std::fs::write(&front, html).map_err(|e| format!("{}: {e}", front.display()))
}

/// `cargo xtask doc`.
pub fn run_cli() -> Result {
    let pages = build(false)?;
    println!("SDK reference: {}", out_dir().join("index.html").display());
    for p in pages {
        println!("  {}", p.display());
    }
    Ok(())
}
