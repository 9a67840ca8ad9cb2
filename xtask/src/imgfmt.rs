//! Subkey-signed and encrypted TA images, in the layout upstream's
//! `sign_encrypt.py` writes and the OS checks (`oxtee_core::ta::image`):
//!
//! - `cargo xtask sign-subkey`: a subkey file (`.bin`): the public half of
//!   a key, with its namespace UUID, depth budget and version, signed by
//!   the OS's key or, below another subkey file, by that subkey.
//! - `cargo xtask sign-ta --subkey BIN --name NAME --key SUBKEY.pem`: a TA
//!   signed with a subkey; its UUID must be the one the subkey's namespace
//!   fixes (`cargo xtask subkey-uuid` prints it).
//! - `cargo xtask sign-ta --encrypt`: the TA's ELF encrypted with AES-GCM
//!   under the device's TA encryption key (derived from this platform's
//!   hardware unique key and the OS's TA key, as upstream's default);
//!   `cargo xtask ta-enc-key` prints that key for upstream's
//!   `sign_encrypt.py --enc-key`.
//!
//! Signatures are RSASSA-PKCS1-v1_5 with SHA-256 and the IV is derived
//! from the key and the plaintext, so the same inputs give the same bytes.

use std::path::{Path, PathBuf};

use oxtee_abi::ta::{
    ALG_RSASSA_PKCS1_V1_5_SHA256, SHDR_BOOTSTRAP_TA, SHDR_ENCRYPTED_TA, SHDR_MAGIC, SHDR_SUBKEY, SHDR_TA, Shdr,
    ShdrBootstrapTa, ShdrEncryptedTa, ShdrSubkey, ShdrSubkeyAttr,
};
use oxtee_abi::uuid::Uuid;
use oxtee_core::ta::image::{TaEncKey, TaKey, subkey_next_uuid};
use oxtee_crypto::ids;
use rsa::traits::PublicKeyParts;
use rsa::{Pkcs1v15Sign, RsaPrivateKey, RsaPublicKey};
use sha2::{Digest, Sha256};
use zerocopy::{FromBytes, IntoBytes};

/// What a chain of subkey headers (a subkey file, or the front of a TA
/// image) says, from its start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chain {
    /// Each subkey's UUID, in order.
    pub uuids: Vec<Uuid>,
    /// The last subkey's `name_size` and `max_depth`.
    pub name_size: u32,
    pub max_depth: u32,
    /// Where the chain ends (the last subkey's body) in the bytes read.
    pub end: usize,
}

/// One `shdr` at `offs` and where its header (hash, signature) ends.
fn shdr_at(data: &[u8], offs: usize) -> crate::Result<(Shdr, usize)> {
    let (shdr, _) = data.get(offs..).and_then(|d| Shdr::read_from_prefix(d).ok()).ok_or("truncated signed header")?;
    if shdr.magic != SHDR_MAGIC {
        return Err(format!("no signed header at offset {offs} (magic {:#010x})", shdr.magic));
    }
    Ok((shdr, offs + shdr.total_size()))
}

/// The subkeys at the start of `data`, up to the header that follows the
/// last one (whose offset is returned too, `None` for a subkey file that
/// ends with its last subkey). Nothing is verified.
pub fn read_chain(data: &[u8]) -> crate::Result<(Option<Chain>, Option<usize>)> {
    let mut offs = 0;
    let mut chain: Option<Chain> = None;
    loop {
        let (shdr, body) = shdr_at(data, offs)?;
        if shdr.img_type != SHDR_SUBKEY {
            return Ok((chain, Some(offs)));
        }
        let end = body + shdr.img_size as usize;
        let sk_bytes = data.get(body..end).ok_or("truncated subkey")?;
        let (sk, _) = ShdrSubkey::read_from_prefix(sk_bytes).map_err(|_| "subkey header too short")?;
        let c = chain.get_or_insert_with(|| Chain { uuids: Vec::new(), name_size: 0, max_depth: 0, end: 0 });
        c.uuids.push(Uuid::from_octets(sk.uuid));
        (c.name_size, c.max_depth, c.end) = (sk.name_size, sk.max_depth, end);
        if end == data.len() {
            return Ok((chain, None));
        }
        offs = end + sk.name_size as usize;
    }
}

