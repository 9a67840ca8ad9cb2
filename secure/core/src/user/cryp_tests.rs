//! The crypto syscalls driven as a TA drives them, on a fake address
//! space: handle and state rules, error codes, user-memory checks, and a
//! few algorithms end to end (the algorithms' own known-answer tests live
//! in `oxtee-crypto`).

use super::cryp::{self, MAX_HANDLES};
use super::space::{PageBuf, UserSpace};
use super::tests::FakeMmu;
use crate::env::UserPerm;
use alloc::vec::Vec;
use oxtee_abi::addr::UserVirt;
use oxtee_abi::ta::crypto as id;
use oxtee_abi::ta::{self as sc, crypto::UteeAttribute};
use oxtee_abi::tee::TeeResult;
use zerocopy::IntoBytes;

const BASE: u64 = 0x4000_0000;
const SIZE: u64 = 256 * 1024;
/// Mapped read-only (for write-permission checks).
const RO: u64 = 0x5000_0000;

struct Ta {
    space: UserSpace,
    /// Next free byte of the scratch area.
    brk: u64,
}

fn rand(out: &mut [u8]) {
    for (i, b) in out.iter_mut().enumerate() {
        *b = (i as u8).wrapping_mul(37).wrapping_add(11);
    }
}

impl Ta {
    fn new() -> Ta {
        let mut space = UserSpace::new(FakeMmu::leak());
        space.add(PageBuf::new(SIZE).unwrap(), &[(0, UserVirt::new(BASE), SIZE, UserPerm::ReadWrite)]).unwrap();
        space.add(PageBuf::new(4096).unwrap(), &[(0, UserVirt::new(RO), 4096, UserPerm::ReadOnly)]).unwrap();
        space.activate().unwrap();
        Ta { space, brk: BASE }
    }

    fn call(&mut self, n: u32, args: &[u64]) -> Result<(), TeeResult> {
        let mut a = [0u64; 31];
        a[..args.len()].copy_from_slice(args);
        cryp::syscall(n, &a, &mut self.space, &rand)
    }

    /// Puts `data` in TA memory; its address.
    fn put(&mut self, data: &[u8]) -> u64 {
        let at = self.brk;
        self.space.write(UserVirt::new(at), data).unwrap();
        self.brk = (at + data.len() as u64 + 15) & !15;
        at
    }

    fn alloc(&mut self, len: usize) -> u64 {
        self.put(&alloc::vec![0u8; len])
    }

    fn get(&self, at: u64, len: usize) -> Vec<u8> {
        let mut b = alloc::vec![0u8; len];
        self.space.read(UserVirt::new(at), &mut b).unwrap();
        b
    }

    fn u32_at(&self, at: u64) -> u32 {
        self.space.read_u32(UserVirt::new(at)).unwrap()
    }

    fn u64_at(&self, at: u64) -> u64 {
        u64::from_le_bytes(self.get(at, 8).try_into().unwrap())
    }

    fn put_u64(&mut self, v: u64) -> u64 {
        self.put(&v.to_le_bytes())
    }

    fn obj_alloc(&mut self, ty: u32, bits: u32) -> Result<u32, TeeResult> {
        let out = self.alloc(4);
        self.call(sc::SYS_CRYP_OBJ_ALLOC, &[ty as u64, bits as u64, out])?;
        Ok(self.u32_at(out))
    }

    fn state_alloc(&mut self, algo: u32, mode: u32, k1: u32, k2: u32) -> Result<u32, TeeResult> {
        let out = self.alloc(4);
        self.call(sc::SYS_CRYP_STATE_ALLOC, &[algo as u64, mode as u64, k1 as u64, k2 as u64, out])?;
        Ok(self.u32_at(out))
    }

    fn populate_secret(&mut self, obj: u32, key: &[u8]) -> Result<(), TeeResult> {
        let k = self.put(key);
        let attr = UteeAttribute { a: k, b: key.len() as u64, attribute_id: id::ATTR_SECRET_VALUE, pad: 0 };
        let attrs = self.put(attr.as_bytes());
        self.call(sc::SYS_CRYP_OBJ_POPULATE, &[obj as u64, attrs, 1])
    }

