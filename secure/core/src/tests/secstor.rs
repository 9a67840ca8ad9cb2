//! TAs installed in secure storage (`user/ta_store.rs`) over the fake
//! normal world's REE FS: install, rollback refusal, loading order, and a
//! damaged entry.

use super::{FakeEnv, FakeRam, LIMITS, RAM, RAM_SIZE, os_with};
use crate::ta::image::TaKey;
use crate::user::ta_store;
use crate::user::tests::FakeMmu;
use alloc::boxed::Box;
use alloc::vec::Vec;
use oxtee_abi::ta::{ALG_RSASSA_PKCS1_V1_5_SHA256, SHDR_BOOTSTRAP_TA, SHDR_MAGIC, SHDR_TA, Shdr, ShdrBootstrapTa};
use oxtee_abi::tee::TeeResult;
use oxtee_abi::uuid::Uuid;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::traits::PublicKeyParts;
use rsa::{Pkcs1v15Sign, RsaPrivateKey};
use sha2::{Digest, Sha256};
use zerocopy::IntoBytes;

const TA: Uuid = Uuid::new(0x5e57_a0e1, 0, 0x4000, [0x80, 0, 0, 0, 0, 0, 0, 0xe1]);
const OTHER: Uuid = Uuid::new(0x5e57_a0e2, 0, 0x4000, [0x80, 0, 0, 0, 0, 0, 0, 0xe2]);

fn key() -> RsaPrivateKey {
    RsaPrivateKey::from_pkcs1_pem(include_str!("../ta/testdata/test_key.pem")).unwrap()
}

/// A signed image as upstream's signing tool makes it.
fn sign(key: &RsaPrivateKey, img_type: u32, uuid: Uuid, version: u32, elf: &[u8]) -> Vec<u8> {
    let shdr = Shdr {
        magic: SHDR_MAGIC,
        img_type,
        img_size: elf.len() as u32,
        algo: ALG_RSASSA_PKCS1_V1_5_SHA256,
        hash_size: 32,
        sig_size: key.size() as u16,
    };
    let bs = ShdrBootstrapTa { uuid: uuid.to_octets(), ta_version: version };
    let sub: &[u8] = if img_type == SHDR_TA { &[] } else { bs.as_bytes() };
    let hash = Sha256::new().chain_update(shdr.as_bytes()).chain_update(sub).chain_update(elf).finalize();
    let sig = key.sign(Pkcs1v15Sign::new::<Sha256>(), &hash).unwrap();
    [shdr.as_bytes(), hash.as_slice(), &sig, sub, elf].concat()
}