/// The UUID `name` gets under the last subkey of `chain`.
pub fn next_uuid(chain: &Chain, name: &str) -> crate::Result<Uuid> {
    let last = chain.uuids.last().ok_or("empty subkey chain")?;
    let name = padded_name(chain, name)?;
    Ok(subkey_next_uuid(last, &name))
}

/// `name` as it follows the last subkey: NUL-padded to its `name_size`.
fn padded_name(chain: &Chain, name: &str) -> crate::Result<Vec<u8>> {
    if name.len() > chain.name_size as usize {
        return Err(format!("name {name:?} is longer than the subkey's name size {}", chain.name_size));
    }
    if name.as_bytes().contains(&0) {
        return Err("a name can't contain NUL".into());
    }
    let mut out = name.as_bytes().to_vec();
    out.resize(chain.name_size as usize, 0);
    Ok(out)
}

/// `shdr` of `img_type` for `body` (`img_size` bytes), its hash over
/// `shdr`, `sub` and `hashed_body`, and the signature by `key`.
fn signed_header(
    key: &RsaPrivateKey,
    img_type: u32,
    img_size: usize,
    sub: &[u8],
    hashed_body: &[u8],
) -> crate::Result<Vec<u8>> {
    let shdr = Shdr {
        magic: SHDR_MAGIC,
        img_type,
        img_size: u32::try_from(img_size).map_err(|_| "image over 4 GiB")?,
        algo: ALG_RSASSA_PKCS1_V1_5_SHA256,
        hash_size: 32,
        sig_size: u16::try_from(key.size()).map_err(|_| "key too large")?,
    };
    let hash = Sha256::new().chain_update(shdr.as_bytes()).chain_update(sub).chain_update(hashed_body).finalize();
    let sig = key.sign(Pkcs1v15Sign::new::<Sha256>(), &hash).map_err(|e| format!("RSA signing: {e}"))?;
    Ok([shdr.as_bytes(), hash.as_slice(), &sig].concat())
}

/// The parent chain (a subkey file) and the name under it, as the front of
/// an image signed with its last subkey.
/// The front of an image (chain and name), and the chain with the UUID it
/// fixes.
type Prefix = (Vec<u8>, Option<(Chain, Uuid)>);

fn chain_prefix(parent: Option<(&[u8], &str)>) -> crate::Result<Prefix> {
    let Some((bin, name)) = parent else {
        return Ok((Vec::new(), None));
    };
    let (chain, next) = read_chain(bin)?;
    let chain = match (chain, next) {
        (Some(c), None) => c,
        _ => return Err("not a subkey file (it must end with a subkey)".into()),
    };
    let uuid = next_uuid(&chain, name)?;
    let front = [bin, &padded_name(&chain, name)?].concat();
    Ok((front, Some((chain, uuid))))
}

/// What a new subkey is.
pub struct NewSubkey<'a> {
    pub public: &'a RsaPublicKey,
    pub uuid: Uuid,
    pub name_size: u32,
    pub version: u32,
    /// `None`: one less than the parent's (0 under the OS's key).
    pub max_depth: Option<u32>,
}

