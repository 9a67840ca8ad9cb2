//! `cargo xtask new NAME [--dir DIR]`: a standalone TA project (proto, ta
//! and host crates in a workspace of their own, `.cargo/config.toml`, the
//! toolchain file) from the template in `xtask/templates/new`, with a
//! fresh random UUID and path dependencies on this checkout's SDK and
//! client library, ready for `cargo xtask run --ta DIR/ta --host DIR/host
//! -- NAME`.

use crate::{Result, root};
use oxtee_abi::uuid::Uuid;
use std::path::{Path, PathBuf};

/// The template: (path in the project, text with `{{...}}` placeholders).
const TEMPLATE: &[(&str, &str)] = &[
    ("Cargo.toml", include_str!("../templates/new/Cargo.toml.tmpl")),
    (".cargo/config.toml", include_str!("../templates/new/.cargo/config.toml.tmpl")),
    (".gitignore", include_str!("../templates/new/.gitignore.tmpl")),
    ("rust-toolchain.toml", include_str!("../templates/new/rust-toolchain.toml.tmpl")),
    ("proto/Cargo.toml", include_str!("../templates/new/proto/Cargo.toml.tmpl")),
    ("proto/src/lib.rs", include_str!("../templates/new/proto/src/lib.rs.tmpl")),
    ("ta/Cargo.toml", include_str!("../templates/new/ta/Cargo.toml.tmpl")),
    ("ta/src/main.rs", include_str!("../templates/new/ta/src/main.rs.tmpl")),
    ("host/Cargo.toml", include_str!("../templates/new/host/Cargo.toml.tmpl")),
    ("host/src/main.rs", include_str!("../templates/new/host/src/main.rs.tmpl")),
];

/// A project name: also the client program's name and the crates'
/// prefix (`NAME-proto`, `NAME-ta`, `NAME-host`).
fn check_name(name: &str) -> Result {
    let ok = name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(format!("{name:?}: a project name is lower-case letters, digits, '_' and '-', starting with a letter"))
    }
}

/// A random (version 4) UUID from the kernel's random numbers.
pub fn random_uuid() -> Result<Uuid> {
    use std::io::Read;
    let mut o = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut o))
        .map_err(|e| format!("/dev/urandom: {e}"))?;
    o[6] = (o[6] & 0x0f) | 0x40; // version 4
    o[8] = (o[8] & 0x3f) | 0x80; // RFC 4122 variant
    Ok(Uuid::from_octets(o))
}

/// The template's text with the placeholders filled in; an unknown
/// placeholder is an error (a template and this code out of step).
fn fill(text: &str, vars: &[(&str, &str)]) -> Result<String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("{{") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        let end = after.find("}}").ok_or("template: unclosed {{")?;
        let key = &after[..end];
        let value = vars.iter().find(|(k, _)| *k == key).ok_or(format!("template: unknown {{{{{key}}}}}"))?.1;
        out.push_str(value);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Writes the project `name` with `uuid` into `dir` (which must not exist
/// or be empty, unless `overwrite`); the files written.
pub fn create(name: &str, dir: &Path, uuid: Uuid, overwrite: bool) -> Result<Vec<PathBuf>> {
    check_name(name)?;
    if !overwrite && dir.exists() && dir.read_dir().map_or(true, |mut d| d.next().is_some()) {
        return Err(format!("{}: exists and is not empty", dir.display()));
    }
    let abs = |p: &str| {
        let p = root().join(p);
        p.canonicalize().map_err(|e| format!("{}: {e}", p.display()))
    };
    let (sdk, teec) = (abs("ta/sdk")?, abs("normal/teec")?);
    let toolchain_file = root().join("rust-toolchain.toml");
    let toolchain =
        std::fs::read_to_string(&toolchain_file).map_err(|e| format!("{}: {e}", toolchain_file.display()))?;
    let (uuid, krate) = (uuid.to_string(), name.replace('-', "_"));
    let utf8 = |p: &Path| p.to_str().map(str::to_string).ok_or(format!("{}: not UTF-8", p.display()));
    let (sdk, teec) = (utf8(&sdk)?, utf8(&teec)?);
    let vars = [
        ("name", name),
        ("crate", krate.as_str()),
        ("uuid", uuid.as_str()),
        ("sdk", sdk.as_str()),
        ("teec", teec.as_str()),
        ("toolchain", toolchain.trim_end()),
    ];
    let mut written = Vec::new();
    for (path, text) in TEMPLATE {
        let out = dir.join(path);
        std::fs::create_dir_all(out.parent().unwrap_or(dir)).map_err(|e| format!("{}: {e}", dir.display()))?;
        std::fs::write(&out, fill(text, &vars)?).map_err(|e| format!("{}: {e}", out.display()))?;
        written.push(out);
    }
    Ok(written)
}

/// `cargo xtask new NAME [--dir DIR]` (DIR: the project's directory,
/// default `./NAME`).
pub fn run_cli(args: &[String]) -> Result {
    let mut name = None;
    let mut dir = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--dir" => dir = Some(PathBuf::from(it.next().ok_or("--dir needs a directory")?)),
            "-h" | "--help" => {
                println!("usage: cargo xtask new NAME [--dir DIR]   (DIR: the project's directory, default ./NAME)");
                return Ok(());
            }
            o if o.starts_with('-') => return Err(format!("new: unknown option {o}")),
            n if name.is_none() => name = Some(n.to_string()),
            n => return Err(format!("new: one NAME only (also got {n:?})")),
        }
    }
    let name = name.ok_or("usage: cargo xtask new NAME [--dir DIR]")?;
    check_name(&name)?;
    let dir = dir.unwrap_or_else(|| PathBuf::from(&name));
    let uuid = random_uuid()?;
    create(&name, &dir, uuid, false)?;
    let shown = dir.canonicalize().unwrap_or(dir);
    println!("created {} (TA {uuid}): proto/, ta/, host/ (program `{name}`)", shown.display());
    println!("build, sign, install and run it (from {}):", root().display());
    println!();
    println!("    cargo xtask run --ta {d}/ta --host {d}/host -- {name}", d = shown.display());
    Ok(())
}

