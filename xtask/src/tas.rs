//! `cargo xtask tas`: builds the user-mode TAs: the examples' (the
//! `examples/` workspace, hello_world among them) and those of the `ta/`
//! workspace (the four builds of the test TA, the crypto test
//! TA, the storage test TA, signed under two UUIDs, the storage
//! benchmark TA, the dynamic-linking test TA with its shared
//! libraries, and the socket test TA) for
//! `aarch64-unknown-none`, checks each ELF has the shape the OS loads,
//! signs it with the TA key and writes `target/ta/<uuid>.ta`. Also writes
//! the deliberately broken images the suite expects to be refused.

use crate::{Result, cargo, root};
use object::{Object, ObjectSection};
use oxtee_abi::ta::{TA_FLAG_MULTI_SESSION, TA_FLAG_SINGLE_INSTANCE, TA_HEAD_NO_DEPR_ENTRY, TeeUuid};
use oxtee_abi::test_ta as t;
use oxtee_abi::uuid::Uuid;
use std::path::{Path, PathBuf};
use std::process::Command;
use zerocopy::IntoBytes;

pub const TA_TARGET: &str = "aarch64-unknown-none";

/// optee_examples' hello_world UUID, which `examples/hello_world/ta`
/// declares (normal/xtest and the C client open it).
const HELLO: Uuid = Uuid::new(0x8aaa_f200, 0x2450, 0x11e4, [0xab, 0xe2, 0x00, 0x02, 0xa5, 0xd5, 0xc5, 0x1b]);

/// The TA workspace.
pub fn ta_dir() -> PathBuf {
    root().join("ta")
}

/// Where the signed images go.
pub fn out_dir() -> PathBuf {
    root().join("target/ta")
}

/// A cargo command run inside `ta/`, so its `.cargo/config.toml` (target,
/// relocation model, link flags) applies; its own target directory.
pub fn ta_cargo() -> Command {
    let mut c = cargo();
    c.current_dir(ta_dir())
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS");
    c
}

/// Runs `cmd` where it was set to run, failing on a non-zero exit.
pub fn run(cmd: &mut Command) -> Result {
    let status = cmd.status().map_err(|e| format!("{cmd:?}: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("{cmd:?} failed: {status}")) }
}

/// Builds `package` (with `features`) in release and returns its ELF.
fn build_elf(package: &str, bin: &str, features: &[&str]) -> Result<Vec<u8>> {
    let mut c = ta_cargo();
    c.args(["build", "--quiet", "--release", "-p", package]);
    if !features.is_empty() {
        c.args(["--features", &features.join(",")]);
    }
    run(&mut c)?;
    let path = ta_dir().join("target").join(TA_TARGET).join("release").join(bin);
    std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))
}

/// Checks what the OS relies on: its own loader accepts the file (static
/// PIE, `ET_DYN`, W^X segments, only relative relocations, no
/// dependencies), the first segment starts at 0 read-only with a
/// `ta_head` for `uuid` and `flags` at its start.
fn check_elf(elf: &[u8], uuid: Uuid, flags: u32) -> Result {
    let parsed = oxtee_core::ta::elf::parse(elf).map_err(|e| format!("the OS's loader refuses it: {e}"))?;
    let first = parsed.segments.first().ok_or("no loadable segment")?;
    if first.vaddr != 0 || first.write || first.exec || parsed.head != 0 {
        return Err(format!("first segment {first:?}, ta_head at {:#x}: want read-only at 0", parsed.head));
    }
    if !parsed.segments.iter().any(|s| s.exec) || !parsed.segments.iter().any(|s| s.write) {
        return Err("want separate code and data segments".into());
    }
    let mut image = vec![0u8; parsed.span as usize];
    parsed.load_into(elf, &mut image, 0x4000_0000).map_err(|e| format!("layout: {e}"))?;
    let head = parsed.ta_head(&image).map_err(|e| format!("ta_head: {e}"))?;
    if Uuid::from(head.uuid) != uuid || head.flags != flags || head.depr_entry != TA_HEAD_NO_DEPR_ENTRY {
        return Err(format!("ta_head {head:?}: want UUID {uuid}, flags {flags:#x}"));
    }
    Ok(())
}

/// File offset of the `.ta_head` section.
fn ta_head_offset(elf: &[u8]) -> Result<usize> {
    let file = object::File::parse(elf).map_err(|e| format!("not an ELF: {e}"))?;
    let section = file.section_by_name(".ta_head").ok_or("no .ta_head section")?;
    let (offset, _) = section.file_range().ok_or(".ta_head has no file bytes")?;
    Ok(offset as usize)
}