/// A subkey file: `signer` (the OS's key, or the last subkey of `parent`,
/// under the name given with it) signs `new`.
pub fn sign_subkey(
    signer: &RsaPrivateKey,
    parent: Option<(&[u8], &str)>,
    new: &NewSubkey<'_>,
) -> crate::Result<Vec<u8>> {
    let (front, fixed) = chain_prefix(parent)?;
    let max_depth = match (&fixed, new.max_depth) {
        (Some((c, _)), Some(d)) if d >= c.max_depth => {
            return Err(format!("--max-depth {d}: must be under the parent subkey's {}", c.max_depth));
        }
        (Some((c, _)), None) if c.max_depth == 0 => {
            return Err("the parent subkey allows no subkeys below it (max_depth 0)".into());
        }
        (Some((c, _)), None) => c.max_depth - 1,
        (Some(_), Some(d)) => d,
        (None, Some(u32::MAX)) => return Err("--max-depth must be under 4294967295".into()),
        (None, d) => d.unwrap_or(0),
    };
    if let Some((_, want)) = &fixed
        && *want != new.uuid
    {
        return Err(format!("--uuid {}: under that subkey and name the UUID must be {want}", new.uuid));
    }
    let n = new.public.n().to_bytes_be();
    let e = new.public.e().to_bytes_be();
    let attrs_end = (size_of::<ShdrSubkey>() + 2 * size_of::<ShdrSubkeyAttr>()) as u32;
    let hdr = ShdrSubkey {
        uuid: new.uuid.to_octets(),
        name_size: new.name_size,
        subkey_version: new.version,
        max_depth,
        algo: ALG_RSASSA_PKCS1_V1_5_SHA256,
        attr_count: 2,
    };
    let attrs = [
        ShdrSubkeyAttr { id: ids::ATTR_RSA_MODULUS, offs: attrs_end, size: n.len() as u32 },
        ShdrSubkeyAttr { id: ids::ATTR_RSA_PUBLIC_EXPONENT, offs: attrs_end + n.len() as u32, size: e.len() as u32 },
    ];
    let body = [hdr.as_bytes(), attrs.as_bytes(), &n, &e].concat();
    let head = signed_header(signer, SHDR_SUBKEY, body.len(), &[], &body)?;
    Ok([front, head, body].concat())
}

/// How a TA image is made.
pub struct TaImage<'a> {
    pub elf: &'a [u8],
    pub uuid: Uuid,
    pub version: u32,
    /// The subkey file and name the signing key belongs to.
    pub subkey: Option<(&'a [u8], &'a str)>,
    /// Encrypt the ELF with this key.
    pub enc: Option<&'a TaEncKey>,
}

/// A bootstrap (or encrypted) TA image signed by `key`, after the subkey
/// chain if there is one. The UUID must be the one the chain fixes.
pub fn sign_image(key: &RsaPrivateKey, img: &TaImage<'_>) -> crate::Result<Vec<u8>> {
    let (front, fixed) = chain_prefix(img.subkey)?;
    if let Some((_, want)) = fixed
        && want != img.uuid
    {
        return Err(format!(
            "TA {} is outside the subkey's namespace: under that subkey and name the TA's UUID must be {want}",
            img.uuid
        ));
    }
    let bs = ShdrBootstrapTa { uuid: img.uuid.to_octets(), ta_version: img.version };
    let Some(enc) = img.enc else {
        let head = signed_header(key, SHDR_BOOTSTRAP_TA, img.elf.len(), bs.as_bytes(), img.elf)?;
        return Ok([front.as_slice(), &head, bs.as_bytes(), img.elf].concat());
    };
    // A deterministic IV that reveals nothing without the key: a MAC of
    // what is encrypted, under the encryption key.
    let mut mac = oxtee_crypto::mac::new(ids::ALG_HMAC_SHA256, enc.bytes()).map_err(|e| format!("HMAC: {e}"))?;
    mac.update(b"oxtee TA image IV")
        .and_then(|()| mac.update(bs.as_bytes()))
        .and_then(|()| mac.update(img.elf))
        .map_err(|e| format!("HMAC: {e}"))?;
    let mut iv = [0u8; 32];
    mac.finish(&mut iv).map_err(|e| format!("HMAC: {e}"))?;
    let iv = &iv[..12];
    let mut ct = img.elf.to_vec();
    let mut tag = [0u8; 16];
    let mut ae = oxtee_crypto::ae::new(ids::ALG_AES_GCM, true, enc.bytes(), iv, 128, 0, ct.len())
        .map_err(|e| format!("AES-GCM: {e}"))?;
    ae.enc_final(&mut ct, &mut tag).map_err(|e| format!("AES-GCM: {e}"))?;
    let ehdr = ShdrEncryptedTa { enc_algo: ids::ALG_AES_GCM, flags: 0, iv_size: 12, tag_size: 16 };
    let sub = [bs.as_bytes(), ehdr.as_bytes(), iv, &tag].concat();
    let head = signed_header(key, SHDR_ENCRYPTED_TA, img.elf.len(), &sub, img.elf)?;
    Ok([front.as_slice(), &head, &sub, &ct].concat())
}

