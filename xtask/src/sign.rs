//! `cargo xtask sign-ta`: wraps a TA ELF in the signed header the OS checks
//! before loading it (upstream's `shdr` format, as `sign_encrypt.py` writes
//! it), or re-signs an existing `.ta` with another key.
//!
//! Images are `SHDR_BOOTSTRAP_TA` (the UUID and version are signed too),
//! signed RSASSA-PKCS1-v1_5 with SHA-256: deterministic, so the same ELF
//! and key always give the same bytes. The OS also accepts PSS, upstream's
//! default, so TAs signed by upstream's dev kit load unchanged.

use std::path::{Path, PathBuf};

use object::{Object, ObjectSection, ObjectSymbol};
use oxtee_abi::ta::{
    ALG_RSASSA_PKCS1_V1_5_SHA256, SHDR_BOOTSTRAP_TA, SHDR_ENCRYPTED_TA, SHDR_MAGIC, SHDR_SUBKEY, SHDR_TA, Shdr,
    ShdrBootstrapTa, TeeUuid,
};
use oxtee_abi::uuid::Uuid;
use oxtee_core::ta::elf;
use oxtee_core::ta::image::{self, TaKey};
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::traits::PublicKeyParts;
use rsa::{Pkcs1v15Sign, RsaPrivateKey, RsaPublicKey};
use sha2::{Digest, Sha256};
use zerocopy::{FromBytes, IntoBytes};

/// Environment variable naming the signing key PEM (relative paths are
/// from the workspace root); the OS build embeds the same key.
pub const KEY_ENV: &str = "OXTEE_TA_KEY";

const USAGE: &str = "usage: cargo xtask sign-ta [--key PEM] [--uuid UUID] [--version N] \
    [--subkey SUBKEY.bin --name NAME] [--encrypt | --enc-key HEX] IN OUT";

/// The TA signing key: `$OXTEE_TA_KEY`, else `keys/dev_ta_key.pem`.
pub fn key_path() -> PathBuf {
    key_path_from(std::env::var_os(KEY_ENV))
}

fn key_path_from(env: Option<std::ffi::OsString>) -> PathBuf {
    match env {
        Some(p) if !p.is_empty() => crate::root().join(p),
        _ => crate::root().join("keys/dev_ta_key.pem"),
    }
}

/// Signs a TA ELF with the key at `key_pem_path`, taking the UUID from the
/// ELF's `ta_head`; version 0. For the TA build (which checks the ELF
/// itself, and signs deliberately broken ones for the tests).
pub fn sign_ta(elf: &[u8], key_pem_path: &Path) -> crate::Result<Vec<u8>> {
    let key = load_key(key_pem_path)?;
    let uuid = elf_uuid(elf)?;
    sign(elf, &key, &uuid, 0)
}

/// Signs a TA ELF like [`sign_ta`], with the signed `ta_version`
/// `version`.
pub fn sign_ta_version(elf: &[u8], key_pem_path: &Path, version: u32) -> crate::Result<Vec<u8>> {
    let key = load_key(key_pem_path)?;
    let uuid = elf_uuid(elf)?;
    sign(elf, &key, &uuid, version)
}