/// The ELF with its `ta_head` naming `uuid` instead.
fn with_uuid(elf: &[u8], uuid: Uuid) -> Result<Vec<u8>> {
    let mut out = elf.to_vec();
    let at = ta_head_offset(elf)?;
    out[at..at + 16].copy_from_slice(TeeUuid::from(uuid).as_bytes());
    Ok(out)
}

fn write(dir: &Path, uuid: Uuid, bytes: &[u8]) -> Result<PathBuf> {
    let path = dir.join(format!("{uuid}.ta"));
    std::fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}

/// The broken images, from the TEST_MULTI ELF, each with its own UUID in
/// its `ta_head` so that exactly one thing is wrong with it: no signature;
/// a signature that does not verify; a signed image cut in half; a
/// correctly signed ELF for another machine.
fn bad_images(elf: &[u8], key: &Path, dir: &Path) -> Result<Vec<PathBuf>> {
    let unsigned = with_uuid(elf, t::BAD_UNSIGNED)?;
    let mut bad_sig = crate::sign::sign_ta(&with_uuid(elf, t::BAD_SIG)?, key)?;
    // shdr (20 bytes), SHA-256 digest (32), then the signature.
    bad_sig[20 + 32 + 7] ^= 0x01;
    let mut trunc = crate::sign::sign_ta(&with_uuid(elf, t::BAD_TRUNC)?, key)?;
    trunc.truncate(trunc.len() / 2);
    let mut wrong_machine = with_uuid(elf, t::BAD_ELF)?;
    // e_machine: EM_X86_64 instead of EM_AARCH64.
    wrong_machine[18..20].copy_from_slice(&62u16.to_le_bytes());
    let bad_elf = crate::sign::sign_ta(&wrong_machine, key)?;
    [(t::BAD_UNSIGNED, unsigned), (t::BAD_SIG, bad_sig), (t::BAD_TRUNC, trunc), (t::BAD_ELF, bad_elf)]
        .iter()
        .map(|(uuid, bytes)| write(dir, *uuid, bytes))
        .collect()
}

/// The image-format cases, from the TEST_MULTI ELF (each with its UUID
/// patched into its `ta_head`): signed through a two-level subkey chain
/// rooted in the OS's key (top subkey: `other_key.pem`, mid subkey:
/// `test_key.pem` of the OS's image tests), encrypted with the device's
/// key, both, and the refused ones (a UUID outside the subkey's
/// namespace, a flipped ciphertext byte).
fn format_images(elf: &[u8], key: &Path, dir: &Path) -> Result<Vec<PathBuf>> {
    use crate::imgfmt::{NewSubkey, TaImage, device_enc_key, next_uuid, read_chain, sign_image, sign_subkey};
    use oxtee_abi::ta_image_test as f;
    let testdata = root().join("secure/core/src/ta/testdata");
    let (root_key, top_key) = (crate::sign::load_key(key)?, crate::sign::load_key(&testdata.join("other_key.pem"))?);
    let mid_key = crate::sign::load_key(&testdata.join("test_key.pem"))?;
    let top = NewSubkey {
        public: &top_key.to_public_key(),
        uuid: f::SUBKEY_TOP,
        name_size: 32,
        version: 1,
        max_depth: Some(1),
    };
    let top = sign_subkey(&root_key, None, &top)?;
    let mid_pub = mid_key.to_public_key();
    let mid = NewSubkey { public: &mid_pub, uuid: f::SUBKEY_MID, name_size: 32, version: 1, max_depth: None };
    let mid = sign_subkey(&top_key, Some((&top, f::SUBKEY_MID_NAME)), &mid)?;
    let chain = read_chain(&mid)?.0.ok_or("no subkey chain")?;
    for (name, want) in [(f::SUBKEY_TA_NAME, f::SUBKEY_TA), (f::SUBKEY_ENC_TA_NAME, f::SUBKEY_ENC_TA)] {
        let got = next_uuid(&chain, name)?;
        if got != want {
            return Err(format!("subkey namespace: {name:?} is {got}, oxtee-abi says {want}"));
        }
    }
    let enc = device_enc_key(&crate::sign::public_key(key)?);
    let mut out = Vec::new();
    let make = |uuid: Uuid, signer: &rsa::RsaPrivateKey, subkey: Option<(&[u8], &str)>, encrypt: bool| {
        let elf = with_uuid(elf, uuid)?;
        let img = TaImage { elf: &elf, uuid, version: 0, subkey, enc: encrypt.then_some(&enc) };
        sign_image(signer, &img)
    };
    out.push(write(dir, f::SUBKEY_TA, &make(f::SUBKEY_TA, &mid_key, Some((&mid, f::SUBKEY_TA_NAME)), false)?)?);
    let both = make(f::SUBKEY_ENC_TA, &mid_key, Some((&mid, f::SUBKEY_ENC_TA_NAME)), true)?;
    out.push(write(dir, f::SUBKEY_ENC_TA, &both)?);
    out.push(write(dir, f::ENC_TA, &make(f::ENC_TA, &root_key, None, true)?)?);
    let mut tampered = make(f::ENC_TAMPERED, &root_key, None, true)?;
    let last = tampered.len() - 100;
    tampered[last] ^= 0x01;
    out.push(write(dir, f::ENC_TAMPERED, &tampered)?);
    // Outside the namespace: the signer refuses to make it, so it is put
    // together here: the chain, the name, a TA signed by the mid subkey
    // for a UUID that name doesn't give.
    let mut name = f::SUBKEY_TA_NAME.as_bytes().to_vec();
    name.resize(chain.name_size as usize, 0);
    let ta = crate::sign::sign(&with_uuid(elf, f::SUBKEY_OUTSIDE)?, &mid_key, &f::SUBKEY_OUTSIDE, 0)?;
    let outside = [mid.as_slice(), &name, &ta].concat();
    out.push(write(dir, f::SUBKEY_OUTSIDE, &outside)?);
    Ok(out)
}

