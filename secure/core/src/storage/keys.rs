//! The storage key hierarchy (all HMAC-SHA256, each step's input a fixed
//! label followed by its context):
//!
//! - `SSK = HMAC(HUK, "oxtee/ssk/v1")`: the secure storage key, from the
//!   platform's hardware unique key.
//! - `TSK = HMAC(SSK, "oxtee/tsk/v1" || storage_id (4, LE) || ta_uuid (16))`:
//!   one key per TA and storage; a TA can never name or read another's
//!   objects, and REE and RPMB objects of one TA are keyed apart.
//! - `dir = hex(HMAC(SSK, "oxtee/dir/v1" || storage_id || ta_uuid))[..32]`:
//!   the TA's directory name in the backend (does not reveal the UUID).
//! - `NK = HMAC(TSK, "oxtee/name/v1")`: names object files,
//!   `name = hex(HMAC(NK, object_id))` (64 characters).
//! - `FK = HMAC(TSK, "oxtee/file/v1" || salt)`: the AES-256-GCM key of one
//!   object file, `salt` being 16 random bytes chosen when the file is
//!   created (kept in clear in the file).
//! - `RPMB key = HMAC(HUK, "oxtee/rpmb/v1")`: programmed into the device once.

use alloc::string::String;
use oxtee_abi::ta::crypto as id;
use oxtee_abi::uuid::Uuid;
use zeroize::Zeroize;

/// A 256-bit key, wiped when dropped.
#[derive(Clone)]
pub struct Key(pub [u8; 32]);

impl Drop for Key {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl core::fmt::Debug for Key {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Key(..)")
    }
}

/// HMAC-SHA256 of the concatenation of `parts` under `key`.
pub fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut out = [0u8; 32];
    // HMAC-SHA256 takes any key length and never fails on these calls.
    if let Ok(mut m) = oxtee_crypto::mac::new(id::ALG_HMAC_SHA256, key) {
        for p in parts {
            let _ = m.update(p);
        }
        let _ = m.finish(&mut out);
    }
    out
}

fn hex(bytes: &[u8], out: &mut String) {
    const D: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        out.push(D[(b >> 4) as usize] as char);
        out.push(D[(b & 15) as usize] as char);
    }
}

/// The secure storage key, from the hardware unique key.
pub fn ssk(huk: &[u8]) -> Key {
    Key(hmac(huk, &[b"oxtee/ssk/v1"]))
}

/// The key programmed into the RPMB partition.
pub fn rpmb_key(huk: &[u8]) -> Key {
    Key(hmac(huk, &[b"oxtee/rpmb/v1"]))
}

/// One TA's keys for one storage.
#[derive(Clone, Debug)]
pub struct TaKeys {
    pub tsk: Key,
    pub name_key: Key,
    /// Directory of the TA's files in the backend.
    pub dir: String,
}

impl TaKeys {
    pub fn new(ssk: &Key, storage_id: u32, ta: &Uuid) -> TaKeys {
        let sid = storage_id.to_le_bytes();
        let uuid = ta.to_octets();
        let tsk = Key(hmac(&ssk.0, &[b"oxtee/tsk/v1", &sid, &uuid]));
        let name_key = Key(hmac(&tsk.0, &[b"oxtee/name/v1"]));
        let mut dir = String::new();
        hex(&hmac(&ssk.0, &[b"oxtee/dir/v1", &sid, &uuid])[..16], &mut dir);
        TaKeys { tsk, name_key, dir }
    }

    /// The file name (without directory) of object `id`.
    pub fn object_name(&self, id: &[u8]) -> String {
        let mut s = String::with_capacity(64);
        hex(&hmac(&self.name_key.0, &[id]), &mut s);
        s
    }

    /// The path of object `id` in the backend.
    pub fn object_path(&self, id: &[u8]) -> String {
        let mut s = self.dir.clone();
        s.push('/');
        s.push_str(&self.object_name(id));
        s
    }

    /// The key of the object file whose salt is `salt`.
    pub fn file_key(&self, salt: &[u8; 16]) -> Key {
        Key(hmac(&self.tsk.0, &[b"oxtee/file/v1", salt]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_separate_tas_storages_and_objects() {
        let ssk = ssk(&[7; 32]);
        let a = Uuid::new(1, 2, 3, [4; 8]);
        let b = Uuid::new(1, 2, 3, [5; 8]);
        let ka = TaKeys::new(&ssk, super::super::STORAGE_PRIVATE_REE, &a);
        let kb = TaKeys::new(&ssk, super::super::STORAGE_PRIVATE_REE, &b);
        let kr = TaKeys::new(&ssk, super::super::STORAGE_PRIVATE_RPMB, &a);
        assert_ne!(ka.tsk.0, kb.tsk.0);
        assert_ne!(ka.tsk.0, kr.tsk.0);
        assert_ne!(ka.dir, kb.dir);
        assert_eq!(ka.dir.len(), 32);
        assert_eq!(ka.object_name(b"x").len(), 64);
        assert_ne!(ka.object_name(b"x"), kb.object_name(b"x"));
        assert_ne!(ka.object_name(b"x"), ka.object_name(b"y"));
        assert_eq!(ka.object_path(b"x"), alloc::format!("{}/{}", ka.dir, ka.object_name(b"x")));
        assert_ne!(ka.file_key(&[1; 16]).0, ka.file_key(&[2; 16]).0);
        assert_ne!(ssk.0, rpmb_key(&[7; 32]).0);
    }
}