/// `cargo xtask sign-ta` entry point.
pub fn run_cli(args: &[String]) -> crate::Result {
    let mut key = None;
    let mut uuid = None;
    let mut version = None;
    let mut files = Vec::new();
    let (mut subkey, mut name, mut encrypt, mut enc_hex) = (None, None, false, None);
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{arg} needs a value\n{USAGE}"));
        match arg.as_str() {
            "--key" => key = Some(PathBuf::from(value()?)),
            "--uuid" => uuid = Some(parse_uuid(value()?)?),
            "--version" => {
                let v = value()?;
                version = Some(v.parse::<u32>().map_err(|_| format!("--version {v:?}: not a u32"))?);
            }
            "--subkey" => subkey = Some(PathBuf::from(value()?)),
            "--name" => name = Some(value()?.clone()),
            "--encrypt" => encrypt = true,
            "--enc-key" => enc_hex = Some(value()?.clone()),
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            s if s.starts_with('-') => return Err(format!("unknown option {s:?}\n{USAGE}")),
            _ => files.push(PathBuf::from(arg)),
        }
    }
    let [input, output] = files.as_slice() else {
        return Err(USAGE.into());
    };
    let key_path = key.unwrap_or_else(key_path);
    let key = load_key(&key_path)?;
    let data = std::fs::read(input).map_err(|e| format!("reading the TA {}: {e}", input.display()))?;

    // A signed image is unwrapped and its ELF re-signed; its version
    // carries over unless --version says otherwise.
    let (elf, old_version) = if data.starts_with(&SHDR_MAGIC.to_le_bytes()) {
        unwrap_signed(&data).map_err(|e| format!("{}: {e}", input.display()))?
    } else {
        (data.as_slice(), None)
    };
    let uuid = match (uuid, elf_uuid(elf)) {
        (Some(given), Ok(named)) if given != named => {
            return Err(format!(
                "{}: --uuid {given}, but its ta_head names {named}: the loader would refuse it",
                input.display()
            ));
        }
        (Some(given), _) => given,
        (None, named) => named.map_err(|e| format!("{}: {e}: not a TA ({NOT_A_TA})", input.display()))?,
    };
    // An image the loader refuses is no use signed.
    loader_check(elf, &uuid).map_err(|e| {
        format!("{}: the oxtee loader would refuse this TA: {e} ({NOT_A_TA}); not signed", input.display())
    })?;
    let version = version.or(old_version).unwrap_or(0);
    let enc = crate::imgfmt::enc_key_from(encrypt, enc_hex.as_deref())?;
    let subkey_bin = match &subkey {
        Some(p) => Some(std::fs::read(p).map_err(|e| format!("subkey {}: {e}", p.display()))?),
        None if name.is_some() => return Err(format!("--name needs --subkey\n{USAGE}")),
        None => None,
    };
    let signed = if subkey_bin.is_some() || enc.is_some() {
        let sk = subkey_bin.as_deref().map(|b| (b, name.as_deref().unwrap_or("")));
        let img = crate::imgfmt::TaImage { elf, uuid, version, subkey: sk, enc: enc.as_ref() };
        crate::imgfmt::sign_image(&key, &img)?
    } else {
        sign(elf, &key, &uuid, version)?
    };
    if let Some(dir) = output.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("writing the signed TA {}: creating {}: {e}", output.display(), dir.display()))?;
    }
    std::fs::write(output, signed).map_err(|e| format!("writing the signed TA {}: {e}", output.display()))?;
    println!("signed {} as {} with {} -> {}", input.display(), fmt_uuid(&uuid), key_path.display(), output.display());
    Ok(())
}

/// Where a user goes when an ELF isn't a TA.
const NOT_A_TA: &str = "build TAs with the oxtee SDK as ta/README.md shows";

/// What the OS checks of a TA's ELF after its signature, in the OS's own
/// code: the ELF parser, the layout, the `ta_head` for `uuid`. The reason
/// if it would refuse it.
pub fn loader_check(elf: &[u8], uuid: &Uuid) -> crate::Result {
    if is_library(elf, uuid) {
        return Ok(());
    }
    let parsed = elf::parse(elf).map_err(|e| e.to_string())?;
    let mut image = vec![0u8; parsed.span as usize];
    // Any base will do: relocations only add it.
    parsed.load_into(elf, &mut image, 0).map_err(|e| format!("layout: {e}"))?;
    let head = parsed.ta_head(&image).map_err(|e| format!("ta_head: {e}"))?;
    elf::check_head(&head, uuid).map_err(|e| e.to_string())
}

/// Whether `elf` is a shared TA library the OS's loader accepts whose
/// soname is `uuid` (what a TA's `DT_NEEDED` names it by).
pub fn is_library(elf: &[u8], uuid: &Uuid) -> bool {
    let Ok(parsed) = elf::parse_lib(elf) else { return false };
    let Some(at) = parsed.soname else { return false };
    let mut image = vec![0u8; parsed.span as usize];
    if parsed.load_into(elf, &mut image, 0).is_err() {
        return false;
    }
    let name = image.get(at as usize..).and_then(|r| r.split(|&b| b == 0).next());
    name == Some(uuid.to_string().as_bytes())
}