/// Builds, checks and signs every TA; returns the `.ta` files (good and
/// deliberately bad), named `<uuid>.ta` as tee-supplicant looks them up.
pub fn build() -> Result<Vec<PathBuf>> {
    let dir = out_dir();
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let key = crate::sign::key_path();
    let mut out = Vec::new();

    // The examples (checked and signed as `run --ta` does), hello_world
    // with the flags its clients rely on.
    out.extend(crate::examples::build_tas(&dir)?.into_iter().map(|(_, p)| p));
    let hello_path = crate::examples::dir().join("target").join(TA_TARGET).join("release/hello_world-ta");
    let hello = std::fs::read(&hello_path).map_err(|e| format!("{}: {e}", hello_path.display()))?;
    check_elf(&hello, HELLO, TA_FLAG_SINGLE_INSTANCE | TA_FLAG_MULTI_SESSION)
        .map_err(|e| format!("examples/hello_world/ta: {e}"))?;

    let bench = build_elf("oxtee-storage-bench-ta", "oxtee-storage-bench-ta", &[])?;
    let bench_uuid = oxtee_abi::storage_bench_ta::UUID;
    check_elf(&bench, bench_uuid, 0).map_err(|e| format!("ta/storage-bench: {e}"))?;
    out.push(write(&dir, bench_uuid, &crate::sign::sign_ta(&bench, &key)?)?);

    let mut multi_elf = None;
    for (feature, (uuid, flags)) in ["multi", "single", "keep", "excl"].into_iter().zip(t::VARIANTS) {
        let elf = build_elf("oxtee-test-ta", "oxtee-test-ta", &[feature])?;
        check_elf(&elf, uuid, flags).map_err(|e| format!("ta/test ({feature}): {e}"))?;
        out.push(write(&dir, uuid, &crate::sign::sign_ta(&elf, &key)?)?);
        if uuid == t::TEST_MULTI {
            multi_elf = Some(elf);
        }
    }
    let multi_elf = multi_elf.ok_or("no TEST_MULTI build")?;
    out.extend(bad_images(&multi_elf, &key, &dir)?);
    secstor_images(&multi_elf, &key)?;
    out.extend(format_images(&multi_elf, &key, &dir)?);

    let crypto = build_elf("oxtee-crypto-test-ta", "oxtee-crypto-test-ta", &[])?;
    check_elf(&crypto, oxtee_abi::crypto_test_ta::UUID, 0).map_err(|e| format!("ta/crypto-test: {e}"))?;
    out.push(write(&dir, oxtee_abi::crypto_test_ta::UUID, &crate::sign::sign_ta(&crypto, &key)?)?);

    out.extend(dltest(&dir, &key)?);

    // The storage test TA, and the same image under a second UUID: another
    // TA as far as the OS is concerned (per-TA isolation of storage).
    use oxtee_abi::storage_test_ta as st;
    let storage = build_elf("oxtee-storage-test-ta", "oxtee-storage-test-ta", &[])?;
    check_elf(&storage, st::UUID, 0).map_err(|e| format!("ta/storage-test: {e}"))?;
    out.push(write(&dir, st::UUID, &crate::sign::sign_ta(&storage, &key)?)?);
    let other = with_uuid(&storage, st::UUID_OTHER)?;
    check_elf(&other, st::UUID_OTHER, 0).map_err(|e| format!("ta/storage-test (second UUID): {e}"))?;
    out.push(write(&dir, st::UUID_OTHER, &crate::sign::sign_ta(&other, &key)?)?);

    // The system-PTA test TA, also under a second UUID (TA-unique keys
    // must differ between TAs).
    use oxtee_abi::system_test_ta as sy;
    let system = build_elf("oxtee-system-test-ta", "oxtee-system-test-ta", &[])?;
    check_elf(&system, sy::UUID, 0).map_err(|e| format!("ta/system-test: {e}"))?;
    out.push(write(&dir, sy::UUID, &crate::sign::sign_ta(&system, &key)?)?);
    let other = with_uuid(&system, sy::UUID_OTHER)?;
    check_elf(&other, sy::UUID_OTHER, 0).map_err(|e| format!("ta/system-test (second UUID): {e}"))?;
    out.push(write(&dir, sy::UUID_OTHER, &crate::sign::sign_ta(&other, &key)?)?);
    let socket = build_elf("oxtee-socket-test-ta", "oxtee-socket-test-ta", &[])?;
    check_elf(&socket, oxtee_abi::socket_test_ta::UUID, 0).map_err(|e| format!("ta/socket-test: {e}"))?;
    out.push(write(&dir, oxtee_abi::socket_test_ta::UUID, &crate::sign::sign_ta(&socket, &key)?)?);
    Ok(out)
}