/// The UUID a TA image is for: its bootstrap header's, else (a legacy
/// image) the namespace its subkeys fix or `None`; and the offset of the
/// payload of a legacy or bootstrap image (`None` for encrypted ones).
pub fn image_uuid(data: &[u8]) -> crate::Result<(Option<Uuid>, Option<usize>)> {
    let (chain, at) = read_chain(data)?;
    let at = at.ok_or("a subkey file, not a TA image")?;
    let (shdr, mut offs) = shdr_at(data, at)?;
    let fixed = match &chain {
        Some(c) => {
            let name = data.get(c.end..c.end + c.name_size as usize).ok_or("truncated subkey name")?;
            c.uuids.last().map(|u| subkey_next_uuid(u, name))
        }
        None => None,
    };
    match shdr.img_type {
        SHDR_TA => Ok((fixed, Some(offs))),
        SHDR_BOOTSTRAP_TA | SHDR_ENCRYPTED_TA => {
            let (bs, _) = data
                .get(offs..)
                .and_then(|d| ShdrBootstrapTa::read_from_prefix(d).ok())
                .ok_or("truncated TA header")?;
            offs += size_of::<ShdrBootstrapTa>();
            let payload = (shdr.img_type == SHDR_BOOTSTRAP_TA).then_some(offs);
            Ok((Some(Uuid::from_octets(bs.uuid)), payload))
        }
        t => Err(format!("signed image of unknown type {t}")),
    }
}

/// The device's TA encryption key, as the OS built here derives it: from
/// this platform's hardware unique key and the OS's TA key.
pub fn device_enc_key(os_key: &TaKey) -> TaEncKey {
    TaEncKey::derive(&oxtee_platform::HUK, os_key)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|b| format!("{b:02x}")).collect()
}

fn parse_hex_key(s: &str) -> crate::Result<TaEncKey> {
    let bytes: Option<Vec<u8>> =
        (0..s.len()).step_by(2).map(|i| s.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok())).collect();
    let key: [u8; 32] = bytes.and_then(|b| b.try_into().ok()).ok_or("--enc-key: want 64 hex digits (AES-256)")?;
    Ok(TaEncKey::from_bytes(key))
}

/// The encryption key `--encrypt`/`--enc-key HEX` ask for.
pub fn enc_key_from(encrypt: bool, hex_key: Option<&str>) -> crate::Result<Option<TaEncKey>> {
    match (encrypt, hex_key) {
        (_, Some(h)) => parse_hex_key(h).map(Some),
        (true, None) => Ok(Some(device_enc_key(&crate::sign::public_key(&crate::sign::key_path())?))),
        (false, None) => Ok(None),
    }
}

const SUBKEY_USAGE: &str = "usage: cargo xtask sign-subkey --uuid UUID --in PUBLIC.pem --out OUT.bin \
    --name-size N [--max-depth N] [--subkey-version N] [--key PEM] [--subkey PARENT.bin --name NAME]";