/// Signs the shared TA library `elf` for `uuid` (its soname).
pub fn sign_lib(elf: &[u8], key_pem_path: &Path, uuid: &Uuid) -> crate::Result<Vec<u8>> {
    if !is_library(elf, uuid) {
        return Err(format!("not a shared TA library with soname {uuid}"));
    }
    sign(elf, &load_key(key_pem_path)?, uuid, 0)
}

/// The public half of a signing key, as the OS holds it.
pub fn public_key(path: &Path) -> crate::Result<TaKey> {
    let key = load_key(path)?;
    let e = key.e().to_bytes_be().iter().fold(0u32, |acc, b| acc << 8 | u32::from(*b));
    TaKey::new(&key.n().to_bytes_be(), e).map_err(|e| format!("TA key {}: {e}", path.display()))
}

/// The UUID a signed TA image is for, by which tee-supplicant finds it
/// (`/lib/optee_armtz/<uuid>.ta`): the signed bootstrap header's, or for a
/// legacy image its ELF's `ta_head`. Anything else is refused, with what
/// to do about it.
pub fn signed_ta_uuid(data: &[u8]) -> crate::Result<Uuid> {
    if !data.starts_with(&SHDR_MAGIC.to_le_bytes()) {
        return Err(match elf_uuid(data) {
            Ok(uuid) => format!(
                "an unsigned TA ELF (its ta_head names {uuid}); sign it first: \
                 cargo xtask sign-ta FILE target/ta/{uuid}.ta"
            ),
            Err(_) if data.starts_with(b"\x7fELF") => format!("an ELF without a ta_head, not a TA ({NOT_A_TA})"),
            Err(_) => "not a signed TA image (no signed header)".into(),
        });
    }
    let (shdr, _) = Shdr::read_from_prefix(data).map_err(|_| "truncated signed header")?;
    match shdr.img_type {
        SHDR_BOOTSTRAP_TA => {
            unwrap_signed(data)?;
            let bs = data.get(shdr.total_size()..).ok_or("truncated signed header")?;
            let (bs, _) = ShdrBootstrapTa::read_from_prefix(bs).map_err(|_| "truncated bootstrap header")?;
            Ok(Uuid::from_octets(bs.uuid))
        }
        SHDR_TA => elf_uuid(unwrap_signed(data)?.0),
        // Subkey-signed and encrypted images: the signed bootstrap header,
        // else the UUID the subkey's namespace fixes, else the ELF's.
        SHDR_ENCRYPTED_TA | SHDR_SUBKEY => match crate::imgfmt::image_uuid(data)? {
            (Some(uuid), _) => Ok(uuid),
            (None, Some(at)) => elf_uuid(data.get(at..).ok_or("truncated signed image")?),
            (None, None) => Err("signed image without a UUID".into()),
        },
        t => Err(format!("signed image of unknown type {t}")),
    }
}

/// Whether a file given to `run --add` is meant as a TA: named `.ta`, a
/// signed image, or an ELF with a `ta_head`.
pub fn looks_like_ta(name: &str, data: &[u8]) -> bool {
    name.ends_with(".ta") || data.starts_with(&SHDR_MAGIC.to_le_bytes()) || elf_uuid(data).is_ok()
}

/// Why the OS built here would refuse the signed image `data` as TA
/// `uuid`, if it would: its signature against the OS's key (`key_path()`),
/// then its ELF.
pub fn os_would_refuse(data: &[u8], uuid: &Uuid) -> Option<String> {
    let key_path = key_path();
    let key = match public_key(&key_path) {
        Ok(k) => k,
        Err(e) => return Some(e),
    };
    // Encrypted images with the key the OS built here derives.
    let enc = crate::imgfmt::device_enc_key(&key);
    let mut copy = data.to_vec();
    match image::verify_in_place(&mut copy, &key, Some(&enc), uuid) {
        Err(e) => Some(format!("{e} ({})", key_path.display())),
        Ok(v) => loader_check(v.elf, uuid).err(),
    }
}