/// Builds the shared test library `ta/dltest/lib` (C, freestanding) for
/// `soname`, `-DDLTEST_THIN` with `thin`.
pub fn dltest_lib(soname: Uuid, thin: bool) -> Result<PathBuf> {
    let src = ta_dir().join("dltest/lib/dltest_lib.c");
    let out_dir = ta_dir().join("target/dltest");
    std::fs::create_dir_all(&out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
    let out = out_dir.join(format!("lib{soname}.so"));
    let mut cc = Command::new("aarch64-linux-gnu-gcc");
    cc.args(["-shared", "-fPIC", "-nostdlib", "-ffreestanding", "-O2", "-Wall", "-Werror"])
        .arg(format!("-Wl,-soname,{soname}"))
        .args(["-Wl,-z,max-page-size=4096", "-Wl,--hash-style=both", "-Wl,-z,noexecstack"]);
    if thin {
        cc.arg("-DDLTEST_THIN");
    }
    run(cc.arg("-o").arg(&out).arg(&src))?;
    Ok(out)
}

/// The dynamic-linking test TA and its libraries: the TA linked against
/// the library, the library, the thin library, and the TA rebuilt (its
/// `ta_head` UUID and its `DT_NEEDED` name patched) to need the thin
/// library or one that does not exist.
fn dltest(dir: &Path, key: &Path) -> Result<Vec<PathBuf>> {
    use oxtee_abi::dl_test_ta as d;
    let mut out = Vec::new();
    let lib = dltest_lib(d::LIB, false)?;
    let thin = dltest_lib(d::LIB_THIN, true)?;
    for (uuid, path) in [(d::LIB, &lib), (d::LIB_THIN, &thin)] {
        let elf = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        out.push(write(dir, uuid, &crate::sign::sign_lib(&elf, key, &uuid)?)?);
    }
    let mut c = ta_cargo();
    c.args(["build", "--quiet", "--release", "-p", "oxtee-dltest-ta"]).env("OXTEE_DLTEST_LIB", &lib);
    run(&mut c)?;
    let path = ta_dir().join("target").join(TA_TARGET).join("release/oxtee-dltest-ta");
    let elf = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    check_elf(&elf, d::UUID, 0).map_err(|e| format!("ta/dltest: {e}"))?;
    out.push(write(dir, d::UUID, &crate::sign::sign_ta(&elf, key)?)?);
    for (uuid, needs) in [(d::UUID_MISSING, d::LIB_MISSING), (d::UUID_UNRESOLVED, d::LIB_THIN)] {
        let mut variant = with_uuid(&elf, uuid)?;
        let (from, to) = (d::LIB.to_string(), needs.to_string());
        let at: Vec<usize> =
            variant.windows(from.len()).enumerate().filter(|(_, w)| *w == from.as_bytes()).map(|(i, _)| i).collect();
        let [at] = at[..] else {
            return Err(format!("ta/dltest: want one {from} string in the ELF, found {}", at.len()));
        };
        variant[at..at + to.len()].copy_from_slice(to.as_bytes());
        out.push(write(dir, uuid, &crate::sign::sign_ta(&variant, key)?)?);
    }
    Ok(out)
}

/// Where the images to install through the secure-storage TA-management
/// PTA go: not `target/ta`, whose images tee-supplicant serves.
pub fn secstor_dir() -> PathBuf {
    root().join("target/ta-secstor")
}

/// The TEST_MULTI ELF under `oxtee_abi::secstor::TEST_TA`, signed with
/// the current and an older `ta_version`, for the secure-storage cases
/// (where [`secstor_guest_images`] says).
fn secstor_images(elf: &[u8], key: &Path) -> Result {
    use oxtee_abi::secstor as s;
    let dir = secstor_dir();
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let elf = with_uuid(elf, s::TEST_TA)?;
    check_elf(&elf, s::TEST_TA, t::FLAGS_MULTI).map_err(|e| format!("ta/test (secstor UUID): {e}"))?;
    for (path, version) in
        secstor_guest_images()?.into_iter().map(|(p, _)| p).zip([s::TEST_VERSION, s::TEST_OLD_VERSION])
    {
        let bytes = crate::sign::sign_ta_version(&elf, key, version)?;
        std::fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}

/// The images `build` made for the secure-storage cases, with their
/// guest paths.
pub fn secstor_guest_images() -> Result<Vec<(PathBuf, &'static str)>> {
    use oxtee_abi::secstor as s;
    let dir = secstor_dir();
    Ok([(s::TEST_VERSION, s::GUEST_IMAGE), (s::TEST_OLD_VERSION, s::GUEST_OLD_IMAGE)]
        .into_iter()
        .map(|(v, guest)| (dir.join(format!("{}-v{v}.ta", s::TEST_TA)), guest))
        .collect())
}

/// Every signed image in `target/ta` (this build's and any the user put
/// there, e.g. with `cargo xtask sign-ta`), for the guest.
pub fn images() -> Result<Vec<PathBuf>> {
    let dir = out_dir();
    let entries = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut out: Vec<PathBuf> =
        entries.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "ta")).collect();
    out.sort();
    Ok(out)
}