/// `cargo xtask sign-subkey`.
pub fn sign_subkey_cli(args: &[String]) -> crate::Result {
    let (mut uuid, mut input, mut output, mut name_size, mut max_depth, mut version) =
        (None, None, None, None, None, 0);
    let (mut key, mut parent, mut name) = (None, None, None);
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = || it.next().cloned().ok_or_else(|| format!("{arg} needs a value\n{SUBKEY_USAGE}"));
        let num = |v: String| v.parse::<u32>().map_err(|_| format!("{arg} {v:?}: not a u32"));
        match arg.as_str() {
            "--uuid" => uuid = Some(crate::sign::parse_uuid(&value()?)?),
            "--in" => input = Some(PathBuf::from(value()?)),
            "--out" => output = Some(PathBuf::from(value()?)),
            "--name-size" => name_size = Some(num(value()?)?),
            "--max-depth" => max_depth = Some(num(value()?)?),
            "--subkey-version" => version = num(value()?)?,
            "--key" => key = Some(PathBuf::from(value()?)),
            "--subkey" => parent = Some(PathBuf::from(value()?)),
            "--name" => name = Some(value()?),
            "-h" | "--help" => {
                println!("{SUBKEY_USAGE}");
                return Ok(());
            }
            s => return Err(format!("unknown argument {s:?}\n{SUBKEY_USAGE}")),
        }
    }
    let (Some(uuid), Some(input), Some(output), Some(name_size)) = (uuid, input, output, name_size) else {
        return Err(SUBKEY_USAGE.into());
    };
    let public = crate::sign::load_public(&input)?;
    let signer = crate::sign::load_key(&key.unwrap_or_else(crate::sign::key_path))?;
    let parent_bin = parent.as_ref().map(|p| read(p)).transpose()?;
    let parent = parent_bin.as_deref().map(|b| (b, name.as_deref().unwrap_or("")));
    let out = sign_subkey(&signer, parent, &NewSubkey { public: &public, uuid, name_size, version, max_depth })?;
    write(&output, &out)?;
    println!("subkey {uuid} -> {}", output.display());
    Ok(())
}

/// `cargo xtask subkey-uuid --in BIN [--name NAME]`: the UUIDs of a subkey
/// file's chain and the UUID NAME gets under its last subkey.
pub fn subkey_uuid_cli(args: &[String]) -> crate::Result {
    let usage = "usage: cargo xtask subkey-uuid --in SUBKEY.bin [--name NAME]";
    let (mut input, mut name) = (None, None);
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--in" => input = it.next().map(PathBuf::from),
            "--name" => name = it.next().cloned(),
            _ => return Err(usage.into()),
        }
    }
    let bin = read(&input.ok_or(usage)?)?;
    let (Some(chain), None) = read_chain(&bin)? else {
        return Err("not a subkey file".into());
    };
    for u in &chain.uuids {
        println!("Subkey UUID: {u}");
    }
    println!("Next UUID: {}", next_uuid(&chain, name.as_deref().unwrap_or(""))?);
    Ok(())
}

/// `cargo xtask ta-enc-key`: the device's TA encryption key in hex, for
/// upstream's `sign_encrypt.py --enc-key`.
pub fn ta_enc_key_cli() -> crate::Result {
    let key = device_enc_key(&crate::sign::public_key(&crate::sign::key_path())?);
    println!("{}", hex(key.bytes()));
    Ok(())
}

fn read(p: &Path) -> crate::Result<Vec<u8>> {
    std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()))
}