    fn count(&self) -> usize {
        self.space.cryp.count()
    }
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

#[test]
fn unknown_handles_get_upstreams_codes() {
    let mut ta = Ta::new();
    let out = ta.alloc(64);
    let size = ta.put_u64(64);
    // States: BAD_PARAMETERS; objects: BAD_STATE; get_attr: ITEM_NOT_FOUND.
    assert_eq!(ta.call(sc::SYS_CRYP_STATE_FREE, &[77]), Err(TeeResult::ERROR_BAD_PARAMETERS));
    assert_eq!(ta.call(sc::SYS_HASH_INIT, &[77, 0, 0]), Err(TeeResult::ERROR_BAD_PARAMETERS));
    assert_eq!(ta.call(sc::SYS_CRYP_OBJ_CLOSE, &[77]), Err(TeeResult::ERROR_BAD_STATE));
    assert_eq!(ta.call(sc::SYS_CRYP_OBJ_GET_INFO, &[77, out]), Err(TeeResult::ERROR_BAD_STATE));
    assert_eq!(
        ta.call(sc::SYS_CRYP_OBJ_GET_ATTR, &[77, id::ATTR_SECRET_VALUE as u64, out, size]),
        Err(TeeResult::ERROR_ITEM_NOT_FOUND)
    );
    assert_eq!(ta.call(sc::SYS_CRYP_STATE_FREE, &[u64::MAX]), Err(TeeResult::ERROR_BAD_PARAMETERS));
}

#[test]
fn state_alloc_checks_keys_and_algorithms() {
    let mut ta = Ta::new();
    assert_eq!(ta.state_alloc(0x1234_5678, id::MODE_DIGEST, 0, 0), Err(TeeResult::ERROR_NOT_SUPPORTED));
    let aes = ta.obj_alloc(id::TYPE_AES, 128).unwrap();
    let hmac = ta.obj_alloc(id::TYPE_HMAC_SHA256, 256).unwrap();
    // A digest takes no key; a cipher one key of its type; XTS two.
    assert_eq!(ta.state_alloc(id::ALG_SHA256, id::MODE_DIGEST, aes, 0), Err(TeeResult::ERROR_BAD_PARAMETERS));
    assert_eq!(ta.state_alloc(id::ALG_AES_CBC_NOPAD, id::MODE_ENCRYPT, 0, 0), Err(TeeResult::ERROR_BAD_PARAMETERS));
    assert_eq!(ta.state_alloc(id::ALG_AES_CBC_NOPAD, id::MODE_ENCRYPT, hmac, 0), Err(TeeResult::ERROR_BAD_PARAMETERS));
    assert_eq!(ta.state_alloc(id::ALG_AES_XTS, id::MODE_ENCRYPT, aes, 0), Err(TeeResult::ERROR_BAD_PARAMETERS));
    assert_eq!(ta.state_alloc(id::ALG_AES_CBC_NOPAD, id::MODE_ENCRYPT, 999, 0), Err(TeeResult::ERROR_BAD_STATE));
    let before = ta.count();
    let st = ta.state_alloc(id::ALG_AES_CBC_NOPAD, id::MODE_ENCRYPT, aes, 0).unwrap();
    assert_eq!(ta.count(), before + 1);
    // The key is the state's now: the TA cannot close it, nor bind it to
    // a second state; freeing the state closes it.
    assert_eq!(ta.call(sc::SYS_CRYP_OBJ_CLOSE, &[aes as u64]), Err(TeeResult::ERROR_ITEM_NOT_FOUND));
    assert_eq!(ta.state_alloc(id::ALG_AES_ECB_NOPAD, id::MODE_ENCRYPT, aes, 0), Err(TeeResult::ERROR_BAD_PARAMETERS));
    // Using it before init is a bad state.
    let (src, dst) = (ta.alloc(16), ta.alloc(16));
    let dlen = ta.put_u64(16);
    assert_eq!(ta.call(sc::SYS_CIPHER_UPDATE, &[st as u64, src, 16, dst, dlen]), Err(TeeResult::ERROR_BAD_STATE));
    // An uninitialised key cannot be used.
    assert_eq!(ta.call(sc::SYS_CIPHER_INIT, &[st as u64, src, 16]), Err(TeeResult::ERROR_BAD_PARAMETERS));
    ta.call(sc::SYS_CRYP_STATE_FREE, &[st as u64]).unwrap();
    assert_eq!(ta.count(), before - 1);
    assert_eq!(ta.call(sc::SYS_CRYP_OBJ_CLOSE, &[aes as u64]), Err(TeeResult::ERROR_BAD_STATE));
}

#[test]
fn handles_are_bounded() {
    let mut ta = Ta::new();
    let mut n = 0;
    loop {
        match ta.state_alloc(id::ALG_SHA256, id::MODE_DIGEST, 0, 0) {
            Ok(_) => n += 1,
            Err(e) => {
                assert_eq!(e, TeeResult::ERROR_OUT_OF_MEMORY);
                break;
            }
        }
        assert!(n <= MAX_HANDLES);
    }
    assert_eq!(n, MAX_HANDLES);
}

#[test]
fn sha256_through_the_syscalls() {
    let mut ta = Ta::new();
    let st = ta.state_alloc(id::ALG_SHA256, id::MODE_DIGEST, 0, 0).unwrap();
    ta.call(sc::SYS_HASH_INIT, &[st as u64, 0, 0]).unwrap();
    let data: Vec<u8> = (0..100_000u32).map(|i| (i * 7) as u8).collect();
    let p = ta.put(&data);
    // Uneven pieces, then the rest with final.
    ta.call(sc::SYS_HASH_UPDATE, &[st as u64, p, 1]).unwrap();
    ta.call(sc::SYS_HASH_UPDATE, &[st as u64, p + 1, 63]).unwrap();
    ta.call(sc::SYS_HASH_UPDATE, &[st as u64, p + 64, 40_000]).unwrap();
    // A short output buffer: SHORT_BUFFER with the size needed, state kept.
    let out = ta.alloc(32);
    let olen = ta.put_u64(31);
    assert_eq!(
        ta.call(sc::SYS_HASH_FINAL, &[st as u64, p + 40_064, 59_936, out, olen]),
        Err(TeeResult::ERROR_SHORT_BUFFER)
    );
    assert_eq!(ta.u64_at(olen), 32);
    let olen = ta.put_u64(32);
    ta.call(sc::SYS_HASH_FINAL, &[st as u64, p + 40_064, 59_936, out, olen]).unwrap();
    use sha2::Digest;
    let want = sha2::Sha256::digest(&data);
    assert_eq!(ta.get(out, 32), want.as_slice());
    assert_eq!(ta.u64_at(olen), 32);
    // NULL data with a length is refused; unreadable data is ACCESS_DENIED.
    assert_eq!(ta.call(sc::SYS_HASH_UPDATE, &[st as u64, 0, 5]), Err(TeeResult::ERROR_BAD_PARAMETERS));
    assert_eq!(ta.call(sc::SYS_HASH_UPDATE, &[st as u64, 0x10, 5]), Err(TeeResult::ERROR_ACCESS_DENIED));
    // Output into read-only memory is ACCESS_DENIED.
    let olen = ta.put_u64(32);
    assert_eq!(ta.call(sc::SYS_HASH_FINAL, &[st as u64, 0, 0, RO, olen]), Err(TeeResult::ERROR_ACCESS_DENIED));
}

#[test]
fn state_copy_forks_a_digest() {
    let mut ta = Ta::new();
    let a = ta.state_alloc(id::ALG_SHA256, id::MODE_DIGEST, 0, 0).unwrap();
    let b = ta.state_alloc(id::ALG_SHA256, id::MODE_DIGEST, 0, 0).unwrap();
    let c = ta.state_alloc(id::ALG_SHA1, id::MODE_DIGEST, 0, 0).unwrap();
    ta.call(sc::SYS_HASH_INIT, &[a as u64, 0, 0]).unwrap();
    let p = ta.put(b"abc");
    ta.call(sc::SYS_HASH_UPDATE, &[a as u64, p, 3]).unwrap();
    assert_eq!(ta.call(sc::SYS_CRYP_STATE_COPY, &[c as u64, a as u64]), Err(TeeResult::ERROR_BAD_PARAMETERS));
    ta.call(sc::SYS_CRYP_STATE_COPY, &[b as u64, a as u64]).unwrap();
    let (o1, o2) = (ta.alloc(32), ta.alloc(32));
    let (l1, l2) = (ta.put_u64(32), ta.put_u64(32));
    ta.call(sc::SYS_HASH_FINAL, &[a as u64, 0, 0, o1, l1]).unwrap();
    ta.call(sc::SYS_HASH_FINAL, &[b as u64, 0, 0, o2, l2]).unwrap();
    let want = hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_eq!(ta.get(o1, 32), want);
    assert_eq!(ta.get(o2, 32), want);
}

#[test]
fn aes_cbc_and_hmac_through_the_syscalls() {
    let mut ta = Ta::new();
    // SP 800-38A F.2.1, first two blocks.
    let key = hex("2b7e151628aed2a6abf7158809cf4f3c");
    let iv = hex("000102030405060708090a0b0c0d0e0f");
    let pt = hex("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51");
    let ct = hex("7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2");
    let k = ta.obj_alloc(id::TYPE_AES, 128).unwrap();
    ta.populate_secret(k, &key).unwrap();
    // Populating twice is refused.
    assert_eq!(ta.populate_secret(k, &key), Err(TeeResult::ERROR_BAD_PARAMETERS));
    let st = ta.state_alloc(id::ALG_AES_CBC_NOPAD, id::MODE_ENCRYPT, k, 0).unwrap();
    let ivp = ta.put(&iv);
    ta.call(sc::SYS_CIPHER_INIT, &[st as u64, ivp, 16]).unwrap();
    let src = ta.put(&pt);
    let dst = ta.alloc(32);
    let short = ta.put_u64(31);
    assert_eq!(ta.call(sc::SYS_CIPHER_UPDATE, &[st as u64, src, 32, dst, short]), Err(TeeResult::ERROR_SHORT_BUFFER));
    assert_eq!(ta.u64_at(short), 32);
    let dlen = ta.put_u64(32);
    ta.call(sc::SYS_CIPHER_FINAL, &[st as u64, src, 32, dst, dlen]).unwrap();
    assert_eq!(ta.get(dst, 32), ct);

    // HMAC-SHA256 keys are 192..1024 bits upstream: RFC 4231 case 2's
    // "Jefe" is refused; case 4 (25-byte key) runs.
    let h = ta.obj_alloc(id::TYPE_HMAC_SHA256, 256).unwrap();
    assert_eq!(ta.populate_secret(h, b"Jefe"), Err(TeeResult::ERROR_BAD_PARAMETERS));
    let key: Vec<u8> = (1..=25).collect();
    ta.populate_secret(h, &key).unwrap();
    let st = ta.state_alloc(id::ALG_HMAC_SHA256, id::MODE_MAC, h, 0).unwrap();
    ta.call(sc::SYS_HASH_INIT, &[st as u64, 0, 0]).unwrap();
    let msg = ta.put(&[0xcd; 50]);
    let (out, olen) = (ta.alloc(32), ta.put_u64(32));
    ta.call(sc::SYS_HASH_FINAL, &[st as u64, msg, 50, out, olen]).unwrap();
    assert_eq!(ta.get(out, 32), hex("82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"));
}

#[test]
fn gcm_tag_mismatch_releases_no_plaintext() {
    let mut ta = Ta::new();
    // GCM spec test case 3 (AES-128, 96-bit IV, 64-byte plaintext).
    let key = hex("feffe9928665731c6d6a8f9467308308");
    let nonce = hex("cafebabefacedbaddecaf888");
    let pt = hex(
        "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
    );
    let ct = hex(
        "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985",
    );
    let tag = hex("4d5c2af327cd64a62cf35abd2ba6fab4");
    let k = ta.obj_alloc(id::TYPE_AES, 128).unwrap();
    ta.populate_secret(k, &key).unwrap();
    let enc = ta.state_alloc(id::ALG_AES_GCM, id::MODE_ENCRYPT, k, 0).unwrap();
    let np = ta.put(&nonce);
    ta.call(sc::SYS_AUTHENC_INIT, &[enc as u64, np, 12, 16, 0, 64]).unwrap();
    let (src, dst) = (ta.put(&pt), ta.alloc(64));
    let (dlen, t, tlen) = (ta.put_u64(64), ta.alloc(16), ta.put_u64(16));
    ta.call(sc::SYS_AUTHENC_UPDATE_PAYLOAD, &[enc as u64, src, 16, dst, dlen]).unwrap();
    let dlen = ta.put_u64(48);
    ta.call(sc::SYS_AUTHENC_ENC_FINAL, &[enc as u64, src + 16, 48, dst + 16, dlen, t, tlen]).unwrap();
    assert_eq!(ta.get(dst, 64), ct);
    assert_eq!(ta.get(t, 16), tag);
    assert_eq!(ta.u64_at(tlen), 16);

    let dec = ta.state_alloc(id::ALG_AES_GCM, id::MODE_DECRYPT, 0, 0);
    assert_eq!(dec, Err(TeeResult::ERROR_BAD_PARAMETERS));
    let k2 = ta.obj_alloc(id::TYPE_AES, 128).unwrap();
    ta.populate_secret(k2, &key).unwrap();
    let dec = ta.state_alloc(id::ALG_AES_GCM, id::MODE_DECRYPT, k2, 0).unwrap();
    ta.call(sc::SYS_AUTHENC_INIT, &[dec as u64, np, 12, 16, 0, 64]).unwrap();
    let (csrc, out) = (ta.put(&ct), ta.alloc(64));
    let mut bad = tag.clone();
    bad[15] ^= 1;
    let badp = ta.put(&bad);
    let olen = ta.put_u64(64);
    assert_eq!(
        ta.call(sc::SYS_AUTHENC_DEC_FINAL, &[dec as u64, csrc, 64, out, olen, badp, 16]),
        Err(TeeResult::ERROR_MAC_INVALID)
    );
    assert_eq!(ta.get(out, 64), alloc::vec![0u8; 64], "plaintext released despite a bad tag");
}

#[test]
fn hostile_attribute_lists_are_refused() {
    let mut ta = Ta::new();
    let k = ta.obj_alloc(id::TYPE_AES, 256).unwrap();
    // Too many attributes; an attribute pointing outside the TA; a list
    // outside the TA; lengths that overflow.
    assert_eq!(ta.call(sc::SYS_CRYP_OBJ_POPULATE, &[k as u64, BASE, 100_000]), Err(TeeResult::ERROR_BAD_PARAMETERS));
    let attr = UteeAttribute { a: 0x10, b: 32, attribute_id: id::ATTR_SECRET_VALUE, pad: 0 };
    let p = ta.put(attr.as_bytes());
    assert_eq!(ta.call(sc::SYS_CRYP_OBJ_POPULATE, &[k as u64, p, 1]), Err(TeeResult::ERROR_ACCESS_DENIED));
    assert_eq!(ta.call(sc::SYS_CRYP_OBJ_POPULATE, &[k as u64, 0x10, 1]), Err(TeeResult::ERROR_ACCESS_DENIED));
    let attr = UteeAttribute { a: BASE, b: u64::MAX, attribute_id: id::ATTR_SECRET_VALUE, pad: 0 };
    let p2 = ta.put(attr.as_bytes());
    let two = [ta.get(p2, 32), ta.get(p2, 32)].concat();
    let p3 = ta.put(&two);
    assert_eq!(ta.call(sc::SYS_CRYP_OBJ_POPULATE, &[k as u64, p3, 2]), Err(TeeResult::ERROR_BAD_PARAMETERS));
    // Still usable after all that.
    ta.populate_secret(k, &[7u8; 32]).unwrap();
}

#[test]
fn count_tracks_objects_and_states() {
    let mut ta = Ta::new();
    for _ in 0..50 {
        let k = ta.obj_alloc(id::TYPE_AES, 128).unwrap();
        ta.populate_secret(k, &[1u8; 16]).unwrap();
        ta.state_alloc(id::ALG_AES_CTR, id::MODE_ENCRYPT, k, 0).unwrap();
    }
    assert_eq!(ta.count(), 100);
}

#[test]
fn key_material_is_charged_to_the_instance() {
    use super::cryp::MAX_TABLE_BYTES;
    let mut ta = Ta::new();
    // 4096-bit generic secrets until the instance's budget is spent: the
    // populate that goes over fails with OUT_OF_MEMORY and leaves its
    // object empty; freeing one makes room again.
    let secret = [0x5au8; 512];
    let k = ta.put(&secret);
    let attr = UteeAttribute { a: k, b: 512, attribute_id: id::ATTR_SECRET_VALUE, pad: 0 };
    let attrs = ta.put(attr.as_bytes());
    let (out, mut filled) = (ta.alloc(4), Vec::new());
    let over = loop {
        ta.call(sc::SYS_CRYP_OBJ_ALLOC, &[id::TYPE_GENERIC_SECRET as u64, 4096, out]).unwrap();
        let o = ta.u32_at(out);
        match ta.call(sc::SYS_CRYP_OBJ_POPULATE, &[o as u64, attrs, 1]) {
            Ok(()) => filled.push(o),
            Err(e) => break (o, e),
        }
        assert!(filled.len() < MAX_HANDLES, "no budget reached");
    };
    assert_eq!(over.1, TeeResult::ERROR_OUT_OF_MEMORY);
    assert!(ta.space.cryp.used() <= MAX_TABLE_BYTES);
    assert!(filled.len() * 512 > MAX_TABLE_BYTES / 2, "budget too small: {}", filled.len());
    let info = ta.alloc(28);
    ta.call(sc::SYS_CRYP_OBJ_GET_INFO, &[over.0 as u64, info]).unwrap();
    assert_eq!(ta.u32_at(info + 24) & id::HANDLE_FLAG_INITIALIZED, 0, "over-budget object left holding a key");
    ta.call(sc::SYS_CRYP_OBJ_CLOSE, &[filled[0] as u64]).unwrap();
    ta.populate_secret(over.0, &secret).unwrap();
}

#[test]
fn rsaes_encrypt_sizes_its_output_before_the_message() {
    let mut ta = Ta::new();
    // Key generation needs bytes that differ from call to call.
    let state = core::cell::Cell::new(0x9e37_79b9_7f4a_7c15u64);
    let rng = |out: &mut [u8]| {
        for b in out.iter_mut() {
            let x = state.get() ^ (state.get() << 13);
            let x = x ^ (x >> 7);
            state.set(x ^ (x << 17));
            *b = x as u8;
        }
    };
    // 20 bytes fit RSA-1024 with OAEP/SHA-256 but not with OAEP/SHA-512
    // (2 * 64 + 2 bytes of padding): both answer a size query first.
    for (algo, fits) in [(id::ALG_RSAES_PKCS1_OAEP_MGF1_SHA256, true), (id::ALG_RSAES_PKCS1_OAEP_MGF1_SHA512, false)] {
        let k = ta.obj_alloc(id::TYPE_RSA_KEYPAIR, 1024).unwrap();
        let mut a = [0u64; 31];
        a[..4].copy_from_slice(&[k as u64, 1024, 0, 0]);
        cryp::syscall(sc::SYS_CRYP_OBJ_GENERATE_KEY, &a, &mut ta.space, &rng).unwrap();
        let st = ta.state_alloc(algo, id::MODE_ENCRYPT, k, 0).unwrap();
        let src = ta.put(&[7u8; 20]);
        let (dst, dlen) = (ta.alloc(128), ta.put_u64(0));
        let r = ta.call(sc::SYS_ASYMM_OPERATE, &[st as u64, 0, 0, src, 20, dst, dlen]);
        assert_eq!(r, Err(TeeResult::ERROR_SHORT_BUFFER));
        assert_eq!(ta.u64_at(dlen), 128);
        let r = ta.call(sc::SYS_ASYMM_OPERATE, &[st as u64, 0, 0, src, 20, dst, dlen]);
        assert_eq!(r.is_ok(), fits, "{algo:#x}: {r:?}");
        if !fits {
            assert_eq!(r, Err(TeeResult::ERROR_BAD_PARAMETERS));
        }
        // The state holds the key and frees it with itself (upstream).
        ta.call(sc::SYS_CRYP_STATE_FREE, &[st as u64]).unwrap();
    }
}