/// `cargo xtask tas`.
pub fn run_cli() -> Result {
    for p in build()? {
        println!("{}", p.strip_prefix(root()).unwrap_or(&p).display());
    }
    Ok(())
}

/// The host triple, for the TA workspace's host-side crates.
pub fn host_triple() -> Result<String> {
    let out = Command::new("rustc").arg("-vV").current_dir(ta_dir()).output().map_err(|e| format!("rustc -vV: {e}"))?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_string))
        .ok_or_else(|| "rustc -vV printed no host".into())
}

/// Host tests of the TA workspace (the macros run on the host), and the
/// SDK's refusal to build without the TA target settings.
pub fn host_tests() -> Result {
    let host = host_triple()?;
    run(ta_cargo().args([
        "test",
        "--quiet",
        "-p",
        "oxtee-utee-macros",
        "-p",
        "oxtee-utee-host-test",
        // TAs tested on the host simulator (oxtee-sim).
        "-p",
        "sim-demo",
        "--target",
        &host,
    ]))?;
    sdk_refuses_bad_settings()
}

/// A TA built for another bare-metal target, or with its rustflags
/// overridden, stops at the SDK's build script with a pointer to
/// ta/README.md, instead of failing obscurely or linking an image no
/// loader takes. (A host target is a test build for the simulator.)
fn sdk_refuses_bad_settings() -> Result {
    let check_dir = root().join("target/ta-settings-check");
    let cases: [(&str, &[&str], Option<&str>); 2] = [
        ("another target", &["--target", "aarch64-unknown-none-softfloat"], None),
        ("RUSTFLAGS overriding the config", &[], Some("-Copt-level=s")),
    ];
    for (what, args, rustflags) in cases {
        let mut c = ta_cargo();
        c.args(["check", "--quiet", "-p", "oxtee-utee", "--target-dir"]).arg(&check_dir).args(args);
        if let Some(f) = rustflags {
            c.env("RUSTFLAGS", f);
        }
        let out = c.output().map_err(|e| format!("{c:?}: {e}"))?;
        let stderr = String::from_utf8_lossy(&out.stderr);
        if out.status.success() || !stderr.contains("ta/README.md") {
            return Err(format!("a TA build with {what} was not stopped by the SDK's check:\n{stderr}"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hello_uuid_is_optee_examples() {
        assert_eq!(HELLO.to_string(), "8aaaf200-2450-11e4-abe2-0002a5d5c51b");
    }

    #[test]
    fn patching_needs_a_ta_head() {
        assert!(with_uuid(b"\x7fELF not really", t::BAD_SIG).is_err());
        assert!(ta_head_offset(&[0u8; 10]).is_err());
    }
}