fn write(p: &Path, data: &[u8]) -> crate::Result {
    if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::write(p, data).map_err(|e| format!("{}: {e}", p.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sign::tests::{dev_key_path, elf_with_ta_head};
    use oxtee_core::ta::image::{Reject, verify, verify_in_place};

    fn other_key() -> RsaPrivateKey {
        crate::sign::load_key(&crate::root().join("secure/core/src/ta/testdata/other_key.pem")).unwrap()
    }

    fn dev() -> RsaPrivateKey {
        crate::sign::load_key(&dev_key_path()).unwrap()
    }

    fn os_key() -> TaKey {
        crate::sign::public_key(&dev_key_path()).unwrap()
    }

    const TOP: Uuid = Uuid::new(0xf04f_a996, 0x148a, 0x453c, [0xb0, 0x37, 0x1d, 0xcf, 0xba, 0xd1, 0x20, 0xa6]);

    #[test]
    fn subkey_signed_ta_verifies_in_the_os() {
        let sub = other_key();
        let top = sign_subkey(
            &dev(),
            None,
            &NewSubkey { public: &sub.to_public_key(), uuid: TOP, name_size: 64, version: 1, max_depth: Some(4) },
        )
        .unwrap();
        // Second level, as upstream's notes: "mid_level_subkey" under TOP.
        let mid_uuid = next_uuid(&read_chain(&top).unwrap().0.unwrap(), "mid_level_subkey").unwrap();
        assert_eq!(mid_uuid.to_string(), "1a5948c5-1aa0-518c-86f4-be6f6a057b16");
        let mid_key = dev();
        let wrong =
            NewSubkey { public: &mid_key.to_public_key(), uuid: TOP, name_size: 64, version: 1, max_depth: None };
        assert!(sign_subkey(&sub, Some((&top, "mid_level_subkey")), &wrong).unwrap_err().contains("must be 1a5948c5"));
        let deep = NewSubkey { max_depth: Some(4), uuid: mid_uuid, ..wrong };
        assert!(sign_subkey(&sub, Some((&top, "mid_level_subkey")), &deep).unwrap_err().contains("under the parent"));
        let mid_new = NewSubkey { max_depth: None, ..deep };
        let mid = sign_subkey(&sub, Some((&top, "mid_level_subkey")), &mid_new).unwrap();
        let chain = read_chain(&mid).unwrap().0.unwrap();
        assert_eq!((chain.uuids.clone(), chain.max_depth), (vec![TOP, mid_uuid], 3));
        let ta_uuid = next_uuid(&chain, "subkey1_ta").unwrap();
        assert_eq!(ta_uuid.to_string(), "5c206987-16a3-59cc-ab0f-64b9cfc9e758");

        let elf = elf_with_ta_head(&ta_uuid);
        let img = TaImage { elf: &elf, uuid: ta_uuid, version: 2, subkey: Some((&mid, "subkey1_ta")), enc: None };
        let signed = sign_image(&mid_key, &img).unwrap();
        let v = verify(&signed, &os_key(), &ta_uuid).unwrap();
        assert_eq!((v.elf, v.ta_version, v.subkeys.len()), (elf.as_slice(), 2, 2));
        assert_eq!(image_uuid(&signed).unwrap(), (Some(ta_uuid), Some(signed.len() - elf.len())));
        // Outside the namespace: the signer refuses, and an image made
        // anyway (its UUID patched) is refused by the OS.
        let other = Uuid::new(1, 2, 3, [4; 8]);
        let outside = TaImage { uuid: other, ..img };
        assert!(sign_image(&mid_key, &outside).unwrap_err().contains("outside the subkey's namespace"));
        assert_eq!(verify(&signed, &os_key(), &other).unwrap_err(), Reject::OutsideNamespace { allowed: ta_uuid });
    }

    #[test]
    fn encrypted_ta_decrypts_with_the_device_key_only() {
        let uuid = Uuid::new(1, 2, 3, [4; 8]);
        let elf = elf_with_ta_head(&uuid);
        let key = device_enc_key(&os_key());
        let img = TaImage { elf: &elf, uuid, version: 0, subkey: None, enc: Some(&key) };
        let signed = sign_image(&dev(), &img).unwrap();
        assert_eq!(sign_image(&dev(), &img).unwrap(), signed, "deterministic");
        assert!(!signed.windows(64).any(|w| elf.windows(64).next() == Some(w)));
        assert_eq!(image_uuid(&signed).unwrap(), (Some(uuid), None));
        let mut copy = signed.clone();
        let v = verify_in_place(&mut copy, &os_key(), Some(&key), &uuid).unwrap();
        assert_eq!(v.elf, elf.as_slice());
        let mut copy = signed.clone();
        let other = TaEncKey::from_bytes([9; 32]);
        assert_eq!(verify_in_place(&mut copy, &os_key(), Some(&other), &uuid).unwrap_err(), Reject::Decrypt);
        assert!(parse_hex_key("00").is_err());
        assert_eq!(parse_hex_key(&hex(key.bytes())).unwrap().bytes(), key.bytes());
    }
}