/// For `cargo xtask test`: a project freshly made from the template
/// (new UUID each time; in `target/new-check`, whose build directory is
/// kept), built, signed and installed as `cargo xtask run --ta --host`
/// would. Named `example-new`, so the guest's examples run picks it up.
pub fn qemu_check_files() -> Result<Vec<(PathBuf, &'static str)>> {
    let dir = root().join("target/new-check");
    let uuid = random_uuid()?;
    create("example-new", &dir, uuid, true)?;
    let (uuid, ta) = crate::examples::build_ta(&dir.join("ta"))?;
    let mut out = vec![(ta, &*Box::leak(format!("/lib/optee_armtz/{uuid}.ta").into_boxed_str()))];
    for bin in crate::examples::build_host(&dir.join("host"))? {
        let name = bin.file_name().and_then(|n| n.to_str()).ok_or("program name")?.to_string();
        out.push((bin, Box::leak(format!("/usr/bin/{name}").into_boxed_str())));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_fresh_version_4() {
        let (a, b) = (random_uuid().unwrap(), random_uuid().unwrap());
        assert_ne!(a, b);
        for u in [a, b] {
            let s = u.to_string();
            assert_eq!(Uuid::parse(&s), Some(u));
            assert_eq!(&s[14..15], "4", "{s}");
            assert!("89ab".contains(&s[19..20]), "{s}");
        }
    }

    #[test]
    fn names_are_checked() {
        for ok in ["my_ta", "hello-tee", "a1"] {
            assert!(check_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "My", "1ta", "a b", "../x", "a/b", &"x".repeat(65)] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn placeholders_are_filled_and_unknown_ones_refused() {
        assert_eq!(fill("a {{x}} b {{y}}{{x}}", &[("x", "1"), ("y", "2")]).unwrap(), "a 1 b 21");
        assert!(fill("{{z}}", &[("x", "1")]).unwrap_err().contains("unknown {{z}}"));
        assert!(fill("{{x", &[("x", "1")]).is_err());
    }

    #[test]
    fn a_project_is_written_with_names_uuid_and_paths() {
        let dir = std::env::temp_dir().join(format!("oxtee-new-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let uuid = random_uuid().unwrap();
        let files = create("my-ta", &dir, uuid, false).unwrap();
        assert_eq!(files.len(), TEMPLATE.len());
        for f in &files {
            let text = std::fs::read_to_string(f).unwrap();
            assert!(!text.contains("{{"), "{}: placeholder left", f.display());
        }
        let read = |p: &str| std::fs::read_to_string(dir.join(p)).unwrap();
        assert!(read("proto/src/lib.rs").contains(&format!("pub const UUID: &str = \"{uuid}\";")));
        assert!(read("ta/Cargo.toml").contains("name = \"my-ta-ta\""));
        assert!(read("ta/src/main.rs").contains("use my_ta_proto as proto;"));
        assert!(read("host/Cargo.toml").contains("name = \"my-ta\"\npath = \"src/main.rs\""));
        let ws = read("Cargo.toml");
        let sdk = root().join("ta/sdk").canonicalize().unwrap();
        assert!(ws.contains(&format!("oxtee-utee = {{ path = \"{}\" }}", sdk.display())), "{ws}");
        assert!(read("rust-toolchain.toml").contains("channel = "));
        assert!(read(".cargo/config.toml").contains("relocation-model=pie"));
        // Not over an existing project.
        assert!(create("my-ta", &dir, uuid, false).unwrap_err().contains("not empty"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn every_template_file_is_in_the_list() {
        let base = root().join("xtask/templates/new");
        let mut found = Vec::new();
        fn walk(d: &Path, base: &Path, out: &mut Vec<String>) {
            for e in std::fs::read_dir(d).unwrap().flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(&p, base, out);
                } else if let Some(rel) = p.strip_prefix(base).unwrap().to_str().and_then(|s| s.strip_suffix(".tmpl")) {
                    out.push(rel.to_string());
                }
            }
        }
        walk(&base, &base, &mut found);
        found.sort();
        let mut listed: Vec<String> = TEMPLATE.iter().map(|(p, _)| p.to_string()).collect();
        listed.sort();
        assert_eq!(found, listed);
    }
}