/// Reads an RSA private key PEM, PKCS#1 or PKCS#8 (unencrypted).
pub(crate) fn load_key(path: &Path) -> crate::Result<RsaPrivateKey> {
    let pem = std::fs::read_to_string(path).map_err(|e| format!("TA key {}: {e}", path.display()))?;
    let key = RsaPrivateKey::from_pkcs1_pem(&pem)
        .or_else(|_| RsaPrivateKey::from_pkcs8_pem(&pem))
        .map_err(|_| format!("TA key {}: not an unencrypted RSA private key PEM", path.display()))?;
    // The OS, like upstream, refuses signatures by shorter keys.
    if key.size() * 8 < 2048 {
        return Err(format!("TA key {}: {} bits, at least 2048 needed", path.display(), key.size() * 8));
    }
    Ok(key)
}

/// The public key in a PEM file: a public key (SPKI or PKCS#1) or the
/// public half of a private key.
pub(crate) fn load_public(path: &Path) -> crate::Result<RsaPublicKey> {
    use rsa::pkcs1::DecodeRsaPublicKey;
    use rsa::pkcs8::DecodePublicKey;
    let pem = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    RsaPublicKey::from_public_key_pem(&pem)
        .or_else(|_| RsaPublicKey::from_pkcs1_pem(&pem))
        .or_else(|_| load_key(path).map(|k| k.to_public_key()).map_err(|_| ()))
        .map_err(|_| format!("{}: not an RSA key PEM", path.display()))
}

/// Builds the signed image: `shdr`, hash, signature, `shdr_bootstrap_ta`,
/// ELF. The hash covers the fixed `shdr` fields, the bootstrap header and
/// the ELF.
pub(crate) fn sign(elf: &[u8], key: &RsaPrivateKey, uuid: &Uuid, ta_version: u32) -> crate::Result<Vec<u8>> {
    let shdr = Shdr {
        magic: SHDR_MAGIC,
        img_type: SHDR_BOOTSTRAP_TA,
        img_size: u32::try_from(elf.len()).map_err(|_| "TA ELF over 4 GiB")?,
        algo: ALG_RSASSA_PKCS1_V1_5_SHA256,
        hash_size: Sha256::output_size() as u16,
        sig_size: u16::try_from(key.size()).map_err(|_| "TA key too large")?,
    };
    let bs = ShdrBootstrapTa { uuid: uuid.to_octets(), ta_version };
    let hash = Sha256::new().chain_update(shdr.as_bytes()).chain_update(bs.as_bytes()).chain_update(elf).finalize();
    let sig = key.sign(Pkcs1v15Sign::new::<Sha256>(), &hash).map_err(|e| format!("RSA signing: {e}"))?;
    Ok([shdr.as_bytes(), hash.as_slice(), &sig, bs.as_bytes(), elf].concat())
}

/// The ELF inside a signed image, and its signed version if it has one.
/// Nothing is verified: the caller is about to re-sign it.
fn unwrap_signed(data: &[u8]) -> crate::Result<(&[u8], Option<u32>)> {
    let (shdr, _) = Shdr::read_from_prefix(data).map_err(|_| "truncated signed header")?;
    let mut offs = shdr.total_size();
    let mut version = None;
    match shdr.img_type {
        SHDR_TA => {}
        SHDR_BOOTSTRAP_TA => {
            let bs_bytes = data.get(offs..).ok_or("truncated signed header")?;
            let (bs, _) = ShdrBootstrapTa::read_from_prefix(bs_bytes).map_err(|_| "truncated bootstrap header")?;
            version = Some(bs.ta_version);
            offs += size_of::<ShdrBootstrapTa>();
        }
        t => return Err(format!("signed image type {t} (encrypted or subkey) can't be re-signed")),
    }
    let elf = data.get(offs..).ok_or("truncated signed image")?;
    if elf.len() != shdr.img_size as usize {
        return Err(format!("payload is {} bytes, header says {}", elf.len(), shdr.img_size));
    }
    Ok((elf, version))
}

/// The UUID in the TA's `ta_head`: the `.ta_head` section, else what the
/// `ta_head` symbol points at.
pub fn elf_uuid(elf: &[u8]) -> crate::Result<Uuid> {
    let file = object::File::parse(elf).map_err(|e| format!("not an ELF: {e}"))?;
    let head = match file.section_by_name(".ta_head") {
        Some(s) => s.data().map_err(|e| format!(".ta_head: {e}"))?,
        None => {
            let sym = file
                .symbols()
                .chain(file.dynamic_symbols())
                .find(|s| s.name() == Ok("ta_head"))
                .ok_or("no .ta_head section or ta_head symbol")?;
            let section = sym.section_index().map(|i| file.section_by_index(i)).ok_or("ta_head is undefined")?;
            let section = section.map_err(|e| format!("ta_head: {e}"))?;
            section.data_range(sym.address(), 16).ok().flatten().ok_or("ta_head lies outside its section")?
        }
    };
    let (uuid, _) = TeeUuid::read_from_prefix(head).map_err(|_| ".ta_head shorter than a UUID")?;
    Ok(uuid.into())
}