#[test]
fn installed_tas_are_checked_kept_and_found_first() {
    let ram: &'static FakeRam = Box::leak(Box::new(FakeRam::new(RAM, RAM_SIZE)));
    let mut os = os_with(ram, LIMITS, alloc::vec![]);
    let k = key();
    let e = k.e().to_bytes_be().iter().fold(0u32, |acc, b| acc << 8 | u32::from(*b));
    os.user.enable(FakeMmu::leak(), TaKey::new(&k.n().to_bytes_be(), e).unwrap());
    let os: &'static crate::Os = Box::leak(Box::new(os));
    let env0 = FakeEnv::new(ram);
    let mut env = env0.clone();
    let t = os.threads.ctx(0);
    let mut rpc = crate::rpc::Rpc { env: &mut env, mem: os.mem, shm: &os.shm, t };
    let elf: Vec<u8> = (0..10_000u32).map(|i| (i * 13) as u8).collect();
    let v2 = sign(&k, SHDR_BOOTSTRAP_TA, TA, 2, &elf);
    let v1 = sign(&k, SHDR_BOOTSTRAP_TA, TA, 1, &elf);
    let v3 = sign(&k, SHDR_BOOTSTRAP_TA, TA, 3, &elf[..5000]);
    let sec = Err(TeeResult::ERROR_SECURITY);

    assert_eq!(ta_store::claimed_uuid(&v2), Some(TA));
    assert_eq!(ta_store::claimed_uuid(&v2[..100]), None);
    let mut got = Vec::new();
    assert_eq!(ta_store::read_installed(os, &mut rpc, TA, &mut got), Err(TeeResult::ERROR_ITEM_NOT_FOUND));

    // Refused: not bootstrap, bad signature, cut, another key.
    assert_eq!(ta_store::install(os, &mut rpc, &sign(&k, SHDR_TA, TA, 0, &elf)), sec);
    let mut bad = v2.clone();
    bad[60] ^= 1;
    assert_eq!(ta_store::install(os, &mut rpc, &bad), sec);
    assert_eq!(ta_store::install(os, &mut rpc, &v2[..v2.len() - 1]), sec);
    assert_eq!(ta_store::install(os, &mut rpc, &v2[..10]), sec);
    assert_eq!(ta_store::read_installed(os, &mut rpc, TA, &mut got), Err(TeeResult::ERROR_ITEM_NOT_FOUND));

    assert_eq!(ta_store::install(os, &mut rpc, &v2), Ok((TA, 2)));
    ta_store::read_installed(os, &mut rpc, TA, &mut got).unwrap();
    assert_eq!(got, v2, "the signed image is kept as installed");
    assert_eq!(ta_store::install(os, &mut rpc, &v1), Err(TeeResult::ERROR_ACCESS_CONFLICT));
    assert_eq!(ta_store::install(os, &mut rpc, &v2), Ok((TA, 2)), "the same version again");
    assert_eq!(ta_store::install(os, &mut rpc, &v3), Ok((TA, 3)));
    got.clear();
    ta_store::read_installed(os, &mut rpc, TA, &mut got).unwrap();
    assert_eq!(got, v3);
    got.clear();
    assert_eq!(ta_store::read_installed(os, &mut rpc, OTHER, &mut got), Err(TeeResult::ERROR_ITEM_NOT_FOUND));

    // Loading takes the installed image without asking for LOAD_TA.
    let load_tas = |e: &FakeEnv| e.nw.lock().cmds.iter().filter(|c| **c == oxtee_abi::rpc::CMD_LOAD_TA).count();
    let before = load_tas(&env0);
    crate::user::load::fetch_any(os, &mut rpc, TA, &mut got).unwrap();
    assert_eq!((got.as_slice(), load_tas(&env0)), (v3.as_slice(), before));
    // Not installed: the supplicant is asked (the fake one has no LOAD_TA).
    got.clear();
    assert!(crate::user::load::fetch_any(os, &mut rpc, OTHER, &mut got).is_err());
    assert!(load_tas(&env0) > before);

    // A damaged entry is the answer, not a reason to look elsewhere; an
    // install replaces it (its header, still intact, keeps the version
    // floor).
    {
        let mut nw = env0.nw.lock();
        let files: Vec<_> =
            nw.files.keys().filter(|n| !n.contains("ta_ver") && !n.ends_with(".tmp")).cloned().collect();
        for f in files {
            if let Some(data) = nw.files.get_mut(&f)
                && data.len() > 8192
            {
                let at = data.len() - 100;
                data[at] ^= 1;
            }
        }
    }
    got.clear();
    assert_eq!(crate::user::load::fetch_any(os, &mut rpc, TA, &mut got), Err(TeeResult::ERROR_CORRUPT_OBJECT));
    assert_eq!(ta_store::install(os, &mut rpc, &v2), Err(TeeResult::ERROR_ACCESS_CONFLICT));
    assert_eq!(ta_store::install(os, &mut rpc, &v3), Ok((TA, 3)));
    got.clear();
    crate::user::load::fetch_any(os, &mut rpc, TA, &mut got).unwrap();
    assert_eq!(got, v3);
    rpc.drop_payload();
}