/// Parses `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`.
pub(crate) fn parse_uuid(s: &str) -> crate::Result<Uuid> {
    let bad = || format!("{s:?} is not a UUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)");
    let groups: Vec<&str> = s.split('-').collect();
    if groups.iter().map(|g| g.len()).collect::<Vec<_>>() != [8, 4, 4, 4, 12] {
        return Err(bad());
    }
    let hex: String = groups.concat();
    let mut octets = [0u8; 16];
    for (i, o) in octets.iter_mut().enumerate() {
        *o = hex.get(2 * i..2 * i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()).ok_or_else(bad)?;
    }
    Ok(Uuid::from_octets(octets))
}

fn fmt_uuid(u: &Uuid) -> String {
    let o = u.to_octets();
    let h: String = o.iter().map(|b| format!("{b:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use oxtee_abi::ta::{TA_HEAD_NO_DEPR_ENTRY, TaHead};
    use oxtee_core::ta::image::verify;
    use rsa::RsaPublicKey;

    const UUID_STR: &str = "8aaaf200-2450-11e4-abe2-0002a5d5c51b";

    fn uuid() -> Uuid {
        Uuid::new(0x8aaa_f200, 0x2450, 0x11e4, [0xab, 0xe2, 0, 2, 0xa5, 0xd5, 0xc5, 0x1b])
    }

    pub(crate) fn dev_key_path() -> PathBuf {
        crate::root().join("keys/dev_ta_key.pem")
    }

    /// A PKCS#8 key, to show both PEM flavours load.
    fn other_key_path() -> PathBuf {
        crate::root().join("secure/core/src/ta/testdata/other_key.pem")
    }

    fn ta_key(path: &Path) -> TaKey {
        public_key(path).unwrap()
    }

    /// A minimal TA the OS's loader accepts: ELF64 `ET_DYN` for AArch64,
    /// the `ta_head` (also as section `.ta_head`) in a read-only segment at
    /// 0 from file offset 0x1000, one instruction in an executable segment
    /// at 0x1000 from file offset 0x2000. `machine` and `head_section`
    /// spoil it.
    fn ta_elf(uuid: &Uuid, machine: u16, head_section: bool) -> Vec<u8> {
        let head =
            TaHead { uuid: TeeUuid::from(*uuid), stack_size: 0x2000, flags: 0, depr_entry: TA_HEAD_NO_DEPR_ENTRY };
        let shstrtab: &[u8] = if head_section { b"\0.ta_head\0.shstrtab\0" } else { b"\0.ro_data\0.shstrtab\0" };
        let (phoff, shoff, strtab_off) = (64u64, 0x100u64, 0x1c0u64);
        let mut f = Vec::new();
        f.extend_from_slice(b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0");
        f.extend_from_slice(&3u16.to_le_bytes()); // ET_DYN
        f.extend_from_slice(&machine.to_le_bytes());
        f.extend_from_slice(&1u32.to_le_bytes());
        for v in [0x1000u64, phoff, shoff] {
            f.extend_from_slice(&v.to_le_bytes()); // entry, phoff, shoff
        }
        f.extend_from_slice(&0u32.to_le_bytes());
        for v in [64u16, 56, 2, 64, 3, 2] {
            f.extend_from_slice(&v.to_le_bytes());
        }
        // PT_LOAD R at 0 (the head), PT_LOAD R+X at 0x1000 (one `ret`).
        for (flags, off, vaddr, size) in [(4u32, 0x1000u64, 0u64, 32u64), (5, 0x2000, 0x1000, 4)] {
            f.extend_from_slice(&1u32.to_le_bytes());
            f.extend_from_slice(&flags.to_le_bytes());
            for v in [off, vaddr, vaddr, size, size, 0x1000] {
                f.extend_from_slice(&v.to_le_bytes());
            }
        }
        f.resize(shoff as usize, 0);
        let mut section = |name: u32, ty: u32, flags: u64, addr: u64, off: u64, size: u64| {
            f.extend_from_slice(&name.to_le_bytes());
            f.extend_from_slice(&ty.to_le_bytes());
            for v in [flags, addr, off, size] {
                f.extend_from_slice(&v.to_le_bytes());
            }
            f.extend_from_slice(&[0; 8]);
            f.extend_from_slice(&1u64.to_le_bytes());
            f.extend_from_slice(&0u64.to_le_bytes());
        };
        section(0, 0, 0, 0, 0, 0);
        section(1, 1, 2, 0, 0x1000, 32);
        section(10, 3, 0, 0, strtab_off, shstrtab.len() as u64);
        f.extend_from_slice(shstrtab);
        f.resize(0x1000, 0);
        f.extend_from_slice(head.as_bytes());
        f.resize(0x2000, 0);
        f.extend_from_slice(&0xd65f_03c0u32.to_le_bytes());
        f
    }

    pub(crate) fn elf_with_ta_head(uuid: &Uuid) -> Vec<u8> {
        ta_elf(uuid, 183, true)
    }

    #[test]
    fn signed_ta_verifies_with_the_os_verifier() {
        let elf = elf_with_ta_head(&uuid());
        let signed = sign_ta(&elf, &dev_key_path()).unwrap();
        let v = verify(&signed, &ta_key(&dev_key_path()), &uuid()).unwrap();
        assert_eq!(v.elf, elf.as_slice());
        assert_eq!((v.img_type, v.ta_version), (SHDR_BOOTSTRAP_TA, 0));
        // Deterministic: same input, same bytes.
        assert_eq!(sign_ta(&elf, &dev_key_path()).unwrap(), signed);
        // Another key's image doesn't verify.
        assert!(verify(&signed, &ta_key(&other_key_path()), &uuid()).is_err());
    }

    #[test]
    fn resigning_keeps_elf_and_version() {
        let elf = elf_with_ta_head(&uuid());
        let first = sign(&elf, &load_key(&dev_key_path()).unwrap(), &uuid(), 42).unwrap();
        let (inner, version) = unwrap_signed(&first).unwrap();
        assert_eq!((inner, version), (elf.as_slice(), Some(42)));
        let again = sign(inner, &load_key(&other_key_path()).unwrap(), &uuid(), version.unwrap()).unwrap();
        let v = verify(&again, &ta_key(&other_key_path()), &uuid()).unwrap();
        assert_eq!((v.elf, v.ta_version), (elf.as_slice(), 42));
    }

    #[test]
    fn unwrap_refuses_damaged_images() {
        let elf = elf_with_ta_head(&uuid());
        let signed = sign_ta(&elf, &dev_key_path()).unwrap();
        assert!(unwrap_signed(&signed[..signed.len() - 1]).is_err());
        assert!(unwrap_signed(&signed[..10]).is_err());
        let mut encrypted = signed.clone();
        encrypted[4] = 2;
        assert!(unwrap_signed(&encrypted).is_err());
    }

    #[test]
    fn cli_signs_and_resigns_files() {
        let dir = std::env::temp_dir().join(format!("oxtee-sign-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (elf_path, ta_path, re_path) = (dir.join("t.elf"), dir.join("t.ta"), dir.join("re.ta"));
        let elf = elf_with_ta_head(&uuid());
        std::fs::write(&elf_path, &elf).unwrap();
        let s = |p: &Path| p.to_str().unwrap().to_string();
        run_cli(&["--key".into(), s(&dev_key_path()), "--version".into(), "3".into(), s(&elf_path), s(&ta_path)])
            .unwrap();
        run_cli(&["--key".into(), s(&other_key_path()), s(&ta_path), s(&re_path)]).unwrap();
        let re = std::fs::read(&re_path).unwrap();
        let v = verify(&re, &ta_key(&other_key_path()), &uuid()).unwrap();
        assert_eq!((v.elf, v.ta_version), (elf.as_slice(), 3));
        // --uuid naming the ELF's own UUID.
        let args = ["--key".into(), s(&dev_key_path()), "--uuid".into(), UUID_STR.into(), s(&elf_path), s(&ta_path)];
        run_cli(&args).unwrap();
        assert!(verify(&std::fs::read(&ta_path).unwrap(), &ta_key(&dev_key_path()), &uuid()).is_ok());
        assert!(run_cli(&[s(&elf_path)]).is_err());
        assert!(run_cli(&["--bogus".into(), s(&elf_path), s(&ta_path)]).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_test_ta_is_one_the_loader_takes() {
        assert_eq!(loader_check(&elf_with_ta_head(&uuid()), &uuid()), Ok(()));
        let other = Uuid::new(1, 2, 3, [4; 8]);
        assert!(loader_check(&elf_with_ta_head(&uuid()), &other).unwrap_err().contains("ta_head names TA"));
        assert!(loader_check(&ta_elf(&uuid(), 62, true), &uuid()).unwrap_err().contains("machine is not AArch64"));
    }

    #[test]
    fn cli_refuses_what_the_loader_would_and_says_why() {
        let dir = std::env::temp_dir().join(format!("oxtee-sign-refuse-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let s = |p: &Path| p.to_str().unwrap().to_string();
        let out = dir.join("out.ta");
        // No ta_head section or symbol: nothing says which TA it is.
        let headless = dir.join("headless");
        std::fs::write(&headless, ta_elf(&uuid(), 183, false)).unwrap();
        let e = run_cli(&[s(&headless), s(&out)]).unwrap_err();
        assert!(e.contains("no .ta_head section or ta_head symbol") && e.contains("ta/README.md"), "{e}");
        // Built for another machine: an error now, not a warning.
        let x86 = dir.join("x86");
        std::fs::write(&x86, ta_elf(&uuid(), 62, true)).unwrap();
        let e = run_cli(&[s(&x86), s(&out)]).unwrap_err();
        assert!(e.contains("would refuse") && e.contains("machine is not AArch64"), "{e}");
        // A --uuid the ta_head doesn't name makes an image the loader refuses.
        let good = dir.join("good");
        std::fs::write(&good, elf_with_ta_head(&uuid())).unwrap();
        let e = run_cli(&["--uuid".into(), fmt_uuid(&Uuid::new(1, 2, 3, [4; 8])), s(&good), s(&out)]).unwrap_err();
        assert!(
            e.contains(&format!("--uuid 00000001-0002-0003-0404-040404040404, but its ta_head names {UUID_STR}")),
            "{e}"
        );
        assert!(!out.exists());
        // A missing input is named as the input.
        let e = run_cli(&[s(&dir.join("nope")), s(&out)]).unwrap_err();
        assert!(e.starts_with("reading the TA "), "{e}");
        // OUT's directory is created.
        let nested = dir.join("a/b/t.ta");
        run_cli(&[s(&good), s(&nested)]).unwrap();
        assert!(verify(&std::fs::read(&nested).unwrap(), &ta_key(&dev_key_path()), &uuid()).is_ok());
        // ... and a directory that can't be made is named with OUT.
        let e = run_cli(&[s(&good), s(&headless.join("t.ta"))]).unwrap_err();
        assert!(e.starts_with("writing the signed TA "), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn installed_name_comes_from_the_signed_header() {
        let elf = elf_with_ta_head(&uuid());
        let key = load_key(&dev_key_path()).unwrap();
        // Bootstrap image: the signed UUID, even if the ELF named another.
        let other = Uuid::new(1, 2, 3, [4; 8]);
        assert_eq!(signed_ta_uuid(&sign(&elf, &key, &other, 0).unwrap()), Ok(other));
        assert_eq!(signed_ta_uuid(&sign_ta(&elf, &dev_key_path()).unwrap()), Ok(uuid()));
        // Legacy image: no UUID signed, the ELF's ta_head names it.
        let mut legacy = sign(&elf, &key, &uuid(), 0).unwrap();
        legacy[4..8].copy_from_slice(&SHDR_TA.to_le_bytes());
        let hdr = Shdr::read_from_prefix(&legacy).unwrap().0.total_size();
        legacy.drain(hdr..hdr + size_of::<ShdrBootstrapTa>());
        assert_eq!(signed_ta_uuid(&legacy), Ok(uuid()));
        // Refused, each with what to do.
        let e = signed_ta_uuid(&elf).unwrap_err();
        assert!(e.contains("unsigned TA ELF") && e.contains(&format!("sign-ta FILE target/ta/{UUID_STR}.ta")), "{e}");
        assert!(signed_ta_uuid(&ta_elf(&uuid(), 183, false)).unwrap_err().contains("without a ta_head"));
        assert!(signed_ta_uuid(b"#!/bin/sh\necho hi\n").unwrap_err().contains("not a signed TA"));
        // Encrypted and subkey-signed images: the signed bootstrap UUID.
        let enc = crate::imgfmt::device_enc_key(&ta_key(&dev_key_path()));
        let img = crate::imgfmt::TaImage { elf: &elf, uuid: uuid(), version: 0, subkey: None, enc: Some(&enc) };
        let encrypted = crate::imgfmt::sign_image(&load_key(&dev_key_path()).unwrap(), &img).unwrap();
        assert_eq!(u32::from_le_bytes(encrypted[4..8].try_into().unwrap()), SHDR_ENCRYPTED_TA);
        assert_eq!(signed_ta_uuid(&encrypted), Ok(uuid()));
        if std::env::var_os(KEY_ENV).is_none_or(|v| v.is_empty()) {
            assert_eq!(os_would_refuse(&encrypted, &uuid()), None);
            let mut tampered = encrypted.clone();
            *tampered.last_mut().unwrap() ^= 1;
            assert!(os_would_refuse(&tampered, &uuid()).unwrap().contains("does not authenticate"));
        }
        let signed = sign_ta(&elf, &dev_key_path()).unwrap();
        assert!(signed_ta_uuid(&signed[..signed.len() - 1]).is_err());
    }

    #[test]
    fn the_os_key_check_names_the_failure() {
        let elf = elf_with_ta_head(&uuid());
        // Signed with the development key (what the OS uses unless
        // OXTEE_TA_KEY says otherwise): nothing to say.
        if std::env::var_os(KEY_ENV).is_none_or(|v| v.is_empty()) {
            assert_eq!(os_would_refuse(&sign_ta(&elf, &dev_key_path()).unwrap(), &uuid()), None);
            let other = sign_ta(&elf, &other_key_path()).unwrap();
            assert!(os_would_refuse(&other, &uuid()).unwrap().contains("signature does not verify"));
        }
    }

    #[test]
    fn uuid_comes_from_ta_head() {
        assert_eq!(elf_uuid(&elf_with_ta_head(&uuid())).unwrap(), uuid());
        assert!(elf_uuid(b"not an elf").is_err());
    }

    #[test]
    fn uuids_parse_and_print() {
        assert_eq!(parse_uuid(UUID_STR).unwrap(), uuid());
        assert_eq!(parse_uuid(&UUID_STR.to_uppercase()).unwrap(), uuid());
        assert_eq!(fmt_uuid(&uuid()), UUID_STR);
        for bad in [
            "",
            "8aaaf200-2450-11e4-abe2-0002a5d5c51",
            "8aaaf2002450-11e4-abe2-0002a5d5c51b0",
            "8aaaf200-2450-11e4-abe2-0002a5d5c5zz",
        ] {
            assert!(parse_uuid(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn key_path_default_and_override() {
        assert_eq!(key_path_from(None), crate::root().join("keys/dev_ta_key.pem"));
        assert_eq!(key_path_from(Some("".into())), crate::root().join("keys/dev_ta_key.pem"));
        assert_eq!(key_path_from(Some("/abs/k.pem".into())), PathBuf::from("/abs/k.pem"));
        assert_eq!(key_path_from(Some("rel/k.pem".into())), crate::root().join("rel/k.pem"));
    }

    #[test]
    fn short_or_public_keys_cannot_sign() {
        assert!(load_key(&crate::root().join("secure/core/src/ta/testdata/weak_key_1024.pem")).is_err());
        let dir = std::env::temp_dir().join(format!("oxtee-sign-key-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let public = dir.join("pub.pem");
        use rsa::pkcs8::{EncodePublicKey, LineEnding};
        let pem = RsaPublicKey::from(load_key(&dev_key_path()).unwrap()).to_public_key_pem(LineEnding::LF).unwrap();
        std::fs::write(&public, pem).unwrap();
        assert!(load_key(&public).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
